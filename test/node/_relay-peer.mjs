// A Node peer in its own process for test/node/relay-server.test.mjs: joins a room with the
// nostr strategy through the relay URL it is given (node-datachannel as RTCPeerConnection,
// `ws` as WebSocket), and reports over IPC what happens.
//   argv: relayUrl roomId
//   -> {type: 'send', text}   send text to every peer
//   -> {type: 'leave'}        leave, then let the process end by itself
//   <- {type: 'report', kind: 'ready' | 'joined' | 'received' | 'error' | 'left', ...}
import {RTCPeerConnection} from 'node-datachannel/polyfill'
import WebSocket from 'ws'
import {joinRoom, selfId} from '../../dist/lib/strategies/nostr.js'

const [relayUrl, roomId] = process.argv.slice(2)
const report = message => process.send?.({type: 'report', ...message})

const room = joinRoom(
  {
    appId: 'p2p-elements-relay-tests',
    relayUrls: [relayUrl],
    WebSocket,
    rtcPolyfill: RTCPeerConnection,
    rtcConfig: {iceServers: []},
  },
  roomId,
)
const [send, receive] = room.makeAction('text')
receive((data, peerId) => report({kind: 'received', peerId, data}))
room.onPeerJoin(peerId => report({kind: 'joined', peerId}))
room.onError?.(error => report({kind: 'error', message: String(error?.message ?? error)}))

process.on('message', async message => {
  if (message.type === 'send') await send(message.text)
  if (message.type === 'leave') {
    await room.leave()
    report({kind: 'left'})
    process.disconnect()
  }
})
report({kind: 'ready', selfId})
