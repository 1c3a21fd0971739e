// A room past a full mesh with real Node peers (node-datachannel, one process each, the
// driver strategy over this process as bus): 14 members capped at 3 direct connections.
// Everyone sees everyone join, targeted notes between every pair and one broadcast arrive
// (exactly once), pings cross hops; prints connections per member, hops and the ping ratio.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {execSync} from 'node:child_process'
import {startPeers} from './_bus.mjs'

const count = 14
const cap = 3
const script = new URL('./_mesh-peer.mjs', import.meta.url)
const load = () => execSync('uptime').toString().trim().split('load average: ')[1]

const latest = (peer, kind) => peer.reports.filter(r => r.kind === kind).at(-1)
const ask = async (peer, message, kind) => {
  const before = peer.reports.filter(r => r.kind === kind).length
  peer.child.send(message)
  await peer.until(r => r.filter(x => x.kind === kind).length > before)
  return latest(peer, kind)
}
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
/** Ends the processes; the bus stops relaying to them first (a send to a dead one is EPIPE). */
const stop = peers => {
  for (const p of peers) p.child.removeAllListeners('message'), p.child.on('error', () => {})
  for (const p of peers) p.child.kill()
}

test(`${count} Node members capped at ${cap} connections: everyone joins, notes, a broadcast and pings cross hops`, {
  timeout: 240_000,
}, async () => {
  const roomId = `mesh-${Date.now()}`
  const peers = startPeers(script, count, roomId, [String(cap)])
  try {
    await Promise.all(
      peers.map(p => p.until(r => new Set(r.filter(x => x.kind === 'joined').map(x => x.peerId)).size === count - 1)),
    )
    let states
    for (let round = 0; round < 40; round++) {
      states = await Promise.all(peers.map(p => ask(p, {type: 'state'}, 'state')))
      const direct = states.map(s => Object.values(s.peers).filter(i => i.route === 'direct').length)
      if (direct.every(n => n <= cap + 2)) break
      await sleep(1000)
    }
    const direct = states.map(s => Object.values(s.peers).filter(i => i.route === 'direct').length)
    const hops = states.flatMap(s => Object.values(s.peers).map(i => i.hops))
    for (const s of states) assert.equal(Object.keys(s.peers).length, count - 1, 'every member lists every other')
    for (const p of peers)
      assert.equal(p.reports.filter(r => r.kind === 'left-peer').length, 0, 'a pruned link is not a leave')
    assert.ok(
      direct.every(n => n <= cap + 2),
      `direct links per member ${direct}`,
    )

    // Every pair: a note each way.
    const ids = peers.map(p => p.id())
    const noted = await Promise.all(
      peers.map(p => ask(p, {type: 'note', to: ids.filter(id => id !== p.id())}, 'noted')),
    )
    // Why a note had to be sent again, where one had to (the log of a failing CI run says it).
    for (const reason of noted.flatMap(n => n.reasons))
      console.log(`# mesh-node: a note was sent again after: ${reason}`)
    for (const n of noted) assert.deepEqual(n.failed, [])
    for (const p of peers) {
      const got = p.reports.filter(r => r.kind === 'note')
      // A note sent again after a rejection may arrive twice (the first can have arrived too).
      assert.equal(new Set(got.map(r => r.from)).size, count - 1)
      for (const r of got) assert.equal(r.data, `${r.from}>${p.id()}`, 'the receiver knows the true sender')
    }
    // One broadcast: each other member exactly once.
    peers[0].child.send({type: 'all'})
    await Promise.all(peers.slice(1).map(p => p.until(r => r.some(x => x.kind === 'all'))))
    await sleep(1000)
    for (const p of peers.slice(1)) assert.equal(p.reports.filter(r => r.kind === 'all').length, 1)

    // Ping: a direct neighbour and the farthest relayed member of the first member.
    const first = Object.entries(states[0].peers)
    const near = first.find(([, i]) => i.route === 'direct')[0]
    const [far, farInfo] = first.filter(([, i]) => i.route === 'relayed').sort((a, b) => b[1].hops - a[1].hops)[0]
    const directMs = (await ask(peers[0], {type: 'ping', to: near}, 'pong')).ms
    const relayedMs = (await ask(peers[0], {type: 'ping', to: far}, 'pong')).ms
    const after = (await ask(peers[0], {type: 'state'}, 'state')).peers[far]
    console.log(
      `mesh-node: ${count} members, cap ${cap}: direct links per member ${direct.join(',')} (mean ${(direct.reduce((a, b) => a + b) / count).toFixed(1)}); ` +
        `hops (gossip view) max ${Math.max(...hops)}; notes ${count * (count - 1)}/${count * (count - 1)} (sent again after no-route or peer-left ${noted.reduce((sum, n) => sum + n.resent, 0)}), broadcast ${count - 1}/${count - 1} once; ` +
        `ping direct ${directMs.toFixed(2)} ms, relayed ${after.hops} hops ${relayedMs.toFixed(2)} ms, ratio ${(relayedMs / directMs).toFixed(1)} (load ${load()})`,
    )
    assert.ok(farInfo.hops >= 2)
  } finally {
    stop(peers)
  }
})

test('a far member that stops reading holds back its sender, not the members relaying to it', {
  timeout: 240_000,
}, async () => {
  const members = 7
  const peers = startPeers(script, members, `mesh-slow-${Date.now()}`, ['2'])
  try {
    await Promise.all(
      peers.map(p => p.until(r => new Set(r.filter(x => x.kind === 'joined').map(x => x.peerId)).size === members - 1)),
    )
    await sleep(8_000) // past the grace period: links pruned to the cap
    const states = await Promise.all(peers.map(p => ask(p, {type: 'state'}, 'state')))
    const byId = new Map(peers.map(p => [p.id(), p]))
    // The sender and its farthest relayed member.
    const [to, info] = Object.entries(states[0].peers)
      .filter(([, i]) => i.route === 'relayed')
      .sort((a, b) => b[1].hops - a[1].hops)[0]
    const far = byId.get(to)
    const others = peers.filter(p => p !== peers[0] && p !== far)
    const before = await Promise.all(others.map(p => ask(p, {type: 'mem'}, 'mem')))
    const size = 48 * 1024 * 1024
    peers[0].child.send({type: 'big', to, bytes: size})
    await sleep(1_500)
    far.child.kill('SIGSTOP') // reads nothing from now on, as a frozen tab
    await sleep(6_000)
    const during = await Promise.all(others.map(p => ask(p, {type: 'mem'}, 'mem')))
    const growth = during.map((m, i) => m.bytes - before[i].bytes)
    far.child.kill('SIGCONT')
    await peers[0].until(r => r.some(x => x.kind === 'big'))
    const result = peers[0].reports.find(r => r.kind === 'big')
    console.log(
      `mesh-node: ${members} members, cap 2, ${(size / 2 ** 20).toFixed(0)} MiB to a member ${info.hops} hops away frozen for 6 s: ` +
        `memory growth of the other members max ${(Math.max(...growth) / 2 ** 20).toFixed(1)} MiB; the send ${result.ok ? `completed in ${(result.ms / 1000).toFixed(1)} s` : `rejected ${result.code}`} (load ${load()})`,
    )
    // Without the end-to-end window a relaying member would queue most of the 48 MiB (base64: 64 MiB).
    // Half of that: runs measured 15.7-25.5 MiB (heap samples include garbage not yet collected).
    assert.ok(Math.max(...growth) < 32 * 2 ** 20, `a relaying member grew by ${Math.max(...growth)} bytes`)
    // A clear rejection, not a hang: the route went ('no-route') or the frozen member was
    // declared gone meanwhile ('peer-left'); which one comes first depends on the machine's load.
    if (!result.ok) assert.ok(['no-route', 'peer-left'].includes(result.code), `rejected ${result.code}`)
  } finally {
    for (const p of peers) p.child.kill('SIGCONT')
    stop(peers)
  }
})
