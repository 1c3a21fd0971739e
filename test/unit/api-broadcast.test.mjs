// The `p2p` library's README, as its users write it, through the package's own entry point
// ('p2p-elements/broadcast'): the in-memory driver, default room, Sender 'connect' {id, peer}
// then send('…', id) to that receiver, Receiver 'channel'/'message'/'connect' with the state,
// and 'dispose' on both sides when either stops. Node, node-datachannel, data only.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {RTCPeerConnection} from 'node-datachannel/polyfill'
import {Receiver, Sender} from 'p2p-elements/broadcast'

class MemoryDriver extends Map {
  on(namespace, handler) {
    const k = namespace.join(':')
    if (!this.has(k)) this.set(k, new Set())
    this.get(k).add(handler)
  }
  off(namespace, handler) {
    this.get(namespace.join(':'))?.delete(handler)
  }
  emit(namespace, data) {
    for (const h of this.get(namespace.join(':')) ?? [])
      try {
        h(data)
      } catch {}
  }
}

const node = {rtcPolyfill: RTCPeerConnection, iceServers: []}
const until = async (check, what, ms = 20_000) => {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
const record = (target, names) => {
  const seen = Object.fromEntries(names.map(name => [name, []]))
  for (const name of names) target.addEventListener(name, e => seen[name].push(e.detail))
  return seen
}

test("p2p README: default room, send to the id of 'connect', dispose on both sides", async () => {
  const driver = new MemoryDriver()
  const receivers = [0, 1].map(() => new Receiver({driver, ...node}))
  const got = receivers.map(r => record(r, ['channel', 'message', 'connect', 'dispose', 'error']))
  for (const r of receivers) r.start({}) // no room: 'default'

  const sender = new Sender({driver, ...node})
  const sent = record(sender, ['connect', 'dispose', 'error'])
  sender.addEventListener('connect', e => sender.send('Hello from sender!', e.detail.id))
  sender.start({room: 'default', state: {title: 'demo'}, dataChannel: true})

  await until(() => got.every(g => g.message.length === 1), 'the hello on each receiver')
  assert.deepEqual(sent.connect.map(c => c.id).sort(), receivers.map(r => r.id).sort(), "'connect' names the receiver")
  assert.ok(
    sent.connect.every(c => typeof c.peer.createDataChannel === 'function'),
    'peer is the RTCPeerConnection',
  )
  for (const g of got) {
    assert.equal(g.message[0].id, sender.id, 'a receiver event names the sender')
    assert.equal(g.message[0].message, 'Hello from sender!')
    assert.deepEqual(g.message[0].state, {title: 'demo'})
    assert.equal(g.channel[0].id, sender.id)
    assert.equal(typeof g.channel[0].channel.send, 'function')
    assert.deepEqual(g.connect[0].state, {title: 'demo'})
  }

  // A receiver that stops: the sender's 'dispose' names it.
  receivers[0].stop()
  await until(() => sent.dispose.length === 1, "the sender's dispose")
  assert.equal(sent.dispose[0].id, receivers[0].id)
  // The sender stops: the other receiver's 'dispose' names the sender, with its state.
  sender.stop()
  await until(() => got[1].dispose.length === 1, "the receiver's dispose")
  assert.equal(got[1].dispose[0].id, sender.id)
  assert.deepEqual(got[1].dispose[0].state, {title: 'demo'})
  receivers[1].stop()
  assert.deepEqual([...got.map(g => g.error), sent.error].flat(), [])
})
