// The overlay's pure routing and membership modules (dist/lib/core/overlay/{keys,table,
// neighbours,gossip,dedup}.js), simulated without WebRTC in virtual time, with churn while
// messages flow. test/unit/overlay-routing.test.mjs builds one static mesh and rebuilds it
// after churn; this runs a clock instead:
//   - every 250 ms step (node.ts's gossip interval) some members leave (half say goodbye,
//     their links go at once; half crash, their links go after `detectMs`) and as many new
//     ones join, so `churn` of n is replaced over `durationMs`;
//   - a peer that lost a link, a newcomer, and the few members nearest a newcomer by XOR
//     re-run chooseNeighbours; each new link comes up `connectMs` later (signaling through
//     the overlay), and only if the other side is below its cap (else it is marked full);
//   - each step `messagesPerStep` messages go between random live members, routed hop by
//     hop as node.ts forwards (greedy XOR, never back to a visited peer, one step back at a
//     dead end, defaultTtl hops); a hop into a crashed peer not yet detected loses it;
//   - with `gossip`, every peer runs gossip.ts's Membership on the virtual clock: heartbeats
//     every 10 s, one batch per tick to every neighbour, a snapshot to each new link; the
//     messages sent are counted (for 10,000 peers that is 10^8 entries: not simulated, the
//     bound and the arrival rate are printed instead).
// Simulation-side logic (not in the pure modules): the candidate sampling below (each peer
// picks from <= `perBucket` members per bucket, found by binary search in the sorted keys,
// instead of scanning all n members; chooseNeighbours then picks as it would), link setup,
// churn and the clock.
// Run: node bench/overlay-sim.mjs [n...]   (default 1000 10000; build first: node esbuild.mjs)
import {execSync} from 'node:child_process'
import {pathToFileURL} from 'node:url'
import {keyBits, keyOfBytes} from '../dist/lib/core/overlay/keys.js'
import {RoutingTable} from '../dist/lib/core/overlay/table.js'
import {chooseNeighbours} from '../dist/lib/core/overlay/neighbours.js'
import {defaultTtl} from '../dist/lib/core/overlay/dedup.js'
import {Membership} from '../dist/lib/core/overlay/gossip.js'

// Math.imul: `seed * 1103515245` as a double loses low bits past 2^53 and falls into short
// cycles (two peers then get the same key).
export const rng = seed => () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
  return seed / 2 ** 32
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]

/** Sorted live keys, for the range of members in each of a peer's buckets. */
class KeyIndex {
  constructor() {
    this.keys = []
    this.peers = []
  }
  find(key) {
    let lo = 0
    let hi = this.keys.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.keys[mid] < key) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  add(peer) {
    const i = this.find(peer.key)
    this.keys.splice(i, 0, peer.key)
    this.peers.splice(i, 0, peer)
  }
  remove(peer) {
    const i = this.find(peer.key)
    if (this.peers[i] !== peer)
      throw new Error(`index: ${peer.id} not at ${i} (${this.peers[i]?.id}, ${this.peers[i]?.key === peer.key})`)
    this.keys.splice(i, 1)
    this.peers.splice(i, 1)
  }
}

export const simulate = ({
  n,
  max = 16,
  churn = 0.1,
  durationMs = 60_000,
  stepMs = 250,
  connectMs = 1000,
  detectMs = 5000,
  messagesPerStep = 50,
  perBucket = 4,
  gossip = false,
  heartbeatMs = 10_000,
  seed = 1,
}) => {
  const random = rng(seed)
  let now = 0
  let serial = 0
  const newPeer = () => ({
    id: `p${serial++}`,
    key: keyOfBytes(Uint8Array.from({length: 20}, () => Math.floor(random() * 256))),
    alive: true,
    crashed: false,
  })
  const index = new KeyIndex()
  const tables = new Map()
  const pending = [] // [at, a, b]
  const members = new Map() // id -> Membership (gossip)
  const beatSeq = new Map()
  let gossipMsgs = 0
  let gossipPeerMs = 0
  const joinsSeen = []
  const full = new Set()

  const candidates = peer => {
    const out = new Map()
    const table = tables.get(peer.id)
    for (const c of table.contacts()) out.set(c.id, c)
    const at = index.find(peer.key)
    for (let d = -3; d <= 3; d++) {
      const p = index.peers[at + d]
      if (p && p !== peer) out.set(p.id, p)
    }
    for (let i = 0; i < keyBits; i++) {
      const shift = BigInt(keyBits - i - 1)
      const prefix = (peer.key >> shift) ^ 1n
      const lo = index.find(prefix << shift)
      const hi = index.find((prefix + 1n) << shift)
      if (hi - lo <= perBucket) for (let j = lo; j < hi; j++) out.set(index.peers[j].id, index.peers[j])
      else
        for (let tries = 0, got = 0; got < perBucket && tries < perBucket * 4; tries++) {
          const p = index.peers[lo + Math.floor(random() * (hi - lo))]
          if (full.has(p.id) || out.has(p.id)) continue
          out.set(p.id, p)
          got++
        }
      // Past the deepest non-empty bucket: only we share i + 1 leading bits with ourselves.
      const own = peer.key >> shift
      if (index.find((own + 1n) << shift) - index.find(own << shift) <= 1) break
    }
    return [...out.values()]
  }

  const rebalance = peer => {
    if (!peer.alive) return
    const table = tables.get(peer.id)
    const mine = new Set(table.contacts().map(c => c.id))
    const want = chooseNeighbours(peer, candidates(peer), max, {connected: mine, full, random})
    for (const id of want)
      if (!mine.has(id) && !pending.some(p => p[1] === peer && p[2].id === id))
        pending.push([now + connectMs, peer, byId.get(id)])
  }

  const byId = new Map()
  const link = (a, b) => {
    const ta = tables.get(a.id)
    const tb = tables.get(b.id)
    if (!a.alive || !b.alive || a.crashed || b.crashed || ta.has(b.id)) return
    if (ta.size >= max) return
    if (tb.size >= max) return void full.add(b.id)
    ta.add(b)
    tb.add(a)
    if (ta.size >= max) full.add(a.id)
    if (tb.size >= max) full.add(b.id)
    if (gossip)
      for (const [x, y] of [
        [a, b],
        [b, a],
      ]) {
        const m = members.get(x.id)
        const snap = m.snapshot({id: x.id, seq: beatSeq.get(x.id), alive: true})
        gossipMsgs += Math.max(1, Math.ceil(snap.length / 256))
        const other = members.get(y.id)
        for (const e of snap) other.apply(e)
      }
  }
  const unlink = (a, b) => {
    tables.get(a.id).remove(b.id)
    tables.get(b.id)?.remove(a.id)
    full.delete(a.id)
    full.delete(b.id)
  }

  const join = (initial = false) => {
    const peer = newPeer()
    byId.set(peer.id, peer)
    tables.set(peer.id, new RoutingTable(peer, Number.POSITIVE_INFINITY))
    index.add(peer)
    if (gossip) {
      const m = new Membership(peer.id, {intervalMs: stepMs, expiryMs: 30_000, now: () => now})
      members.set(peer.id, m)
      beatSeq.set(peer.id, 0)
      m.apply({id: peer.id, seq: 0, alive: true})
      peer.beatAt = now + Math.floor(random() * heartbeatMs)
    }
    if (!initial) joinsSeen.push(peer)
    return peer
  }

  const leave = peer => {
    peer.alive = false
    index.remove(peer)
    const graceful = random() < 0.5
    if (gossip && graceful) {
      const seq = beatSeq.get(peer.id) + 1
      for (const c of tables.get(peer.id).contacts()) members.get(c.id)?.apply({id: peer.id, seq, alive: false})
      gossipMsgs += tables.get(peer.id).size
    }
    const neighbours = tables.get(peer.id).contacts()
    const drop = () => {
      for (const c of neighbours) {
        if (!tables.has(c.id)) continue
        unlink(byId.get(c.id), peer)
        rebalance(byId.get(c.id))
      }
      tables.delete(peer.id)
      members.delete(peer.id)
    }
    if (graceful) drop()
    else {
      peer.crashed = true
      pending.push([now + detectMs, null, drop])
    }
  }

  // Start: n members, then each runs its neighbour choice; links of the start are up at once.
  const initial = Array.from({length: n}, () => join(true))
  if (gossip)
    for (const p of initial)
      for (const q of initial) if (p !== q) members.get(q.id).apply({id: p.id, seq: 0, alive: true})
  for (let pass = 0; pass < 2; pass++)
    for (const peer of initial) {
      rebalance(peer)
      for (const [, a, b] of pending.splice(0)) link(a, b)
    }
  const startDegrees = initial.map(p => tables.get(p.id).size).sort((a, b) => a - b)

  const route = (from, target) => {
    const visited = new Set([from.id])
    const path = [from]
    for (let hops = 1; hops <= defaultTtl; hops++) {
      const at = path.at(-1)
      const next = tables.get(at.id).nextHop(target, {exclude: visited})
      if (next && byId.get(next.id).crashed) return 'crash'
      if (next?.id === target.id) return hops
      if (next) {
        visited.add(next.id)
        path.push(byId.get(next.id))
      } else {
        path.pop()
        if (!path.length) return 'stuck'
      }
    }
    return 'ttl'
  }

  const hops = []
  let lost = 0
  const why = {}
  let sent = 0
  let toLeave = 0
  let left = 0
  const perStep = (churn * n * stepMs) / durationMs
  const started = performance.now()
  for (now = stepMs; now <= durationMs; now += stepMs) {
    toLeave += perStep
    while (toLeave >= 1) {
      toLeave--
      const alive = index.peers
      leave(alive[Math.floor(random() * alive.length)])
      left++
      const peer = join()
      rebalance(peer)
      // Members nearest the newcomer by XOR hear of it and take it into their near buckets.
      const at = index.find(peer.key)
      for (let d = -3; d <= 3; d++) if (d && index.peers[at + d]) rebalance(index.peers[at + d])
    }
    const due = pending.filter(p => p[0] <= now)
    for (const p of due) pending.splice(pending.indexOf(p), 1)
    for (const [, a, b] of due) a === null ? b() : link(a, b)
    if (gossip) {
      for (const peer of index.peers) {
        const m = members.get(peer.id)
        if (!m) continue
        if (now >= peer.beatAt) {
          peer.beatAt += heartbeatMs
          beatSeq.set(peer.id, beatSeq.get(peer.id) + 1)
          m.apply({id: peer.id, seq: beatSeq.get(peer.id), alive: true})
        }
        m.expire()
      }
      const batches = index.peers.map(peer => [peer, members.get(peer.id)?.tick() ?? []])
      for (const [peer, batch] of batches) {
        if (!batch.length) continue
        for (const c of tables.get(peer.id).contacts()) {
          const other = members.get(c.id)
          if (!other || byId.get(c.id).crashed) continue
          gossipMsgs++
          for (const e of batch) other.apply(e)
        }
      }
      gossipPeerMs += index.peers.length * stepMs
    }
    const alive = index.peers
    for (let i = 0; i < messagesPerStep; i++) {
      const a = alive[Math.floor(random() * alive.length)]
      const b = alive[Math.floor(random() * alive.length)]
      if (a === b || !tables.has(a.id) || !tables.has(b.id)) continue
      sent++
      // A newcomer (or a member a crash cut off) with no link up yet cannot be reached.
      const h = tables.get(b.id).size && tables.get(a.id).size ? route(a, b) : 'unlinked'
      if (typeof h === 'string') lost++, (why[h] = (why[h] ?? 0) + 1)
      else hops.push(h)
    }
  }
  hops.sort((x, y) => x - y)
  const live = index.peers
  const degrees = live.map(p => tables.get(p.id).size).sort((a, b) => a - b)
  let knownFraction
  if (gossip) {
    // How many of the live members each live peer knows at the end (membership accuracy).
    let sum = 0
    for (const p of live) {
      const m = members.get(p.id)
      let k = 0
      for (const q of live) if (q !== p && m.has(q.id)) k++
      sum += k / (live.length - 1)
    }
    knownFraction = sum / live.length
  }
  return {
    n,
    max,
    sent,
    delivered: sent ? 1 - lost / sent : 1,
    p50: quantile(hops, 0.5),
    p95: quantile(hops, 0.95),
    p99: quantile(hops, 0.99),
    maxHops: hops.at(-1),
    lostTo: why,
    goal: Math.ceil(Math.log2(n)) + 2,
    replaced: left,
    startDegrees,
    degrees,
    gossipPerPeerMin: gossip ? gossipMsgs / (gossipPeerMs / 60_000) : undefined,
    knownFraction,
    ms: Math.round(performance.now() - started),
  }
}

const main = () => {
  const sizes = process.argv.slice(2).map(Number).filter(Boolean)
  const load = () =>
    execSync('uptime')
      .toString()
      .trim()
      .replace(/.*load/, 'load')
  console.log(
    'overlay simulation, virtual time 60 s, 10 % churn (half graceful, half crash), 250 ms steps; gossip: 15 s at the same churn rate',
  )
  for (const n of sizes.length ? sizes : [1000, 10000]) {
    const max = 16
    const gossip = n <= 2000
    const r = simulate({n, max, seed: n, messagesPerStep: n > 5000 ? 40 : 50})
    // Gossip (10^6 Membership entries at 1,000 peers) over a shorter virtual window, same churn rate.
    const g = gossip
      ? simulate({n, max, gossip, seed: n + 1, durationMs: 15_000, churn: 0.025, messagesPerStep: 0})
      : undefined
    if (g) (r.gossipPerPeerMin = g.gossipPerPeerMin), (r.knownFraction = g.knownFraction)
    const intervalMs = 250
    const degreeMed = quantile(r.degrees, 0.5)
    const bound = (60_000 / intervalMs) * degreeMed
    // Arrivals of new heartbeat entries per tick at each peer vs what one batch carries.
    const arrivals = (n * intervalMs) / 10_000
    console.log(`\nn=${n} maxConnections=${max} (${load()}, ${r.ms} ms)`)
    console.table({
      [`n=${n}`]: {
        messages: r.sent,
        'delivered %': +(r.delivered * 100).toFixed(2),
        'hops p50': r.p50,
        'hops p95': r.p95,
        'hops p99': r.p99,
        'hops max': r.maxHops,
        'goal ceil(log2 n)+2': r.goal,
        'goal met': r.p99 <= r.goal,
        'members replaced': r.replaced,
        'degree med/max': `${degreeMed}/${r.degrees.at(-1)}`,
        'gossip msgs/peer/min': r.gossipPerPeerMin === undefined ? 'not simulated' : Math.round(r.gossipPerPeerMin),
        'gossip bound/peer/min': bound,
        'members known %': r.knownFraction === undefined ? '-' : +(r.knownFraction * 100).toFixed(2),
      },
    })
    console.log(
      `  lost: ${JSON.stringify(r.lostTo)} (crash: hopped into a crashed member before its neighbours noticed; ttl: detours ran out of defaultTtl; stuck: no way on; unlinked: an end with no link up yet)`,
    )
    console.log(
      `  heartbeat entries arriving per 250 ms tick at each peer: ${arrivals} (batchLimit 64` +
        `${arrivals > 64 ? ': over it, queues only drain one entry per member per ' + Math.round((n / 64) * 0.25) + ' s, past the 30 s expiry' : ''})`,
    )
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main()
