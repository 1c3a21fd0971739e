/**
 * The one builder of every relay-style strategy (nostr, mqtt, torrent, supabase, firebase,
 * ipfs). A strategy file is an adapter for one kind of client: how to subscribe, publish
 * and close on it, and how its SDK is loaded. Everything the six used to solve each in its
 * own way lives here, once:
 *
 * - **topic listeners**: the core's subscriptions, counted per topic; the adapter hears
 *   `subscribe(topic)` for a topic's first listener and `unsubscribe(topic)` for its last;
 * - **the outgoing queue**: a publish the adapter cannot send yet (it returns `false`, or
 *   its SDK is still loading) waits in the room's queue under the one policy of
 *   ./send-queue.ts (20 messages, 30 s), and goes out on `room.flush()`;
 * - **error de-duplication**: `room.report` hands each distinct problem to `onError` once
 *   (./reporter.ts), and nothing after the room closed; a publish that throws or rejects
 *   is reported, never thrown to the core;
 * - **optional SDKs**: `sdk()` (a dynamic `import()`, wrapped by `optionalSdk` of ./sdk.ts)
 *   runs on the first connect; a package that is not installed is reported as a
 *   `missing-dependency` P2PError naming it, through the room's onError, instead of
 *   failing when the module is imported; the adapter is made once it is loaded;
 * - **refcounted clients**: an adapter takes its client from a pool (./shared-clients.ts)
 *   that shares one per key between the rooms of a page, and hands the release to
 *   `room.onClose`, which runs it once the adapter's close has settled;
 * - **idempotent close**: the core's `close()` runs the adapter's close once, after
 *   unsubscribing its topics, then releases what the room acquired.
 *
 * Reconnection with backoff and jitter is the relay pool's (./relay-manager.ts), for the
 * strategies whose connections we open ourselves; supabase and firebase use the reconnect
 * of their SDKs.
 */
import {errorMessage, P2PError} from '../../core/errors.js'
import type {RelayState, Signaling, Strategy, StrategyContext} from '../../core/strategy.js'
import type {BaseRoomConfig} from '../../core/types.js'
import {createReporter} from './reporter.js'
import {createSendQueue} from './send-queue.js'
import {createTopicListeners} from './topic-listeners.js'

/** What the builder gives an adapter for one room. */
export type RelayRoom = {
  context: StrategyContext
  /** Reports a problem that does not end the room: once per distinct message, never after close. */
  report: (error: unknown) => void
  /** Hands a message that arrived on `topic` to the room's listeners (ignored after close or for other topics). */
  deliver: (topic: string, message: string) => void
  /** Topics the room listens to now (to subscribe again after a reconnect). */
  topics: () => string[]
  /** Whether the room listens to `topic`. */
  has: (topic: string) => boolean
  /** Offers the queued messages to `publish` again: call it when something changed (connected, joined, a peer appeared). */
  flush: () => void
  /**
   * Runs `cleanup` when the room closes, after the adapter's own `close` (settled): e.g. the
   * release of a client shared with the page's other rooms (./shared-clients.ts).
   */
  onClose: (cleanup: () => void) => void
  readonly closed: boolean
}

/** One room's use of one client: the adapter a strategy file writes. */
export type RelayAdapter = {
  /** The room's first listener for `topic`: subscribe on the network. */
  subscribe?: (topic: string) => void
  /** Its last listener left (or the room closes): unsubscribe. */
  unsubscribe?: (topic: string) => void
  /**
   * Sends `message` to `topic` (`waitedMs`: how long it has been queued). Returns `false`
   * when it cannot be sent yet: the builder keeps it queued until the next `room.flush()`.
   * May throw or return a promise that rejects: the builder reports it.
   */
  publish: (topic: string, message: string, waitedMs: number) => unknown
  /** Releases what the adapter holds; may return a promise the releases of `room.acquire` wait for. */
  close?: () => unknown
  /** How each relay of this room is doing (diagnostics): the pool's `states`. */
  relays?: () => RelayState[]
}

export type RelayStrategySpec<C extends BaseRoomConfig, Sdk> = {
  /** Short lowercase name, used in errors and by `<p2p-room strategy="...">`. */
  name: string
  /** Checks strategy-specific config when joinRoom is called; throws `invalidConfig(...)`. */
  validate?: (config: C) => void
  /** Starts opening the relay connections as joinRoom is called (`Strategy.preconnect`); must not throw. */
  preconnect?: (config: C) => void
  /** Loads the SDK on first connect: an `optionalSdk(...)` from ./sdk.ts. */
  sdk?: () => Promise<Sdk>
  /** The adapter for one room, made once the SDK (if any) is loaded. */
  connect: (config: C, room: RelayRoom, sdk: Sdk) => RelayAdapter
}

export const defineRelayStrategy = <C extends BaseRoomConfig, Sdk = undefined>(
  spec: RelayStrategySpec<C, Sdk>,
): Strategy<C> => ({
  name: spec.name,
  validate: spec.validate,
  preconnect: config => {
    try {
      spec.preconnect?.(config)
    } catch {
      // connect opens them anyway
    }
  },
  connect: (config, context): Signaling => {
    let closed = false
    let adapter: RelayAdapter | undefined
    const cleanups: Array<() => unknown> = []
    const queue = createSendQueue<[topic: string, message: string]>()
    const reporter = createReporter(context.onError)
    /** A string or P2PError as it is, anything else thrown by its message; nothing after close. */
    const report = (error: unknown) =>
      void (closed || reporter(error instanceof P2PError ? error : errorMessage(error)))
    /** Runs adapter code: what it throws or rejects with is reported, never thrown to the core. */
    const attempt = <T>(run: () => T): T | undefined => {
      try {
        const result = run()
        if (result instanceof Promise) result.catch(report)
        return result
      } catch (error) {
        report(error)
      }
    }
    const hook = (name: 'subscribe' | 'unsubscribe') => (topic: string) => attempt(() => adapter?.[name]?.(topic))
    const topics = createTopicListeners({first: hook('subscribe'), last: hook('unsubscribe')})
    /** False if the adapter cannot send it yet; a message whose send failed is not retried. */
    const send = ([topic, message]: [string, string], waitedMs: number) =>
      !!adapter && attempt(() => adapter!.publish(topic, message, waitedMs)) !== false
    const flush = () => void (closed || queue.drain(send))

    const room: RelayRoom = {
      context,
      report,
      deliver: (topic, message) => void (closed || topics.deliver(topic, message)),
      topics: topics.topics,
      has: topics.has,
      flush,
      onClose: cleanup => void cleanups.push(cleanup),
      get closed() {
        return closed
      },
    }
    const start = (sdk?: Sdk) => {
      if (closed) return
      adapter = attempt(() => spec.connect(config, room, sdk!))
      topics.topics().forEach(hook('subscribe')) // those the core subscribed while the SDK loaded
      flush()
    }
    if (spec.sdk) spec.sdk().then(start, report)
    else start()

    return {
      subscribe: (topic, onMessage) => (closed ? () => {} : topics.add(topic, onMessage)),
      relays: () => (adapter?.relays ? (attempt(adapter.relays) ?? []) : []),
      publish: (topic, message) => {
        if (!closed && (queue.size || !send([topic, message], 0))) queue.push([topic, message])
      },
      close: () => {
        if (closed) return
        topics.clear() // the adapter hears `unsubscribe` for each topic
        closed = true
        queue.clear()
        const release = () => cleanups.reverse().forEach(attempt)
        Promise.resolve(attempt(() => adapter?.close?.())).then(release, release)
      },
    }
  },
})
