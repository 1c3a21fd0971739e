/**
 * `ipfs`: peers meet over libp2p pubsub, as in the IPFS network stack. Each page runs a small
 * libp2p node (WebSockets, Noise, Yamux, identify, pubsub) that dials the nodes in
 * `relayUrls` (multiaddrs) and publishes and subscribes through them.
 *
 * Pages speak gossipsub, the pubsub router of IPFS nodes. (Floodsub, which every gossipsub
 * router also serves, would be 17 KiB brotli smaller; gossipsub is what the IPFS network
 * routes.) A node forwards a topic only if it is in it, so at least one of
 * `relayUrls` must route topics its peers join: `scripts/relays/libp2p-relay.mjs` (gossipsub)
 * is such a node.
 * The public defaults are the libp2p bootstrap nodes, which give connectivity, but
 * whether they route your topics is up to their operators: run your own relay for
 * anything that matters.
 *
 * One node per page serves every room; the relays are dialed through the shared relay
 * pool, so they reconnect with the same backoff, pause/resume and `getRelaySockets()` as
 * the nostr, mqtt and torrent relays. The libp2p packages are optional peer dependencies,
 * loaded on the first connect.
 */
import type {GossipSub} from '@libp2p/gossipsub'
import type {Libp2p} from 'libp2p'
import {createJoinRoom, errorMessage, invalidConfig, selfId, type BaseRoomConfig} from '../core/index.js'
import {defineRelayStrategy} from './shared/builder.js'
import {optionalSdk} from './shared/sdk.js'
import {createRelayManager, type RelayConfig, type RelayTransport} from './shared/relay-manager.js'
import {createSharedClients} from './shared/shared-clients.js'
import {createTopicListeners} from './shared/topic-listeners.js'

export type IpfsRoomConfig = BaseRoomConfig & {
  /** Multiaddrs of libp2p nodes to dial, e.g. "/dns4/relay.example.com/tcp/443/wss/p2p/12D3Koo...". Default: defaultRelayUrls. */
  relayUrls?: string[]
  /** As for the relay strategies: when false (default), redialing pauses while the browser is offline. */
  manualRelayReconnection?: boolean
}

/** The public libp2p bootstrap nodes (resolved through DNS). */
export const defaultRelayUrls = [
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmQCU2EcMqAqQPR2i9bChDtGNJchTbq5TbXJJ16u19uLTa',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmcZf59bWwK5XFi76CZX8cbJ4BhTzzA3gU1ZjYZcYW3dwt',
]

/**
 * Pubsub sends a message only to peers it knows are in the topic, and learns that a moment
 * after connecting. A message waits (in the builder's queue) up to this long for such a
 * peer instead of being sent to nobody (a newcomer's first announce would otherwise be lost).
 */
const waitForTopicPeersMs = 3_000

type Sdk = typeof import('./sdk/ipfs.js')

/** The packages ./sdk/ipfs.ts imports: optional peer dependencies, named in the missing-dependency error. */
export const sdkPackages = [
  'libp2p',
  '@chainsafe/libp2p-noise',
  '@chainsafe/libp2p-yamux',
  '@libp2p/gossipsub',
  '@libp2p/identify',
  '@libp2p/websockets',
  '@multiformats/multiaddr',
]
type Node = Libp2p<{pubsub: GossipSub}>
type Connection = Awaited<ReturnType<Node['dial']>>

/** What `getRelaySockets()` holds per relay multiaddr: the libp2p connection once dialed. */
export type IpfsRelay = {address: string; connection?: Connection}

type Shared = {
  node: Promise<Node>
  /** Topics the node is subscribed to while any room of the page listens to them. */
  listeners: ReturnType<typeof createTopicListeners>
  stop: () => void
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Set on the first connect: the transport below dials with it. */
let sdk: Sdk | undefined

/** The page's libp2p node, shared by its rooms and its relay connections; stopped when none uses it. */
const nodes = createSharedClients<Shared>(shared => shared.stop())
const nodeKey = 'node'

const createNode = (sdk: Sdk): Shared => {
  const node = sdk
    .createLibp2p({
      transports: [sdk.webSockets()],
      connectionEncrypters: [sdk.noise()],
      streamMuxers: [sdk.yamux()],
      // The relays are the user's explicit choice: dial them even on private or loopback addresses.
      connectionGater: {denyDialMultiaddr: () => false},
      services: {
        identify: sdk.identify(),
        // A page's only pubsub peers are its relays: publish to them even before the mesh forms.
        pubsub: sdk.gossipsub({allowPublishToZeroTopicPeers: true, floodPublish: true}),
      },
    })
    .then(node => {
      node.services.pubsub.addEventListener('message', event => {
        const {topic, data} = event.detail
        if (listeners.has(topic)) listeners.deliver(topic, decoder.decode(data))
      })
      return node
    })
  const listeners = createTopicListeners({
    first: topic =>
      void node.then(node => listeners.has(topic) && node.services.pubsub.subscribe(topic)).catch(() => {}),
    last: topic => void node.then(node => node.services.pubsub.unsubscribe(topic)).catch(() => {}),
  })
  return {node, listeners, stop: () => void node.then(node => node.stop()).catch(() => {})}
}

/**
 * A relay "socket" is a dial of the page's node: open when the dial succeeds, closed when
 * that peer disconnects. The relay pool redials with backoff.
 */
const transport: RelayTransport<IpfsRelay & {stop: () => void}, never> = {
  open: (address, events) => {
    const target = sdk!.multiaddr(address) // throws on a malformed address: a failed attempt
    const held = nodes.acquire(nodeKey, () => createNode(sdk!))
    let stopped = false
    let remote: string | undefined
    let node: Node | undefined
    const onDisconnect = (event: CustomEvent<{toString(): string}>) => {
      if (remote && event.detail.toString() === remote) events.close('disconnected')
    }
    const relay: IpfsRelay & {stop: () => void} = {
      address,
      stop: () => {
        if (stopped) return
        stopped = true
        node?.removeEventListener('peer:disconnect', onDisconnect)
        void relay.connection?.close().catch(() => {})
        held.release()
      },
    }
    held.client.node
      .then(async started => {
        if (stopped) return
        node = started
        started.addEventListener('peer:disconnect', onDisconnect)
        const connection = await started.dial(target)
        if (stopped) return
        relay.connection = connection
        remote = connection.remotePeer.toString()
        events.open()
      })
      .catch(error => stopped || events.close(`could not dial: ${errorMessage(error)}`))
    return relay
  },
  send: () => {}, // messages go through pubsub, not over one relay's connection
  close: relay => relay.stop(),
}

const relays = createRelayManager(transport)

export const strategy = defineRelayStrategy<IpfsRoomConfig, Sdk>({
  name: 'ipfs',
  validate: config => {
    const urls = config.relayUrls
    if (urls === undefined) return
    if (!Array.isArray(urls) || !urls.length)
      throw invalidConfig(
        'config.relayUrls must be a non-empty array of libp2p multiaddrs (or left out for the defaults)',
      )
    // The multiaddr parser is in the optional SDK: check the shape here, the rest when dialing.
    for (const url of urls)
      if (typeof url !== 'string' || !/^(\/[^/\s]+)+$/.test(url))
        throw invalidConfig(
          `relay "${url}" is not a multiaddr; expected e.g. "/dns4/relay.example.com/tcp/443/wss/p2p/12D3Koo..."`,
        )
  },
  sdk: optionalSdk('ipfs', sdkPackages.join(' '), () => import('./sdk/ipfs.js')),
  connect: (config, room, loaded) => {
    sdk = loaded
    const {client: shared, release} = nodes.acquire(nodeKey, () => createNode(loaded))
    room.onClose(release)
    const pool = relays.acquireAll(config as RelayConfig, config.relayUrls ?? defaultRelayUrls, address => ({
      down: reason => room.report(`relay ${address} is unreachable (${reason}); retrying with backoff`),
    }))
    room.onClose(pool.release)
    const unsubscribes = new Map<string, () => void>()
    let node: Node | undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    let timerDue = 0
    /** Flushes again in `ms`, unless a flush is already due sooner. */
    const flushIn = (ms: number) => {
      const due = Date.now() + ms
      if (timer && timerDue <= due) return
      clearTimeout(timer)
      timerDue = due
      timer = setTimeout(() => {
        timer = undefined
        room.flush()
      }, ms)
    }

    // A peer joining a topic is when a waiting message can go.
    const onSubscriptionChange = () => room.flush()
    shared.node.then(
      started => {
        if (room.closed) return
        node = started
        started.services.pubsub.addEventListener('subscription-change', onSubscriptionChange)
        room.flush()
      },
      error => room.report(`libp2p could not start: ${errorMessage(error)}`),
    )

    return {
      relays: pool.states,
      subscribe: topic =>
        void unsubscribes.set(
          topic,
          shared.listeners.add(topic, message => room.deliver(topic, message)),
        ),
      unsubscribe: topic => {
        unsubscribes.get(topic)?.()
        unsubscribes.delete(topic)
      },
      publish: (topic, message, waitedMs) => {
        if (!node) return false
        if (!node.services.pubsub.getSubscribers(topic).length && waitedMs < waitForTopicPeersMs) {
          // Try again when it has waited long enough, unless a subscriber shows up first.
          flushIn(waitForTopicPeersMs - waitedMs)
          return false
        }
        return node.services.pubsub.publish(topic, encoder.encode(message))
      },
      close: () => {
        clearTimeout(timer)
        node?.services.pubsub.removeEventListener('subscription-change', onSubscriptionChange)
      },
    }
  },
})

export const joinRoom = createJoinRoom(strategy)
/** Relay multiaddr -> `{address, connection}` (the libp2p connection once dialed). */
export const getRelaySockets = relays.getRelaySockets
export const pauseRelayReconnection = relays.pauseRelayReconnection
export const resumeRelayReconnection = relays.resumeRelayReconnection
export {selfId}
