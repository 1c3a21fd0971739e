// A Node peer for the Trystero-API conformance test (api-trystero.test.mjs), in its own
// process (selfId is one per process, as in a browser tab). It joins with the driver strategy
// over the test's IPC bus, calls the API the way Trystero's README shows, and reports.
//   argv: roomId [password]
//   -> {type: 'send', text?, bytes?, to?, metadata?}   send(data, to, metadata, onProgress)
//   -> {type: 'peers'} | {type: 'ping', to} | {type: 'leave'}
import {RTCPeerConnection} from 'node-datachannel/polyfill'
import {selfId as coreSelfId} from '../../dist/lib/core/index.js'
import {joinRoom, selfId} from '../../dist/lib/strategies/driver.js'
import {busDriver, report} from './_bus.mjs'

const [roomId, password] = process.argv.slice(2)
const config = {appId: 'api-test', driver: busDriver(), rtcPolyfill: RTCPeerConnection, rtcConfig: {iceServers: []}}
if (password) config.password = password
const room = joinRoom(config, roomId, details => report({kind: 'join-error', details: {...details}}))
const action = room.makeAction('api')
const [send, receive, onProgress] = action

receive((data, peerId, metadata) =>
  report({
    kind: 'received',
    peerId,
    metadata,
    arrayBuffer: data instanceof ArrayBuffer,
    data: data instanceof ArrayBuffer ? [...new Uint8Array(data).slice(0, 4)] : data,
    bytes: data instanceof ArrayBuffer ? data.byteLength : undefined,
  }),
)
// Only whole fractions are reported, enough to see it runs to 1 with the metadata.
onProgress(
  (percent, peerId, metadata) => percent === 1 && report({kind: 'receive-progress', percent, peerId, metadata}),
)
room.onPeerJoin(() => report({kind: 'stale-callback'}))
room.onPeerJoin(peerId => report({kind: 'joined', peerId})) // the latest callback replaces the first
room.onPeerLeave(peerId => report({kind: 'peer-left', peerId}))

process.on('message', async message => {
  if (message.type === 'send') {
    const data = message.text ?? new Uint8Array(message.bytes).map((_, i) => i & 255)
    const progress = {}
    const result = send(data, message.to, message.metadata, (fraction, peerId) => {
      progress[peerId] = Math.max(progress[peerId] ?? 0, fraction)
    })
    const isPromise = result instanceof Promise
    try {
      await result
      report({kind: 'sent', isPromise, progress})
    } catch (error) {
      report({kind: 'send-failed', isPromise, code: error.code})
    }
  }
  if (message.type === 'peers') {
    const peers = room.getPeers()
    report({
      kind: 'peers',
      ids: Object.keys(peers),
      connections: Object.values(peers).every(pc => typeof pc.createDataChannel === 'function'),
    })
  }
  if (message.type === 'ping') report({kind: 'pong', rtt: await room.ping(message.to)})
  if (message.type === 'leave') {
    await room.leave()
    report({kind: 'left'})
    process.disconnect()
  }
})
report({
  kind: 'ready',
  selfId,
  sameSelfId: selfId === coreSelfId,
  sameRoom: joinRoom(config, roomId) === room,
  action: Array.isArray(action) && action.length === 3 && action.every(f => typeof f === 'function'),
})
