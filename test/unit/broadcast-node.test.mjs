// Sender and Receiver in Node, written as the `p2p` README uses them: a seed-style in-memory
// driver (namespace arrays joined with ':'), node-datachannel's RTCPeerConnection, data only.
import {afterEach, test} from 'node:test'
import assert from 'node:assert/strict'
import {RTCPeerConnection} from 'node-datachannel/polyfill'
import {Receiver, Sender} from '../../dist/lib/core/broadcast/index.js'

class MemoryDriver extends Map {
  on(namespace, handler) {
    const key = namespace.join(':')
    if (!this.has(key)) this.set(key, new Set())
    this.get(key).add(handler)
  }
  off(namespace, handler) {
    this.get(namespace.join(':'))?.delete(handler)
  }
  emit(namespace, message) {
    for (const handler of this.get(namespace.join(':')) ?? [])
      try {
        handler(message)
      } catch {}
  }
}

const options = {rtcPolyfill: RTCPeerConnection, iceServers: [], connectionTimeout: 10}

const until = async (check, what, ms = 15_000) => {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

/** Everything a test started, stopped after it whatever happened (a failed test leaves no connection open). */
const started = []
afterEach(() => {
  for (const node of started.splice(0)) node.stop()
})

const senderOf = (driver, extra) => {
  const sender = new Sender({driver, ...options, ...extra})
  started.push(sender)
  return sender
}

const receiverOf = (driver, room, credentials) => {
  const receiver = new Receiver({driver, ...options})
  started.push(receiver)
  const seen = {message: [], sync: [], connect: [], error: [], channel: []}
  for (const name of Object.keys(seen)) receiver.addEventListener(name, event => seen[name].push(event.detail))
  receiver.start({room, credentials})
  return {receiver, seen}
}

test('a data broadcast: state at offer, verify, send to one and to all, sync', async () => {
  const driver = new MemoryDriver()
  const sender = senderOf(driver, {verify: (_id, credentials) => credentials !== 'no'})
  sender.start({room: 'node', state: {topic: 'news'}})
  const viewers = [1, 2, 3].map(() => receiverOf(driver, 'node', 'yes'))
  const refused = receiverOf(driver, 'node', 'no')
  await until(() => viewers.every(v => v.seen.channel.length === 1), 'three data channels')
  await until(() => refused.seen.error.length === 1, 'the refusal')
  assert.equal(refused.seen.error[0].error.code, 'rejected')
  assert.equal(sender.peers.size, 3)
  for (const v of viewers) assert.deepEqual(v.seen.connect[0].state, {topic: 'news'})
  sender.send({n: 1})
  sender.send(new Uint8Array([1, 2, 3]), viewers[0].receiver.id)
  sender.sync({live: true}, true)
  await until(() => viewers.every(v => v.seen.message.length >= 1 && v.seen.sync.length === 1), 'message and sync')
  await until(() => viewers[0].seen.message.length === 2, 'the binary message')
  assert.deepEqual(new Uint8Array(viewers[0].seen.message[1].message), new Uint8Array([1, 2, 3]))
  for (const v of viewers) assert.deepEqual(v.seen.sync[0].state, {topic: 'news', live: true})
  assert.equal(refused.seen.connect.length, 0)
})

test('fanout 2, five data viewers: the sender serves two, messages reach all through relays', async () => {
  const driver = new MemoryDriver()
  const sender = senderOf(driver, {fanout: 2})
  sender.start({room: 'tree'})
  const viewers = [1, 2, 3, 4, 5].map(() => receiverOf(driver, 'tree'))
  await until(() => viewers.every(v => v.seen.channel.length === 1), 'channels through the tree')
  assert.equal(sender.peers.size, 2)
  assert.equal(sender.viewers.length, 5)
  sender.send('to all')
  const deep = viewers.find(v => sender.tree.get(v.receiver.id) !== '')
  sender.send('to one', deep.receiver.id)
  await until(() => viewers.every(v => v.seen.message.length >= 1), 'the message everywhere')
  await until(() => deep.seen.message.length === 2, 'the routed message')
  for (const v of viewers)
    assert.deepEqual(
      v.seen.message.map(m => m.message),
      v === deep ? ['to all', 'to one'] : ['to all'],
    )
})
