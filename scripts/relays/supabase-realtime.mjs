// A stand-in for the hosted Supabase Realtime service, for tests and local development.
//
// The real server (Elixir/Phoenix) cannot run here, so this speaks its websocket protocol
// as the official client (`@supabase/supabase-js` / `@supabase/realtime-js`) uses it:
//
//   ws://HOST:PORT/realtime/v1/websocket?apikey=KEY&vsn=1.0.0|2.0.0
//   topic "phoenix": heartbeat                       -> phx_reply ok
//   topic "realtime:NAME": phx_join {config}         -> phx_reply ok {postgres_changes: []}
//                          phx_leave                 -> phx_reply ok, then phx_close
//                          access_token              -> accepted, no reply (as the real server)
//                          broadcast {type, event, payload}
//                                                    -> fanned out to every socket joined to the
//                                                       topic, the sender too only if its join
//                                                       said broadcast.self; phx_reply ok if
//                                                       broadcast.ack
//                          presence track/untrack    -> presence_state to a joiner, presence_diff
//                                                       to all when a socket tracks, untracks,
//                                                       leaves or disconnects
//
// Protocol 1.0.0 frames are JSON objects {topic, event, payload, ref, join_ref}; 2.0.0 frames
// are JSON arrays [join_ref, ref, topic, event, payload], and user broadcasts travel as
// binary frames (kind 3 from a client, kind 4 to a client) with a small header.
// Postgres changes and Realtime authorization (private channels) are not implemented.
import {createServer} from 'node:http'
import {randomUUID} from 'node:crypto'
import {WebSocketServer} from 'ws'
import {listen, stopper} from './listen.mjs'

const websocketPath = '/realtime/v1/websocket'
const kinds = {userBroadcastPush: 3, userBroadcast: 4}
const payloadEncoding = {binary: 0, json: 1}

const decoder = new TextDecoder()
const encoder = new TextEncoder()

/** A client's binary user-broadcast push (kind 3) as the broadcast message it stands for. */
const decodeBroadcastPush = buffer => {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  if (view.getUint8(0) !== kinds.userBroadcastPush) return undefined
  const sizes = [1, 2, 3, 4, 5].map(i => view.getUint8(i))
  const encoding = view.getUint8(6)
  let offset = 7
  const [joinRef, ref, topic, event, metadata] = sizes.map(size => {
    const text = decoder.decode(buffer.subarray(offset, offset + size))
    offset += size
    return text
  })
  const body = buffer.subarray(offset)
  const userPayload = encoding === payloadEncoding.json ? JSON.parse(decoder.decode(body)) : body
  return {
    join_ref: joinRef || null,
    ref: ref || null,
    topic,
    event: 'broadcast',
    payload: {type: 'broadcast', event, payload: userPayload, ...(metadata ? JSON.parse(metadata) : {})},
  }
}

/** A user broadcast to a 2.0.0 client: kind 4, then topic, event, metadata and payload. */
const encodeBroadcast = (topic, message) => {
  const {event = '', payload, type, ...rest} = message
  const binary = payload instanceof Uint8Array
  const body = binary ? payload : encoder.encode(JSON.stringify(payload ?? {}))
  const meta = Object.keys(rest).length ? JSON.stringify(rest) : ''
  const parts = [topic, event, meta].map(text => encoder.encode(text))
  const header = Uint8Array.of(
    kinds.userBroadcast,
    parts[0].length,
    parts[1].length,
    parts[2].length,
    binary ? payloadEncoding.binary : payloadEncoding.json,
  )
  return Buffer.concat([header, ...parts, body])
}

/**
 * Starts the server on 127.0.0.1. `apiKey`, if given, is the only key accepted (the
 * hosted service checks the project's anon or service key); otherwise any non-empty key is.
 */
export async function startSupabaseRealtime({port = 0, host = '127.0.0.1', apiKey} = {}) {
  /** topic -> Map<socket, {joinRef, self, ack, presenceKey}> */
  const topics = new Map()
  /** topic -> Map<presenceKey, Map<socket, meta>> */
  const presences = new Map()

  const http = createServer((_request, response) => {
    response.writeHead(404, {'content-type': 'application/json'})
    response.end(JSON.stringify({message: `only the Realtime websocket is served here: ${websocketPath}`}))
  })
  const wss = new WebSocketServer({noServer: true})

  http.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url, 'http://localhost')
    const key = url.searchParams.get('apikey')
    const vsn = url.searchParams.get('vsn') ?? '1.0.0'
    const refuse = (status, text) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n\r\n`)
    }
    if (url.pathname !== websocketPath) return refuse(404, 'Not Found')
    if (!key || (apiKey && key !== apiKey)) return refuse(403, 'Forbidden')
    if (vsn !== '1.0.0' && vsn !== '2.0.0') return refuse(400, 'Bad Request')
    wss.handleUpgrade(request, socket, head, ws => {
      ws.vsn = vsn
      wss.emit('connection', ws)
    })
  })

  const send = (ws, {topic, event, payload, ref = null, join_ref = null}) => {
    if (ws.readyState !== ws.OPEN) return
    if (ws.vsn === '2.0.0') {
      if (event === 'broadcast' && payload?.type === 'broadcast' && typeof payload.event === 'string')
        return ws.send(encodeBroadcast(topic, payload))
      return ws.send(JSON.stringify([join_ref, ref, topic, event, payload]))
    }
    ws.send(JSON.stringify({topic, event, payload, ref, join_ref}))
  }

  const reply = (ws, message, status = 'ok', response = {}) =>
    send(ws, {
      topic: message.topic,
      event: 'phx_reply',
      payload: {status, response},
      ref: message.ref,
      join_ref: message.join_ref,
    })

  const presenceState = topic => {
    const state = {}
    for (const [key, sockets] of presences.get(topic) ?? []) state[key] = {metas: [...sockets.values()]}
    return state
  }

  const presenceDiff = (topic, joins, leaves) => {
    for (const [ws, member] of topics.get(topic) ?? [])
      send(ws, {topic, event: 'presence_diff', payload: {joins, leaves}, join_ref: member.joinRef})
  }

  const untrack = (ws, topic) => {
    const member = topics.get(topic)?.get(ws)
    const byKey = presences.get(topic)
    const meta = member && byKey?.get(member.presenceKey)?.get(ws)
    if (!meta) return
    byKey.get(member.presenceKey).delete(ws)
    if (!byKey.get(member.presenceKey).size) byKey.delete(member.presenceKey)
    presenceDiff(topic, {}, {[member.presenceKey]: {metas: [meta]}})
  }

  const track = (ws, topic, payload) => {
    const member = topics.get(topic)?.get(ws)
    if (!member) return
    untrack(ws, topic)
    const meta = {...payload, phx_ref: randomUUID().slice(0, 12)}
    if (!presences.has(topic)) presences.set(topic, new Map())
    const byKey = presences.get(topic)
    if (!byKey.has(member.presenceKey)) byKey.set(member.presenceKey, new Map())
    byKey.get(member.presenceKey).set(ws, meta)
    presenceDiff(topic, {[member.presenceKey]: {metas: [meta]}}, {})
  }

  const leave = (ws, topic) => {
    untrack(ws, topic)
    const members = topics.get(topic)
    members?.delete(ws)
    if (members && !members.size) topics.delete(topic)
  }

  const broadcast = (ws, message) => {
    const members = topics.get(message.topic)
    const sender = members?.get(ws)
    if (!sender) return reply(ws, message, 'error', {reason: 'join the channel before broadcasting on it'})
    for (const [other, member] of members)
      if (other !== ws || sender.self)
        send(other, {topic: message.topic, event: 'broadcast', payload: message.payload, join_ref: member.joinRef})
    if (sender.ack) reply(ws, message)
  }

  const handle = (ws, message) => {
    const {topic, event, payload} = message
    if (topic === 'phoenix') {
      if (event === 'heartbeat') reply(ws, message)
      return
    }
    switch (event) {
      case 'phx_join': {
        if (!topic?.startsWith('realtime:'))
          return reply(ws, message, 'error', {reason: 'topic must start with realtime:'})
        leave(ws, topic)
        const config = payload?.config ?? {}
        if (!topics.has(topic)) topics.set(topic, new Map())
        topics.get(topic).set(ws, {
          joinRef: message.join_ref ?? message.ref,
          self: !!config.broadcast?.self,
          ack: !!config.broadcast?.ack,
          presenceKey: config.presence?.key || randomUUID(),
        })
        reply(ws, message, 'ok', {postgres_changes: []})
        if (config.presence?.enabled)
          send(ws, {
            topic,
            event: 'presence_state',
            payload: presenceState(topic),
            join_ref: message.join_ref ?? message.ref,
          })
        return
      }
      case 'phx_leave':
        leave(ws, topic)
        reply(ws, message)
        send(ws, {topic, event: 'phx_close', payload: {}, join_ref: message.join_ref})
        return
      case 'access_token':
        return
      case 'broadcast':
        return broadcast(ws, message)
      case 'presence':
        if (payload?.event === 'track') track(ws, topic, payload.payload ?? {})
        else if (payload?.event === 'untrack') untrack(ws, topic)
        return reply(ws, message)
      default:
        return reply(ws, message, 'error', {reason: `unknown event ${event}`})
    }
  }

  wss.on('connection', ws => {
    ws.on('message', (data, isBinary) => {
      let message
      try {
        if (isBinary) message = decodeBroadcastPush(new Uint8Array(data))
        else {
          const parsed = JSON.parse(String(data))
          message = Array.isArray(parsed)
            ? {join_ref: parsed[0], ref: parsed[1], topic: parsed[2], event: parsed[3], payload: parsed[4]}
            : parsed
        }
      } catch {
        return
      }
      if (message && typeof message === 'object') handle(ws, message)
    })
    ws.on('close', () => {
      for (const [topic, members] of [...topics]) if (members.has(ws)) leave(ws, topic)
    })
  })

  const actualPort = await listen(http, port, host)
  return {url: `http://${host}:${actualPort}`, port: actualPort, stop: stopper({server: http, wss})}
}
