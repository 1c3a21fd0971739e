// The outbox (src/core/outbox.ts) over a fake data channel that buffers what is written until
// the test drains it and fires `bufferedamountlow` as a browser does: round robin between
// messages, nothing written over the ceiling, writing resumes on the event, no timers.
import {afterEach, beforeEach, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {createOutbox, highWaterMark, lowWaterMark} from '../../dist/lib/core/outbox.js'

/** The part of RTCDataChannel the outbox uses, with a buffer the test drains by hand. */
class FakeChannel extends EventTarget {
  readyState = 'open'
  bufferedAmount = 0
  bufferedAmountLowThreshold = 0
  written = []
  listeners = 0
  send(data) {
    if (this.readyState !== 'open') throw new Error('InvalidStateError: the channel is not open')
    this.written.push(data)
    this.bufferedAmount += data.byteLength
  }
  /** The network took `bytes`; crossing the threshold fires the event, as in browsers. */
  drain(bytes = this.bufferedAmount) {
    const before = this.bufferedAmount
    this.bufferedAmount = Math.max(0, before - bytes)
    if (before > this.bufferedAmountLowThreshold && this.bufferedAmount <= this.bufferedAmountLowThreshold)
      this.dispatchEvent(new Event('bufferedamountlow'))
  }
  close() {
    this.readyState = 'closed'
    this.dispatchEvent(new Event('close'))
  }
  addEventListener(...args) {
    this.listeners++
    super.addEventListener(...args)
  }
  removeEventListener(...args) {
    this.listeners--
    super.removeEventListener(...args)
  }
}

/** A message of `count` frames of `size` bytes, each tagged with its label and index. */
function* frames(label, count, size = 64 * 1024) {
  for (let i = 0; i < count; i++) {
    const frame = new Uint8Array(size)
    frame[0] = label.charCodeAt(0)
    frame[1] = i
    yield frame
  }
}
const labels = channel => channel.written.map(frame => `${String.fromCharCode(frame[0])}${frame[1]}`)
/** Lets the outbox's awaited promise continue (it resumes in a microtask). */
const settle = () => new Promise(resolve => setImmediate(resolve))

// The outbox must pace itself by the channel's events alone: a timer it starts fails the test.
const timerNames = ['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask']
const originals = Object.fromEntries(timerNames.map(name => [name, globalThis[name]]))
let timersStarted
beforeEach(() => {
  timersStarted = []
  for (const name of timerNames)
    globalThis[name] = (...args) => {
      if (new Error().stack.includes('/core/outbox.js')) timersStarted.push(name)
      return originals[name](...args)
    }
})
afterEach(() => {
  Object.assign(globalThis, originals)
  assert.deepEqual(timersStarted, [], 'the outbox started no timer')
})

describe('outbox pacing', () => {
  test('it sets the low-water threshold on the channel', () => {
    const channel = new FakeChannel()
    createOutbox(channel, () => {})
    assert.equal(channel.bufferedAmountLowThreshold, lowWaterMark)
  })

  test('it writes until the buffer is over the ceiling, then nothing until bufferedamountlow', async () => {
    const channel = new FakeChannel()
    let sent = 0
    const outbox = createOutbox(channel, () => sent++)
    outbox.add(frames('A', 40))
    // The check is "over the ceiling": 16 frames of 64 KiB reach it exactly, the 17th goes over.
    const burst = highWaterMark / (64 * 1024) + 1
    assert.equal(channel.written.length, burst, 'writes synchronously up to just over the ceiling')
    assert.equal(sent, burst, 'onSent is called once per frame')
    await settle()
    assert.equal(channel.written.length, burst, 'nothing more while over the ceiling')

    channel.drain(channel.bufferedAmount - highWaterMark) // down to the ceiling: not low yet, no event
    await settle()
    assert.equal(channel.written.length, burst, 'no write without the event')

    channel.drain() // empty: the event fires
    await settle()
    assert.equal(channel.written.length, 2 * burst, 'one more burst after the event')
    channel.drain()
    await settle()
    channel.drain()
    await settle()
    assert.equal(channel.written.length, 40)
    assert.deepEqual(
      labels(channel),
      Array.from({length: 40}, (_, i) => `A${i}`),
    )
    assert.equal(channel.listeners, 0, 'no listener left behind')
  })

  test('messages take turns, frame by frame, and a finished one drops out', async () => {
    const channel = new FakeChannel()
    const outbox = createOutbox(channel, () => {})
    channel.bufferedAmount = highWaterMark + 1 // busy: everything queues
    outbox.add(frames('A', 3, 10))
    outbox.add(frames('B', 1, 10))
    outbox.add(frames('C', 2, 10))
    assert.equal(channel.written.length, 0)
    channel.drain()
    await settle()
    assert.deepEqual(labels(channel), ['A0', 'B0', 'C0', 'A1', 'C1', 'A2'])
  })

  test('small messages go ahead of the bulk queued, in the order they came', async () => {
    const channel = new FakeChannel()
    const outbox = createOutbox(channel, () => {})
    channel.bufferedAmount = highWaterMark + 1 // busy: everything queues
    outbox.add(frames('A', 3, 10))
    outbox.add(frames('B', 3, 10))
    outbox.add(frames('x', 1, 10), true)
    outbox.add(frames('y', 1, 10), true)
    channel.drain()
    await settle()
    assert.deepEqual(labels(channel), ['x0', 'y0', 'A0', 'B0', 'A1', 'B1', 'A2', 'B2'])
    outbox.remove(frames('z', 1, 10)) // not queued: nothing happens
  })

  test('a message added while another is waiting joins the rotation', async () => {
    const channel = new FakeChannel()
    const outbox = createOutbox(channel, () => {})
    outbox.add(frames('A', 30))
    const first = channel.written.length
    outbox.add(frames('B', 3))
    assert.equal(channel.written.length, first, 'B waits like A does')
    channel.drain()
    await settle()
    assert.deepEqual(labels(channel).slice(first, first + 6), ['A17', 'B0', 'A18', 'B1', 'A19', 'B2'])
  })

  test('remove stops one message; the others carry on', async () => {
    const channel = new FakeChannel()
    const outbox = createOutbox(channel, () => {})
    channel.bufferedAmount = highWaterMark + 1
    const a = frames('A', 5, 10)
    outbox.add(a)
    outbox.add(frames('B', 2, 10))
    outbox.remove(a)
    outbox.remove(frames('Z', 1)) // not queued: nothing happens
    channel.drain()
    await settle()
    assert.deepEqual(labels(channel), ['B0', 'B1'])
  })

  test('clear drops everything queued', async () => {
    const channel = new FakeChannel()
    const outbox = createOutbox(channel, () => {})
    channel.bufferedAmount = highWaterMark + 1
    outbox.add(frames('A', 5, 10))
    outbox.add(frames('B', 5, 10))
    outbox.clear()
    channel.drain()
    await settle()
    assert.deepEqual(channel.written, [])
  })

  test('a channel that closes while the outbox waits ends the wait, writes nothing, leaks no listener', async () => {
    const channel = new FakeChannel()
    const outbox = createOutbox(channel, () => {})
    outbox.add(frames('A', 30))
    const written = channel.written.length
    assert.equal(channel.listeners, 2, 'waiting on bufferedamountlow and close')
    channel.close()
    await settle()
    assert.equal(channel.written.length, written)
    assert.equal(channel.listeners, 0)
    outbox.add(frames('B', 1))
    assert.equal(channel.written.length, written, 'nothing is written on a closed channel')
  })

  test('send() throwing (a closing channel) stops the pump without an unhandled rejection', async () => {
    const channel = new FakeChannel()
    const outbox = createOutbox(channel, () => {})
    const unhandled = []
    const onUnhandled = reason => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    channel.send = () => {
      throw new Error('InvalidStateError')
    }
    outbox.add(frames('A', 3, 10))
    await settle()
    process.off('unhandledRejection', onUnhandled)
    assert.deepEqual(unhandled, [])
    // A later message still gets its turn once the channel works again.
    delete channel.send
    outbox.add(frames('B', 1, 10))
    assert.ok(labels(channel).includes('B0'))
  })

  test('frames are pulled lazily: a queued message costs one frame at a time', () => {
    const channel = new FakeChannel()
    const outbox = createOutbox(channel, () => {})
    let pulled = 0
    function* counted() {
      for (let i = 0; i < 1000; i++) {
        pulled++
        yield new Uint8Array(64 * 1024)
      }
    }
    outbox.add(counted())
    assert.equal(pulled, channel.written.length, 'no frame is made before it can be written')
  })
})
