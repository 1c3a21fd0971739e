import {fromBase64Url, sign, toBase64Url, verify, type Identity} from '../identity.js'
import {SeenSet, defaultTtl} from './dedup.js'
import {Membership, type MemberEntry} from './gossip.js'
import {overlayKey} from './keys.js'
import {chooseNeighbours} from './neighbours.js'
import {createSealer, type Card, type Sealed, type Sealer, type Signed, type VerifiedCard} from './seal.js'
import {RoutingTable, type Contact} from './table.js'

/**
 * One peer of an overlay, independent of its transport: the wiring layer (a room's data
 * channels, PeerRelay's WebSockets and WebRTC) tells it which direct links are up and
 * carries the JSON messages it hands to `send`; it does the routing, the membership and the
 * end-to-end sealing. Messages between direct neighbours:
 *   {k: 'gossip', e: [entry...]}      membership, batched and rate bounded (gossip.ts)
 *   {k: 'route', to, ttl, h, v, p, s} a sealed frame for `to`, forwarded greedily (table.ts);
 *                                     `v` lists the peers it visited, none of them a next hop,
 *                                     `p` the path back (the depth-first stack, see forward)
 *   {k: 'flood', ttl, h, g}           a signed broadcast, forwarded once to every neighbour
 *   {k: 'want', y}                    whether the sender's neighbour choice includes this link
 * Everything from a neighbour is untrusted: entries, sealed and signed frames are checked
 * against the sender's card before anything is believed or forwarded.
 */
export type MemberData = {card: Card; sig: string}
export type OverlayMessage =
  | {k: 'gossip'; e: (MemberEntry<MemberData> & {h?: number})[]}
  | {k: 'route'; to: string; ttl: number; h: number; v: string[]; p: string[]; s: Sealed}
  | {k: 'flood'; ttl: number; h: number; g: Signed}
  | {k: 'want'; y: boolean}

export type OverlayOptions = {
  identity: Identity
  /** Binds cards and signatures to one overlay (a room topic): they are worthless in another. */
  scope: string
  /** Direct links to keep at most; below it, a full mesh. */
  maxConnections?: number
  send: (neighbour: string, message: OverlayMessage) => void
  /** Asked to open a direct link to a member (neighbour choice). */
  connect?: (id: string) => void
  /** Asked to close a link neither side needs any more. */
  disconnect?: (id: string) => void
  /** A payload sealed for us by `from`, with the hops it took. */
  message?: (from: string, data: Uint8Array, hops: number) => void
  broadcast?: (from: string, data: Uint8Array, hops: number) => void
  join?: (id: string) => void
  leave?: (id: string) => void
  /** Something untrusted was dropped (forged, replayed, undeliverable); for counters and tests. */
  dropped?: (reason: string) => void
  gossipIntervalMs?: number
  graceMs?: number
  heartbeatMs?: number
  expiryMs?: number
  ttl?: number
  random?: () => number
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const memberText = (scope: string, id: string, seq: number, alive: boolean) =>
  encoder.encode(JSON.stringify(['member', scope, id, seq, alive]))
const maxEntries = 256

export const createOverlayNode = async (options: OverlayOptions) => {
  const {identity, scope, send} = options
  const max = options.maxConnections ?? Number.POSITIVE_INFINITY
  const ttl = options.ttl ?? defaultTtl
  const random = options.random ?? Math.random
  const drop = (reason: string) => options.dropped?.(reason)
  const sealer: Sealer = await createSealer(identity, scope)
  const self: Contact = {id: identity.id, key: await overlayKey(identity.id)}
  const table = new RoutingTable(self, Number.POSITIVE_INFINITY)
  const membership = new Membership<MemberData>(identity.id, {
    intervalMs: options.gossipIntervalMs ?? 250,
    expiryMs: options.expiryMs ?? 30_000,
  })
  const cards = new Map<string, VerifiedCard>()
  const keys = new Map<string, bigint>()
  const hops = new Map<string, number>()
  const seen = new SeenSet(8192)
  /** Links we chose, and links the other side told us it chose (it keeps them either way). */
  const chosen = new Set<string>()
  const theyWant = new Set<string>()
  /** The want flag last sent on each link. */
  const told = new Map<string, boolean>()
  const linkedAt = new Map<string, number>()
  /** A new link is not pruned for this long: the newcomer learns the room and dials its own choice. */
  const graceMs = options.graceMs ?? 5_000
  let seq = 0
  let stopped = false

  const ownEntry = async (alive: boolean): Promise<MemberEntry<MemberData>> => {
    const n = seq++
    return {
      id: identity.id,
      seq: n,
      alive,
      data: {card: sealer.card, sig: toBase64Url(await sign(identity, memberText(scope, identity.id, n, alive)))},
    }
  }

  const trustEntry = async (entry: MemberEntry<MemberData>): Promise<VerifiedCard | undefined> => {
    if (!entry || typeof entry !== 'object' || typeof entry.id !== 'string' || typeof entry.alive !== 'boolean')
      return undefined
    const card = await sealer.verifyCard(entry.data?.card)
    if (!card || card.id !== entry.id || typeof entry.data?.sig !== 'string') return undefined
    try {
      const ok = await verify(
        card.verifyKey,
        fromBase64Url(entry.data.sig),
        memberText(scope, entry.id, entry.seq, entry.alive),
      )
      return ok ? card : undefined
    } catch {
      return undefined
    }
  }

  const learn = async (entry: MemberEntry<MemberData> & {h?: number}) => {
    if (entry?.id === identity.id) return
    // Known at this seq already: nothing to verify (most gossip a peer hears is such a copy).
    const known = membership.get(entry?.id)
    if (known && Number.isSafeInteger(entry.seq) && entry.seq <= known.seq) return
    const card = await trustEntry(entry)
    if (!card) return drop('member entry with a bad signature')
    const h = Number.isSafeInteger(entry.h) ? entry.h! + 1 : 1
    const change = membership.apply({id: entry.id, seq: entry.seq, alive: entry.alive, data: entry.data})
    if (change === 'stale') return
    if (change === 'leave') return forget(entry.id)
    cards.set(entry.id, card)
    keys.set(entry.id, await overlayKey(entry.id))
    if (!table.has(entry.id)) hops.set(entry.id, Math.min(hops.get(entry.id) ?? h, h))
    if (change === 'join') options.join?.(entry.id), rebalance()
  }

  const forget = (id: string) => {
    cards.delete(id)
    keys.delete(id)
    hops.delete(id)
    options.leave?.(id)
    rebalance()
  }

  /** Keeps the direct links the neighbour choice wants; closes ones no side wants once over max. */
  const rebalance = () => {
    if (stopped) return
    const members: Contact[] = membership
      .members()
      .flatMap(m => (keys.has(m.id) ? [{id: m.id, key: keys.get(m.id)!}] : []))
    // Within a bucket, keep a link both sides chose: preferring any link would make the
    // bootstrap peer (linked to every newcomer) everyone's pick, and never prunable.
    const mutual = new Set(table.contacts().flatMap(c => (theyWant.has(c.id) && chosen.has(c.id) ? [c.id] : [])))
    const want = chooseNeighbours(self, members, max, {connected: mutual, random})
    // A peer with few links needs all of them: it says so, so no neighbour isolates it.
    for (const contact of table.contacts()) {
      const y = want.has(contact.id) || table.size <= 2
      if (told.get(contact.id) !== y) told.set(contact.id, y), send(contact.id, {k: 'want', y})
    }
    chosen.clear()
    for (const id of want) {
      chosen.add(id)
      if (!table.has(id)) options.connect?.(id)
    }
    // Over the cap: close links neither side chose, once past their grace period.
    const now = Date.now()
    const extra = table
      .contacts()
      .filter(c => !want.has(c.id) && !theyWant.has(c.id) && now - (linkedAt.get(c.id) ?? 0) > graceMs)
    for (const contact of extra.slice(0, Math.max(0, table.size - max))) options.disconnect?.(contact.id)
  }

  /**
   * Greedy XOR step, never to a peer the frame visited; at a dead end (every contact visited)
   * the frame goes back to the peer that sent it here, which tries its other contacts: a
   * depth-first search bounded by the TTL, so a capped table that misses a bucket still delivers.
   */
  const forward = (message: Extract<OverlayMessage, {k: 'route'}>) => {
    const key = keys.get(message.to)
    if (key === undefined && !table.has(message.to)) return drop(`no route to ${message.to}: not a known member`)
    const next = table.nextHop({id: message.to, key: key ?? table.get(message.to)!.key}, {exclude: message.v})
    if (next) return send(next.id, message)
    const p = message.p.at(-1) === identity.id ? message.p.slice(0, -1) : message.p
    const back = p.at(-1)
    if (back && table.has(back)) return send(back, {...message, p})
    drop(`no route to ${message.to}`)
  }

  const receiveRoute = async (from: string, message: Extract<OverlayMessage, {k: 'route'}>) => {
    const s = message.s
    if (!s || typeof message.to !== 'string' || typeof s.f !== 'string') return drop('malformed route frame')
    const strings = (list: unknown) =>
      Array.isArray(list) ? list.filter((id): id is string => typeof id === 'string').slice(-2 * ttl) : [from]
    const v = strings(message.v)
    const p = strings(message.p)
    // A frame we relayed may come back on a dead end (forward's backtracking), listing us.
    if (!seen.first(`r:${s.f}:${s.n}:${s.iv}`) && !v.includes(identity.id)) return drop('duplicate')
    const h = (Number.isSafeInteger(message.h) ? message.h : 0) + 1
    if (message.to !== identity.id) {
      const left = Number.isSafeInteger(message.ttl) ? Math.min(message.ttl, ttl) - 1 : 0
      if (left <= 0) return drop('ttl expired')
      return forward({
        k: 'route',
        to: message.to,
        ttl: left,
        h,
        v: v.includes(identity.id) ? v : [...v, identity.id],
        p: p.at(-1) === identity.id ? p : [...p, identity.id],
        s,
      })
    }
    const card = cards.get(s.f)
    if (!card) return drop(`sealed frame from unknown member ${s.f}`)
    const plain = await sealer.open(card, s)
    if (!plain) return drop('forged or replayed sealed frame')
    if (!table.has(s.f)) hops.set(s.f, h)
    options.message?.(s.f, plain, h)
  }

  const receiveFlood = async (from: string, message: Extract<OverlayMessage, {k: 'flood'}>) => {
    const g = message.g
    if (!g || typeof g.f !== 'string' || typeof g.s !== 'string') return drop('malformed flood frame')
    const id = `f:${g.f}:${g.n}:${g.s.slice(0, 16)}`
    if (seen.has(id)) return drop('duplicate')
    const card = cards.get(g.f)
    if (!card) return drop(`broadcast from unknown member ${g.f}`)
    const payload = await sealer.check(card, g)
    if (!payload) return drop('forged or replayed broadcast')
    seen.first(id)
    const h = (Number.isSafeInteger(message.h) ? message.h : 0) + 1
    const left = Number.isSafeInteger(message.ttl) ? Math.min(message.ttl, ttl) - 1 : 0
    if (left > 0)
      for (const contact of table.contacts()) if (contact.id !== from) send(contact.id, {k: 'flood', ttl: left, h, g})
    options.broadcast?.(g.f, payload, h)
  }

  let ticking: ReturnType<typeof setInterval> | undefined
  let beating: ReturnType<typeof setInterval> | undefined
  let rebalancing: ReturnType<typeof setInterval> | undefined
  const tick = () => {
    for (const id of membership.expire()) forget(id)
    const batch = membership.tick()
    if (batch.length)
      for (const contact of table.contacts())
        send(contact.id, {k: 'gossip', e: batch.map(e => ({...e, h: hops.get(e.id) ?? 0}))})
  }
  const beat = async () => membership.apply(await ownEntry(true))

  const node = {
    id: identity.id,
    card: sealer.card,
    /** Checks a card someone presents (a link's hello); undefined unless it is truly the id's. */
    verifyCard: sealer.verifyCard,
    table,
    membership,
    start: async () => {
      await beat()
      ticking = setInterval(tick, membership.intervalMs)
      rebalancing = setInterval(rebalance, graceMs / 2)
      beating = setInterval(() => void beat(), options.heartbeatMs ?? 10_000)
    },
    /** A direct link came up: it is a contact now, and it hears everything we know. */
    linkUp: async (id: string) => {
      if (stopped || id === identity.id) return
      table.add({id, key: await overlayKey(id)})
      linkedAt.set(id, Date.now())
      hops.delete(id)
      told.delete(id)
      const own = await ownEntry(true)
      membership.apply(own)
      send(id, {
        k: 'gossip',
        e: membership
          .snapshot(own)
          .slice(0, maxEntries)
          .map(e => ({...e, h: 0})),
      })
      if (membership.snapshot().length > maxEntries)
        for (let i = maxEntries; i < membership.snapshot().length; i += maxEntries)
          send(id, {k: 'gossip', e: membership.snapshot().slice(i, i + maxEntries)})
    },
    linkDown: (id: string) => {
      table.remove(id)
      theyWant.delete(id)
      told.delete(id)
      linkedAt.delete(id)
      rebalance()
    },
    /** A message from direct neighbour `from`: untrusted until checked. */
    receive: async (from: string, message: OverlayMessage) => {
      if (stopped || !message || typeof message !== 'object') return
      switch (message.k) {
        case 'gossip':
          if (!Array.isArray(message.e) || message.e.length > maxEntries) return drop('oversized gossip')
          for (const entry of message.e) await learn(entry)
          return
        case 'route':
          return receiveRoute(from, message)
        case 'flood':
          return receiveFlood(from, message)
        case 'want':
          if (message.y === true) theyWant.add(from)
          else theyWant.delete(from)
          return
      }
    },
    /** Seals `data` for member `to` and sends it on its way; false if `to` is not a known member. */
    sendTo: async (to: string, data: Uint8Array<ArrayBuffer>): Promise<boolean> => {
      const card = cards.get(to)
      if (!card) return false
      const s = await sealer.seal(card, data)
      seen.first(`r:${s.f}:${s.n}:${s.iv}`)
      forward({k: 'route', to, ttl, h: 0, v: [identity.id], p: [identity.id], s})
      return true
    },
    /** Signs `data` and floods it: each member gets it once, each link carries it at most twice. */
    broadcast: async (data: Uint8Array<ArrayBuffer>) => {
      const g = await sealer.sign(data)
      seen.first(`f:${g.f}:${g.n}:${g.s.slice(0, 16)}`)
      for (const contact of table.contacts()) send(contact.id, {k: 'flood', ttl, h: 0, g})
    },
    members: () => membership.members().map(m => m.id),
    isMember: (id: string) => membership.has(id),
    info: (id: string): {route: 'direct' | 'relayed'; hops: number} | undefined =>
      table.has(id)
        ? {route: 'direct', hops: 1}
        : membership.has(id)
          ? {route: 'relayed', hops: hops.get(id) ?? 2}
          : undefined,
    wants: (id: string) => chosen.has(id),
    rebalance,
    /** Says goodbye (a signed leave entry to every neighbour) and stops the timers. */
    stop: async () => {
      if (stopped) return
      const leave = await ownEntry(false)
      for (const contact of table.contacts()) send(contact.id, {k: 'gossip', e: [leave]})
      stopped = true
      clearInterval(ticking)
      clearInterval(beating)
      clearInterval(rebalancing)
    },
  }
  return node
}

export type OverlayNode = Awaited<ReturnType<typeof createOverlayNode>>
export const textOf = (bytes: Uint8Array) => decoder.decode(bytes)
