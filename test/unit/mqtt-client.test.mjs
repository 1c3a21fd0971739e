// The mqtt strategy's own MQTT 3.1.1 client (src/strategies/mqtt-client.ts): against the
// real aedes broker (test/servers/mqtt.mjs) it connects, subscribes, publishes and hears
// others; against a hostile broker (a bare WebSocket server sending what it likes) it reads
// packets split across frames, drops retained messages, and closes, without throwing, on a
// malformed length, a packet past the limit, a text frame, or a packet a client never gets.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import WebSocket, {WebSocketServer} from 'ws'
import {connectMqtt, lengthBytes, maxPacketBytes} from '../../dist/lib/strategies/mqtt-client.js'
import {start} from '../servers/mqtt.mjs'

const open = (url, id, extra = {}) => {
  const options = {clientId: id, keepaliveSeconds: 30, WebSocket, ...extra.options}
  const heard = []
  let closed
  const client = new Promise((resolve, reject) => {
    const connection = connectMqtt(url, options, {
      connect: () => resolve(connection),
      message: (topic, payload) => heard.push([topic, new TextDecoder().decode(payload)]),
      refused: () => {},
      close: reason => ((closed = reason), reject(new Error(reason)), extra.closed?.(reason)),
    })
  })
  return {client, heard, closed: () => closed}
}
const until = async (check, ms = 3000) => {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

test('against aedes: subscribe, publish, hear the other client, unsubscribe', async () => {
  const broker = await start()
  try {
    const a = open(broker.url, 'unit_a')
    const b = open(broker.url, 'unit_b')
    const [ca, cb] = await Promise.all([a.client, b.client])
    assert.equal(ca.connected, true)
    ca.subscribe(['room/1', 'room/2'])
    await new Promise(resolve => setTimeout(resolve, 100))
    cb.publish('room/1', 'hello')
    cb.publish('room/2', 'x'.repeat(20_000)) // a remaining length of three bytes
    await until(() => a.heard.length === 2)
    assert.deepEqual(a.heard[0], ['room/1', 'hello'])
    assert.equal(a.heard[1][1].length, 20_000)
    ca.unsubscribe(['room/1'])
    await new Promise(resolve => setTimeout(resolve, 100))
    cb.publish('room/1', 'gone')
    cb.publish('room/2', 'still')
    await until(() => a.heard.length === 3)
    assert.deepEqual(a.heard[2], ['room/2', 'still'])
    ca.end()
    cb.end()
    assert.equal(ca.connected, false)
  } finally {
    await broker.stop()
  }
})

/** A broker that answers CONNECT with whatever frames `script` sends. */
const hostile = async script => {
  const wss = new WebSocketServer({port: 0, host: '127.0.0.1'})
  await new Promise(resolve => wss.on('listening', resolve))
  wss.on('connection', socket => socket.once('message', () => script(socket)))
  return {url: `ws://127.0.0.1:${wss.address().port}`, close: () => new Promise(resolve => wss.close(resolve))}
}
const connack = [0x20, 2, 0, 0]
const publish = (topic, payload, first = 0x30) => {
  const t = Buffer.from(topic)
  const p = Buffer.from(payload)
  const body = Buffer.concat([Buffer.from([t.length >> 8, t.length & 255]), t, p])
  return Buffer.concat([Buffer.from([first, ...lengthBytes(body.length)]), body])
}

test('packets split byte by byte across frames are read; retained ones are dropped', async () => {
  const server = await hostile(socket => {
    const bytes = Buffer.concat([Buffer.from(connack), publish('t', 'old', 0x31), publish('t', 'live')])
    for (const byte of bytes) socket.send(Buffer.from([byte]))
    socket.send(Buffer.concat([publish('t', 'two'), publish('t', 'three')])) // two in one frame
  })
  try {
    const c = open(server.url, 'split')
    await c.client
    await until(() => c.heard.length === 3)
    assert.deepEqual(c.heard, [
      ['t', 'live'],
      ['t', 'two'],
      ['t', 'three'],
    ])
    ;(await c.client).end()
  } finally {
    await server.close()
  }
})

test('one frame may carry whole packets that together pass the packet limit (a busy broker batches)', async () => {
  const big = n => String(n).repeat(100_000)
  const server = await hostile(socket => {
    socket.send(Buffer.from(connack))
    socket.send(Buffer.concat([publish('t', big(1)), publish('t', big(2)), publish('t', big(3))]))
  })
  try {
    const c = open(server.url, 'batched')
    await c.client
    await until(() => c.heard.length === 3)
    assert.deepEqual(
      c.heard.map(([, payload]) => payload.length),
      [100_000, 100_000, 100_000],
    )
    ;(await c.client).end()
  } finally {
    await server.close()
  }
})

test('a PUBLISH over maxPublishBytes is skipped unread, whole or split across frames; the next is heard', async () => {
  const big = publish('t', 'x'.repeat(5_000))
  const server = await hostile(socket => {
    socket.send(Buffer.concat([Buffer.from(connack), big, publish('t', 'one')]))
    // An oversized packet split at every point that matters: in its length, its topic, its payload.
    socket.send(Buffer.concat([big.subarray(0, 2)]))
    socket.send(Buffer.concat([big.subarray(2, 4)]))
    socket.send(Buffer.concat([big.subarray(4, 3_000)]))
    socket.send(Buffer.concat([big.subarray(3_000), publish('t', 'two')]))
  })
  try {
    const c = open(server.url, 'skipping', {options: {maxPublishBytes: 1_000}})
    await c.client
    await until(() => c.heard.length === 2)
    assert.deepEqual(c.heard, [
      ['t', 'one'],
      ['t', 'two'],
    ])
    assert.equal((await c.client).connected, true, 'the connection stays')
    ;(await c.client).end()
  } finally {
    await server.close()
  }
})

for (const [name, frames, reason] of [
  ['a refused CONNACK', [[0x20, 2, 0, 5]], /refused/],
  ['a malformed length', [connack, [0x30, 255, 255, 255, 255, 1]], /malformed length/],
  ['a packet past the limit', [connack, [0x90, ...lengthBytes(maxPacketBytes + 1)]], /too large/],
  ['a topic longer than its packet', [connack, [0x30, 3, 0, 200, 65]], /malformed PUBLISH/],
  ['a packet a client never gets', [connack, [0x10, 0]], /type 1/],
  ['a second CONNACK', [connack, connack], /stray/],
  ['a text frame', [connack, 'text'], /text frame/],
]) {
  test(`the client closes on ${name}, without throwing`, async () => {
    const server = await hostile(socket => {
      for (const frame of frames) socket.send(typeof frame === 'string' ? frame : Buffer.from(frame))
    })
    const closed = new Promise(resolve => open(server.url, 'hostile', {closed: resolve}).client.catch(() => {}))
    try {
      assert.match(await closed, reason)
    } finally {
      await server.close()
    }
  })
}
