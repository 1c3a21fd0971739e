// Full mesh against a capped room, with real Node peers (node-datachannel, one process each,
// test/node/_mesh-peer.mjs) on an in-process pub/sub bus that counts relay messages:
// time until everyone sees everyone, direct connections per member, relay messages published,
// and a relayed ping against a direct one. `node bench/mesh.mjs [n...]`. Figures are ratios
// or counts where the machine's load would skew milliseconds; the load is printed with them.
import {fork} from 'node:child_process'
import {execSync} from 'node:child_process'

const script = new URL('../test/node/_mesh-peer.mjs', import.meta.url)
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
const load = () => execSync('uptime').toString().trim().split('load average: ')[1]

const run = async (count, cap) => {
  const roomId = `bench-mesh-${Date.now()}-${cap}`
  let published = 0
  const peers = []
  for (let i = 0; i < count; i++) {
    const child = fork(script, [roomId, String(cap)], {stdio: 'inherit'})
    const reports = []
    let wake = () => {}
    child.on('message', message => {
      if (message.type === 'publish') {
        published++
        for (const other of peers)
          if (other.child.connected) other.child.send({type: 'deliver', topic: message.topic, data: message.data})
      }
      if (message.type === 'report') reports.push(message), wake()
    })
    const until = async check => {
      while (!check(reports)) await new Promise(resolve => (wake = resolve))
    }
    peers.push({child, reports, until, id: () => reports.find(r => r.kind === 'ready')?.selfId})
  }
  const ask = async (peer, message, kind) => {
    const before = peer.reports.filter(r => r.kind === kind).length
    peer.child.send(message)
    await peer.until(r => r.filter(x => x.kind === kind).length > before)
    return peer.reports.filter(r => r.kind === kind).at(-1)
  }
  try {
    const start = performance.now()
    await Promise.all(
      peers.map(p => p.until(r => new Set(r.filter(x => x.kind === 'joined').map(x => x.peerId)).size === count - 1)),
    )
    const joinedMs = performance.now() - start
    await sleep(8_000) // past the 5 s grace: pruned
    const states = await Promise.all(peers.map(p => ask(p, {type: 'state'}, 'state')))
    const direct = states.map(s => Object.values(s.peers).filter(i => i.route === 'direct').length)
    const first = Object.entries(states[0].peers)
    const near = first.find(([, i]) => i.route === 'direct')?.[0]
    const far = first.filter(([, i]) => i.route === 'relayed').sort((a, b) => b[1].hops - a[1].hops)[0]
    const directMs = near ? (await ask(peers[0], {type: 'ping', to: near}, 'pong')).ms : Number.NaN
    const relayedMs = far ? (await ask(peers[0], {type: 'ping', to: far[0]}, 'pong')).ms : Number.NaN
    const hops = far ? (await ask(peers[0], {type: 'state'}, 'state')).peers[far[0]].hops : 1
    return {count, cap, joinedMs, direct, published, directMs, relayedMs, hops}
  } finally {
    for (const p of peers) p.child.kill()
    await sleep(500)
  }
}

const sizes = process.argv.slice(2).map(Number).filter(Boolean)
for (const count of sizes.length ? sizes : [6, 10, 14]) {
  for (const cap of [Number.POSITIVE_INFINITY, 3]) {
    const r = await run(count, cap)
    const mean = r.direct.reduce((a, b) => a + b) / r.count
    console.log(
      `${String(r.count).padStart(3)} members, cap ${String(r.cap).padEnd(8)} all joined in ${r.joinedMs.toFixed(0).padStart(5)} ms; ` +
        `direct per member mean ${mean.toFixed(1)} max ${Math.max(...r.direct)}; relay messages ${r.published}; ` +
        `ping relayed/direct ${(r.relayedMs / r.directMs).toFixed(1)} over ${r.hops} hops (load ${load()})`,
    )
  }
}
