// A newcomer in its own process (a user's page, in Node): joins a room and either shares a
// state (`share JSON`) or waits for one (`listen`). Reports on stdout, one JSON line each:
//   {kind: 'joined', peerId} | {kind: 'shared', peerId} | {kind: 'state', data, peerId}
// argv: strategy, config JSON, room, mode, [value JSON]
import WebSocket from 'ws'
import {RTCPeerConnection} from 'node-datachannel/polyfill'

globalThis.WebSocket ??= WebSocket
Promise.withResolvers ??= function () {
  let resolve, reject
  const promise = new this((yes, no) => ((resolve = yes), (reject = no)))
  return {promise, resolve, reject}
}

const [strategy, configJson, roomId, mode, valueJson] = process.argv.slice(2)
const {joinRoom} = await import(`../../dist/lib/strategies/${strategy}.js`)
const report = message => console.log(JSON.stringify(message))

const room = joinRoom(
  {...JSON.parse(configJson), WebSocket, rtcPolyfill: RTCPeerConnection, rtcConfig: {iceServers: []}},
  roomId,
)
const [sendState, onState] = room.makeAction('state')
onState((data, peerId) => report({kind: 'state', data, peerId}))
room.onPeerJoin(async peerId => {
  report({kind: 'joined', peerId})
  if (mode === 'share') {
    await sendState(JSON.parse(valueJson), peerId)
    report({kind: 'shared', peerId})
  }
})
process.on('message', async message => {
  if (message === 'leave') {
    await room.leave()
    process.exit(0)
  }
})
