/**
 * Relay management shared by the strategies that talk to public relays (Nostr relays, MQTT
 * brokers, BitTorrent trackers): which relays to use, one socket per relay URL shared by
 * every room of the page, reconnection with backoff, pause/resume, and a short queue for
 * messages published while a relay is down.
 *
 * A strategy describes how to open, use and close one connection (a `RelayTransport`);
 * each room takes a lease on the relays it uses and releases it when it is left. The
 * socket closes when its last lease is released.
 */
import type {BaseRoomConfig} from '../core/index.js'

/** A `WebSocket` constructor: the browser's, Node 22+'s global, or `ws`'s (Node 20 has none built in). */
export type WebSocketConstructor = new (url: string | URL, protocols?: string | string[]) => WebSocket

/** Config fields of every relay-based strategy. */
export type RelayConfig = BaseRoomConfig & {
  /** Relay URLs to use instead of the strategy's defaults; all of them are used. */
  relayUrls?: string[]
  /** How many of the default relays to use at once (ignored when `relayUrls` is given). */
  relayRedundancy?: number
  /**
   * When true, relays keep retrying while the browser is offline; when false (default),
   * reconnection pauses on the window's `offline` event and resumes on `online`.
   */
  manualRelayReconnection?: boolean
  /** The WebSocket implementation, for runtimes without a global one (Node 20: `import WebSocket from 'ws'`). */
  WebSocket?: WebSocketConstructor
}

/** What a transport reports about one connection attempt. */
export type RelayEvents = {
  open: () => void
  message: (data: unknown) => void
  /** The connection failed or ended; `reason` is for humans. */
  close: (reason: string) => void
}

/** How a strategy opens, uses and closes one connection to a relay. */
export type RelayTransport<Socket, Outgoing = string> = {
  /** Starts connecting; reports through `events`. May throw (a bad URL): that counts as a failed attempt. */
  open: (url: string, events: RelayEvents, config: RelayConfig) => Socket
  send: (socket: Socket, message: Outgoing) => void
  close: (socket: Socket) => void
}

/** What one room hears about one relay. Handlers must not throw (they are guarded anyway). */
export type LeaseHandlers<Socket> = {
  /** The relay is (re)connected: subscribe again. Called before queued messages are flushed. */
  open?: (socket: Socket) => void
  message?: (data: unknown, socket: Socket) => void
  /** The relay went down or could not be reached (once per outage); it is retried unless paused. */
  down?: (reason: string) => void
}

/** One room's use of one relay. */
export type RelayLease<Socket, Outgoing = string> = {
  url: string
  /** The current socket while connected. */
  socket: () => Socket | undefined
  /** Sends now if connected, else queues it (a few, briefly) for when the relay is back. */
  send: (message: Outgoing) => void
  release: () => void
}

/** First reconnect delay; doubles per failed attempt. Short so a relay restart costs little. */
export const reconnectMinMs = 1_000
/** Reconnect delay ceiling, so a relay that is down for good costs one attempt a minute. */
export const reconnectMaxMs = 60_000
/** A connection that has not opened by then is abandoned and retried (a relay that never answers). */
export const connectTimeoutMs = 10_000
/** A connection that stayed up this long resets the backoff; a relay that drops at once keeps backing off. */
const stableAfterMs = 10_000
/** Messages kept per room while a relay is down; older ones are dropped (the core re-announces). */
const queueLimit = 20
/** Queued messages older than this are dropped rather than sent late: signaling goes stale. */
const queueMaxAgeMs = 30_000

type Lease<Socket, Outgoing> = {
  handlers: LeaseHandlers<Socket>
  queue: {message: Outgoing; at: number}[]
}

type Connection<Socket, Outgoing> = {
  url: string
  socket?: Socket
  isOpen: boolean
  /** An attempt is under way (socket created, not yet open or failed). */
  connecting: boolean
  leases: Set<Lease<Socket, Outgoing>>
  config: RelayConfig
  failures: number
  openedAt: number
  retryTimer?: ReturnType<typeof setTimeout>
  connectTimer?: ReturnType<typeof setTimeout>
  /** Bumped per attempt, so late events of an abandoned socket are ignored. */
  attempt: number
  /** Leases were told it is down; they hear it once per outage, not once per failed retry. */
  toldDown?: boolean
}

const guard = (run: () => void) => {
  try {
    run()
  } catch {
    // An adapter's handler must never break the relay loop; it validates its own input.
  }
}

/** A 32-bit FNV-1a hash of a string: a seed for the per-app shuffle. */
const hashString = (text: string) => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193)
  return hash >>> 0
}

/** mulberry32: a tiny seeded PRNG, enough to spread apps over relays deterministically. */
const seededRandom = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) >>> 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** `list` shuffled the same way for the same `seed` (Fisher-Yates). */
export const seededShuffle = <T>(list: readonly T[], seed: string): T[] => {
  const random = seededRandom(hashString(seed))
  const result = [...list]
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[result[i], result[j]] = [result[j]!, result[i]!]
  }
  return result
}

/**
 * The relays a room uses: all of `config.relayUrls` if given, else `relayRedundancy` of
 * the defaults, picked per appId so different apps spread over different relays.
 */
export const pickRelayUrls = (
  config: RelayConfig,
  defaults: readonly string[],
  defaultRedundancy: number,
): string[] => {
  if (config.relayUrls?.length) return [...new Set(config.relayUrls)]
  const redundancy = config.relayRedundancy ?? defaultRedundancy
  return seededShuffle(defaults, config.appId).slice(0, Math.max(1, Math.floor(redundancy)))
}

/** Distinct problems reported per room: a chatty or hostile relay cannot flood onError. */
const reportLimit = 20

/**
 * A room's reporter of relay problems: each distinct message once (a relay refusing every
 * event says so once, not per announce), and at most `reportLimit` of them.
 */
export const createReporter = (onError: (message: string) => void) => {
  const reported = new Set<string>()
  return (message: string) => {
    if (reported.has(message) || reported.size >= reportLimit) return
    reported.add(message)
    onError(message)
  }
}

/** Checks the relay fields of a config; throws a TypeError that says what to fix. */
export const validateRelayConfig = (name: string, config: RelayConfig) => {
  const {relayUrls, relayRedundancy, WebSocket: Socket} = config
  if (relayUrls !== undefined) {
    if (
      !Array.isArray(relayUrls) ||
      !relayUrls.length ||
      relayUrls.some(url => typeof url !== 'string' || !/^wss?:\/\//.test(url))
    )
      throw new TypeError(
        `p2p-elements: ${name}: config.relayUrls must be a non-empty array of ws:// or wss:// URLs, e.g. ["wss://relay.example.com"]`,
      )
  }
  if (relayRedundancy !== undefined && !(Number.isInteger(relayRedundancy) && relayRedundancy > 0))
    throw new TypeError(
      `p2p-elements: ${name}: config.relayRedundancy must be a positive integer, not ${relayRedundancy}`,
    )
  if (Socket !== undefined && typeof Socket !== 'function')
    throw new TypeError(
      `p2p-elements: ${name}: config.WebSocket must be a WebSocket constructor (in Node: import WebSocket from "ws")`,
    )
}

/** The WebSocket to use: the config's, else the runtime's; throws with the fix when there is none. */
export const webSocketFor = (config: RelayConfig): WebSocketConstructor => {
  const Socket = config.WebSocket ?? (globalThis as {WebSocket?: WebSocketConstructor}).WebSocket
  if (!Socket)
    throw new Error(
      'this runtime has no WebSocket: pass one as config.WebSocket (in Node 20: `import WebSocket from "ws"`)',
    )
  return Socket
}

/**
 * A transport over a plain WebSocket carrying text messages (Nostr, BitTorrent trackers).
 * Binary frames are passed on as they come; the strategy ignores what it cannot read.
 */
export const webSocketTransport: RelayTransport<WebSocket, string> = {
  open: (url, events, config) => {
    const socket = new (webSocketFor(config))(url)
    socket.onopen = () => events.open()
    socket.onmessage = event => events.message(event.data)
    socket.onerror = () => events.close('connection error')
    socket.onclose = event => events.close(`closed (code ${event.code}${event.reason ? `: ${event.reason}` : ''})`)
    return socket
  },
  send: (socket, message) => socket.send(message),
  close: socket => {
    socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null
    try {
      socket.close()
    } catch {
      // closing a socket that never connected can throw in some implementations
    }
  },
}

/**
 * Creates the relay pool of one strategy. Every room of the page using that strategy
 * shares it: one connection per URL, whatever the number of rooms.
 */
export const createRelayManager = <Socket, Outgoing = string>(transport: RelayTransport<Socket, Outgoing>) => {
  const connections = new Map<string, Connection<Socket, Outgoing>>()
  let paused = false
  let autoRooms = 0 // rooms that follow the browser's online/offline events

  const flush = (connection: Connection<Socket, Outgoing>, lease: Lease<Socket, Outgoing>) => {
    const now = Date.now()
    const queued = lease.queue.splice(0)
    for (const {message, at} of queued) {
      if (now - at > queueMaxAgeMs) continue
      if (!connection.isOpen || !connection.socket) return
      guard(() => transport.send(connection.socket!, message))
    }
  }

  const scheduleRetry = (connection: Connection<Socket, Outgoing>) => {
    clearTimeout(connection.retryTimer)
    connection.retryTimer = undefined
    if (paused || !connection.leases.size) return
    const ceiling = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** connection.failures)
    // Jitter in [ceiling/2, ceiling]: peers that lost a relay together do not return together.
    const delay = ceiling / 2 + (Math.random() * ceiling) / 2
    connection.failures++
    connection.retryTimer = setTimeout(() => connect(connection), delay)
  }

  const down = (connection: Connection<Socket, Outgoing>, attempt: number, reason: string) => {
    if (attempt !== connection.attempt) return
    connection.attempt++ // ignore anything else this socket reports
    clearTimeout(connection.connectTimer)
    const wasOpen = connection.isOpen
    connection.isOpen = connection.connecting = false
    if (connection.socket) guard(() => transport.close(connection.socket!))
    if (wasOpen && Date.now() - connection.openedAt >= stableAfterMs) connection.failures = 0
    if (!connection.toldDown) for (const lease of connection.leases) guard(() => lease.handlers.down?.(reason))
    connection.toldDown = true
    scheduleRetry(connection)
  }

  const connect = (connection: Connection<Socket, Outgoing>) => {
    clearTimeout(connection.retryTimer)
    connection.retryTimer = undefined
    if (!connection.leases.size || connection.isOpen) return
    if (connection.socket) guard(() => transport.close(connection.socket!))
    const attempt = ++connection.attempt
    connection.connecting = true
    try {
      connection.socket = transport.open(
        connection.url,
        {
          open: () => {
            if (attempt !== connection.attempt) return
            clearTimeout(connection.connectTimer)
            connection.isOpen = true
            connection.connecting = false
            connection.toldDown = false
            connection.openedAt = Date.now()
            for (const lease of connection.leases) {
              guard(() => lease.handlers.open?.(connection.socket!))
              flush(connection, lease)
            }
          },
          message: data => {
            if (attempt !== connection.attempt || !connection.isOpen) return
            for (const lease of connection.leases) guard(() => lease.handlers.message?.(data, connection.socket!))
          },
          close: reason => queueMicrotask(() => down(connection, attempt, reason)),
        },
        connection.config,
      )
    } catch (error) {
      queueMicrotask(() => down(connection, attempt, `could not connect: ${(error as Error)?.message ?? error}`))
      return
    }
    connection.connectTimer = setTimeout(
      () => down(connection, attempt, `no answer within ${connectTimeoutMs} ms`),
      connectTimeoutMs,
    )
  }

  const pause = () => {
    paused = true
    for (const connection of connections.values()) {
      clearTimeout(connection.retryTimer)
      connection.retryTimer = undefined
    }
  }

  const resume = () => {
    paused = false
    for (const connection of connections.values()) {
      if (connection.isOpen || connection.connecting) continue
      connection.failures = 0
      connect(connection)
    }
  }

  const onOffline = () => pause()
  const onOnline = () => resume()
  const win = () => globalThis as unknown as Partial<Pick<Window, 'addEventListener' | 'removeEventListener'>>

  /** Rooms without manualRelayReconnection pause reconnecting while the browser is offline. */
  const followNetwork = () => {
    if (autoRooms++ === 0) {
      win().addEventListener?.('offline', onOffline)
      win().addEventListener?.('online', onOnline)
    }
    let done = false
    return () => {
      if (done) return
      done = true
      if (--autoRooms === 0) {
        win().removeEventListener?.('offline', onOffline)
        win().removeEventListener?.('online', onOnline)
      }
    }
  }

  const acquire = (url: string, config: RelayConfig, handlers: LeaseHandlers<Socket>): RelayLease<Socket, Outgoing> => {
    let connection = connections.get(url)
    if (!connection) {
      connection = {
        url,
        isOpen: false,
        connecting: false,
        leases: new Set(),
        config,
        failures: 0,
        openedAt: 0,
        attempt: 0,
      }
      connections.set(url, connection)
    }
    const lease: Lease<Socket, Outgoing> = {handlers, queue: []}
    const current = connection
    current.leases.add(lease)
    if (current.isOpen)
      queueMicrotask(() => current.leases.has(lease) && current.isOpen && guard(() => handlers.open?.(current.socket!)))
    else if (!current.socket) connect(current)
    // else it is connecting or waiting to retry: this lease is served when it opens.
    return {
      url,
      socket: () => (current.isOpen ? current.socket : undefined),
      send: message => {
        if (!current.leases.has(lease)) return
        if (current.isOpen && current.socket && !lease.queue.length)
          return guard(() => transport.send(current.socket!, message))
        lease.queue.push({message, at: Date.now()})
        if (lease.queue.length > queueLimit) lease.queue.shift()
      },
      release: () => {
        if (!current.leases.delete(lease)) return
        lease.queue.length = 0
        if (current.leases.size) return
        clearTimeout(current.retryTimer)
        clearTimeout(current.connectTimer)
        current.attempt++
        current.isOpen = current.connecting = false
        if (current.socket) guard(() => transport.close(current.socket!))
        if (connections.get(url) === current) connections.delete(url)
      },
    }
  }

  /** Leases every relay the config asks for, on behalf of one room. */
  const acquireAll = (
    config: RelayConfig,
    urls: readonly string[],
    handlers: (url: string) => LeaseHandlers<Socket>,
  ): {leases: RelayLease<Socket, Outgoing>[]; release: () => void} => {
    const unfollow = config.manualRelayReconnection ? () => {} : followNetwork()
    const leases = urls.map(url => acquire(url, config, handlers(url)))
    return {
      leases,
      release: () => {
        unfollow()
        for (const lease of leases) lease.release()
      },
    }
  }

  return {
    acquire,
    acquireAll,
    /** Relay URL -> its current socket (open, connecting, or the last one that closed). */
    getRelaySockets: (): Record<string, Socket> =>
      Object.fromEntries(
        [...connections].filter(([, c]) => c.socket !== undefined).map(([url, c]) => [url, c.socket!]),
      ),
    /** Stops reconnection attempts until `resumeRelayReconnection()`; open sockets stay open. */
    pauseRelayReconnection: pause,
    /** Reconnects every relay that is down, now, and keeps retrying those that fail. */
    resumeRelayReconnection: resume,
  }
}
