// A network path the tests can cut: a small TURN server (RFC 5766, UDP only) on 127.0.0.1.
// Peers configured with it and `iceTransportPolicy: 'relay'` talk only through it, so
// stopping it (stopServer('hostile-turn')) breaks their path as a network change does, and
// starting it again (same port, every allocation forgotten) lets an ICE restart find a new
// one. Nothing to install: coturn would do the same, this is enough for loopback tests.
//
// Long-term credentials (user `u`, password `p`, realm `test`). It speaks Binding,
// Allocate, Refresh, CreatePermission, ChannelBind, Send/Data indications and ChannelData.
// It checks nobody's permissions: it only ever serves this machine.
//
//   url: turn:127.0.0.1:PORT?transport=udp
import {createSocket} from 'node:dgram'
import {createHash, createHmac} from 'node:crypto'

export const username = 'u'
export const credential = 'p'
const realm = 'test'
const nonce = 'p2p-elements-test-nonce'
const cookie = 0x2112a442
const lifetimeSeconds = 600

const method = {
  binding: 0x001,
  allocate: 0x003,
  refresh: 0x004,
  send: 0x006,
  data: 0x007,
  permission: 0x008,
  channel: 0x009,
}
const klass = {request: 0x000, indication: 0x010, success: 0x100, error: 0x110}
const attr = {
  username: 0x0006,
  integrity: 0x0008,
  errorCode: 0x0009,
  channel: 0x000c,
  lifetime: 0x000d,
  peer: 0x0012,
  data: 0x0013,
  realm: 0x0014,
  nonce: 0x0015,
  relayed: 0x0016,
  transport: 0x0019,
  mapped: 0x0020,
}

const key = createHash('md5').update(`${username}:${realm}:${credential}`).digest()

const parse = buffer => {
  if (buffer.length < 20 || buffer.readUInt32BE(4) !== cookie) return undefined
  const type = buffer.readUInt16BE(0)
  const attributes = new Map()
  for (let at = 20; at + 4 <= buffer.length; ) {
    const kind = buffer.readUInt16BE(at)
    const length = buffer.readUInt16BE(at + 2)
    if (!attributes.has(kind)) attributes.set(kind, buffer.subarray(at + 4, at + 4 + length))
    at += 4 + Math.ceil(length / 4) * 4
  }
  return {method: type & 0x3eef, klass: type & 0x0110, id: buffer.subarray(8, 20), attributes}
}

const xorAddress = (address, port) => {
  const value = Buffer.alloc(8)
  value[1] = 0x01 // IPv4
  value.writeUInt16BE(port ^ (cookie >>> 16), 2)
  const ip = address.split('.').reduce((sum, part) => sum * 256 + Number(part), 0)
  value.writeUInt32BE((ip ^ cookie) >>> 0, 4)
  return value
}
const readXorAddress = value => {
  const port = value.readUInt16BE(2) ^ (cookie >>> 16)
  const ip = (value.readUInt32BE(4) ^ cookie) >>> 0
  return {address: [24, 16, 8, 0].map(shift => (ip >>> shift) & 255).join('.'), port}
}

/** A STUN message; with `sign`, MESSAGE-INTEGRITY over it with the long-term key. */
const encode = (type, id, attributes, sign) => {
  const parts = []
  for (const [kind, value] of attributes) {
    const head = Buffer.alloc(4)
    head.writeUInt16BE(kind, 0)
    head.writeUInt16BE(value.length, 2)
    parts.push(head, value, Buffer.alloc((4 - (value.length % 4)) % 4))
  }
  let body = Buffer.concat(parts)
  const header = Buffer.alloc(20)
  header.writeUInt16BE(type, 0)
  header.writeUInt32BE(cookie, 4)
  id.copy(header, 8)
  if (sign) {
    header.writeUInt16BE(body.length + 24, 2)
    const mac = createHmac('sha1', key)
      .update(Buffer.concat([header, body]))
      .digest()
    const head = Buffer.alloc(4)
    head.writeUInt16BE(attr.integrity, 0)
    head.writeUInt16BE(20, 2)
    body = Buffer.concat([body, head, mac])
  }
  header.writeUInt16BE(body.length, 2)
  return Buffer.concat([header, body])
}
const u32 = n => {
  const value = Buffer.alloc(4)
  value.writeUInt32BE(n)
  return value
}

export async function start(port = 0) {
  const socket = createSocket('udp4')
  const allocations = new Map() // "address:port" of a client -> {relay, channels: Map<number, peer>, byPeer: Map<"a:p", number>}

  const release = client => {
    const allocation = allocations.get(client)
    if (!allocation) return
    allocations.delete(client)
    try {
      allocation.relay.close()
    } catch {
      // already closed
    }
  }

  const allocate = async (client, rinfo) => {
    const existing = allocations.get(client)
    if (existing) return existing
    const relay = createSocket('udp4')
    const allocation = {relay, channels: new Map(), byPeer: new Map()}
    relay.on('message', (data, peer) => {
      const channel = allocation.byPeer.get(`${peer.address}:${peer.port}`)
      if (channel !== undefined) {
        const head = Buffer.alloc(4)
        head.writeUInt16BE(channel, 0)
        head.writeUInt16BE(data.length, 2)
        socket.send(Buffer.concat([head, data]), rinfo.port, rinfo.address)
      } else {
        const id = Buffer.from(Array.from({length: 12}, () => Math.floor(Math.random() * 256)))
        const indication = encode(method.data | klass.indication, id, [
          [attr.peer, xorAddress(peer.address, peer.port)],
          [attr.data, data],
        ])
        socket.send(indication, rinfo.port, rinfo.address)
      }
    })
    relay.on('error', () => {})
    await new Promise(done => relay.bind(0, '127.0.0.1', done))
    allocations.set(client, allocation)
    return allocation
  }

  socket.on('message', async (buffer, rinfo) => {
    const client = `${rinfo.address}:${rinfo.port}`
    const reply = message => socket.send(message, rinfo.port, rinfo.address)
    // ChannelData: 0x4000-0x7FFF, then length, then data.
    if (buffer.length >= 4 && (buffer[0] & 0xc0) === 0x40) {
      const allocation = allocations.get(client)
      const peer = allocation?.channels.get(buffer.readUInt16BE(0))
      if (peer) allocation.relay.send(buffer.subarray(4, 4 + buffer.readUInt16BE(2)), peer.port, peer.address)
      return
    }
    const message = parse(buffer)
    if (!message) return
    const {attributes, id} = message
    const success = (extra = []) => reply(encode(message.method | klass.success, id, extra, true))
    if (message.method === method.binding && message.klass === klass.request)
      return reply(encode(method.binding | klass.success, id, [[attr.mapped, xorAddress(rinfo.address, rinfo.port)]]))
    if (message.method === method.send && message.klass === klass.indication) {
      const allocation = allocations.get(client)
      const peer = attributes.get(attr.peer)
      const data = attributes.get(attr.data)
      if (allocation && peer && data) {
        const {address, port} = readXorAddress(peer)
        allocation.relay.send(data, port, address)
      }
      return
    }
    if (message.klass !== klass.request) return
    // Every other request needs the long-term credentials: ask for them first.
    if (!attributes.has(attr.integrity) || !attributes.has(attr.username)) {
      const error = Buffer.concat([Buffer.from([0, 0, 4, 1]), Buffer.from('Unauthorized')])
      return reply(
        encode(message.method | klass.error, id, [
          [attr.errorCode, error],
          [attr.realm, Buffer.from(realm)],
          [attr.nonce, Buffer.from(nonce)],
        ]),
      )
    }
    switch (message.method) {
      case method.allocate: {
        const allocation = await allocate(client, rinfo)
        const address = allocation.relay.address()
        return success([
          [attr.relayed, xorAddress(address.address, address.port)],
          [attr.mapped, xorAddress(rinfo.address, rinfo.port)],
          [attr.lifetime, u32(lifetimeSeconds)],
        ])
      }
      case method.refresh: {
        const lifetime = attributes.get(attr.lifetime)
        const seconds = lifetime ? lifetime.readUInt32BE(0) : lifetimeSeconds
        if (seconds === 0) release(client)
        return success([[attr.lifetime, u32(Math.min(seconds, lifetimeSeconds))]])
      }
      case method.permission:
        return success()
      case method.channel: {
        const allocation = allocations.get(client)
        const channel = attributes.get(attr.channel)?.readUInt16BE(0)
        const peer = attributes.get(attr.peer)
        if (allocation && channel !== undefined && peer) {
          const address = readXorAddress(peer)
          allocation.channels.set(channel, address)
          allocation.byPeer.set(`${address.address}:${address.port}`, channel)
        }
        return success()
      }
    }
  })
  socket.on('error', () => {})

  await new Promise((done, fail) => {
    socket.once('error', fail)
    socket.bind(port, '127.0.0.1', () => (socket.off('error', fail), done()))
  })
  const actualPort = socket.address().port
  let stopped
  const stop = () =>
    (stopped ??= (async () => {
      for (const client of [...allocations.keys()]) release(client)
      await new Promise(done => socket.close(() => done()))
    })())
  return {url: `turn:127.0.0.1:${actualPort}?transport=udp`, port: actualPort, stop}
}
