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
 *   {k: 'route', to, ttl, h, v, p, s, c} a sealed frame for `to`, forwarded greedily (table.ts);
 *                                     `v` lists the peers it visited, none of them a next hop,
 *                                     `p` the path back (the depth-first stack, see forward),
 *                                     `c` tags this copy of it (see receiveRoute)
 *   {k: 'flood', ttl, h, g}           a signed broadcast, forwarded once to every neighbour
 *   {k: 'want', y}                    whether the sender's neighbour choice includes this link
 * Everything from a neighbour is untrusted: entries, sealed and signed frames are checked
 * against the sender's card before anything is believed or forwarded.
 */
export type MemberData = {card: Card; sig: string}
export type OverlayMessage =
  | {k: 'gossip'; e: (MemberEntry<MemberData> & {h?: number})[]}
  | {k: 'route'; to: string; ttl: number; h: number; v: string[]; p: string[]; s: Sealed; c?: number; i?: number}
  | {k: 'flood'; ttl: number; h: number; g: Signed}
  | {k: 'want'; y: boolean; full?: boolean; last?: boolean}
  | {k: 'ack'; i: number}

export type OverlayOptions = {
  identity: Identity
  /** Binds cards and signatures to one overlay (a room topic): they are worthless in another. */
  scope: string
  /** Direct links to keep at most; below it, a full mesh. */
  maxConnections?: number
  send: (neighbour: string, message: OverlayMessage) => void
  /**
   * Asked to open a direct link to a member (neighbour choice); `split`: the member went silent
   * and may be past a split of the overlay (signal through the public relay).
   */
  connect?: (id: string, split?: boolean) => void
  /** Asked to close a link neither side needs any more. */
  disconnect?: (id: string) => void
  /**
   * A payload sealed for us by `from`, with the hops it took and the members it passed,
   * `from` first and us last (as the relaying members listed themselves: untrusted, for display).
   */
  message?: (from: string, data: Uint8Array, hops: number, path: string[]) => void
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
  /** First membership seq (e.g. Date.now()): a rejoin of the same id then outranks its old entries. */
  firstSeq?: number
  /**
   * A route frame not acked by the next hop within this long is sent over another (default
   * 2000); each further try of the same frame here waits twice as long (up to 16x), so a
   * loaded network is given time instead of more copies.
   */
  ackTimeoutMs?: number
  /** Next hops a frame tries at one peer before it is given up (default 6: about a minute). */
  retries?: number
  /** How long a frame with no next hop waits for a link (default 5000). */
  holdMs?: number
  /** Frames held or awaiting acks at most (default 4096): beyond, new ones are dropped. */
  maxPending?: number
  /** A frame this peer sent (`mine`) or relayed could not be delivered (after retries / holding). */
  undeliverable?: (to: string, reason: string, mine: boolean) => void
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const memberText = (scope: string, id: string, seq: number, alive: boolean) =>
  encoder.encode(JSON.stringify(['member', scope, id, seq, alive]))
const maxEntries = 256
/** Entries per gossip message to a new neighbour (keeps each message well under 64 KiB). */
const snapshotBatch = 64

/** How long a peer that closed our link because it was at its cap is not asked again. */
const fullForMs = 60_000
/** A neighbour that acks, but late, gets this many ack timeouts before a reroute. */
const slowFactor = 5
/** Sealed frames from a member not heard of yet that may wait for its card, at most. */
const maxEarly = 256

type Route = Extract<OverlayMessage, {k: 'route'}>
/** A frame this peer is in charge of: where it failed already, how often, until when it may wait. */
type Job = {message: Route; tried: Set<string>; attempts: number; until?: number}
const frameKey = (s: {f: string; n: unknown; iv: unknown}) => `r:${s.f}:${s.n}:${s.iv}`
const copyTag = () => crypto.getRandomValues(new Uint32Array(1))[0]

export const createOverlayNode = async (options: OverlayOptions) => {
  const {identity, scope} = options
  const max = options.maxConnections ?? Number.POSITIVE_INFINITY
  /**
   * Above a full mesh a peer asks for about half its cap itself: the other half takes the
   * links others ask of it, so everyone can be held to the cap without refusing most asks.
   */
  const ownCap = Number.isFinite(max) ? Math.max(1, Math.ceil(max / 2)) : max
  const ttl = options.ttl ?? defaultTtl
  const random = options.random ?? Math.random
  const ackTimeoutMs = options.ackTimeoutMs ?? 2000
  const retries = options.retries ?? 6
  const holdMs = options.holdMs ?? 5000
  const maxPending = options.maxPending ?? 4096
  const drop = (reason: string) => options.dropped?.(reason)
  const send = (to: string, message: OverlayMessage) => {
    try {
      options.send(to, message)
    } catch (error) {
      drop(`send to ${to} failed: ${error}`)
    }
  }
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
  /** Neighbours that said they have so few links they need this one. */
  const needy = new Set<string>()
  /** Peers that closed our link because they were full, until when. */
  const full = new Map<string, number>()
  /** Links kept whatever the neighbour choice says (the app asked for them). */
  const pinned = new Set<string>()
  /** Silent members we dial to heal a possible split, and the links that came of it (kept, like pinned ones). */
  const reaching = new Set<string>()
  const bridges = new Set<string>()
  /** The want flags last sent on each link. */
  const told = new Map<string, string>()
  const linkedAt = new Map<string, number>()
  /** Route frames sent to each neighbour and not acked yet, by hop number. */
  const inflight = new Map<
    string,
    Map<number, Job & {sentAt: number; wait: number; timer: ReturnType<typeof setTimeout>}>
  >()
  /** When each neighbour last acked a frame: alive, if slow. */
  const acked = new Map<string, number>()
  let inflightCount = 0
  let hopSeq = 0
  /** Frames with no next hop, waiting for a link. */
  let held: Job[] = []
  const memberWaiters = new Map<string, Set<(known: boolean) => void>>()
  let early = 0
  /** A new link is not pruned for this long: the newcomer learns the room and dials its own choice. */
  const graceMs = options.graceMs ?? 5_000
  const silentMs = (options.heartbeatMs ?? 10_000) * 2.5
  let seq = options.firstSeq ?? 0
  let stopped = false
  /** Said goodbye: route frames are no longer taken in charge (not acked), so senders reroute. */
  let leaving = false

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
    if (!entry || typeof entry !== 'object' || entry.id === identity.id) return
    // Known at this seq already: nothing to verify (most gossip a peer hears is such a copy).
    const known = membership.get(entry.id)
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
    if (change === 'join') {
      for (const wake of memberWaiters.get(entry.id) ?? []) wake(true)
      memberWaiters.delete(entry.id)
      options.join?.(entry.id)
      rebalance()
    }
  }

  const forget = (id: string) => {
    cards.delete(id)
    keys.delete(id)
    hops.delete(id)
    options.leave?.(id)
    rebalance()
  }

  /** Resolves true once `id` is a member (at once if it is), false after `ms`. */
  const waitForMember = (id: string, ms: number): Promise<boolean> => {
    if (membership.has(id) && cards.has(id)) return Promise.resolve(true)
    if (stopped) return Promise.resolve(false)
    return new Promise(resolve => {
      let waiters = memberWaiters.get(id)
      if (!waiters) memberWaiters.set(id, (waiters = new Set()))
      const done = (known: boolean) => {
        clearTimeout(timer)
        waiters!.delete(done)
        if (!waiters!.size && memberWaiters.get(id) === waiters) memberWaiters.delete(id)
        resolve(known)
      }
      const timer = setTimeout(() => done(false), ms)
      waiters.add(done)
    })
  }

  /**
   * Keeps the direct links the neighbour choice wants; over the cap, closes links no one
   * needs: first those neither side chose, then those only the other side chose (telling it
   * we are full, so it chooses another member of that bucket). Never a link we chose or were
   * asked to keep, one in its grace period, one whose other end would be cut off without it,
   * nor one with frames awaiting an ack.
   */
  const rebalance = () => {
    if (stopped) return
    const now = Date.now()
    for (const [id, until] of full) if (until < now) full.delete(id)
    const members: Contact[] = membership
      .members()
      .flatMap(m => (keys.has(m.id) ? [{id: m.id, key: keys.get(m.id)!}] : []))
    // Within a bucket, keep a link both sides chose: preferring any link would make the
    // bootstrap peer (linked to every newcomer) everyone's pick, and never prunable.
    const mutual = new Set(table.contacts().flatMap(c => (theyWant.has(c.id) && chosen.has(c.id) ? [c.id] : [])))
    // And a member chosen before stays chosen (unless it said it is full): a random pick
    // per call would dial and prune a different member of the bucket each time.
    for (const id of chosen) if (!full.has(id)) mutual.add(id)
    const want =
      members.length <= max
        ? new Set(members.flatMap(m => (full.has(m.id) && !table.has(m.id) ? [] : [m.id])))
        : chooseNeighbours(self, members, ownCap, {connected: mutual, full: new Set(full.keys()), random})
    for (const id of pinned) want.add(id)
    for (const id of bridges) want.add(id)
    // A peer with few links needs all of them: it says so, so no neighbour isolates it.
    const last = table.size <= 2
    for (const contact of table.contacts()) {
      const y = want.has(contact.id) || last
      const flags = `${y} ${last}`
      if (told.get(contact.id) !== flags)
        told.set(contact.id, flags), send(contact.id, last ? {k: 'want', y, last} : {k: 'want', y})
    }
    chosen.clear()
    for (const id of want) {
      chosen.add(id)
      if (!table.has(id) && !full.has(id)) options.connect?.(id)
    }
    const over = table.size - max
    if (over <= 0) return
    const prunable = table
      .contacts()
      .filter(
        c =>
          !want.has(c.id) && !needy.has(c.id) && now - (linkedAt.get(c.id) ?? 0) > graceMs && !inflight.get(c.id)?.size,
      )
      .sort((a, b) => Number(theyWant.has(a.id)) - Number(theyWant.has(b.id)))
    for (const contact of prunable.slice(0, over)) {
      send(contact.id, {k: 'want', y: false, full: true})
      options.disconnect?.(contact.id)
    }
  }

  const giveUp = (job: Job, reason: string) => {
    drop(reason)
    const s = job.message.s
    seen.delete(frameKey(s))
    options.undeliverable?.(job.message.to, reason, job.message.s.f === identity.id)
  }

  /** The tags of the copies of each frame held here or awaiting a next hop's ack. */
  const charge = new Map<string, number[]>()
  const take = (job: Job) => {
    const key = frameKey(job.message.s)
    charge.set(key, [...(charge.get(key) ?? []), job.message.c ?? 0])
  }
  const untake = (job: Job) => {
    const key = frameKey(job.message.s)
    const tags = charge.get(key) ?? []
    tags.splice(tags.indexOf(job.message.c ?? 0), 1)
    if (!tags.length) charge.delete(key)
  }
  /** Another copy we hold outranks this one, and will carry the frame on. */
  const outranked = (key: string, tag: number) => (charge.get(key) ?? []).some(held => held > tag)

  const keyOf = async (id: string) => keys.get(id) ?? table.get(id)?.key ?? overlayKey(id)

  /**
   * Greedy XOR step, never to a peer the frame visited; at a dead end (every contact visited)
   * the frame goes back to the peer that sent it here, which tries its other contacts: a
   * depth-first search bounded by the TTL, so a capped table that misses a bucket still
   * delivers. Hops that failed this frame here (`tried`) are avoided while others exist.
   * With no contact at all the frame waits for a link, up to holdMs.
   */
  const forward = async (job: Job) => {
    if (stopped) return
    const {message, tried} = job
    const target = {id: message.to, key: await keyOf(message.to)}
    const next =
      table.nextHop(target, {exclude: [...message.v, ...tried]}) ??
      (tried.size ? table.nextHop(target, {exclude: message.v}) : undefined)
    if (next) return transmit(next.id, job)
    const p = message.p.at(-1) === identity.id ? message.p.slice(0, -1) : message.p
    const back = p.at(-1)
    if (back && table.has(back)) return transmit(back, {...job, message: {...message, p}})
    hold(job)
  }

  const transmit = (to: string, job: Job) => {
    if (inflightCount >= maxPending) return giveUp(job, `too many frames in flight, one for ${job.message.to} dropped`)
    const i = hopSeq++
    let list = inflight.get(to)
    if (!list) inflight.set(to, (list = new Map()))
    const wait = ackTimeoutMs * 2 ** Math.min(job.attempts, 4)
    list.set(i, {...job, sentAt: Date.now(), wait, timer: setTimeout(() => retry(to, i), wait)})
    inflightCount++
    take(job)
    send(to, {...job.message, i})
  }

  /** The job acked (or failed) on link `to` as hop `i`, no longer in flight. */
  const settle = (to: string, i: number) => {
    const list = inflight.get(to)
    const job = list?.get(i)
    if (!list || !job) return undefined
    clearTimeout(job.timer)
    list.delete(i)
    inflightCount--
    untake(job)
    if (!list.size) inflight.delete(to)
    return job
  }

  /**
   * No ack in time. A neighbour that acked other frames since is alive, only slow (a loaded
   * machine): wait longer, up to `slowFactor` times; one that acks nothing (gone silent, or
   * hostile) makes the frame try another hop.
   * Rerouting on every late ack would send copies that load everyone more (a retry storm).
   */
  const retry = (to: string, i: number) => {
    const pending = inflight.get(to)?.get(i)
    if (
      pending &&
      !stopped &&
      (acked.get(to) ?? 0) > pending.sentAt &&
      Date.now() - pending.sentAt < pending.wait + slowFactor * ackTimeoutMs
    ) {
      pending.timer = setTimeout(() => retry(to, i), pending.wait)
      return
    }
    const job = settle(to, i)
    if (!job || stopped) return
    if (job.attempts >= retries)
      return giveUp(job, `no route to ${job.message.to}: ${retries + 1} next hops did not ack`)
    job.tried.add(to)
    const message = {...job.message, c: copyTag()}
    void forward({message, tried: job.tried, attempts: job.attempts + 1, until: job.until})
  }

  const hold = (job: Job) => {
    const now = Date.now()
    const until = job.until ?? now + holdMs
    if (until <= now) return giveUp(job, `no route to ${job.message.to}`)
    if (held.length + inflightCount >= maxPending)
      return giveUp(job, `no route to ${job.message.to}, and too many frames waiting`)
    held.push({...job, until})
    take(job)
  }

  /** Held frames try again (a link came up, or on the gossip tick); expired ones are given up. */
  const release = () => {
    if (!held.length) return
    for (const job of held) untake(job)
    if (!table.size) {
      const now = Date.now()
      const expired = held.filter(job => job.until! <= now)
      held = held.filter(job => job.until! > now)
      for (const job of held) take(job)
      for (const job of expired) giveUp(job, `no route to ${job.message.to}`)
      return
    }
    const jobs = held
    held = []
    for (const job of jobs) void forward(job)
  }

  const receiveRoute = async (from: string, message: Route) => {
    if (leaving) return drop('leaving')
    // The ack says "in my charge now", duplicates too: the sender stops retrying.
    if (Number.isSafeInteger(message.i)) send(from, {k: 'ack', i: message.i!})
    const s = message.s
    if (!s || typeof s !== 'object' || typeof message.to !== 'string' || typeof s.f !== 'string')
      return drop('malformed route frame')
    if (message.to.length > 256 || s.f.length > 256) return drop('malformed route frame')
    const strings = (list: unknown) =>
      Array.isArray(list) ? list.slice(-2 * ttl).filter((id): id is string => typeof id === 'string') : [from]
    const v = strings(message.v)
    const p = strings(message.p)
    // A frame we relayed may come back on a dead end (forward's backtracking), listing us.
    // A rerouted frame (its ack was late or lost) may travel as several copies, each tagged at
    // random. A relay drops a copy only while it holds one with a higher tag: the copy with the
    // highest tag alive is then never dropped, even when copies pass each other (two copies
    // each dropped by a peer the other passed, as a plain seen-set would, lose the frame).
    const key = frameKey(s)
    const tag = Number.isSafeInteger(message.c) ? message.c! : 0
    if (!seen.first(key) && !v.includes(identity.id) && (message.to === identity.id || outranked(key, tag)))
      return drop('duplicate')
    const h = (Number.isSafeInteger(message.h) ? message.h : 0) + 1
    if (message.to !== identity.id) {
      const left = Number.isSafeInteger(message.ttl) ? Math.min(message.ttl, ttl) - 1 : 0
      if (left <= 0) return drop('ttl expired')
      return forward({
        message: {
          k: 'route',
          to: message.to,
          ttl: left,
          h,
          v: v.includes(identity.id) ? v : [...v, identity.id],
          p: p.at(-1) === identity.id ? p : [...p, identity.id],
          s,
          c: tag,
        },
        tried: new Set(),
        attempts: 0,
      })
    }
    let card = cards.get(s.f)
    if (!card) {
      // The sender heard of us before we heard of it (its gossip is on the way): wait a little.
      if (early >= maxEarly) return drop(`sealed frame from unknown member ${s.f}`)
      early++
      const known = await waitForMember(s.f, holdMs).finally(() => early--)
      card = cards.get(s.f)
      if (!known || !card) return drop(`sealed frame from unknown member ${s.f}`)
    }
    const plain = await sealer.open(card, s)
    if (!plain) return drop('forged or replayed sealed frame')
    membership.heard(s.f)
    if (!table.has(s.f)) hops.set(s.f, h)
    options.message?.(s.f, plain, h, [...(p[0] === s.f ? p : [s.f, ...p]), identity.id])
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
    membership.heard(g.f)
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
    for (const contact of table.contacts()) membership.heard(contact.id)
    for (const id of membership.expire()) forget(id)
    // Members silent for 2.5 heartbeats may be cut off from us (a relaying member left and the
    // overlay fell in two): dial a couple, past the cap if need be (rebalance prunes later),
    // so a split heals before they expire. The wiring throttles dials per member.
    reaching.clear()
    for (const id of membership.silent(silentMs).slice(0, 2))
      if (!table.has(id)) reaching.add(id), options.connect?.(id, true)
    const batch = membership.tick()
    if (batch.length)
      for (const contact of table.contacts())
        send(contact.id, {k: 'gossip', e: batch.map(e => ({...e, h: hops.get(e.id) ?? 0}))})
    release()
  }
  const beat = async () => membership.apply(await ownEntry(true))
  const clearAll = () => {
    for (const list of inflight.values()) for (const job of list.values()) clearTimeout(job.timer)
    inflight.clear()
    inflightCount = 0
    held = []
    for (const waiters of memberWaiters.values()) for (const wake of [...waiters]) wake(false)
  }

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
      if (reaching.delete(id)) bridges.add(id)
      linkedAt.set(id, Date.now())
      full.delete(id)
      hops.delete(id)
      told.delete(id)
      const own = await ownEntry(true)
      membership.apply(own)
      const entries = membership.snapshot(own)
      for (let i = 0; i < entries.length; i += snapshotBatch)
        send(id, {k: 'gossip', e: entries.slice(i, i + snapshotBatch).map(e => ({...e, h: 0}))})
      release()
    },
    /** A direct link closed: frames it had not acked go over other next hops. */
    linkDown: (id: string) => {
      table.remove(id)
      bridges.delete(id)
      theyWant.delete(id)
      needy.delete(id)
      told.delete(id)
      linkedAt.delete(id)
      acked.delete(id)
      for (const i of [...(inflight.get(id)?.keys() ?? [])]) {
        const job = settle(id, i)!
        job.tried.add(id)
        const message = {...job.message, c: copyTag()}
        void forward({message, tried: job.tried, attempts: job.attempts, until: job.until})
      }
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
        case 'ack':
          if (Number.isSafeInteger(message.i) && settle(from, message.i)) acked.set(from, Date.now())
          return
        case 'want':
          if (message.y === true) theyWant.add(from)
          else theyWant.delete(from)
          if (message.last === true) needy.add(from)
          else needy.delete(from)
          if (message.full === true && !pinned.has(from)) full.set(from, Date.now() + fullForMs)
          return
      }
    },
    /** Seals `data` for member `to` and sends it on its way; false if `to` is not a known member. */
    sendTo: async (to: string, data: Uint8Array<ArrayBuffer>): Promise<boolean> => {
      const card = cards.get(to)
      if (!card || stopped) return false
      const s = await sealer.seal(card, data)
      seen.first(frameKey(s))
      await forward({
        message: {k: 'route', to, ttl, h: 0, v: [identity.id], p: [identity.id], s, c: copyTag()},
        tried: new Set(),
        attempts: 0,
      })
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
    /** Resolves true once `id` is a member whose card we hold, false after `ms`. */
    waitForMember,
    info: (id: string): {route: 'direct' | 'relayed'; hops: number} | undefined =>
      table.has(id)
        ? {route: 'direct', hops: 1}
        : membership.has(id)
          ? {route: 'relayed', hops: hops.get(id) ?? 2}
          : undefined,
    wants: (id: string) => chosen.has(id) || reaching.has(id) || bridges.has(id),
    /** Keeps a direct link to `id` (dialing it), whatever the neighbour choice (room.connect). */
    pin: (id: string) => {
      pinned.add(id)
      full.delete(id)
      rebalance()
    },
    unpin: (id: string) => {
      pinned.delete(id)
    },
    /** Does not choose `id` as a neighbour for `ms` (the app closed that link). */
    avoid: (id: string, ms = fullForMs) => {
      pinned.delete(id)
      full.set(id, Date.now() + ms)
    },
    /** Frames this peer is in charge of: awaiting an ack, or waiting for a route. */
    pending: () => inflightCount + held.length,
    /** Resolves when every frame in our charge was acked or given up, or after `ms`. */
    drain: async (ms = ackTimeoutMs) => {
      const deadline = Date.now() + ms
      while (inflightCount + held.length > 0 && Date.now() < deadline) await new Promise(r => setTimeout(r, 20))
    },
    rebalance,
    /**
     * Closes the link to `id` for good (the app asked): tells it we will not take it back, so
     * it does not dial again for a while, and no longer chooses it.
     */
    closeLink: (id: string) => {
      pinned.delete(id)
      full.set(id, Date.now() + fullForMs)
      if (table.has(id)) send(id, {k: 'want', y: false, full: true})
      options.disconnect?.(id)
    },
    /**
     * Says goodbye (a signed leave entry to every neighbour) and takes no more frames in
     * charge; frames already in our charge still go on (`drain` waits for them).
     */
    leave: async () => {
      if (leaving || stopped) return
      leaving = true
      const leave = await ownEntry(false)
      for (const contact of table.contacts()) send(contact.id, {k: 'gossip', e: [leave]})
    },
    /** Says goodbye (if `leave` did not) and stops the timers. */
    stop: async () => {
      if (stopped) return
      await node.leave()
      stopped = true
      clearInterval(ticking)
      clearInterval(beating)
      clearInterval(rebalancing)
      clearAll()
    },
  }
  return node
}

export type OverlayNode = Awaited<ReturnType<typeof createOverlayNode>>
export const textOf = (bytes: Uint8Array) => decoder.decode(bytes)
