// A WebRTC call that never settles (Chromium leaves some pending for good, e.g. on a
// connection closed meanwhile) must not make a member deaf to that peer: each peer's signals
// run one at a time, and a step waits for the one before it at most connectTimeoutMs.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {RTCPeerConnection} from 'node-datachannel/polyfill'
import {createMemoryDriver} from '../../dist/lib/strategies/driver.js'

const until = async (check, what, ms) => {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

test('a peer connection whose setRemoteDescription never settles delays that peer by connectTimeoutMs, not for good', async () => {
  const bus = createMemoryDriver()
  let stalled = 0
  // A's first connection never settles its setRemoteDescription: its handshake hangs there.
  class StallsOnce extends RTCPeerConnection {
    setRemoteDescription(description) {
      if (stalled++ === 0) return new Promise(() => {})
      return super.setRemoteDescription(description)
    }
  }
  const roomId = `stall-${Math.random().toString(36).slice(2)}`
  const config = {appId: 'stall-tests', driver: bus, rtcConfig: {iceServers: []}, connectTimeoutMs: 3000}
  const load = tag => import(`../../dist/lib/strategies/driver.js?${tag}=${roomId}`)
  const a = (await load('a')).joinRoom({...config, rtcPolyfill: StallsOnce}, roomId)
  const b = (await load('b')).joinRoom({...config, rtcPolyfill: RTCPeerConnection}, roomId)
  const joined = []
  a.onPeerJoin(id => joined.push(id))
  try {
    await until(() => joined.includes(b.selfId), 'A to meet B after its stalled handshake', 15_000)
    assert.ok(stalled >= 2, 'the stalled handshake was followed by another')
  } finally {
    await Promise.all([a.leave(), b.leave()])
  }
})
