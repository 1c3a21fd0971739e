// PeerRelay (p2p-elements/peer-relay) as code written for peer-relay uses it, with the peers
// in separate Node processes over local WebSockets (127.0.0.1 only): 32 peers, each sending to
// every other, every message arrives (several rounds) with each peer within its cap; after the
// bootstrap peer's destroy(cb) the rest still reach each other, with one send each.
import {after, before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {poll, startProcess} from './_peer-relay-net.mjs'

const cap = 8

describe('PeerRelay: 32 peers in 4 processes', () => {
  const processes = []
  let ids = []
  const allStats = tag => Promise.all(processes.map(p => p.ask({cmd: 'stats', tag}, 'stats')))
  const round = async (tag, targets, expected) => {
    for (const p of processes) p.send({cmd: 'sendAll', targets, tag})
    let stats = []
    await poll(async () => {
      stats = await allStats(tag)
      return stats.reduce((sum, s) => sum + s.got, 0) >= expected
    }, 30_000)
    return {
      got: stats.reduce((sum, s) => sum + s.got, 0),
      bad: stats.reduce((sum, s) => sum + s.bad, 0),
      hops: stats.flatMap(s => s.hops),
      links: stats.flatMap(s => s.links),
    }
  }
  const summary = (label, r, total) => {
    const hops = [...r.hops].sort((a, b) => a - b)
    const at = q => hops[Math.min(hops.length - 1, Math.floor(q * hops.length))]
    console.log(
      `${label}: ${r.got}/${total} delivered, ${r.bad} wrong or duplicate; hops p50 ${at(0.5)} p99 ${at(0.99)} max ${hops.at(-1)}; links per peer ${Math.min(...r.links)}-${Math.max(...r.links)} (cap ${cap})`,
    )
  }

  before(async () => {
    const first = await startProcess({count: 8, listen: true, bootstrap: [], chain: true, maxConnections: cap})
    processes.push(first)
    const bootstrap = [first.peers[0].url]
    processes.push(
      ...(await Promise.all(
        [0, 1, 2].map(() => startProcess({count: 8, listen: true, bootstrap, maxConnections: cap})),
      )),
    )
    ids = processes.flatMap(p => p.ids)
  })
  after(() => Promise.all(processes.map(p => p.stop())))

  test('everyone learns everyone; every pair message arrives, three rounds; links held to the cap', async () => {
    const everyone = await poll(async () => {
      const lists = await Promise.all(processes.map(p => p.ask({cmd: 'peers'}, 'peers')))
      return lists.every(l => l.members.every(n => n === 31))
    }, 60_000)
    assert.ok(everyone, 'every peer knows the 31 others')
    for (let i = 0; i < 3; i++) {
      const r = await round(`all-${i}`, ids, 992)
      summary(`round ${i}`, r, 992)
      assert.equal(r.got, 992)
      assert.equal(r.bad, 0)
    }
    // Links settle to the cap once the newcomers' grace period is over.
    const held = await poll(async () => {
      const lists = await Promise.all(processes.map(p => p.ask({cmd: 'peers'}, 'peers')))
      return lists.flatMap(l => l.peers.map(p => p.length)).every(n => n <= cap && n >= 1)
    }, 30_000)
    const lists = await Promise.all(processes.map(p => p.ask({cmd: 'peers'}, 'peers')))
    const degrees = lists.flatMap(l => l.peers.map(p => p.length))
    console.log(`links per peer after settling: ${degrees.join(' ')}`)
    assert.ok(held, `every peer within its cap of ${cap}: ${degrees.join(' ')}`)
    const r = await round('settled', ids, 992)
    summary('settled', r, 992)
    assert.equal(r.got, 992)
  })

  test('the bootstrap peer destroys itself (callback called); the other 31 reach each other, one send each', async () => {
    const [first] = processes
    const bootstrapId = ids[0]
    await first.ask({cmd: 'destroy', index: 0}, 'destroyed', 10_000)
    const rest = ids.slice(1)
    const gone = await poll(async () => {
      const lists = await Promise.all(processes.map(p => p.ask({cmd: 'peers'}, 'peers')))
      return lists.every((l, pi) =>
        l.peers.every((linked, i) => (pi === 0 && i === 0) || !linked.includes(bootstrapId)),
      )
    }, 10_000)
    assert.ok(gone, 'no one is linked to the destroyed peer')
    const r = await round('after-bootstrap', rest, 31 * 30)
    summary('after the bootstrap left', r, 930)
    assert.equal(r.got, 930)
    assert.equal(r.bad, 0)
  })
})
