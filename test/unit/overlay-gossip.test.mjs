// Membership gossip (src/core/overlay/gossip.ts): newer seq wins, leaving is final for its
// seq, silence expires, and the send rate is bounded by batching, not by the room's churn.
import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {Membership} from '../../dist/lib/core/overlay/gossip.js'

describe('membership', () => {
  test('join, update, stale, leave; a late old heartbeat does not revive a member', () => {
    const m = new Membership('me')
    assert.equal(m.apply({id: 'a', seq: 1, alive: true}), 'join')
    assert.equal(m.apply({id: 'a', seq: 1, alive: true}), 'stale')
    assert.equal(m.apply({id: 'a', seq: 0, alive: true}), 'stale')
    assert.equal(m.apply({id: 'a', seq: 2, alive: true}), 'update')
    assert.equal(m.apply({id: 'a', seq: 3, alive: false}), 'leave')
    assert.equal(m.apply({id: 'a', seq: 2, alive: true}), 'stale')
    assert.equal(m.has('a'), false)
    assert.equal(m.apply({id: 'a', seq: 4, alive: true}), 'join')
    assert.equal(m.apply({id: 'b', seq: -1, alive: true}), 'stale')
    assert.equal(m.apply({id: 'b', seq: 0.5, alive: true}), 'stale')
  })

  test('a member heard from otherwise (a sealed message, an open link) does not expire; unknown ids stay unknown', () => {
    let now = 0
    const m = new Membership('me', {expiryMs: 1000, now: () => now})
    m.apply({id: 'a', seq: 0, alive: true})
    now = 900
    m.heard('a')
    m.heard('stranger')
    now = 1500
    assert.deepEqual(m.expire(), [])
    assert.equal(m.has('stranger'), false)
    now = 2000
    assert.deepEqual(m.expire(), ['a'])
  })

  test('members silent past expiryMs are dropped', () => {
    let now = 0
    const m = new Membership('me', {expiryMs: 1000, now: () => now})
    m.apply({id: 'a', seq: 0, alive: true})
    now = 500
    m.apply({id: 'b', seq: 0, alive: true})
    now = 1200
    assert.deepEqual(m.expire(), ['a'])
    assert.deepEqual(
      m.members().map(e => e.id),
      ['b'],
    )
  })

  test('one batch per tick, at most batchLimit entries, each update once', () => {
    const m = new Membership('me', {batchLimit: 10})
    for (let i = 0; i < 25; i++) m.apply({id: `p${i}`, seq: 0, alive: true})
    for (let i = 0; i < 25; i++) m.apply({id: `p${i}`, seq: 0, alive: true}) // duplicates: not queued again
    assert.equal(m.tick().length, 10)
    assert.equal(m.tick().length, 10)
    assert.equal(m.tick().length, 5)
    assert.equal(m.tick().length, 0)
    assert.equal(m.sent, 3)
  })

  test('spread over a line of 30 peers: everyone learns everyone, messages bounded by ticks', () => {
    const n = 30
    const peers = Array.from({length: n}, (_, i) => new Membership(`p${i}`, {batchLimit: 64}))
    for (const [i, p] of peers.entries()) p.apply({id: `p${i}`, seq: 0, alive: true})
    let ticks = 0
    let messages = 0
    while (ticks < 200 && peers.some(p => p.members().length < n - 1)) {
      ticks++
      const batches = peers.map(p => p.tick())
      for (const [i, batch] of batches.entries()) {
        if (!batch.length) continue
        for (const j of [i - 1, i + 1]) {
          if (!peers[j]) continue
          messages++
          for (const e of batch) peers[j].apply(e)
        }
      }
    }
    assert.ok(peers.every(p => p.members().length === n - 1))
    // A line's diameter is 29: one hop per tick at most, never more than 2 messages per peer per tick.
    assert.ok(ticks <= n, `${ticks} ticks`)
    assert.ok(messages <= 2 * n * ticks)
    console.log(`30 peers in a line: converged in ${ticks} ticks, ${messages} gossip messages`)
  })
})
