// The PeerRelay API (src/peer-relay) in one process, for what needs no separate processes
// (those are test/node/peer-relay*.test.mjs): options are checked up front with clear
// errors, `wrtc` takes a module with the WebRTC constructors, and 12 in-process peers over
// local WebSockets deliver every pair message exactly once. 127.0.0.1 only.
import {after, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import * as wrtc from 'node-datachannel/polyfill'
import PeerRelay from '../../dist/lib/peer-relay/index.js'

const until = async (check, ms, what) => {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(r => setTimeout(r, 50))
  }
}

describe('PeerRelay', () => {
  const peers = []
  after(() => Promise.all(peers.map(p => new Promise(r => p.destroy(r)))))

  test('options: a bad port, bootstrap or wrtc is refused with a message that names it', () => {
    assert.throws(() => new PeerRelay({port: -1}), /port must be an integer/)
    assert.throws(() => new PeerRelay({bootstrap: 'ws://x'}), /bootstrap must be an array/)
    assert.throws(() => new PeerRelay({wrtc: {}}), /RTCPeerConnection/)
    const peer = new PeerRelay({wrtc}) // the module namespace; its default export works too
    peers.push(peer, new PeerRelay({wrtc: wrtc.default}))
    assert.equal(typeof peer.connect, 'function')
  })

  test('12 peers in one process: every pair message arrives once, unaltered, from its sender', async () => {
    const first = new PeerRelay({port: 0, maxConnections: 4})
    await first.ready
    const net = [first]
    for (let i = 1; i < 12; i++) net.push(new PeerRelay({port: 0, bootstrap: [first.listenUrl], maxConnections: 4}))
    peers.push(...net)
    await Promise.all(net.map(p => p.ready))
    await until(() => net.every(p => p.members().length === 11), 30_000, 'membership')
    const got = new Map(net.map(p => [p.id, []]))
    for (const p of net) p.on('message', (data, from) => got.get(p.id).push([data, from]))
    for (const a of net) for (const b of net) if (a !== b) a.send(b.id, {hello: b.id, from: a.id})
    const count = () => [...got.values()].reduce((sum, list) => sum + list.length, 0)
    await until(() => count() >= 132, 20_000, 'all 132 messages')
    await new Promise(r => setTimeout(r, 300))
    assert.equal(count(), 132)
    for (const p of net) {
      for (const [data, from] of got.get(p.id)) assert.deepEqual(data, {hello: p.id, from})
      assert.equal(new Set(got.get(p.id).map(([, from]) => from)).size, 11)
    }
  })
})
