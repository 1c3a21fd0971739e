// A real Nostr relay (NIP-01) for local use: `npm start` embeds it, the tests run it.
// Built on @nostr-relay/core (message handling, id and signature checks), served over
// `ws`, with a small in-memory store. Binds 127.0.0.1 only.
//
//   import {start} from './scripts/relays/nostr-relay.mjs'
//   const relay = await start()          // any free port; start(7000) for a fixed one
//   relay.url                             // ws://127.0.0.1:PORT
//   await relay.stop()
//
// Options (second argument):
//   host        interface to bind (default 127.0.0.1)
//   stats       answer GET /stats with counts of received EVENT messages (tests use it)
//   maxEvents   stored (non-ephemeral) events kept; the oldest go first
//
// Live events are fanned out by this file, not by the core library: @nostr-relay/core 0.0.x
// ignores tag filters (#t, #x, ...) when broadcasting, so every subscriber of a kind would
// get every event of that kind. Here a subscription gets only what its filters match.
import {createServer} from 'node:http'
import {WebSocketServer} from 'ws'
import {NostrRelay} from '@nostr-relay/core'
import {EventRepository, EventType, EventUtils, LogLevel} from '@nostr-relay/common'
import {Validator} from '@nostr-relay/validator'
import {listen, stopper} from './listen.mjs'

// Stored events kept in memory: plenty for a local session, bounded so it cannot grow forever.
const DEFAULT_MAX_EVENTS = 10_000
// Largest websocket message accepted: the validator's content limit (100 KiB) plus envelope.
const MAX_PAYLOAD = 256 * 1024
// Subscriptions per connection, as most public relays allow (and @nostr-relay/core's default).
const MAX_SUBSCRIPTIONS = 20
// What the relay says about itself (NIP-11), for clients that ask.
const INFO = {
  name: 'p2p-elements local relay',
  description: 'An in-memory Nostr relay for local development and tests.',
  supported_nips: [1, 11],
  software: 'p2p-elements',
}

/** Whether `event` matches one NIP-01 filter, tag conditions included. */
export const matchesFilter = (event, filter) => {
  if (filter.ids && !filter.ids.includes(event.id)) return false
  if (filter.authors && !filter.authors.includes(event.pubkey)) return false
  if (filter.kinds && !filter.kinds.includes(event.kind)) return false
  if (filter.since !== undefined && event.created_at < filter.since) return false
  if (filter.until !== undefined && event.created_at > filter.until) return false
  for (const [key, values] of Object.entries(filter)) {
    if (!Array.isArray(values) || key.length !== 2) continue
    const name = key[1]
    const tagValues = event.tags.filter(tag => tag[0] === name).map(tag => tag[1])
    // #x: any of the values; &x (NIP-91): all of them.
    if (key[0] === '#' && !values.some(value => tagValues.includes(value))) return false
    if (key[0] === '&' && !values.every(value => tagValues.includes(value))) return false
  }
  return true
}

/** Keeps regular and replaceable events in memory (ephemeral ones never reach it). */
class MemoryRepository extends EventRepository {
  constructor(maxEvents) {
    super()
    this.maxEvents = maxEvents
    this.events = new Map() // id -> event, in insertion order
  }

  isSearchSupported() {
    return false
  }

  upsert(event) {
    if (this.events.has(event.id)) return {isDuplicate: true}
    const type = EventUtils.getType(event.kind)
    if (type === EventType.REPLACEABLE || type === EventType.PARAMETERIZED_REPLACEABLE) {
      const d = EventUtils.extractDTagValue(event)
      for (const old of this.events.values()) {
        if (old.kind !== event.kind || old.pubkey !== event.pubkey || EventUtils.extractDTagValue(old) !== d) continue
        if (old.created_at > event.created_at) return {isDuplicate: true}
        this.events.delete(old.id)
      }
    }
    this.events.set(event.id, event)
    while (this.events.size > this.maxEvents) this.events.delete(this.events.keys().next().value)
    return {isDuplicate: false}
  }

  find(filter) {
    const now = Math.floor(Date.now() / 1000)
    const found = [...this.events.values()]
      .filter(event => matchesFilter(event, filter))
      .filter(event => (EventUtils.extractExpirationTimestamp(event) ?? Infinity) > now)
      .sort((a, b) => b.created_at - a.created_at)
    return filter.limit !== undefined ? found.slice(0, filter.limit) : found
  }

  async deleteByDeletionRequest(request) {
    const ids = new Set(request.tags.filter(tag => tag[0] === 'e').map(tag => tag[1]))
    for (const id of ids) if (this.events.get(id)?.pubkey === request.pubkey) this.events.delete(id)
  }

  async destroy() {
    this.events.clear()
  }
}

/** Starts a relay on `port` (0: any free port). Resolves to `{url, port, stop}`. */
export async function start(port = 0, {host = '127.0.0.1', stats = false, maxEvents = DEFAULT_MAX_EVENTS} = {}) {
  const clients = new Map() // ws -> {id, subscriptions: Map<subscriptionId, filters>}
  const counts = {total: 0, byTopic: {}, byClient: {}}
  let nextClient = 1

  const relay = new NostrRelay(new MemoryRepository(maxEvents), {logLevel: LogLevel.ERROR})
  relay.register({
    broadcast: async event => {
      const body = JSON.stringify(event)
      for (const [socket, client] of clients) {
        if (socket.readyState !== socket.OPEN) continue
        for (const [subscriptionId, filters] of client.subscriptions) {
          if (filters.some(filter => matchesFilter(event, filter)))
            socket.send(`["EVENT",${JSON.stringify(subscriptionId)},${body}]`)
        }
      }
    },
  })
  const validator = new Validator()

  const count = (client, event) => {
    counts.total++
    counts.byClient[client.id] = (counts.byClient[client.id] ?? 0) + 1
    for (const tag of event?.tags ?? []) {
      if (!Array.isArray(tag) || (tag[0] !== 'x' && tag[0] !== 't') || typeof tag[1] !== 'string') continue
      counts.byTopic[tag[1]] = (counts.byTopic[tag[1]] ?? 0) + 1
    }
  }

  const server = createServer((request, response) => {
    const path = new URL(request.url, 'http://relay').pathname
    if (stats && request.method === 'GET' && path === '/stats') {
      response.writeHead(200, {'content-type': 'application/json', 'access-control-allow-origin': '*'})
      return response.end(JSON.stringify(counts))
    }
    if (request.method === 'GET' && path === '/' && /application\/nostr\+json/.test(request.headers.accept ?? '')) {
      response.writeHead(200, {'content-type': 'application/nostr+json', 'access-control-allow-origin': '*'})
      return response.end(JSON.stringify(INFO))
    }
    response.writeHead(426, {'content-type': 'text/plain'})
    response.end('This is a Nostr relay: connect with a websocket.\n')
  })
  const wss = new WebSocketServer({server, maxPayload: MAX_PAYLOAD})

  wss.on('connection', (socket, request) => {
    const client = {id: `c${nextClient++}`, subscriptions: new Map()}
    clients.set(socket, client)
    relay.handleConnection(socket, request.socket.remoteAddress)
    socket.on('message', async data => {
      let message
      try {
        message = await validator.validateIncomingMessage(data)
      } catch (error) {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(['NOTICE', `invalid: ${error.message}`]))
        return
      }
      const [type, id, ...filters] = message
      if (type === 'EVENT') count(client, id)
      // Track subscriptions for our fan-out, as the core does for its own (same limit, oldest evicted).
      if (type === 'REQ') {
        client.subscriptions.delete(id)
        client.subscriptions.set(id, filters)
        if (client.subscriptions.size > MAX_SUBSCRIPTIONS)
          client.subscriptions.delete(client.subscriptions.keys().next().value)
      } else if (type === 'CLOSE') client.subscriptions.delete(id)
      try {
        await relay.handleMessage(socket, message)
      } catch (error) {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(['NOTICE', `error: ${error.message}`]))
      }
    })
    socket.on('error', () => socket.terminate())
    socket.on('close', () => {
      clients.delete(socket)
      relay.handleDisconnect(socket)
    })
  })

  const actualPort = await listen(server, port, host)
  const stop = stopper({server, wss, after: () => relay.destroy()})
  return {
    url: `ws://${host.includes(':') ? `[${host}]` : host}:${actualPort}`,
    port: actualPort,
    stop,
    stats: () => counts,
  }
}
