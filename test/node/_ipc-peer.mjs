// A Node peer in its own process, joining a room with the driver strategy over a pub/sub
// the test process relays (the shape of a user's own signaling server) and node-datachannel
// as RTCPeerConnection. Sends 'hello from <id>' and 3 MB to each peer, and reports what it gets.
import {RTCPeerConnection} from 'node-datachannel/polyfill'
import {joinRoom, selfId} from '../../dist/lib/strategies/driver.js'

const handlers = new Map()
const driver = {
  on: (topic, handler) => handlers.set(topic, [...(handlers.get(topic) ?? []), handler]),
  off: (topic, handler) => handlers.set(topic, (handlers.get(topic) ?? []).filter(h => h !== handler)),
  emit: (topic, data) => process.send({type: 'publish', topic, data}),
}
const report = message => process.send({type: 'report', ...message})

const room = joinRoom(
  {appId: 'node-test', driver, rtcPolyfill: RTCPeerConnection, rtcConfig: {iceServers: []}},
  process.argv[2],
)
const [send, receive] = room.makeAction('greet')
receive((data, peerId) => report({kind: 'received', data: data instanceof ArrayBuffer ? {bytes: data.byteLength, at1000: new Uint8Array(data)[1000]} : data, peerId}))
room.onPeerJoin(async peerId => {
  report({kind: 'joined', peerId, selfId})
  await send(`hello from ${selfId}`, peerId)
  await send(new Uint8Array(3 * 1024 * 1024).map((_, i) => i & 255), peerId, {name: 'three-megabytes'})
  report({kind: 'sent', rtt: await room.ping(peerId)})
})
process.on('message', async message => {
  if (message.type === 'deliver') for (const handler of handlers.get(message.topic) ?? []) handler(message.data)
  if (message.type === 'leave') {
    await room.leave()
    report({kind: 'left'})
    // With the room left and the IPC channel closed, nothing of ours may keep the process alive.
    process.disconnect()
  }
})
