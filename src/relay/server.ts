/// <reference types="node" />
/**
 * A Nostr relay for p2p-elements signaling that you run yourself (Node only): NIP-01 over
 * WebSocket, ephemeral events only (forwarded to matching subscriptions, never stored),
 * with limits on rates, sizes, subscriptions and connections, a health endpoint, graceful
 * shutdown and JSON-line logs. Every request is treated as hostile: each limit is answered
 * with a NIP-01 NOTICE (and OK false / CLOSED where a message can be answered), events are
 * checked (shape, id, signature, clock) before anyone else sees them.
 *
 *   import {createRelayServer} from 'p2p-elements/relay'
 *   const relay = await createRelayServer({port: 8080})
 *   relay.url        // ws://127.0.0.1:8080  (pass it as relayUrls)
 *   await relay.close()
 */
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {Duplex} from 'node:stream'
import {verifyEvent, type Event} from 'nostr-tools/pure'
import {WebSocketServer, type WebSocket} from 'ws'
import {addressKey, createBucket, take, type Bucket} from './limits.js'
import {
  eventKeysOf,
  indexKeysOf,
  isEphemeralKind,
  matchesFilter,
  readClientMessage,
  type Filter,
  type NostrEvent,
} from './nip01.js'

/** One structured log record (one JSON line when logging to stdout). */
export type RelayLogRecord = {time: string; level: 'info' | 'warn' | 'error'; event: string; [field: string]: unknown}

export type RelayOptions = {
  /** Interface to listen on (createRelayServer). Default 127.0.0.1: say `0.0.0.0` to serve other machines. */
  host?: string
  /** Port to listen on (createRelayServer); 0 for any free one. Default 8080. */
  port?: number
  /** The path WebSocket clients connect to. Default `/`. */
  path?: string
  /** Largest message accepted, in bytes (larger ones get a NOTICE). Default 64 KiB. */
  maxMessageBytes?: number
  /** Open subscriptions per connection. Default 20. */
  maxSubscriptions?: number
  /** Filters in one REQ. Default 10. */
  maxFilters?: number
  /** Values in one filter array (ids, authors, kinds, `#x`). Default 256. */
  maxFilterValues?: number
  /** Connections at once, in all. Default 10,000. */
  maxConnections?: number
  /** Connections at once from one address (an IPv6 /64 counts as one). Default 32. */
  maxConnectionsPerIp?: number
  /** New connections a second from one address, sustained. Default 2. */
  connectionsPerSecondPerIp?: number
  /** New connections from one address in a burst above that rate. Default 30. */
  connectionBurstPerIp?: number
  /** Messages a second one connection may send, sustained. Default 20. */
  messagesPerSecond?: number
  /** Messages one connection may send in a burst above that rate. Default 100. */
  messageBurst?: number
  /** Messages a second all connections from one address may send, sustained. Default 100. */
  messagesPerSecondPerIp?: number
  /** Messages all connections from one address may send in a burst. Default 500. */
  messageBurstPerIp?: number
  /** Largest difference between an event's created_at and the relay's clock, in seconds. Default 300. */
  maxClockSkewSeconds?: number
  /** Event kinds forwarded (all must be ephemeral, 20000-29999). Default: every ephemeral kind. */
  kinds?: number[]
  /** Check each event's id and signature before forwarding it. Default true. */
  verifySignatures?: boolean
  /** Origins (`https://app.example`) whose pages may connect; clients that send no Origin always may. Default: any. */
  allowedOrigins?: string[]
  /** Host header values (`relay.example`, `relay.example:8080`) accepted, against DNS rebinding. Default: any. */
  allowedHosts?: string[]
  /** Behind a reverse proxy: take the client's address from the last X-Forwarded-For entry. Default false. */
  trustProxy?: boolean
  /** Malformed messages (bad JSON, shape, id or signature) a connection may send before it is closed. Default 50. */
  maxInvalidMessages?: number
  /** How often each connection is pinged; one that has not answered the last ping is dropped. Default 30 s. */
  pingIntervalMs?: number
  /** Bytes waiting to be sent to one client beyond which events for it are dropped (4x that: it is disconnected). Default 1 MiB. */
  maxBufferedBytes?: number
  /** On close(), how long clients get to close after the shutdown NOTICE before they are cut. Default 2 s. */
  shutdownGraceMs?: number
  /** Logs: true for JSON lines on stdout, a function to receive each record, false (default) for none. */
  log?: boolean | ((record: RelayLogRecord) => void)
  /** Name and description for NIP-11 (GET / with Accept: application/nostr+json). */
  name?: string
  description?: string
}

/** Counters a running relay keeps (GET /health returns them). */
export type RelayStats = {
  status: 'ok' | 'shutting-down'
  uptimeSeconds: number
  connections: number
  addresses: number
  subscriptions: number
  eventsReceived: number
  eventsForwarded: number
  eventsDelivered: number
  refused: Record<string, number>
  dropped: number
  memory: {rssBytes: number; heapUsedBytes: number}
}

/** A relay not bound to a port of its own: hand it upgrades and requests from your HTTP server. */
export type Relay = {
  /** Takes a WebSocket upgrade request on the relay's path (answers others with 404). */
  handleUpgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void
  /** Answers GET /health, the NIP-11 document and anything else (426: use a WebSocket). */
  handleRequest: (request: IncomingMessage, response: ServerResponse) => void
  stats: () => RelayStats
  /** Graceful shutdown: refuse new connections, tell every client with a NOTICE, close, then cut. */
  close: (reason?: string) => Promise<void>
}

export type RelayServer = Relay & {url: string; host: string; port: number; server: Server}

const defaults = {
  host: '127.0.0.1',
  port: 8080,
  path: '/',
  maxMessageBytes: 64 * 1024, // an SDP offer with its candidates, sealed and encoded, is a few KiB
  maxSubscriptions: 20, // as most public relays allow; a room holds one per relay connection
  maxFilters: 10,
  maxFilterValues: 256,
  maxConnections: 10_000,
  maxConnectionsPerIp: 32, // several tabs, each with a few rooms, behind one NAT
  connectionsPerSecondPerIp: 2, // reconnecting over and over must not reset the limits above
  connectionBurstPerIp: 30,
  messagesPerSecond: 20, // a room joining sends a burst of announces and offers, then one per interval
  messageBurst: 100,
  messagesPerSecondPerIp: 100,
  messageBurstPerIp: 500,
  maxInvalidMessages: 50, // a bug sends a few; a flood of bad signatures is someone burning our CPU
  maxClockSkewSeconds: 300, // signaling is live: an older event is a replay or a badly wrong clock
  verifySignatures: true,
  trustProxy: false,
  pingIntervalMs: 30_000,
  maxBufferedBytes: 1024 * 1024,
  shutdownGraceMs: 2_000,
  name: 'p2p-elements relay',
  description: 'A Nostr relay for WebRTC signaling: ephemeral events only, nothing stored.',
}

/** Event ids remembered, so a replayed event is not forwarded twice. */
const seenLimit = 20_000
/** At most one NOTICE a second per connection for each kind of limit it hits. */
const noticeIntervalMs = 1_000

type Subscription = {client: Client; id: string; filters: Filter[]; keys: string[] | null}
type Client = {
  id: number
  socket: WebSocket
  address: string
  key: string
  subscriptions: Map<string, Subscription>
  bucket: Bucket
  alive: boolean
  openedAt: number
  received: number
  delivered: number
  invalid: number
  noticed: Map<string, number>
  logged: Set<string>
}
/** What is counted per address; kept after its last connection closes until its buckets are full again. */
type Address = {connections: number; bucket: Bucket; connects: Bucket; idleSince: number}

const lineLogger = (record: RelayLogRecord) => process.stdout.write(`${JSON.stringify(record)}\n`)

const hostOf = (request: IncomingMessage) => (request.headers.host ?? '').toLowerCase()

/** Creates a relay that does not listen by itself (see createRelayServer for one that does). */
export const createRelay = (options: RelayOptions = {}): Relay => {
  // Options left undefined take the defaults (so `{port: undefined}` from a CLI parser works).
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined))
  const o = {...defaults, ...given} as typeof defaults & RelayOptions
  const kinds = o.kinds ? new Set(o.kinds) : null
  if (o.kinds?.some(kind => !isEphemeralKind(kind)))
    throw new RangeError('relay kinds must all be ephemeral (20000-29999): this relay stores nothing')
  const allowedOrigins = o.allowedOrigins ? new Set(o.allowedOrigins.map(origin => origin.toLowerCase())) : null
  const allowedHosts = o.allowedHosts ? new Set(o.allowedHosts.map(host => host.toLowerCase())) : null
  const emit = o.log === true ? lineLogger : typeof o.log === 'function' ? o.log : null
  const log = (level: RelayLogRecord['level'], event: string, fields: Record<string, unknown> = {}) =>
    emit?.({time: new Date().toISOString(), level, event, ...fields})

  const startedAt = Date.now()
  const clients = new Set<Client>()
  const addresses = new Map<string, Address>()
  const index = new Map<string, Set<Subscription>>() // "x:value" -> subscriptions with a #x filter on it
  const unindexed = new Set<Subscription>() // subscriptions with a filter that has no #x condition
  const seen = new Set<string>()
  const counters = {eventsReceived: 0, eventsForwarded: 0, eventsDelivered: 0, dropped: 0, subscriptions: 0}
  const refused: Record<string, number> = {}
  let nextClient = 1
  let closing: Promise<void> | undefined

  const wss = new WebSocketServer({
    noServer: true,
    // Past four times the limit the socket is cut by ws itself (close code 1009); below that, a NOTICE.
    maxPayload: o.maxMessageBytes * 4,
    perMessageDeflate: false, // compression costs memory per connection, and signaling is small
  })

  const count = (reason: string) => (refused[reason] = (refused[reason] ?? 0) + 1)

  const send = (client: Client, text: string) => {
    const {socket} = client
    if (socket.readyState !== socket.OPEN) return false
    if (socket.bufferedAmount > o.maxBufferedBytes) {
      counters.dropped++
      if (socket.bufferedAmount > 4 * o.maxBufferedBytes) {
        log('warn', 'slow-consumer', {client: client.id, address: client.address, buffered: socket.bufferedAmount})
        socket.terminate()
      }
      return false
    }
    socket.send(text)
    return true
  }

  /** A NOTICE for a limit (`reason`), at most one a second per connection and reason; logged once. */
  const notice = (client: Client, reason: string, text: string) => {
    count(reason)
    const now = Date.now()
    if (now - (client.noticed.get(reason) ?? 0) >= noticeIntervalMs) {
      client.noticed.set(reason, now)
      send(client, JSON.stringify(['NOTICE', text]))
    }
    if (!client.logged.has(reason)) {
      client.logged.add(reason)
      log('warn', 'limit', {limit: reason, client: client.id, address: client.address})
    }
  }

  /** Counts a malformed message; past maxInvalidMessages the connection is told and closed (1008). */
  const strike = (client: Client) => {
    if (++client.invalid <= o.maxInvalidMessages) return
    notice(client, 'invalid-messages', `blocked: more than ${o.maxInvalidMessages} invalid messages; closing`)
    client.socket.close(1008, 'too many invalid messages')
  }

  const unsubscribe = (subscription: Subscription) => {
    counters.subscriptions--
    if (!subscription.keys) return void unindexed.delete(subscription)
    for (const key of subscription.keys) {
      const set = index.get(key)
      set?.delete(subscription)
      if (set?.size === 0) index.delete(key)
    }
  }

  const subscribe = (client: Client, id: string, filters: Filter[]) => {
    const old = client.subscriptions.get(id)
    if (old) unsubscribe(old), client.subscriptions.delete(id)
    const perFilter = filters.map(indexKeysOf)
    const keys = perFilter.some(keys => keys === null) ? null : [...new Set(perFilter.flat() as string[])]
    const subscription: Subscription = {client, id, filters, keys}
    client.subscriptions.set(id, subscription)
    counters.subscriptions++
    if (!keys) unindexed.add(subscription)
    else
      for (const key of keys) {
        let set = index.get(key)
        if (!set) index.set(key, (set = new Set()))
        set.add(subscription)
      }
  }

  const forward = (event: NostrEvent, raw: string) => {
    const candidates = new Set<Subscription>(unindexed)
    for (const key of eventKeysOf(event)) for (const subscription of index.get(key) ?? []) candidates.add(subscription)
    counters.eventsForwarded++
    for (const subscription of candidates) {
      if (!subscription.filters.some(filter => matchesFilter(event, filter))) continue
      if (send(subscription.client, `["EVENT",${JSON.stringify(subscription.id)},${raw}]`)) {
        subscription.client.delivered++
        counters.eventsDelivered++
      }
    }
  }

  const ok = (client: Client, id: string, accepted: boolean, message: string) =>
    send(client, JSON.stringify(['OK', id, accepted, message]))

  const onEvent = (client: Client, event: NostrEvent) => {
    counters.eventsReceived++
    if (!isEphemeralKind(event.kind) || (kinds && !kinds.has(event.kind))) {
      count('kind')
      return ok(
        client,
        event.id,
        false,
        kinds
          ? `blocked: this relay forwards only event kinds ${[...kinds].join(', ')}`
          : 'blocked: this relay forwards only ephemeral events (kinds 20000-29999) and stores nothing',
      )
    }
    const skew = Math.abs(event.created_at - Date.now() / 1000)
    if (skew > o.maxClockSkewSeconds) {
      count('clock')
      return ok(
        client,
        event.id,
        false,
        `invalid: created_at is ${Math.round(skew)} s from the relay's clock (at most ${o.maxClockSkewSeconds} s)`,
      )
    }
    if (seen.has(event.id)) return ok(client, event.id, true, 'duplicate: already forwarded')
    if (o.verifySignatures && !verifyEvent(event as Event)) {
      count('signature')
      ok(client, event.id, false, 'invalid: the event id or signature does not check out')
      return strike(client)
    }
    // Remembered only once verified: a forged copy must not make the real event look like a duplicate.
    seen.add(event.id)
    if (seen.size > seenLimit) seen.delete(seen.values().next().value!)
    // Forward exactly the fields NIP-01 defines, whatever else the sender added.
    const {id, pubkey, created_at, kind, tags, content, sig} = event
    forward(event, JSON.stringify({id, pubkey, created_at, kind, tags, content, sig}))
    ok(client, event.id, true, '')
  }

  const onMessage = (client: Client, data: Buffer, binary: boolean) => {
    if (closing) return
    client.received++
    if (binary) {
      notice(client, 'binary', 'invalid: this relay reads text messages only (JSON)')
      return strike(client)
    }
    if (data.length > o.maxMessageBytes) {
      const text = `invalid: a message of ${data.length} bytes is over this relay's limit of ${o.maxMessageBytes} bytes`
      notice(client, 'size', text)
      return strike(client)
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(data.toString('utf8'))
    } catch {
      notice(client, 'json', 'invalid: a message must be JSON')
      return strike(client)
    }
    const message = readClientMessage(parsed, o)
    // CLOSE is always let through: it frees what the client holds here.
    if (message.type === 'CLOSE') {
      const subscription = client.subscriptions.get(message.id)
      if (subscription) unsubscribe(subscription), client.subscriptions.delete(message.id)
      return
    }
    const now = Date.now()
    const address = addresses.get(client.key)!
    const limited = !take(client.bucket, o.messagesPerSecond, o.messageBurst, now)
      ? `at most ${o.messagesPerSecond} messages a second per connection`
      : !take(address.bucket, o.messagesPerSecondPerIp, o.messageBurstPerIp, now)
        ? `at most ${o.messagesPerSecondPerIp} messages a second per address`
        : null
    if (limited) {
      const text = `rate-limited: slow down, ${limited}`
      notice(client, 'rate', text)
      if (message.type === 'EVENT') ok(client, message.event.id, false, text)
      else if (message.type === 'REQ') send(client, JSON.stringify(['CLOSED', message.id, text]))
      return
    }
    if (message.type === 'invalid') {
      count('invalid')
      if (message.eventId) ok(client, message.eventId, false, `invalid: ${message.reason}`)
      else if (message.subscriptionId)
        send(client, JSON.stringify(['CLOSED', message.subscriptionId, `invalid: ${message.reason}`]))
      else send(client, JSON.stringify(['NOTICE', `invalid: ${message.reason}`]))
      return strike(client)
    }
    if (message.type === 'EVENT') return onEvent(client, message.event)
    // REQ
    if (!client.subscriptions.has(message.id) && client.subscriptions.size >= o.maxSubscriptions) {
      const text = `blocked: at most ${o.maxSubscriptions} subscriptions per connection; CLOSE one first`
      notice(client, 'subscriptions', text)
      return send(client, JSON.stringify(['CLOSED', message.id, text]))
    }
    subscribe(client, message.id, message.filters)
    // Nothing is stored, so the stored events end at once.
    send(client, JSON.stringify(['EOSE', message.id]))
  }

  const addressOf = (request: IncomingMessage) => {
    const forwarded = o.trustProxy
      ? String(request.headers['x-forwarded-for'] ?? '')
          .split(',')
          .at(-1)
          ?.trim()
      : ''
    return forwarded || request.socket.remoteAddress || 'unknown'
  }

  /** Why this request may not be served (Host or Origin not allowed), or null. */
  const forbidden = (request: IncomingMessage) => {
    if (allowedHosts && !allowedHosts.has(hostOf(request))) return 'host'
    const origin = request.headers.origin?.toLowerCase()
    if (allowedOrigins && origin !== undefined && !allowedOrigins.has(origin) && !allowedOrigins.has('*'))
      return 'origin'
    return null
  }

  const refuseHttp = (socket: Duplex, status: number, text: string) => {
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${text.length + 1}\r\n\r\n${text}\n`,
    )
  }

  const admit = (socket: WebSocket, request: IncomingMessage, address: string) => {
    const key = addressKey(address)
    const now = Date.now()
    const client: Client = {
      id: nextClient++,
      socket,
      address,
      key,
      subscriptions: new Map(),
      bucket: createBucket(o.messageBurst, now),
      alive: true,
      openedAt: now,
      received: 0,
      delivered: 0,
      invalid: 0,
      noticed: new Map(),
      logged: new Set(),
    }
    const address_ = addresses.get(key) ?? {
      connections: 0,
      bucket: createBucket(o.messageBurstPerIp, now),
      connects: createBucket(o.connectionBurstPerIp, now),
      idleSince: now,
    }
    addresses.set(key, address_)
    const full =
      clients.size >= o.maxConnections
        ? `blocked: this relay is full (${o.maxConnections} connections); try again later`
        : address_.connections >= o.maxConnectionsPerIp
          ? `blocked: too many connections from your address (at most ${o.maxConnectionsPerIp})`
          : !take(address_.connects, o.connectionsPerSecondPerIp, o.connectionBurstPerIp, now)
            ? `rate-limited: too many new connections from your address (at most ${o.connectionsPerSecondPerIp} a second); try again later`
            : null
    if (full) {
      count('connections')
      log('warn', 'refused', {reason: 'connections', address, detail: full})
      socket.on('error', () => socket.terminate())
      socket.send(JSON.stringify(['NOTICE', full]))
      socket.close(1013, 'too many connections')
      return
    }
    address_.connections++
    clients.add(client)
    log('info', 'connect', {client: client.id, address, origin: request.headers.origin ?? null})
    socket.on('message', (data: Buffer, binary: boolean) => onMessage(client, data, binary))
    socket.on('pong', () => (client.alive = true))
    socket.on('error', () => socket.terminate())
    socket.on('close', (code: number) => {
      clients.delete(client)
      for (const subscription of client.subscriptions.values()) unsubscribe(subscription)
      client.subscriptions.clear()
      if (--address_.connections === 0) address_.idleSince = Date.now()
      log('info', 'disconnect', {
        client: client.id,
        address,
        code,
        seconds: Math.round((Date.now() - client.openedAt) / 100) / 10,
        received: client.received,
        delivered: client.delivered,
      })
    })
  }

  const handleUpgrade: Relay['handleUpgrade'] = (request, socket, head) => {
    socket.on('error', () => socket.destroy())
    const address = addressOf(request)
    if (closing) return refuseHttp(socket, 503, 'relay shutting down')
    if (new URL(request.url ?? '/', 'http://relay').pathname !== o.path) return refuseHttp(socket, 404, 'Not Found')
    const why = forbidden(request)
    if (why) {
      count(why)
      log('warn', 'refused', {reason: why, address, host: hostOf(request), origin: request.headers.origin ?? null})
      return refuseHttp(socket, 403, `${why} not allowed`)
    }
    wss.handleUpgrade(request, socket, head, ws => admit(ws, request, address))
  }

  const stats = (): RelayStats => {
    const memory = process.memoryUsage()
    return {
      status: closing ? 'shutting-down' : 'ok',
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      connections: clients.size,
      addresses: [...addresses.values()].filter(address => address.connections > 0).length,
      subscriptions: counters.subscriptions,
      eventsReceived: counters.eventsReceived,
      eventsForwarded: counters.eventsForwarded,
      eventsDelivered: counters.eventsDelivered,
      refused: {...refused},
      dropped: counters.dropped,
      memory: {rssBytes: memory.rss, heapUsedBytes: memory.heapUsed},
    }
  }

  const info = () => ({
    name: o.name,
    description: o.description,
    supported_nips: [1, 11],
    software: 'p2p-elements',
    limitation: {
      max_message_length: o.maxMessageBytes,
      max_subscriptions: o.maxSubscriptions,
      max_filters: o.maxFilters,
      max_subid_length: 64,
      auth_required: false,
      payment_required: false,
    },
  })

  const handleRequest: Relay['handleRequest'] = (request, response) => {
    const headers = {'x-content-type-options': 'nosniff', 'cache-control': 'no-store'}
    if (forbidden(request) === 'host') {
      count('host')
      response.writeHead(403, {...headers, 'content-type': 'text/plain'})
      return void response.end('host not allowed\n')
    }
    const pathname = new URL(request.url ?? '/', 'http://relay').pathname
    if (request.method === 'GET' && pathname === '/health') {
      const body = stats()
      response.writeHead(closing ? 503 : 200, {...headers, 'content-type': 'application/json'})
      return void response.end(JSON.stringify(body))
    }
    if (
      request.method === 'GET' &&
      pathname === o.path &&
      /application\/nostr\+json/.test(request.headers.accept ?? '')
    ) {
      response.writeHead(200, {
        ...headers,
        'content-type': 'application/nostr+json',
        'access-control-allow-origin': '*',
      })
      return void response.end(JSON.stringify(info()))
    }
    response.writeHead(426, {...headers, 'content-type': 'text/plain'})
    response.end('This is a Nostr relay: connect with a WebSocket.\n')
  }

  // An address with no connection is forgotten once its buckets would be full again anyway.
  const forgetAfterMs =
    1000 *
    Math.max(o.messageBurstPerIp / o.messagesPerSecondPerIp, o.connectionBurstPerIp / o.connectionsPerSecondPerIp)
  const heartbeat = setInterval(() => {
    const now = Date.now()
    for (const [key, address] of addresses)
      if (address.connections === 0 && now - address.idleSince > forgetAfterMs) addresses.delete(key)
    for (const client of clients) {
      if (!client.alive) {
        log('info', 'timeout', {client: client.id, address: client.address})
        client.socket.terminate()
        continue
      }
      client.alive = false
      try {
        client.socket.ping()
      } catch {
        client.socket.terminate()
      }
    }
  }, o.pingIntervalMs)
  heartbeat.unref()

  const close: Relay['close'] = (reason = 'the relay is shutting down') =>
    (closing ??= (async () => {
      clearInterval(heartbeat)
      log('info', 'shutdown', {connections: clients.size, reason})
      const closed = [...clients].map(
        client =>
          new Promise<void>(done => {
            if (client.socket.readyState === client.socket.CLOSED) return done()
            client.socket.once('close', () => done())
            send(client, JSON.stringify(['NOTICE', `shutting down: ${reason}; reconnect later or to another relay`]))
            client.socket.close(1001, 'relay shutting down')
          }),
      )
      let timer: ReturnType<typeof setTimeout> | undefined
      await Promise.race([Promise.all(closed), new Promise(done => (timer = setTimeout(done, o.shutdownGraceMs)))])
      clearTimeout(timer)
      for (const client of clients) client.socket.terminate()
      await new Promise<void>(done => wss.close(() => done()))
      log('info', 'closed', {})
    })())

  return {handleUpgrade, handleRequest, stats, close}
}

/** Starts a relay on its own HTTP server (`host`:`port`). Resolves once it listens. */
export const createRelayServer = async (options: RelayOptions = {}): Promise<RelayServer> => {
  const host = options.host ?? defaults.host
  const relay = createRelay(options)
  const server = createServer(relay.handleRequest)
  server.on('upgrade', relay.handleUpgrade)
  // A request's headers must arrive promptly: a client that trickles them holds a socket for nothing.
  server.headersTimeout = 10_000
  server.requestTimeout = 30_000
  const port = await new Promise<number>((done, fail) => {
    server.once('error', fail)
    server.listen(options.port ?? defaults.port, host, () => {
      server.off('error', fail)
      done((server.address() as {port: number}).port)
    })
  })
  const shown = host.includes(':') ? `[${host}]` : host
  const path = options.path ?? defaults.path
  const url = `ws://${shown}:${port}${path === '/' ? '' : path}`
  const log = options.log === true ? lineLogger : typeof options.log === 'function' ? options.log : null
  log?.({time: new Date().toISOString(), level: 'info', event: 'listening', url, host, port})
  let closed: Promise<void> | undefined
  const close = (reason?: string) =>
    (closed ??= (async () => {
      // Stop accepting first; the relay then tells its clients and closes them.
      const stopped = new Promise<void>(done => server.close(() => done()))
      server.closeIdleConnections()
      await relay.close(reason)
      server.closeAllConnections()
      await stopped
    })())
  return {...relay, close, url, host, port, server}
}
