/**
 * The relay pool of the strategies that keep connections to relays (Nostr relays, MQTT
 * brokers, BitTorrent trackers, libp2p relay nodes): one connection per relay URL shared by
 * every room of the page, reconnection with backoff and jitter (./backoff.ts) and
 * pause/resume. A lease sends only while its relay is connected; what no relay of a room
 * could take waits in that room's queue in the builder (./builder.ts, ./send-queue.ts).
 *
 * A strategy describes how to open, use and close one connection (a `RelayTransport`);
 * each room takes a lease on the relays it uses and releases it when it is left. The
 * connection closes when its last lease is released.
 */
import type {BaseRoomConfig} from '../../core/index.js'
import {errorMessage, invalidConfig, P2PError} from '../../core/errors.js'
import type {RelayState} from '../../core/strategy.js'
import {maxEnvelopeLength} from '../../core/signaling.js'
import {createBackoff} from './backoff.js'

export {reconnectMaxMs, reconnectMinMs} from './backoff.js'
export {pickRelayUrls, seededShuffle} from './relay-urls.js'
export {createReporter} from './reporter.js'

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
  /** The relay is (re)connected: subscribe again, then flush the room's queue. */
  open?: (socket: Socket) => void
  message?: (data: unknown, socket: Socket) => void
  /** The relay went down or could not be reached (once per outage); it is retried unless paused. */
  down?: (reason: string) => void
}

export type {RelayState} from '../../core/strategy.js'

/** One room's use of one relay. */
export type RelayLease<Socket, Outgoing = string> = {
  url: string
  /** Connected, trying to connect, or down (waiting to retry, or paused). */
  state: () => RelayState['state']
  /** The current socket while connected. */
  socket: () => Socket | undefined
  /** Sends now if connected and returns true; false if the relay is not connected. */
  send: (message: Outgoing) => boolean
  release: () => void
}

/** A connection that has not opened by then is abandoned and retried (a relay that never answers). */
/**
 * A relay or tracker message longer than this is skipped unparsed: longer than any envelope
 * the core takes (escaped inside JSON, plus the relay's own fields), so a flood of huge junk
 * costs no JSON.parse and builds no objects.
 */
export const maxRelayMessageChars = 2 * maxEnvelopeLength + 8192

export const connectTimeoutMs = 10_000
/**
 * How long `warm` holds its leases at most: the room's own leases (taken once its identity
 * and topics are ready, a few to a hundred ms later) release them and keep the connections
 * from then on, so a room left closes its connections as before.
 */
export const warmLeaseMs = 5_000
/** A connection that stayed up this long resets the backoff; a relay that drops at once keeps backing off. */
const stableAfterMs = 10_000
type Connection<Socket> = {
  url: string
  socket?: Socket
  isOpen: boolean
  /** An attempt is under way (socket created, not yet open or failed). */
  connecting: boolean
  /** What each room using this relay hears: one entry per lease. */
  leases: Set<LeaseHandlers<Socket>>
  config: RelayConfig
  backoff: ReturnType<typeof createBackoff>
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

/** Checks the relay fields of a config; throws an `invalid-config` P2PError that says what to fix. */
export const validateRelayConfig = (name: string, config: RelayConfig) => {
  const {relayUrls, relayRedundancy, WebSocket: Socket} = config
  if (relayUrls !== undefined) {
    if (
      !Array.isArray(relayUrls) ||
      !relayUrls.length ||
      relayUrls.some(url => typeof url !== 'string' || !/^wss?:\/\//.test(url))
    )
      throw invalidConfig(
        `${name}: config.relayUrls must be a non-empty array of ws:// or wss:// URLs, e.g. ["wss://relay.example.com"]`,
      )
  }
  if (relayRedundancy !== undefined && !(Number.isInteger(relayRedundancy) && relayRedundancy > 0))
    throw invalidConfig(`${name}: config.relayRedundancy must be a positive integer, not ${relayRedundancy}`)
  if (Socket !== undefined && typeof Socket !== 'function')
    throw invalidConfig(
      `${name}: config.WebSocket must be a WebSocket constructor (in Node: import WebSocket from "ws")`,
    )
}

/** The WebSocket to use: the config's, else the runtime's; throws with the fix when there is none. */
export const webSocketFor = (config: RelayConfig): WebSocketConstructor => {
  const Socket = config.WebSocket ?? (globalThis as {WebSocket?: WebSocketConstructor}).WebSocket
  if (!Socket)
    throw new P2PError(
      'invalid-config',
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
  const connections = new Map<string, Connection<Socket>>()
  let paused = false
  let autoRooms = 0 // rooms that follow the browser's online/offline events

  /** Tells every room using `connection` something, each guarded from the others. */
  const tell = (connection: Connection<Socket>, run: (lease: LeaseHandlers<Socket>) => void) => {
    for (const lease of connection.leases) guard(() => run(lease))
  }
  const closeSocket = (connection: Connection<Socket>) =>
    connection.socket && guard(() => transport.close(connection.socket!))
  const stopRetry = (connection: Connection<Socket>) => {
    clearTimeout(connection.retryTimer)
    connection.retryTimer = undefined
  }

  const down = (connection: Connection<Socket>, attempt: number, reason: string) => {
    if (attempt !== connection.attempt) return
    connection.attempt++ // ignore anything else this socket reports
    clearTimeout(connection.connectTimer)
    if (connection.isOpen && Date.now() - connection.openedAt >= stableAfterMs) connection.backoff.reset()
    connection.isOpen = connection.connecting = false
    closeSocket(connection)
    if (!connection.toldDown) tell(connection, lease => lease.down?.(reason))
    connection.toldDown = true
    stopRetry(connection)
    if (!paused && connection.leases.size)
      connection.retryTimer = setTimeout(() => connect(connection), connection.backoff.next())
  }

  const connect = (connection: Connection<Socket>) => {
    stopRetry(connection)
    if (!connection.leases.size || connection.isOpen) return
    closeSocket(connection)
    const attempt = ++connection.attempt
    const fail = (reason: string) => down(connection, attempt, reason)
    connection.connecting = true
    try {
      connection.socket = transport.open(
        connection.url,
        {
          open: () => {
            if (attempt !== connection.attempt) return
            clearTimeout(connection.connectTimer)
            connection.isOpen = true
            connection.connecting = connection.toldDown = false
            connection.openedAt = Date.now()
            tell(connection, lease => lease.open?.(connection.socket!))
          },
          message: data => {
            if (attempt === connection.attempt && connection.isOpen)
              tell(connection, lease => lease.message?.(data, connection.socket!))
          },
          close: reason => queueMicrotask(() => fail(reason)),
        },
        connection.config,
      )
    } catch (error) {
      queueMicrotask(() => fail(`could not connect: ${errorMessage(error)}`))
      return
    }
    connection.connectTimer = setTimeout(() => fail(`no answer within ${connectTimeoutMs} ms`), connectTimeoutMs)
  }

  const pause = (): void => {
    paused = true
    for (const connection of connections.values()) stopRetry(connection)
  }

  const resume = (): void => {
    paused = false
    for (const connection of connections.values()) {
      if (connection.isOpen || connection.connecting) continue
      connection.backoff.reset()
      connect(connection)
    }
  }

  /** Rooms without manualRelayReconnection pause reconnecting while the browser is offline. */
  const listen = (method: 'addEventListener' | 'removeEventListener') => {
    const target = globalThis as unknown as Partial<Pick<Window, typeof method>>
    target[method]?.('offline', pause)
    target[method]?.('online', resume)
  }
  const followNetwork = () => {
    if (autoRooms++ === 0) listen('addEventListener')
    let done = false
    return () => {
      if (done) return
      done = true
      if (--autoRooms === 0) listen('removeEventListener')
    }
  }

  const acquire = (url: string, config: RelayConfig, handlers: LeaseHandlers<Socket>): RelayLease<Socket, Outgoing> => {
    let connection = connections.get(url)
    if (!connection)
      connections.set(
        url,
        (connection = {
          url,
          isOpen: false,
          connecting: false,
          leases: new Set(),
          config,
          backoff: createBackoff(),
          openedAt: 0,
          attempt: 0,
        }),
      )
    const current = connection
    // A copy: the same handlers object may serve two leases.
    const lease = {...handlers}
    current.leases.add(lease)
    if (current.isOpen)
      queueMicrotask(() => current.leases.has(lease) && current.isOpen && guard(() => lease.open?.(current.socket!)))
    else if (!current.socket) connect(current)
    // else it is connecting or waiting to retry: this lease is served when it opens.
    const isOpen = () => current.leases.has(lease) && current.isOpen
    return {
      url,
      state: () => (isOpen() ? 'open' : current.connecting ? 'connecting' : 'down'),
      socket: () => (isOpen() ? current.socket : undefined),
      send: message => {
        if (!isOpen()) return false
        guard(() => transport.send(current.socket!, message))
        return true
      },
      release: () => {
        if (!current.leases.delete(lease) || current.leases.size) return
        stopRetry(current)
        clearTimeout(current.connectTimer)
        current.attempt++
        current.isOpen = current.connecting = false
        closeSocket(current)
        if (connections.get(url) === current) connections.delete(url)
      },
    }
  }

  /** Leases every relay the config asks for, on behalf of one room. */
  const acquireAll = (
    config: RelayConfig,
    urls: readonly string[],
    handlers: (url: string) => LeaseHandlers<Socket>,
  ): {leases: RelayLease<Socket, Outgoing>[]; release: () => void; states: () => RelayState[]} => {
    const unfollow = config.manualRelayReconnection ? () => {} : followNetwork()
    const leases = urls.map(url => acquire(url, config, handlers(url)))
    for (const url of urls) unwarm(url)
    return {
      leases,
      states: () => leases.map(lease => ({url: lease.url, state: lease.state()})),
      release: () => {
        unfollow()
        for (const lease of leases) lease.release()
      },
    }
  }

  /**
   * Starts connecting to `urls` now, before a room can use them (`Strategy.preconnect`):
   * the socket open, the slowest step of a join, then overlaps the room's key and topics.
   * The leases it takes hear nothing and are released after `warmLeaseMs`.
   */
  const warmLeases = new Map<string, Array<() => void>>()
  const warm = (config: RelayConfig, urls: readonly string[]) => {
    for (const url of urls) {
      const lease = acquire(url, config, {})
      const release = () => {
        clearTimeout(timer)
        const waiting = warmLeases.get(url)
        waiting?.splice(waiting.indexOf(release) >>> 0, 1)
        if (!waiting?.length) warmLeases.delete(url)
        lease.release()
      }
      const timer = setTimeout(release, warmLeaseMs)
      warmLeases.set(url, [...(warmLeases.get(url) ?? []), release])
    }
  }
  /** A room took its own lease on `url`: the oldest warm lease there has done its job. */
  const unwarm = (url: string) => warmLeases.get(url)?.[0]?.()

  return {
    acquire,
    acquireAll,
    warm,
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
