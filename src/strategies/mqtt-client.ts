/**
 * A small MQTT 3.1.1 client over WebSocket: what the `mqtt` strategy needs and no more.
 * Connect with a clean session, subscribe and unsubscribe at QoS 0, publish at QoS 0
 * (never retained), keepalive pings, disconnect. It replaces mqtt.js, whose browser build
 * carries a Buffer polyfill, a stream library and a timer-based `nextTick` (each packet
 * waited for timers: tens of ms per relay hop on a join), for ~88 KiB brotli less.
 *
 * The broker is untrusted like any relay: every packet it sends is read with bounds (its
 * length field, the topic's length, at most `maxPacketBytes`), a PUBLISH larger than the
 * caller's messages can be is skipped unread, a malformed packet closes the connection (the relay manager reconnects with backoff), and retained messages (old ones
 * the broker kept) are not delivered. MQTT-over-WebSocket may split or join packets across
 * WebSocket messages; the reader keeps the bytes between them.
 */
import type {WebSocketConstructor} from './shared/relay-manager.js'

/** Largest packet we read from a broker: signaling messages are a few KiB. */
export const maxPacketBytes = 256 * 1024

enum Type {
  Connect = 1,
  Connack = 2,
  Publish = 3,
  Puback = 4,
  Subscribe = 8,
  Suback = 9,
  Unsubscribe = 10,
  Unsuback = 11,
  Pingreq = 12,
  Pingresp = 13,
  Disconnect = 14,
}

const empty = new Uint8Array(0)
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** MQTT's variable-length "remaining length", 1 to 4 bytes. */
export const lengthBytes = (length: number): number[] => {
  const bytes: number[] = []
  do {
    let byte = length % 128
    length = Math.floor(length / 128)
    if (length > 0) byte |= 128
    bytes.push(byte)
  } while (length > 0)
  return bytes
}

/** One packet: the first byte, the remaining length, then the parts in order. */
const packet = (first: number, ...parts: Uint8Array[]): Uint8Array => {
  const length = parts.reduce((sum, part) => sum + part.length, 0)
  const header = [first, ...lengthBytes(length)]
  const bytes = new Uint8Array(header.length + length)
  bytes.set(header, 0)
  let at = header.length
  for (const part of parts) bytes.set(part, at), (at += part.length)
  return bytes
}
const u16 = (value: number) => Uint8Array.of(value >> 8, value & 255)
/** A length-prefixed UTF-8 string. */
const text = (value: string) => {
  const bytes = encoder.encode(value)
  const out = new Uint8Array(2 + bytes.length)
  out.set(u16(bytes.length), 0)
  out.set(bytes, 2)
  return out
}

export type MqttEvents = {
  /** CONNACK accepted: subscribe and publish from now on. */
  connect: () => void
  /** A live (not retained) message. */
  message: (topic: string, payload: Uint8Array) => void
  /** A SUBSCRIBE the broker refused (a failure return code in its SUBACK). */
  refused: (topics: string[]) => void
  /** The connection failed or ended, once. */
  close: (reason: string) => void
}

export type MqttOptions = {
  clientId: string
  keepaliveSeconds: number
  WebSocket: WebSocketConstructor
  /** A PUBLISH larger than this (topic and payload) is skipped unread; the connection stays. Default and at most `maxPacketBytes`. */
  maxPublishBytes?: number
}

export type MqttConnection = {
  /** CONNACK received and the socket still open. */
  readonly connected: boolean
  subscribe: (topics: string[]) => void
  unsubscribe: (topics: string[]) => void
  publish: (topic: string, message: string) => void
  /** Sends DISCONNECT (when connected) and closes; no event follows. */
  end: () => void
}

/** Opens a connection to the broker at `url` (ws: or wss:). Throws on a URL WebSocket refuses. */
export const connectMqtt = (url: string, options: MqttOptions, events: MqttEvents): MqttConnection => {
  const socket = new options.WebSocket(url, ['mqtt'])
  socket.binaryType = 'arraybuffer'
  let connected = false
  let ended = false
  let nextId = 1
  /** SUBSCRIBE packet ids waiting for their SUBACK, with their topics. */
  const pending = new Map<number, string[]>()
  let buffered = empty
  /** Bytes of a too-large PUBLISH still to drop. */
  let skipping = 0
  const maxPublishBytes = Math.min(options.maxPublishBytes ?? maxPacketBytes, maxPacketBytes)
  let heardAt = Date.now()
  let pinger: ReturnType<typeof setInterval> | undefined

  const send = (bytes: Uint8Array) => {
    if (socket.readyState === 1) socket.send(bytes)
  }
  const stop = () => {
    ended = true
    connected = false
    clearInterval(pinger)
    socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null
    try {
      socket.close()
    } catch {
      // closing a socket that never connected can throw in some implementations
    }
  }
  const fail = (reason: string) => {
    if (ended) return
    stop()
    events.close(reason)
  }
  const id = () => {
    const value = nextId
    nextId = nextId >= 65_535 ? 1 : nextId + 1
    return value
  }

  socket.onopen = () => {
    // CONNECT: protocol "MQTT" level 4 (3.1.1), clean session, keepalive, client id.
    const header = Uint8Array.of(0, 4, 77, 81, 84, 84, 4, 0b10, ...u16(options.keepaliveSeconds))
    send(packet(Type.Connect << 4, header, text(options.clientId)))
  }
  socket.onerror = () => fail('connection error')
  socket.onclose = event => fail(`closed (code ${event.code}${event.reason ? `: ${event.reason}` : ''})`)
  socket.onmessage = event => {
    if (!(event.data instanceof ArrayBuffer)) return fail('the broker sent a text frame')
    heardAt = Date.now()
    let incoming = new Uint8Array(event.data)
    if (skipping) {
      const dropped = Math.min(skipping, incoming.length)
      skipping -= dropped
      incoming = incoming.subarray(dropped)
    }
    let joined = incoming
    if (buffered.length) {
      joined = new Uint8Array(buffered.length + incoming.length)
      joined.set(buffered, 0)
      joined.set(incoming, buffered.length)
    }
    let at = 0
    while (!ended) {
      // Fixed header: type and flags, then 1-4 bytes of remaining length.
      if (joined.length - at < 2) break
      let length = 0
      let size = 0
      let complete = false
      for (let shift = 0; size < 4; shift += 7) {
        if (at + 1 + size >= joined.length) break
        const byte = joined[at + 1 + size]!
        size++
        length += (byte & 127) * 2 ** shift
        if (!(byte & 128)) {
          complete = true
          break
        }
      }
      if (!complete) {
        if (size >= 4) return fail('the broker sent a malformed length')
        break // the rest of the length is in a later message
      }
      const start = at + 1 + size
      if (joined[at]! >> 4 === Type.Publish && length > maxPublishBytes) {
        // Too large for anything we send: dropped as it arrives, never buffered or decoded, so
        // a flood of them costs a copy of nothing and the messages behind it come through.
        const here = Math.min(length, joined.length - start)
        skipping = length - here
        at = start + here
        continue
      }
      if (length > maxPacketBytes) return fail('the broker sent a packet too large')
      if (joined.length - start < length) break
      read(joined[at]!, joined.subarray(start, start + length))
      at = start + length
    }
    // What is kept is at most one packet's unread rest, which the checks above bound.
    buffered = at >= joined.length ? empty : joined.slice(at)
  }

  const read = (first: number, body: Uint8Array) => {
    const type = first >> 4
    switch (type) {
      case Type.Connack: {
        if (connected || body.length < 2) return fail('the broker sent a stray or short CONNACK')
        if (body[1] !== 0) return fail(`the broker refused the connection (CONNACK code ${body[1]})`)
        connected = true
        // A ping when nothing was heard for the keepalive; a broker silent for 1.5 of them is gone.
        const everyMs = options.keepaliveSeconds * 1000
        pinger = setInterval(() => {
          if (Date.now() - heardAt > everyMs * 1.5) fail('the broker stopped answering pings')
          else send(Uint8Array.of(Type.Pingreq << 4, 0))
        }, everyMs)
        events.connect()
        return
      }
      case Type.Publish: {
        if (!connected || body.length < 2) return fail('the broker sent a stray or short PUBLISH')
        const qos = (first >> 1) & 3
        const retained = (first & 1) === 1
        const topicLength = (body[0]! << 8) | body[1]!
        let at = 2 + topicLength
        if (qos === 3 || body.length < at + (qos ? 2 : 0)) return fail('the broker sent a malformed PUBLISH')
        const topic = decoder.decode(body.subarray(2, at))
        if (qos) {
          const packetId = body.subarray(at, at + 2)
          at += 2
          // We ask for QoS 0; a broker that sends QoS 1 anyway gets its PUBACK. QoS 2 is dropped unread.
          if (qos === 2) return
          send(packet(Type.Puback << 4, packetId))
        }
        if (!retained) events.message(topic, body.slice(at))
        return
      }
      case Type.Suback: {
        if (body.length < 3) return fail('the broker sent a short SUBACK')
        const topics = pending.get((body[0]! << 8) | body[1]!)
        if (!topics) return
        pending.delete((body[0]! << 8) | body[1]!)
        const refused = topics.filter((_, index) => body[2 + index] === 0x80)
        if (refused.length) events.refused(refused)
        return
      }
      case Type.Unsuback:
      case Type.Pingresp:
      case Type.Puback:
        return
      default:
        return fail(`the broker sent a packet of type ${type}, which a client never gets`)
    }
  }

  return {
    get connected() {
      return connected && socket.readyState === 1
    },
    subscribe: topics => {
      if (!connected || !topics.length) return
      const packetId = id()
      pending.set(packetId, topics)
      if (pending.size > 256) pending.delete(pending.keys().next().value!)
      send(
        packet(
          (Type.Subscribe << 4) | 0b10,
          u16(packetId),
          ...topics.flatMap(topic => [text(topic), Uint8Array.of(0)]),
        ),
      )
    },
    unsubscribe: topics => {
      if (!connected || !topics.length) return
      send(packet((Type.Unsubscribe << 4) | 0b10, u16(id()), ...topics.map(text)))
    },
    publish: (topic, message) => {
      if (!connected) return
      send(packet(Type.Publish << 4, text(topic), encoder.encode(message)))
    },
    end: () => {
      if (ended) return
      if (connected) send(Uint8Array.of(Type.Disconnect << 4, 0))
      stop()
    },
  }
}
