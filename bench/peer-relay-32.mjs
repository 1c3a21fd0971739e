// 32 PeerRelay peers, one Node process each (node bench/peer-relay-32.mjs [wrtc]): with 'wrtc',
// 31 of them have no port and link over WebRTC. Three all-pairs rounds: delivery, hops, links
// per peer (cap 8), then the links after settling. Prints the load with the figures.
import {poll, startProcess} from '../test/node/_peer-relay-net.mjs'
const wrtc = process.argv[2] === 'wrtc'
const t0 = Date.now()
console.log(
  'load',
  (await import('node:os'))
    .loadavg()
    .map(l => l.toFixed(1))
    .join(' '),
)
const first = await startProcess({count: 1, listen: true, bootstrap: []})
const rest = await Promise.all(
  Array.from({length: 31}, () => startProcess({count: 1, listen: !wrtc, wrtc, bootstrap: [first.peers[0].url]})),
)
const all = [first, ...rest]
const ids = all.flatMap(p => p.ids)
console.log('started', Date.now() - t0)
const lists = () => Promise.all(all.map(p => p.ask({cmd: 'peers'}, 'peers')))
console.log('members', await poll(async () => (await lists()).every(l => l.members[0] === 31), 60000), Date.now() - t0)
for (let r = 0; r < 3; r++) {
  const t1 = Date.now()
  for (const p of all) p.send({cmd: 'sendAll', targets: ids, tag: 'r' + r})
  let stats
  await poll(async () => {
    stats = await Promise.all(all.map(p => p.ask({cmd: 'stats', tag: 'r' + r}, 'stats')))
    return stats.reduce((s, x) => s + x.got, 0) >= 992
  }, 30000)
  const hops = stats.flatMap(s => s.hops).sort((a, b) => a - b)
  console.log(
    `round ${r}: ${stats.reduce((s, x) => s + x.got, 0)}/992 bad ${stats.reduce((s, x) => s + x.bad, 0)} in ${Date.now() - t1} ms; hops p50 ${hops[496]} p99 ${hops[982]}; links ${stats.map(s => s.links[0]).join(' ')}`,
  )
}
await new Promise(r => setTimeout(r, 8000))
console.log('settled links', (await lists()).map(l => l.peers[0].length).join(' '))
console.log(
  'errors',
  all
    .flatMap(p => p.reports.filter(r => r.kind === 'error' || r.kind === 'unhandled'))
    .map(r => r.message)
    .slice(0, 5),
)
await Promise.all(all.map(p => p.stop()))
process.exit(0)
