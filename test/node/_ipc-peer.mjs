// A Node peer in its own process, driven by the test over IPC. It joins a room with the
// driver strategy over a pub/sub the test process relays (the shape of a user's own
// signaling server) and node-datachannel as RTCPeerConnection, and reports what happens.
//   -> {type: 'send', text?, bytes?, to?}   send text, or `bytes` of binary, to peers (default all)
//   -> {type: 'ping', to}                   ping a peer
//   -> {type: 'leave'}                      leave, then let the process end by itself
//   <- {type: 'report', kind: 'ready' | 'joined' | 'received' | 'progress' | 'sent' | 'pong' | 'left', ...}
import {RTCPeerConnection} from 'node-datachannel/polyfill'
import {joinRoom, selfId} from '../../dist/lib/strategies/driver.js'
import {busDriver, report} from './_bus.mjs'

const driver = busDriver()

const room = joinRoom(
  {appId: 'node-test', driver, rtcPolyfill: RTCPeerConnection, rtcConfig: {iceServers: []}},
  process.argv[2],
)
const [send, receive] = room.makeAction('data')
receive((data, peerId) =>
  report({
    kind: 'received',
    peerId,
    data: data instanceof ArrayBuffer ? {bytes: data.byteLength, at1000: new Uint8Array(data)[1000]} : data,
  }),
)
room.onPeerJoin(peerId => report({kind: 'joined', peerId}))

process.on('message', async message => {
  if (message.type === 'send') {
    const data = message.text ?? new Uint8Array(message.bytes).map((_, i) => i & 255)
    // Progress is reported at whole tenths, enough to see who is ahead.
    const reached = {}
    try {
      await send(data, message.to, null, (fraction, peerId) => {
        const tenth = Math.floor(fraction * 10)
        if (tenth !== reached[peerId]) report({kind: 'progress', peerId, fraction}), (reached[peerId] = tenth)
      })
      report({kind: 'sent'})
    } catch (error) {
      report({kind: 'send-failed', code: error.code, peerId: error.peerId})
    }
  }
  if (message.type === 'ping') report({kind: 'pong', rtt: await room.ping(message.to)})
  if (message.type === 'leave') {
    await room.leave()
    report({kind: 'left'})
    // With the room left and the IPC channel closed, nothing of ours may keep the process alive.
    process.disconnect()
  }
})
report({kind: 'ready', selfId})
