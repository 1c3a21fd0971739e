// A Node peer of a room capped at a few direct connections (test/node/mesh-node.test.mjs),
// in its own process: node-datachannel, the driver strategy over the test's IPC bus.
//   -> {type: 'state'}                     report who is direct, who relayed, with hops
//   -> {type: 'note', to: [ids]}           send a short text to each of them
//   -> {type: 'all'}                       one broadcast to everyone
//   -> {type: 'ping', to}                  ping a member (direct or relayed)
//   -> {type: 'big', to, bytes}            one binary message of that size; reports when acknowledged
//   -> {type: 'mem'}                       report heap + buffers in use
//   -> {type: 'leave'}
//   <- {type: 'report', kind: 'ready' | 'joined' | 'left-peer' | 'state' | 'note' | 'noted' | 'all' | 'pong' | 'left', ...}
import {RTCPeerConnection} from 'node-datachannel/polyfill'
import {joinRoom, selfId} from '../../dist/lib/strategies/driver.js'
import {busDriver, report} from './_bus.mjs'

const room = joinRoom(
  {
    appId: 'node-mesh-test',
    driver: busDriver(),
    rtcPolyfill: RTCPeerConnection,
    rtcConfig: {iceServers: []},
    maxConnections: Number(process.argv[3]),
  },
  process.argv[2],
)
const [note, onNote] = room.makeAction('note')
const [all, onAll] = room.makeAction('all')
onNote((data, peerId) =>
  report({kind: 'note', from: peerId, data: data instanceof ArrayBuffer ? {bytes: data.byteLength} : data}),
)
onAll((data, peerId) => report({kind: 'all', from: peerId, data}))
room.onPeerJoin(peerId => report({kind: 'joined', peerId}))
room.onPeerLeave(peerId => report({kind: 'left-peer', peerId}))

process.on('message', async message => {
  if (message.type === 'state') {
    const ids = Object.keys(room.getPeers())
    report({kind: 'state', peers: Object.fromEntries(ids.map(id => [id, room.peerInfo(id)]))})
  }
  if (message.type === 'note') {
    // A 'no-route' rejection (a route broke while links were still being pruned) says to send
    // again; 'peer-left' for a member that stayed came once in a clean-clone CI run (cause not
    // found yet: see the closing note). Each such note is sent again once; the report counts them.
    // A member the overlay took for gone is known again with its next heartbeat: wait for it
    // (up to 30 s) before the one resend, or the resend fails the same way at once.
    /** Why each note sent again was rejected the first time (their count is the report's `resent`). */
    const reasons = []
    const once = id => note(`${selfId}>${id}`, id)
    const back = async id => {
      for (let waited = 0; !room.getPeers()[id] && waited < 30_000; waited += 100)
        await new Promise(r => setTimeout(r, 100))
    }
    const results = await Promise.allSettled(
      message.to.map(id =>
        once(id).catch(async error => {
          if (!['no-route', 'peer-left'].includes(error?.code)) throw error
          reasons.push(error.message)
          if (error.code === 'peer-left') await back(id)
          return once(id)
        }),
      ),
    )
    report({
      kind: 'noted',
      resent: reasons.length,
      reasons,
      failed: results.filter(r => r.status === 'rejected').map(r => `${r.reason?.code}: ${r.reason?.message}`),
    })
  }
  if (message.type === 'all') await all('to everyone')
  if (message.type === 'ping') {
    const times = []
    for (let i = 0; i < 7; i++) times.push(await room.ping(message.to))
    report({kind: 'pong', to: message.to, ms: times.sort((a, b) => a - b)[3]})
  }
  if (message.type === 'big') {
    const started = performance.now()
    try {
      await note(new Uint8Array(message.bytes), message.to)
      report({kind: 'big', ok: true, ms: performance.now() - started})
    } catch (error) {
      report({kind: 'big', ok: false, code: error.code, ms: performance.now() - started})
    }
  }
  if (message.type === 'mem') {
    const {heapUsed, arrayBuffers, external} = process.memoryUsage()
    report({kind: 'mem', bytes: heapUsed + arrayBuffers + external})
  }
  if (message.type === 'leave') {
    await room.leave()
    report({kind: 'left'})
    process.disconnect()
  }
})
report({kind: 'ready', selfId})
