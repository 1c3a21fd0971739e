// Signaling through the overlay (issue 11 part 5), in Node with real WebRTC (node-datachannel)
// and a real local Nostr relay (test/servers/nostr.mjs, counting what peers publish): rooms
// whose signaling has an OverlayNode transport open direct connections with room.connect(id)
// through a relaying member, publishing nothing on the relay; and a relaying member that
// replays, re-addresses or forges signaling changes nothing. The overlay here is three
// OverlayNodes linked in a line A - M - B over an in-memory transport (the mesh wiring of
// rooms is another module's); everything above it is the room's real code.
import {after, test} from 'node:test'
import assert from 'node:assert/strict'
import WebSocket from 'ws'
import {RTCPeerConnection} from 'node-datachannel/polyfill'
import {start as startNostr} from '../servers/nostr.mjs'
import {createJoinRoom, defineStrategy, roomTopicOf} from '../../dist/lib/core/index.js'
import {createIdentity, sign, toBase64Url} from '../../dist/lib/core/identity.js'
import {createOverlayNode} from '../../dist/lib/core/overlay/node.js'
import {createOverlaySignal, signalPrefix} from '../../dist/lib/core/mesh-signal/overlay-signal.js'
import {signedText} from '../../dist/lib/core/signaling.js'
import {strategy as nostr} from '../../dist/lib/strategies/nostr.js'

const relay = await startNostr(0)
after(() => relay.stop())
const relayCount = async () =>
  (await (await fetch(relay.url.replace(/^ws/, 'http').replace(/\/?$/, '/stats'))).json()).total

const until = async (check, ms, what) => {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(r => setTimeout(r, 25))
  }
}
const encoder = new TextEncoder()

/** Three nodes linked A - M - B; `relayed` records the route frames M passed on. */
const overlay = async scope => {
  const ids = {a: await createIdentity(), m: await createIdentity(), b: await createIdentity()}
  const nodes = {}
  const signals = {}
  const heard = {a: [], m: [], b: []}
  const dropped = {a: [], m: [], b: []}
  const relayed = []
  const edges = new Set(['a-m', 'm-a', 'm-b', 'b-m'])
  const nameOf = id => Object.keys(ids).find(k => ids[k].id === id)
  for (const name of Object.keys(ids)) {
    nodes[name] = await createOverlayNode({
      identity: ids[name],
      scope,
      maxConnections: 2,
      gossipIntervalMs: 50,
      send: (to, message) => {
        const target = nameOf(to)
        if (!edges.has(`${name}-${target}`)) return
        if (name === 'm' && message.k === 'route' && message.to !== ids.m.id) relayed.push({to: target, message})
        setTimeout(() => nodes[target].receive(ids[name].id, structuredClone(message)), 1)
      },
      message: (from, data) => {
        if (signals[name].receive(from, data))
          heard[name].push(new TextDecoder().decode(data).slice(signalPrefix.length))
      },
      dropped: reason => dropped[name].push(reason),
    })
    signals[name] = createOverlaySignal(nodes[name])
  }
  for (const node of Object.values(nodes)) await node.start()
  await nodes.a.linkUp(ids.m.id)
  await nodes.m.linkUp(ids.a.id)
  await nodes.m.linkUp(ids.b.id)
  await nodes.b.linkUp(ids.m.id)
  await until(() => ['a', 'm', 'b'].every(n => nodes[n].members().length === 2), 10_000, 'membership')
  return {
    ids,
    nodes,
    signals,
    heard,
    dropped,
    relayed,
    stop: () => Promise.all(Object.values(nodes).map(n => n.stop())),
  }
}

/** The nostr strategy with the room's overlay transport beside it (the seam signaling.ts offers). */
const withOverlay = signals =>
  defineStrategy({
    name: 'nostr',
    validate: nostr.validate,
    connect: (config, context) => {
      const inner = nostr.connect(config, context)
      return {
        subscribe: (topic, listener) => inner.subscribe(topic, listener),
        publish: (topic, message) => inner.publish(topic, message),
        close: () => inner.close(),
        direct: signals.get(context.selfId),
      }
    },
  })

const joinAll = (net, roomId) => {
  const signals = new Map(Object.entries(net.ids).map(([name, identity]) => [identity.id, net.signals[name]]))
  const rooms = {}
  for (const [name, identity] of Object.entries(net.ids)) {
    let made = 0
    const Counted = class extends RTCPeerConnection {
      constructor(...args) {
        super(...args)
        made++
      }
    }
    // Passive members never announce on the relay: nothing but room.connect() can bring two together.
    const room = createJoinRoom(withOverlay(signals))(
      {
        appId: 'overlay-signal-test',
        identity,
        passive: true,
        relayUrls: [relay.url],
        WebSocket,
        rtcPolyfill: Counted,
        rtcConfig: {iceServers: []},
      },
      roomId,
    )
    const joined = new Set()
    room.onPeerJoin(id => joined.add(id))
    rooms[name] = {room, joined, made: () => made}
  }
  return rooms
}

test('room.connect(id) through a relaying member: a direct connection, zero relay messages', async () => {
  const net = await overlay('overlay-signal-test/1')
  const rooms = joinAll(net, `connect-${Date.now()}`)
  const before = await relayCount()
  await rooms.a.room.connect(net.ids.b.id)
  assert.ok(rooms.a.joined.has(net.ids.b.id), 'connect resolves once B joined')
  await until(() => rooms.b.joined.has(net.ids.a.id), 5000, 'B to see A join')
  assert.ok(rooms.b.room.getPeers()[net.ids.a.id], 'A and B are direct peers')
  // The announce, offer and answer all crossed M, sealed: M saw route frames, not signaling.
  assert.ok(net.relayed.length >= 3, `M relayed ${net.relayed.length} frames`)
  assert.equal(net.heard.m.length, 0, 'M read no signaling')
  const [send, receive] = rooms.b.room.makeAction('x')
  const got = new Promise(resolve => rooms.a.room.makeAction('x')[1](resolve))
  await send('over the new connection', net.ids.a.id)
  assert.equal(await got, 'over the new connection')
  void receive
  // Connecting again is a no-op; a member no transport reaches is a clear error.
  await rooms.a.room.connect(net.ids.b.id)
  await assert.rejects(rooms.a.room.connect('A1b2C3d4E5f6G7h8I9j0'), {code: 'unknown-peer'})
  assert.equal((await relayCount()) - before, 0, 'no message reached the public relay')
  await Promise.all(Object.values(rooms).map(r => r.room.leave()))
  await net.stop()
})

test('a relaying member replaying, re-addressing or forging signaling changes nothing', async () => {
  const net = await overlay('overlay-signal-test/2')
  const roomId = `hostile-${Date.now()}`
  const rooms = joinAll(net, roomId)
  const before = await relayCount()
  // M is a member of the room too: it connects to A and so holds A's real offer, addressed to M.
  await rooms.m.room.connect(net.ids.a.id)
  const offer = net.heard.m.map(text => JSON.parse(text)).find(e => e.t === 'offer' && e.from === net.ids.a.id)
  assert.ok(offer, 'M heard A offer')
  const toB = async envelope =>
    net.nodes.m.sendTo(net.ids.b.id, encoder.encode(signalPrefix + JSON.stringify(envelope)))
  // 1. A's offer, handed to B as it is (replayed, and addressed to M).
  await toB(offer)
  // 2. Re-addressed to B: the signature covers `to`.
  await toB({...offer, to: net.ids.b.id})
  // 3. Forged: a fresh envelope in A's name, signed by M.
  const forged = {...offer, to: net.ids.b.id, ts: Date.now()}
  const signed = signedText(await roomTopicOf('overlay-signal-test', roomId), forged)
  forged.sig = toBase64Url(await sign(net.ids.m, encoder.encode(signed)))
  await toB(forged)
  // 4. Junk under the signaling prefix.
  await net.nodes.m.sendTo(net.ids.b.id, encoder.encode(`${signalPrefix}{"v":2,"t":"offer"`))
  await new Promise(r => setTimeout(r, 1500))
  assert.equal(rooms.b.made(), 0, 'B opened no RTCPeerConnection for anything M sent')
  assert.equal(Object.keys(rooms.b.room.getPeers()).length, 0)
  // Nothing was poisoned: A and B still connect through M.
  await rooms.a.room.connect(net.ids.b.id)
  const madeA = rooms.a.made()
  const madeB = rooms.b.made()
  assert.equal(madeB, 1)
  // 5. M replays every frame it relayed between A and B: the overlay's replay window drops them.
  const dropsBefore = net.dropped.a.length + net.dropped.b.length
  for (const {to, message} of net.relayed) net.nodes[to].receive(net.ids.m.id, structuredClone(message))
  await new Promise(r => setTimeout(r, 1500))
  assert.ok(net.dropped.a.length + net.dropped.b.length - dropsBefore >= net.relayed.length, 'every replay dropped')
  assert.equal(rooms.a.made(), madeA)
  assert.equal(rooms.b.made(), madeB)
  await until(() => rooms.b.joined.has(net.ids.a.id), 5000, 'B to see A join')
  assert.ok(rooms.a.joined.has(net.ids.b.id))
  assert.equal((await relayCount()) - before, 0, 'no message reached the public relay')
  await Promise.all(Object.values(rooms).map(r => r.room.leave()))
  await net.stop()
})
