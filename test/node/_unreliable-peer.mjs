// A Node peer for unreliable-node.test.mjs, in its own process: node-datachannel as
// RTCPeerConnection, the driver strategy over a pub/sub the test process relays.
//   -> {type: 'move', n}   send {n} on the unreliable action "state" to every peer
//   -> {type: 'leave'}
//   <- {type: 'report', kind: 'ready' | 'joined' | 'state' | 'too-large' | 'error' | 'left', ...}
import {RTCPeerConnection} from 'node-datachannel/polyfill'
import {joinRoom, selfId} from '../../dist/lib/strategies/driver.js'
import {busDriver, report} from './_bus.mjs'

const driver = busDriver()

const room = joinRoom(
  {appId: 'node-unreliable-test', driver, rtcPolyfill: RTCPeerConnection, rtcConfig: {iceServers: []}},
  process.argv[2],
)
const [send, receive] = room.makeAction('state', {reliable: false})
receive((data, peerId) => report({kind: 'state', peerId, n: data.n}))
room.onPeerJoin(peerId => report({kind: 'joined', peerId}))
room.onError(error => report({kind: 'error', code: error.code}))

process.on('message', async message => {
  if (message.type === 'move') await send({n: message.n})
  if (message.type === 'big')
    await send({pad: 'x'.repeat(2000)}).catch(error => report({kind: 'too-large', code: error.code}))
  if (message.type === 'leave') {
    await room.leave()
    report({kind: 'left'})
    process.disconnect()
  }
})
report({kind: 'ready', selfId})
