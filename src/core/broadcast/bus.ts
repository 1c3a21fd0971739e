import {decrypt, deriveKey, encrypt, topicOf} from '../crypto.js'
import {invalidConfig} from '../errors.js'
import type {Signaling, Strategy} from '../strategy.js'
import type {CommonOptions} from './types.js'

/**
 * Broadcast signaling over either transport:
 *
 * - a **seed-style driver** (`on(namespace, handler)`, `off`, `emit(namespace, message)`,
 *   namespaces are arrays such as `['sender', room, id]`, messages plain objects), used
 *   unchanged, so a driver written for the `p2p` library works as it is;
 * - any **strategy** of ours (its `subscribe`/`publish`), each namespace hashed into an
 *   opaque topic with the app id, so relays never see room names.
 *
 * Either way every message is `{type, id, sealed}`: the kind and the sender's id in clear
 * (so a driver can route or log), and everything else sealed with AES-GCM under a key
 * derived from (appId, room, password) as rooms do. A message whose seal does not open,
 * whose inner kind or id differs from the outer ones, or that is addressed to someone
 * else is dropped before anything reads it.
 */

/** A signaling driver as the `p2p` library defines it. */
export type SeedDriver = {
  on: (namespace: string[], handler: (message: unknown) => void) => void
  off: (namespace: string[], handler: (message: unknown) => void) => void
  emit: (namespace: string[], message: unknown) => void
}

export type Envelope = {type: string; id: string; sealed: string}
/** What a handler gets once the seal opened. */
export type BusMessage = {type: string; from: string; to?: string; [field: string]: unknown}

export type Bus = {
  on: (namespace: string[], handler: (message: BusMessage) => void) => void
  emit: (namespace: string[], message: BusMessage) => Promise<void>
  close: () => void
}

/** Sealed payloads remembered to drop duplicates (a message arrives once per relay). */
const seenLimit = 1000
/** Longest signaling message accepted: an SDP with every candidate fits well within. */
const maxMessageLength = 100_000

export type BusOptions = {
  room: string
  selfId: string
  appId?: string
  password?: string
  driver?: SeedDriver
  strategy?: Strategy
  /** Strategy config (relayUrls, ...), passed to strategy.connect. */
  config?: Record<string, unknown>
  onError: (message: string) => void
}

export const isSeedDriver = (driver: unknown): driver is SeedDriver =>
  !!driver && ['on', 'off', 'emit'].every(name => typeof (driver as Record<string, unknown>)[name] === 'function')

/** The app id broadcasts use when none is given (a seed-style driver needs none). */
export const defaultBroadcastAppId = 'p2p-elements-broadcast'

type Transport = {
  on: (namespace: string[], handler: (raw: unknown) => void) => () => void
  emit: (namespace: string[], raw: Envelope) => void
  close: () => void
}

const driverTransport = (driver: SeedDriver, onError: (message: string) => void): Transport => ({
  on: (namespace, handler) => {
    driver.on([...namespace], handler)
    return () => driver.off([...namespace], handler)
  },
  emit: (namespace, raw) => {
    try {
      driver.emit([...namespace], raw)
    } catch (error) {
      onError(`driver.emit threw: ${error}`)
    }
  },
  close: () => {},
})

const strategyTransport = async (options: BusOptions, appId: string): Promise<Transport> => {
  const strategy = options.strategy!
  if (strategy.name === 'torrent')
    throw invalidConfig(
      'broadcasts need a publish/subscribe strategy; torrent trackers only route room handshakes: use nostr, mqtt, supabase, firebase, ipfs, local or driver',
    )
  const topic = (namespace: string[]) => topicOf(appId, 'broadcast', ...namespace)
  const config = {...options.config, appId} as Parameters<Strategy['connect']>[0]
  strategy.validate?.(config)
  const [roomTopic, selfTopic] = await Promise.all([
    topic(['room', options.room]),
    topic(['peer', options.room, options.selfId]),
  ])
  const signaling: Signaling = strategy.connect(config, {
    appId,
    roomId: `broadcast:${options.room}`,
    selfId: options.selfId,
    roomTopic,
    selfTopic,
    peerTopic: peerId => topic(['peer', options.room, peerId]),
    onError: message => options.onError(`${strategy.name}: ${message}`),
  })
  const topics = new Map<string, Promise<string>>()
  const topicCached = (namespace: string[]) => {
    const key = JSON.stringify(namespace)
    if (!topics.has(key)) topics.set(key, topic(namespace))
    return topics.get(key)!
  }
  return {
    on: (namespace, handler) => {
      let off: (() => void) | undefined
      let cancelled = false
      void topicCached(namespace).then(t => {
        if (!cancelled) off = signaling.subscribe(t, handler)
      })
      return () => {
        cancelled = true
        off?.()
      }
    },
    emit: (namespace, raw) =>
      void topicCached(namespace).then(t => {
        try {
          signaling.publish(t, JSON.stringify(raw))
        } catch (error) {
          options.onError(`${strategy.name}: publish threw: ${error}`)
        }
      }),
    close: () => {
      try {
        signaling.close()
      } catch {
        // a strategy that fails to close must not keep the broadcast alive
      }
    },
  }
}

const parseEnvelope = (raw: unknown): Envelope | undefined => {
  let value = raw
  if (typeof raw === 'string') {
    if (raw.length > maxMessageLength) return
    try {
      value = JSON.parse(raw)
    } catch {
      return
    }
  }
  if (!value || typeof value !== 'object') return
  const {type, id, sealed} = value as Record<string, unknown>
  if (typeof type !== 'string' || typeof id !== 'string' || !id || id.length > 64) return
  if (typeof sealed !== 'string' || sealed.length > maxMessageLength) return
  return {type, id, sealed}
}

export const createBus = async (options: BusOptions): Promise<Bus> => {
  const appId = options.appId ?? defaultBroadcastAppId
  const [key, transport] = await Promise.all([
    deriveKey(appId, `broadcast:${options.room}`, options.password),
    options.driver ? driverTransport(options.driver, options.onError) : strategyTransport(options, appId),
  ])
  const seen = new Set<string>()
  const offs: (() => void)[] = []
  let closed = false

  const open = async (raw: unknown): Promise<BusMessage | undefined> => {
    const envelope = parseEnvelope(raw)
    if (!envelope || envelope.id === options.selfId || seen.has(envelope.sealed)) return
    if (seen.size >= seenLimit) seen.clear()
    seen.add(envelope.sealed)
    let message: BusMessage
    try {
      message = JSON.parse(await decrypt(key, envelope.sealed))
    } catch {
      return // not sealed with this room's key: an outsider, or another password
    }
    if (!message || typeof message !== 'object') return
    if (message.type !== envelope.type || message.from !== envelope.id) return
    if (message.to !== undefined && message.to !== options.selfId) return
    return message
  }

  return {
    on: (namespace, handler) => {
      offs.push(
        transport.on(namespace, raw => {
          void open(raw).then(message => {
            if (message && !closed) handler(message)
          })
        }),
      )
    },
    emit: async (namespace, message) => {
      if (closed) return
      const sealed = await encrypt(key, JSON.stringify(message))
      if (!closed) transport.emit(namespace, {type: message.type, id: message.from, sealed})
    },
    close: () => {
      closed = true
      for (const off of offs) off()
      transport.close()
    },
  }
}

/** The bus a Sender or Receiver signals on: its room and id, the transport from its options. */
export const busFor = (
  options: Readonly<CommonOptions>,
  room: string,
  selfId: string,
  onError: (message: string) => void,
) =>
  createBus({
    room,
    selfId,
    appId: options.appId,
    password: options.password,
    driver: options.driver,
    strategy: options.strategy,
    config: options.config,
    onError,
  })
