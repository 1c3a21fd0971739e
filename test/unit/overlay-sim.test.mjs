// A small run of bench/overlay-sim.mjs (the overlay's pure modules in virtual time with
// churn while messages flow): 300 peers, 10 % replaced in a virtual minute, seeded.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {simulate} from '../../bench/overlay-sim.mjs'

test('300 peers, 10 % churn: messages delivered, p99 hops <= ceil(log2 n) + 2, never over the cap', () => {
  const r = simulate({n: 300, max: 16, seed: 300, messagesPerStep: 20})
  console.log(
    `delivered ${(r.delivered * 100).toFixed(2)} % of ${r.sent}, hops p50 ${r.p50} p95 ${r.p95} p99 ${r.p99} (goal ${r.goal}), ` +
      `replaced ${r.replaced}, degree max ${r.degrees.at(-1)}`,
  )
  assert.equal(r.replaced, 30)
  // Losses are messages that hop into a crashed member before its neighbours notice (5 s).
  assert.ok(r.delivered >= 0.95, `delivered ${r.delivered}`)
  assert.ok(r.p99 <= r.goal, `p99 ${r.p99} > ${r.goal}`)
  assert.ok(r.degrees.at(-1) <= 16, 'a peer over its cap')
})

test('membership gossip: everyone known, sends within the rate bound plus link snapshots', () => {
  const r = simulate({n: 150, max: 16, seed: 150, gossip: true, durationMs: 10_000, churn: 0.05, messagesPerStep: 0})
  console.log(
    `gossip ${Math.round(r.gossipPerPeerMin)} msgs/peer/min, members known ${(r.knownFraction * 100).toFixed(2)} %`,
  )
  assert.ok(r.knownFraction >= 0.97, `known ${r.knownFraction}`)
  // One batch per 250 ms tick per neighbour (<= 16), plus a few snapshots and goodbyes.
  assert.ok(r.gossipPerPeerMin <= 240 * 16 * 1.1, `${r.gossipPerPeerMin} msgs/peer/min`)
})
