/**
 * `bootstrap`: peers meet through the overlay of Node peers you run (`npm run peer -- --listen
 * PORT`, or `new PeerRelay({port})` from p2p-elements/peer-relay), the peer-relay way: no
 * Nostr, MQTT or any other public relay. `config.bootstrap` lists their WebSocket URLs.
 *
 * The page dials them over WebSocket with PeerRelay's link protocol (src/core/mesh-signal/
 * ws-link.ts) and joins their overlay as a member under the room's own identity. Then:
 *   - announces (the room topic) are signed overlay broadcasts: every member of the network
 *     relays them, only the room's members (who hold its topic) read them;
 *   - offers and answers go to the one peer they are for, sealed end to end through the
 *     overlay (src/core/mesh-signal/overlay-signal.ts, signaling's direct transport): the
 *     Node peers route them by XOR distance and can neither read nor forge them;
 *   - a peer not known to the overlay yet is reached by a broadcast on its peer topic.
 * Everything signaling.ts checks holds as on any relay: the Node peers are relays you run,
 * trusted for nothing but delivery. WebRTC between pages is then direct, as always.
 */
import {createJoinRoom, defineStrategy, invalidConfig, selfId, type BaseRoomConfig} from '../core/index.js'
import {createIdentity} from '../core/identity.js'
import {createOverlaySignal} from '../core/mesh-signal/overlay-signal.js'
import {createWsLinks, type WebSocketLikeConstructor} from '../core/mesh-signal/ws-link.js'
import {createOverlayNode, type OverlayNode} from '../core/overlay/node.js'
import type {RelayState} from '../core/strategy.js'

export type BootstrapRoomConfig = BaseRoomConfig & {
  /** WebSocket URLs of Node peers started with `npm run peer -- --listen PORT` (`ws://host:port`). */
  bootstrap?: string[]
  /** Accepted as a synonym of `bootstrap` (so `<p2p-room relay-urls="ws://...">` works). */
  relayUrls?: string[]
  /** The network's scope: PeerRelay's `scope` option; default 'peer-relay', as `npm run peer` uses. */
  bootstrapScope?: string
  /** The WebSocket implementation, for runtimes without a global one (Node 20: `import WebSocket from 'ws'`). */
  WebSocket?: WebSocketLikeConstructor
}

const urlsOf = (config: BootstrapRoomConfig) => config.bootstrap ?? config.relayUrls ?? []

/** Room messages wait this long after the first link: the network learns our card first. */
const settleMs = 600

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export const strategy = defineStrategy<BootstrapRoomConfig>({
  name: 'bootstrap',
  validate: config => {
    const urls = urlsOf(config)
    if (!Array.isArray(urls) || urls.length === 0)
      throw invalidConfig(
        'bootstrap: config.bootstrap must list the WebSocket URLs of Node peers, e.g. {bootstrap: ["ws://127.0.0.1:9000"]} (start one with `npm run peer -- --listen 9000`)',
      )
    for (const url of urls)
      if (typeof url !== 'string' || !/^wss?:\/\/[^\s]+$/.test(url))
        throw invalidConfig(`bootstrap: "${String(url)}" is not a ws:// or wss:// URL`)
    if (config.WebSocket !== undefined && typeof config.WebSocket !== 'function')
      throw invalidConfig(
        'bootstrap: config.WebSocket must be a WebSocket constructor (in Node: import WebSocket from "ws")',
      )
  },
  connect: (config, context) => {
    const Socket = config.WebSocket ?? (globalThis as {WebSocket?: WebSocketLikeConstructor}).WebSocket
    const topics = new Map<string, Set<(message: string) => void>>()
    /** Broadcasts asked for before the overlay could carry them. */
    const waiting: string[] = []
    let node: OverlayNode | undefined
    let links: ReturnType<typeof createWsLinks> | undefined
    let settled = false
    let closed = false
    const urls = urlsOf(config)

    const deliver = (data: Uint8Array) => {
      let message: {tp?: unknown; m?: unknown}
      try {
        message = JSON.parse(decoder.decode(data))
      } catch {
        return
      }
      if (typeof message?.tp !== 'string' || typeof message.m !== 'string') return
      for (const listener of [...(topics.get(message.tp) ?? [])]) listener(message.m)
    }
    const flood = (text: string) => {
      if (!node || !settled) return void (waiting.length < 64 && waiting.push(text))
      void node.broadcast(encoder.encode(text))
    }

    const overlay = createOverlaySignal({
      sendTo: (id, data) => node?.sendTo(id, data) ?? Promise.resolve(false),
      isMember: id => node?.isMember(id) ?? false,
    })

    const ready = (async () => {
      if (!Socket) return context.onError('this runtime has no WebSocket: pass one as config.WebSocket')
      const identity = context.identity ?? (await createIdentity())
      const scope = config.bootstrapScope ?? 'peer-relay'
      node = await createOverlayNode({
        identity,
        scope,
        maxConnections: Math.max(urls.length, 1),
        send: (to, message) => links?.send(to, message),
        message: (from, data) => void overlay.receive(from, data),
        broadcast: (_from, data) => deliver(data),
      })
      if (closed) return
      const ownNode = node
      links = createWsLinks({
        identity,
        scope,
        node: ownNode,
        WebSocket: Socket,
        up: id => {
          void ownNode.linkUp(id)
          if (settled) return
          setTimeout(() => {
            settled = true
            for (const text of waiting.splice(0)) flood(text)
          }, settleMs)
        },
        down: id => ownNode.linkDown(id),
        receive: (id, message) => void ownNode.receive(id, message),
        problem: (url, message) => context.onError(`${url}: ${message}`),
      })
      await ownNode.start()
      for (const url of new Set(urls)) links.dial(url)
    })()

    return {
      direct: overlay,
      subscribe: (topic, onMessage) => {
        let listeners = topics.get(topic)
        if (!listeners) topics.set(topic, (listeners = new Set()))
        listeners.add(onMessage)
        return () => void listeners.delete(onMessage)
      },
      publish: (topic, message) => {
        if (!closed) flood(JSON.stringify({tp: topic, m: message}))
      },
      relays: (): RelayState[] =>
        links?.states().map(({url, state}) => ({url, state})) ?? urls.map(url => ({url, state: 'connecting' as const})),
      close: () => {
        closed = true
        void ready.then(async () => {
          await node?.stop()
          links?.close()
        })
      },
    }
  },
})

export const joinRoom = createJoinRoom(strategy)
export {selfId}
