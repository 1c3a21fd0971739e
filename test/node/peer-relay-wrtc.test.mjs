// PeerRelay with `wrtc` (node-datachannel/polyfill's module): peers without a port link to
// each other over WebRTC data channels, the offer and answer sealed and routed through the
// overlay. One listening bootstrap peer and 12 peers without a port in 3 processes, capped at
// 4 links: all pairs deliver, the peers link among themselves (WebRTC: none of them listens),
// and connect(id) between two of them gives a 'peer' event and a direct (1-hop) message.
import {after, before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {poll, startProcess} from './_peer-relay-net.mjs'

const cap = 4

describe('PeerRelay over WebRTC (wrtc option)', () => {
  const processes = []
  let boot
  before(async () => {
    boot = await startProcess({count: 1, listen: true, bootstrap: [], maxConnections: cap})
    processes.push(boot)
    const bootstrap = [boot.peers[0].url]
    processes.push(
      ...(await Promise.all(
        [0, 1, 2].map(() => startProcess({count: 4, listen: false, wrtc: true, bootstrap, maxConnections: cap})),
      )),
    )
  })
  after(() => Promise.all(processes.map(p => p.stop())))
  const lists = () => Promise.all(processes.map(p => p.ask({cmd: 'peers'}, 'peers')))

  test('13 peers, 12 without a port: all pairs deliver, links are WebRTC among them, within the cap', async () => {
    const ids = processes.flatMap(p => p.ids)
    assert.ok(await poll(async () => (await lists()).every(l => l.members.every(n => n === 12)), 60_000), 'membership')
    for (const p of processes) p.send({cmd: 'sendAll', targets: ids, tag: 'rtc'})
    const total = 13 * 12
    let stats = []
    await poll(async () => {
      stats = await Promise.all(processes.map(p => p.ask({cmd: 'stats', tag: 'rtc'}, 'stats')))
      return stats.reduce((sum, s) => sum + s.got, 0) >= total
    }, 30_000)
    const got = stats.reduce((sum, s) => sum + s.got, 0)
    const bootId = boot.ids[0]
    const settled = await poll(async () => {
      const all = (await lists()).flatMap(l => l.peers)
      return all.every(linked => linked.length <= cap && linked.length >= 1) && all
    }, 30_000)
    const all = settled || (await lists()).flatMap(l => l.peers)
    const rtcLinks = all.slice(1).reduce((sum, linked) => sum + linked.filter(id => id !== bootId).length, 0) / 2
    console.log(
      `wrtc: ${got}/${total} delivered; links per peer ${all.map(l => l.length).join(' ')} (cap ${cap}); ${rtcLinks} WebRTC links`,
    )
    assert.equal(got, total)
    assert.equal(
      stats.reduce((sum, s) => sum + s.bad, 0),
      0,
    )
    assert.ok(settled, `every peer within its cap: ${all.map(l => l.length).join(' ')}`)
    assert.ok(rtcLinks >= 6, 'the peers without a port are linked among themselves')
  })

  test('connect(id) between two peers that only dialed the bootstrap: a peer event, then 1-hop messages', async () => {
    const [a, b] = [processes[1], processes[2]]
    // A pair not linked yet, if there is one (cap 4 among 12).
    const la = await a.ask({cmd: 'peers'}, 'peers')
    const target = b.ids.find(id => !la.peers[0].includes(id)) ?? b.ids[0]
    const from = a.reports.length
    a.send({cmd: 'connect', index: 0, id: target})
    await a.next(r => r.kind === 'peer' && r.id === target, 20_000, "the 'peer' event", from)
    assert.ok((await a.ask({cmd: 'peers'}, 'peers')).peers[0].includes(target))
    a.send({cmd: 'sendAll', targets: [target], tag: 'direct'})
    const index = b.ids.indexOf(target)
    assert.ok(index >= 0)
    const stats = await poll(async () => {
      const s = await b.ask({cmd: 'stats', tag: 'direct'}, 'stats')
      return s.got >= 4 && s
    }, 10_000)
    assert.ok(stats, 'the messages arrived')
    assert.ok(stats.hops.includes(1), 'the connected peer’s message came direct')
  })
})
