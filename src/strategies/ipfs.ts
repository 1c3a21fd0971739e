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
 */
import {noise} from '@chainsafe/libp2p-noise'
import {yamux} from '@chainsafe/libp2p-yamux'
import {gossipsub, type GossipSub} from '@libp2p/gossipsub'
import {identify} from '@libp2p/identify'
import {webSockets} from '@libp2p/websockets'
import {multiaddr, type Multiaddr} from '@multiformats/multiaddr'
import {createTopicListeners} from './topic-listeners.js'
import {createSharedClients} from './shared-clients.js'
import {createLibp2p, type Libp2p} from 'libp2p'
import {createJoinRoom, defineStrategy, selfId, type BaseRoomConfig} from '../core/index.js'

export type IpfsRoomConfig = BaseRoomConfig & {
  /** Multiaddrs of libp2p nodes to dial, e.g. "/dns4/relay.example.com/tcp/443/wss/p2p/12D3Koo...". Default: defaultRelayUrls. */
  relayUrls?: string[]
}

/** The public libp2p bootstrap nodes (resolved through DNS). */
export const defaultRelayUrls = [
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmQCU2EcMqAqQPR2i9bChDtGNJchTbq5TbXJJ16u19uLTa',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmcZf59bWwK5XFi76CZX8cbJ4BhTzzA3gU1ZjYZcYW3dwt',
]

/** First redial delay after a relay connection fails or drops; doubles up to the maximum. */
const redialDelayMs = 1_000
/** Ceiling of the redial delay: a relay that comes back is found within this. */
const maxRedialDelayMs = 30_000
/** Messages waiting for the node to start or for a peer in their topic; more means the relays are unreachable, so drop the oldest. */
const maxQueued = 200
/**
 * Pubsub sends a message only to peers it knows are in the topic, and learns that a moment
 * after connecting. A message waits up to this long for such a peer instead of
 * being sent to nobody (a newcomer's first announce would otherwise be lost).
 */
const waitForTopicPeersMs = 3_000

type Node = Libp2p<{pubsub: GossipSub}>

type Shared = {
  node: Promise<Node>
  listeners: ReturnType<typeof createTopicListeners>
  /** Where relay problems are reported: every room using the node. */
  errorSinks: Set<(message: string) => void>
  stop: () => void
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Keeps a connection to `address` open: redials with backoff whenever it fails or drops. */
const keepDialing = (node: Node, address: Multiaddr, onError: (message: string) => void) => {
  let delay = redialDelayMs
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false
  const target = address.getComponents().find(c => c.name === 'p2p')?.value
  const dial = async () => {
    if (stopped) return
    try {
      await node.dial(address)
      delay = redialDelayMs
    } catch (error) {
      onError(`could not reach relay ${address}: ${(error as Error)?.message ?? error}; retrying in ${delay / 1000} s`)
      timer = setTimeout(dial, delay)
      delay = Math.min(delay * 2, maxRedialDelayMs)
    }
  }
  const onDisconnect = (event: CustomEvent<{toString(): string}>) => {
    if (!stopped && target && event.detail.toString() === target) timer = setTimeout(dial, delay)
  }
  node.addEventListener('peer:disconnect', onDisconnect)
  void dial()
  return () => {
    stopped = true
    clearTimeout(timer)
    node.removeEventListener('peer:disconnect', onDisconnect)
  }
}

/** One libp2p node per set of relays in a page, shared by its rooms; stopped when none uses it. */
const nodes = createSharedClients<Shared>(shared => shared.stop())

const acquireNode = (relayUrls: string[], onError: (message: string) => void) => {
  const {client: shared, release} = nodes.acquire(JSON.stringify(relayUrls), () => {
    // The node subscribes to a topic while any room on this page listens to it.
    const listeners = createTopicListeners({
      first: topic =>
        void node.then(node => listeners.has(topic) && node.services.pubsub.subscribe(topic)).catch(() => {}),
      last: topic => void node.then(node => node.services.pubsub.unsubscribe(topic)).catch(() => {}),
    })
    const errorSinks = new Set<(message: string) => void>()
    const report = (message: string) => {
      for (const sink of errorSinks) sink(message)
    }
    const stops: Array<() => void> = []
    const node = createLibp2p({
      transports: [webSockets()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      // The relays are the user's explicit choice: dial them even on private or loopback addresses.
      connectionGater: {denyDialMultiaddr: () => false},
      services: {
        identify: identify(),
        // A page's only pubsub peers are its relays: publish to them even before the mesh forms.
        pubsub: gossipsub({allowPublishToZeroTopicPeers: true, floodPublish: true}),
      },
    }).then(node => {
      node.services.pubsub.addEventListener('message', event => {
        const {topic, data} = event.detail
        if (listeners.has(topic)) listeners.deliver(topic, decoder.decode(data))
      })
      for (const url of relayUrls) stops.push(keepDialing(node, multiaddr(url), report))
      return node
    })
    return {
      node,
      listeners,
      errorSinks,
      stop: () => {
        for (const stop of stops) stop()
        void node.then(node => node.stop()).catch(() => {})
      },
    }
  })
  shared.errorSinks.add(onError)
  return {
    shared,
    release: () => {
      shared.errorSinks.delete(onError)
      release()
    },
  }
}

export const strategy = defineStrategy<IpfsRoomConfig>({
  name: 'ipfs',
  validate: config => {
    const urls = config.relayUrls
    if (urls === undefined) return
    if (!Array.isArray(urls) || !urls.length)
      throw new TypeError(
        'p2p-elements: config.relayUrls must be a non-empty array of libp2p multiaddrs (or left out for the defaults)',
      )
    for (const url of urls) {
      try {
        multiaddr(url)
      } catch {
        throw new TypeError(
          `p2p-elements: relay "${url}" is not a multiaddr; expected e.g. "/dns4/relay.example.com/tcp/443/wss/p2p/12D3Koo..."`,
        )
      }
    }
  },
  connect: (config, context) => {
    const {shared, release} = acquireNode(config.relayUrls ?? defaultRelayUrls, context.onError)
    const mine = new Set<() => void>() // this room's unsubscribe functions
    let node: Node | undefined
    let closed = false
    const waiting: Array<{topic: string; message: string; until: number}> = []
    let deadline: ReturnType<typeof setTimeout> | undefined

    const send = (node: Node, topic: string, message: string) =>
      node.services.pubsub
        .publish(topic, encoder.encode(message))
        .catch(error => closed || context.onError(`publishing failed: ${error?.message ?? error}`))

    /** Sends what has a peer in its topic now, or has waited long enough; keeps the rest. */
    const flush = () => {
      if (!node || closed) return
      const now = Date.now()
      for (let i = 0; i < waiting.length; ) {
        const {topic, message, until} = waiting[i]!
        if (node.services.pubsub.getSubscribers(topic).length || now >= until) {
          waiting.splice(i, 1)
          void send(node, topic, message)
        } else i++
      }
      clearTimeout(deadline)
      if (waiting.length) deadline = setTimeout(flush, Math.max(0, Math.min(...waiting.map(w => w.until)) - now))
    }
    // A peer joining a topic is when a waiting message can go.
    const onSubscriptionChange = () => flush()

    shared.node.then(
      started => {
        if (closed) return
        node = started
        started.services.pubsub.addEventListener('subscription-change', onSubscriptionChange)
        flush()
      },
      error => context.onError(`libp2p could not start: ${error?.message ?? error}`),
    )

    return {
      subscribe: (topic, onMessage) => {
        const remove = shared.listeners.add(topic, onMessage)
        mine.add(remove)
        return () => {
          if (mine.delete(remove)) remove()
        }
      },
      publish: (topic, message) => {
        if (closed) return
        if (node?.services.pubsub.getSubscribers(topic).length) return void send(node, topic, message)
        waiting.push({topic, message, until: Date.now() + waitForTopicPeersMs})
        if (waiting.length > maxQueued) waiting.shift()
        if (waiting.length === 1) flush()
      },
      close: () => {
        closed = true
        clearTimeout(deadline)
        waiting.length = 0
        node?.services.pubsub.removeEventListener('subscription-change', onSubscriptionChange)
        for (const remove of mine) remove()
        mine.clear()
        release()
      },
    }
  },
})

export const joinRoom = createJoinRoom(strategy)
export {selfId}
