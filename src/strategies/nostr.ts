/**
 * `nostr`: peers meet through public Nostr relays. Signaling travels as ephemeral events
 * (relays forward them to subscribers and store nothing), signed by a random key made for
 * each room session, tagged with the core's hashed topic so relays never see room names.
 * Subscriptions start "since now", so nothing old is replayed.
 */
import {getEventHash, type Event} from 'nostr-tools/pure'
import {createJoinRoom, selfId} from '../core/index.js'
import {randomId} from '../core/ids.js'
import {createNostrSigner, warmNostrSigner} from './nostr-sign.js'
import {defineRelayStrategy} from './shared/builder.js'
import {sendQueueLimit} from './shared/send-queue.js'
import {
  createRelayManager,
  pickRelayUrls,
  validateRelayConfig,
  webSocketTransport,
  type RelayConfig,
  maxRelayMessageChars,
} from './shared/relay-manager.js'

export type NostrRoomConfig = RelayConfig

/**
 * Public relays that accept ephemeral events from anyone, without payment or auth (as
 * listed on nostr.watch). Each app uses `relayRedundancy` of them, picked by its appId.
 */
export const defaultRelayUrls: readonly string[] = [
  'wss://relay.damus.io',
  'wss://nos.lol',
  'wss://relay.primal.net',
  'wss://relay.nostr.band',
  'wss://nostr.mom',
  'wss://relay.snort.social',
  'wss://offchain.pub',
  'wss://nostr-pub.wellorder.net',
  'wss://relay.nostr.bg',
  'wss://nostr.oxtr.dev',
]

/** Relays used at once: enough that a few being down or slow does not matter. */
export const defaultRelayRedundancy = 5

/** Our event kind: in NIP-01's ephemeral range (20000-29999), so relays forward and never store it. */
export const eventKind = 25_713
/** The tag that carries the topic; single-letter tags are the ones relays index for filters. */
const topicTag = 'x'
/** Tolerated clock difference between a peer and us when filtering by `created_at`, in seconds. */
const clockSkewSeconds = 60
/** Event ids remembered per room, to drop the copies that arrive from each relay. */
const seenLimit = 2_000

const relays = createRelayManager(webSocketTransport)

/**
 * Events are signed by ./nostr-sign.ts: one curve multiplication each, with a small table
 * for the generator that is built once the page is idle after this module loads (a
 * joinRoom that comes first builds it itself: a few ms).
 */
const {requestIdleCallback: whenIdle} = globalThis as {requestIdleCallback?: (run: () => void) => number}
if (whenIdle) whenIdle(warmNostrSigner)
else setTimeout(warmNostrSigner, 0)

const nowSeconds = () => Math.floor(Date.now() / 1000)

const isEvent = (value: unknown): value is Event => {
  const event = value as Event
  return (
    !!event &&
    typeof event === 'object' &&
    typeof event.id === 'string' &&
    typeof event.pubkey === 'string' &&
    typeof event.sig === 'string' &&
    typeof event.kind === 'number' &&
    typeof event.created_at === 'number' &&
    typeof event.content === 'string' &&
    Array.isArray(event.tags)
  )
}

export const strategy = defineRelayStrategy<NostrRoomConfig>({
  name: 'nostr',
  validate: config => validateRelayConfig('nostr', config),
  preconnect: config => relays.warm(config, pickRelayUrls(config, defaultRelayUrls, defaultRelayRedundancy)),
  connect: (config, room) => {
    const subscriptionId = `p2pe-${randomId(12)}`
    const seen = new Set<string>()
    const joinedAt = nowSeconds()

    const request = () =>
      JSON.stringify([
        'REQ',
        subscriptionId,
        {kinds: [eventKind], [`#${topicTag}`]: room.topics(), since: nowSeconds() - clockSkewSeconds},
      ])

    const onEvent = (event: unknown) => {
      if (!isEvent(event) || event.kind !== eventKind || event.pubkey === publicKey) return
      if (seen.has(event.id) || event.created_at < joinedAt - clockSkewSeconds) return
      const topic = event.tags.find(tag => Array.isArray(tag) && tag[0] === topicTag)?.[1]
      // The id must be the event's hash (a forged copy under a real id would shadow the real
      // one in `seen`), but the Schnorr signature is not checked here: its key is a random one
      // of the sender's room session, so it proves nothing, and it cost several ms of main
      // thread per message. Relays check it; the core checks the signature that counts (the
      // peer identity's, over the envelope).
      if (typeof topic !== 'string' || !room.has(topic) || getEventHash(event) !== event.id) return
      seen.add(event.id)
      if (seen.size > seenLimit) seen.delete(seen.values().next().value!)
      room.deliver(topic, event.content)
    }

    const onMessage = (url: string) => (data: unknown) => {
      // Longer than any envelope the core would take (escaped inside JSON, plus the relay's own
      // fields): not parsed, so a flood of huge junk costs no JSON.parse and builds no objects.
      if (typeof data !== 'string' || room.closed || data.length > maxRelayMessageChars) return
      let message: unknown
      try {
        message = JSON.parse(data)
      } catch {
        return
      }
      if (!Array.isArray(message)) return
      const [type, first, second, third] = message
      if (type === 'EVENT' && first === subscriptionId) onEvent(second)
      else if (type === 'CLOSED' && first === subscriptionId)
        room.report(`relay ${url} closed our subscription: ${String(second)}`)
      else if (type === 'OK' && second === false) room.report(`relay ${url} refused an event: ${String(third)}`)
    }

    const pool = relays.acquireAll(config, pickRelayUrls(config, defaultRelayUrls, defaultRelayRedundancy), url => ({
      // A (re)connected relay has no subscription of ours: ask again, then send what waited.
      open: socket => {
        if (room.topics().length) socket.send(request())
        room.flush()
      },
      message: onMessage(url),
      down: reason => room.report(`relay ${url} is unreachable (${reason}); retrying with backoff`),
    }))
    room.onClose(pool.release)
    // Made after the relay sockets started connecting, so its curve work overlaps the connect.
    const signer = createNostrSigner()
    const publicKey = signer.publicKey

    // One REQ carries all our topics, so a topic gained or lost sends it again; subscribing
    // to two topics in a row sends one REQ with both (same id: the later replaces).
    let resubscribe: Promise<void> | undefined
    const updateSubscription = () =>
      void (resubscribe ??= Promise.resolve().then(() => {
        resubscribe = undefined
        if (room.closed) return
        const topics = room.topics()
        for (const lease of pool.leases) {
          try {
            lease.socket()?.send(topics.length ? request() : JSON.stringify(['CLOSE', subscriptionId]))
          } catch {
            // it just closed: the next open subscribes again
          }
        }
      }))

    // Events signed for messages still waiting for a relay: a Schnorr signature costs ms of
    // main thread, so the first announce is signed while the socket opens, once, not again
    // when the socket opens and the queue is flushed.
    const waiting = new Map<string, string>()
    return {
      relays: pool.states,
      subscribe: updateSubscription,
      unsubscribe: updateSubscription,
      publish: (topic, message) => {
        const key = `${topic} ${message}`
        const text =
          waiting.get(key) ??
          JSON.stringify([
            'EVENT',
            signer.sign({kind: eventKind, created_at: nowSeconds(), tags: [[topicTag, topic]], content: message}),
          ])
        let sent = false
        for (const lease of pool.leases) sent = lease.send(text) || sent
        if (sent) waiting.delete(key)
        else {
          waiting.set(key, text)
          // The builder's queue keeps 20; so do we (the oldest go first in both).
          if (waiting.size > sendQueueLimit) waiting.delete(waiting.keys().next().value!)
        }
        return sent
      },
      close: () => {
        for (const lease of pool.leases) {
          try {
            lease.socket()?.send(JSON.stringify(['CLOSE', subscriptionId]))
          } catch {
            // the relay is going away anyway
          }
        }
      },
    }
  },
})

export const joinRoom = createJoinRoom(strategy)
export const getRelaySockets = relays.getRelaySockets
export const pauseRelayReconnection = relays.pauseRelayReconnection
export const resumeRelayReconnection = relays.resumeRelayReconnection
export {selfId}
