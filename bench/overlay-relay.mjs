// PeerRelay over the overlay, relayed against direct, in one run (node bench/overlay-relay.mjs
// [peers] [cap]): the same peers over local WebSockets, once as a full mesh (every message
// direct) and once capped (most messages relayed). Prints, for each, all-pairs delivery, hops
// and the time for a round of all pairs and its median message latency, and the relayed/direct
// ratios: absolute figures swing with the machine's load (printed with them).
import {loadavg} from 'node:os'
import PeerRelay from '../dist/lib/peer-relay/index.js'

const n = Number(process.argv[2] ?? 16)
const cap = Number(process.argv[3] ?? 4)
const sleep = ms => new Promise(r => setTimeout(r, ms))
const until = async (check, ms) => {
  const deadline = Date.now() + ms
  while (!check() && Date.now() < deadline) await sleep(20)
  return check()
}

const run = async maxConnections => {
  const first = new PeerRelay({port: 0, maxConnections})
  await first.ready
  const peers = [first]
  for (let i = 1; i < n; i++) peers.push(new PeerRelay({port: 0, bootstrap: [first.listenUrl], maxConnections}))
  await Promise.all(peers.map(p => p.ready))
  await until(() => peers.every(p => p.members().length === n - 1), 60_000)
  await sleep(6000) // past the newcomers' grace period: links settle to the cap
  const results = []
  for (let round = 0; round < 3; round++) {
    const latencies = []
    const hops = []
    for (const p of peers) p.removeAllListeners('message')
    for (const p of peers)
      p.on('message', (data, _from, h) => data?.r === round && (latencies.push(Date.now() - data.t), hops.push(h)))
    const started = Date.now()
    for (const a of peers) for (const b of peers) if (a !== b) a.send(b.id, {r: round, t: Date.now()})
    await until(() => latencies.length >= n * (n - 1), 30_000)
    results.push({ms: Date.now() - started, latencies, hops})
    await sleep(500)
  }
  const links = peers.map(p => p.peers().length)
  await Promise.all(peers.map(p => new Promise(r => p.destroy(r))))
  const all = results.flatMap(r => r.latencies).sort((a, b) => a - b)
  const hops = results.flatMap(r => r.hops).sort((a, b) => a - b)
  return {
    delivered: all.length,
    total: 3 * n * (n - 1),
    roundMs: Math.min(...results.map(r => r.ms)),
    p50: all[Math.floor(all.length / 2)],
    hops50: hops[Math.floor(hops.length / 2)],
    hops99: hops[Math.floor(hops.length * 0.99)],
    links: `${Math.min(...links)}-${Math.max(...links)}`,
  }
}

const load = () => loadavg()[0].toFixed(1)
const direct = await run(n)
console.log(`direct  (full mesh, load ${load()}):`, direct)
const relayed = await run(cap)
console.log(`relayed (cap ${cap}, load ${load()}):`, relayed)
console.log(
  `relayed/direct: delivery ${relayed.delivered}/${relayed.total} vs ${direct.delivered}/${direct.total}; ` +
    `round time x${(relayed.roundMs / direct.roundMs).toFixed(2)}, median latency x${(relayed.p50 / Math.max(1, direct.p50)).toFixed(2)}; ` +
    `hops p50 ${relayed.hops50} p99 ${relayed.hops99} (direct ${direct.hops50})`,
)
process.exit(0)
