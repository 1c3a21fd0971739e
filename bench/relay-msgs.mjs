// Relay messages per minute of a 20-peer room, with and without signaling through the overlay
// (issue 11 part 5). Node rooms (node-datachannel, one process) on a real local Nostr relay
// (test/servers/nostr.mjs), which counts every EVENT published; the room's topics are all it
// carries here. Both runs: peers join one per second, full mesh, 60 s from the first join.
//
//   without  signaling as today: announces, and every offer and answer, on the relay.
//   with     the room's overlay (an OverlayNode per peer, linked over the room's own data
//            channels) carries signaling once a peer is in it: offers and answers to a
//            member go sealed through the overlay (signaling's direct transport), and
//            connections to members are made by the overlay's neighbour choice with
//            room.connect(id), not by relay announces. The relay is only for first contact:
//            peers announce on it as always (signaling's backoff), but a relayed announce is
//            answered only by the member closest to the newcomer, never when the newcomer is
//            an overlay member already. That first-contact policy lives in this bench's
//            wrapper of the strategy: the library's own (capped mesh, config.maxConnections)
//            is the mesh wiring's.
//
// Printed: messages per minute each way, the ratio, the load, and whether the mesh completed.
import {execSync} from 'node:child_process'
import WebSocket from 'ws'
import {RTCPeerConnection} from 'node-datachannel/polyfill'
import {start as startNostr} from '../test/servers/nostr.mjs'

const lib = new URL('../dist/lib/', import.meta.url)
const {createJoinRoom, defineStrategy, roomTopicOf} = await import(new URL('core/index.js', lib))
const {createIdentity} = await import(new URL('core/identity.js', lib))
const {createOverlayNode} = await import(new URL('core/overlay/node.js', lib))
const {overlayKey} = await import(new URL('core/overlay/keys.js', lib))
const {createOverlaySignal} = await import(new URL('core/mesh-signal/overlay-signal.js', lib))
const {strategy: nostr} = await import(new URL('strategies/nostr.js', lib))

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
const load = () =>
  execSync('uptime')
    .toString()
    .trim()
    .replace(/.*load average: /, 'load ')

/** The nostr strategy; in `with` mode plus the overlay transport and the first-contact policy. */
const wrapped = peer =>
  defineStrategy({
    name: 'nostr',
    validate: nostr.validate,
    connect: (config, context) => {
      const inner = nostr.connect(config, context)
      const counted = (topic, text) => {
        const t = /"t":"([a-z-]+)"/.exec(text)?.[1] ?? '?'
        peer.kinds[t] = (peer.kinds[t] ?? 0) + 1
        inner.publish(topic, text)
      }
      if (!peer.overlay)
        return {
          subscribe: (topic, listener) => inner.subscribe(topic, listener),
          publish: counted,
          close: () => inner.close(),
        }
      const parse = text => {
        try {
          return JSON.parse(text)
        } catch {
          return undefined
        }
      }
      return {
        subscribe: (topic, listener) =>
          inner.subscribe(topic, text => {
            const e = topic === context.roomTopic ? parse(text) : undefined
            if (e?.t !== 'announce') return listener(text)
            // First contact only: a member the overlay knows is connected through the overlay;
            // a stranger is answered by the member closest to it (XOR of overlay keys), or by
            // anyone once it has announced unanswered three times (the closest may be gone).
            if (peer.node.isMember(e.from)) return
            const heard = (peer.heard.get(e.from) ?? 0) + 1
            peer.heard.set(e.from, heard)
            void closest(peer, e.from).then(mine => (mine || heard > 3) && listener(text))
          }),
        publish: counted,
        close: () => inner.close(),
        direct: peer.signal,
      }
    },
  })

/** Whether `peer` is the member closest to `id` among those it knows (itself included). */
const closest = async (peer, id) => {
  const target = await overlayKey(id)
  const mine = (await overlayKey(peer.identity.id)) ^ target
  for (const member of peer.node.members())
    if (member !== id && ((await overlayKey(member)) ^ target) < mine) return false
  return true
}

const runMode = async (overlay, {peers: count = 20, staggerMs = 1000, windowMs = 60_000} = {}) => {
  const relay = await startNostr(0)
  const roomId = `relay-msgs-${overlay ? 'with' : 'without'}-${Date.now()}`
  const appId = 'bench-relay-msgs'
  const scope = await roomTopicOf(appId, roomId)
  const peers = []
  const started = Date.now()
  for (let i = 0; i < count; i++) {
    const identity = await createIdentity()
    const peer = {
      identity,
      joined: new Set(),
      heard: new Map(),
      connecting: new Set(),
      connects: {ok: 0},
      kinds: {},
      overlay,
    }
    peers.push(peer)
    if (overlay) {
      peer.node = await createOverlayNode({
        identity,
        scope,
        send: (to, message) => peer.send?.(message, to).catch(() => {}),
        // Full mesh through the overlay: the neighbour choice asks for every member; the
        // smaller id of a pair dials it (room.connect), one attempt at a time.
        connect: id => {
          if (identity.id > id || peer.joined.has(id) || peer.connecting.has(id)) return
          peer.connecting.add(id)
          peer.room
            ?.connect(id)
            .then(() => peer.connects.ok++)
            .catch(error => {
              peer.connects[error.code] = (peer.connects[error.code] ?? 0) + 1
            })
            .finally(() => peer.connecting.delete(id))
        },
        message: (from, data) => peer.signal.receive(from, data),
      })
      peer.signal = createOverlaySignal(peer.node)
      await peer.node.start()
    }
    peer.room = createJoinRoom(wrapped(peer))(
      {
        appId,
        identity,
        relayUrls: [relay.url],
        WebSocket,
        rtcPolyfill: RTCPeerConnection,
        rtcConfig: {iceServers: []},
        debug: process.env.DEBUG_ROOM === '1',
      },
      roomId,
    )
    if (overlay) {
      const [send, receive] = peer.room.makeAction('ovl')
      receive((data, from) => peer.node.receive(from, JSON.parse(decoder.decode(data))))
      peer.send = (message, to) => send(encoder.encode(JSON.stringify(message)), to)
    }
    peer.room.onPeerJoin(id => (peer.joined.add(id), overlay && peer.node.linkUp(id)))
    peer.room.onPeerLeave(id => (peer.joined.delete(id), overlay && peer.node.linkDown(id)))
    await sleep(Math.max(0, started + (i + 1) * staggerMs - Date.now()))
  }
  await sleep(Math.max(0, started + windowMs - Date.now()))
  const messages =
    relay.stats?.().total ?? (await (await fetch(`${relay.url.replace(/^ws/, 'http')}/stats`)).json()).total
  const complete = peers.filter(p => p.joined.size === count - 1).length
  const direct = overlay ? peers.reduce((sum, p) => sum + p.signal.counts.sent, 0) : 0
  const minutes = (Date.now() - started) / 60_000
  const figure = {
    perMinute: messages / minutes,
    messages,
    direct,
    complete,
    of: count,
    staggerMs,
    windowMs,
    load: load(),
  }
  figure.kinds = {}
  for (const p of peers) for (const [k, v] of Object.entries(p.kinds)) figure.kinds[k] = (figure.kinds[k] ?? 0) + v
  if (overlay) {
    figure.connects = {}
    for (const p of peers)
      for (const [k, v] of Object.entries(p.connects)) figure.connects[k] = (figure.connects[k] ?? 0) + v
  }
  await Promise.all(peers.map(p => p.room.leave()))
  if (overlay) await Promise.all(peers.map(p => p.node.stop()))
  await relay.stop()
  return figure
}

export const runRelayMsgsBench = async (options = {}) => {
  const without = await runMode(false, options)
  const withOverlay = await runMode(true, options)
  return {without, with: withOverlay, ratio: withOverlay.perMinute / without.perMinute}
}

export const print = ({without, with: withOverlay, ratio}) => {
  const line = (name, f) =>
    console.log(
      `  ${name.padEnd(28)} ${f.perMinute.toFixed(0).padStart(5)} relay msgs/min  (${f.messages} in the window; ${f.direct} through the overlay; full mesh at ${f.complete}/${f.of} peers; ${f.load})`,
    )
  line('without overlay signaling', without)
  line('with overlay signaling', withOverlay)
  console.log(
    `  relay messages by kind       without ${JSON.stringify(without.kinds)}, with ${JSON.stringify(withOverlay.kinds)}`,
  )
  console.log(`  room.connect() outcomes     ${JSON.stringify(withOverlay.connects)}`)
  console.log(
    `  ratio with/without          ${ratio.toFixed(3)}  (${without.of} peers joining one per ${without.staggerMs / 1000} s, the first ${without.windowMs / 1000} s)`,
  )
}

if (import.meta.url === `file://${process.argv[1]}`) {
  print(await runRelayMsgsBench())
  process.exit(0)
}
