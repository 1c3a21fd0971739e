// The bootstrap strategy in Node: rooms join the overlay of real `npm run peer -- --listen`
// processes over WebSocket (PeerRelay's link protocol) and meet with no Nostr/MQTT at all;
// WebRTC (node-datachannel) is signaled through the overlay. Two listening peers, one room
// member on each: the offer and answer cross both Node peers, sealed end to end.
import {after, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import WebSocket from 'ws'
import {RTCPeerConnection} from 'node-datachannel/polyfill'
import {watchLines} from './_lines.mjs'

const root = fileURLToPath(new URL('../../', import.meta.url))
const children = []
after(() => {
  for (const child of children) child.kill()
})

/** A `npm run peer -- --listen 0` process; resolves with its URL once it listens. */
const listen = async (bootstrap = []) => {
  const args = ['scripts/peer.mjs', '--listen', '0', '--quiet']
  if (bootstrap.length) args.push('--bootstrap', bootstrap.join(','))
  const child = watchLines(spawn(process.execPath, args, {cwd: root, stdio: ['ignore', 'pipe', 'inherit']}))
  children.push(child)
  const [, id, url] = await child.waitFor(/peer (\S+) listening at (\S+)/, 'listening')
  return {child, id, url}
}

/** A separate instance of the strategy module (its own rooms map), as another page would have. */
let instance = 0
const page = () => import(`../../dist/lib/strategies/bootstrap.js?page=${instance++}`)

const until = async (check, ms, what) => {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(r => setTimeout(r, 25))
  }
}

const join = async (url, roomId) => {
  const {joinRoom} = await page()
  const errors = []
  const room = joinRoom(
    {
      appId: 'bootstrap-node-test',
      bootstrap: [url],
      WebSocket,
      rtcPolyfill: RTCPeerConnection,
      rtcConfig: {iceServers: []},
    },
    roomId,
    {onJoinError: e => errors.push(e)},
  )
  const joined = new Set()
  room.onPeerJoin(id => joined.add(id))
  room.onPeerLeave(id => joined.delete(id))
  return {room, joined, errors}
}

test('two rooms meet through two --listen Node peers: no public relay, data flows both ways', async () => {
  const first = await listen()
  const second = await listen([first.url])
  const roomId = `r-${Date.now()}`
  const a = await join(first.url, roomId)
  const b = await join(second.url, roomId)
  await until(() => a.joined.has(b.room.selfId) && b.joined.has(a.room.selfId), 20_000, 'both to join')
  const [sendA, getA] = a.room.makeAction('hi')
  const [sendB, getB] = b.room.makeAction('hi')
  const got = []
  getA((data, from) => got.push(['a', data, from]))
  getB((data, from) => got.push(['b', data, from]))
  await sendA('from a')
  await sendB('from b')
  await until(() => got.length === 2, 10_000, 'both messages')
  assert.deepEqual(got.sort(), [
    ['a', 'from b', b.room.selfId],
    ['b', 'from a', a.room.selfId],
  ])
  assert.deepEqual(a.errors, [])
  // A room elsewhere on the same network (another topic) meets neither.
  const c = await join(first.url, `${roomId}-other`)
  await new Promise(r => setTimeout(r, 1500))
  assert.equal(c.joined.size, 0)
  assert.ok(!a.joined.has(c.room.selfId))
  await Promise.all([a.room.leave(), b.room.leave(), c.room.leave()])
})

test('two rooms on one --listen peer meet; config mistakes are said at join', async () => {
  const first = await listen()
  const roomId = `restart-${Date.now()}`
  const a = await join(first.url, roomId)
  const b = await join(first.url, roomId)
  await until(() => a.joined.has(b.room.selfId), 20_000, 'first join')
  await Promise.all([a.room.leave(), b.room.leave()])
  // Config mistakes are said at join, not swallowed.
  const {joinRoom} = await page()
  assert.throws(() => joinRoom({appId: 'x'}, 'y'), /config\.bootstrap must list/)
  assert.throws(() => joinRoom({appId: 'x', bootstrap: ['http://nope']}, 'y'), /not a ws:\/\/ or wss:\/\/ URL/)
})
