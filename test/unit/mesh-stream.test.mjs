// The reliable windowed stream relayed members talk over (src/core/mesh/stream.ts), and the
// pure rules of the room's partial mesh (src/core/mesh/choose.ts). No WebRTC: a fake link
// that loses, duplicates and reorders, and a fake clock.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {
  createStreamReceiver,
  createStreamSender,
  decodeCredit,
  decodeCreditEpoch,
  decodeStreamFrame,
} from '../../dist/lib/core/mesh/stream.js'
import {defaultMaxConnections, isBootstrapFor, maxConnectionsOf} from '../../dist/lib/core/mesh/choose.js'

/** A sender and a receiver joined by a link the test steers; frames are numbered payloads. */
const pair = ({window = 8, lose = () => false, creditEvery = 4} = {}) => {
  let clock = 0
  const now = () => clock
  const wire = []
  const back = []
  const got = []
  const failures = []
  const sender = createStreamSender(
    bytes => lose(bytes) || wire.push(bytes),
    {failed: reason => failures.push(reason)},
    {window, now, retransmitMs: 100, failAfterMs: 1000, creditEvery},
  )
  const receiver = createStreamReceiver(
    frame => got.push(frame[0]),
    bytes => back.push(bytes),
    {window, creditEvery, creditDelayMs: 1},
  )
  const deliver = (order = list => list) => {
    for (const bytes of order(wire.splice(0))) {
      const frame = decodeStreamFrame(bytes)
      receiver.receive(frame.seq, frame.base, frame.frame)
    }
  }
  const credit = () => {
    for (const bytes of back.splice(0)) sender.credit(decodeCredit(bytes))
  }
  const advance = ms => {
    clock += ms
    sender.tick()
  }
  return {sender, receiver, wire, back, got, failures, deliver, credit, advance}
}

function* frames(from, to) {
  for (let i = from; i < to; i++) yield Uint8Array.of(i)
}

test('data frames wait for credit: never more than the window in flight', () => {
  const s = pair({window: 8})
  s.sender.outbox.add(frames(0, 40))
  assert.equal(s.wire.length, 8, 'one window goes out')
  s.deliver()
  assert.deepEqual(s.got, [0, 1, 2, 3, 4, 5, 6, 7])
  s.credit()
  assert.equal(s.sender.inFlight, s.wire.length)
  assert.ok(s.sender.inFlight <= 8)
  for (let i = 0; i < 20 && s.got.length < 40; i++) s.deliver(), s.credit()
  assert.deepEqual(
    s.got,
    Array.from({length: 40}, (_, i) => i),
  )
})

test('small frames skip the window but are kept and resent like the rest', async () => {
  const s = pair({window: 2})
  s.sender.outbox.add(frames(0, 10))
  s.sender.send(Uint8Array.of(99))
  assert.equal(s.wire.length, 3, 'the ack-sized frame goes out past a full window')
  s.wire.splice(2, 1) // lost on the way
  s.deliver()
  assert.deepEqual(s.got, [0, 1])
  s.credit()
  s.advance(150) // no progress past the lost frame: resend
  s.deliver()
  s.credit()
  for (let i = 0; i < 50 && s.got.length < 11; i++) {
    s.deliver()
    await new Promise(resolve => setTimeout(resolve, 3)) // the receiver's short credit delay
    s.credit()
  }
  assert.deepEqual(s.got, [0, 1, 99, 2, 3, 4, 5, 6, 7, 8, 9])
})

test('a route that loses, duplicates and reorders still delivers every frame once, in order', () => {
  let n = 0
  const s = pair({window: 8, lose: () => n++ % 5 === 3})
  s.sender.outbox.add(frames(0, 100))
  for (let round = 0; round < 400 && s.got.length < 100; round++) {
    s.deliver(list => [...list.reverse(), ...list.slice(0, 2)])
    s.credit()
    s.advance(120)
  }
  assert.deepEqual(
    s.got,
    Array.from({length: 100}, (_, i) => i),
  )
  assert.equal(s.failures.length, 0)
})

test('no credit for failAfterMs: the stream gives up and says so, and does not wedge later frames', () => {
  const s = pair({window: 4})
  s.sender.outbox.add(frames(0, 10))
  s.wire.splice(0) // the route is gone
  for (let i = 0; i < 12; i++) s.advance(100)
  s.wire.splice(0)
  assert.equal(s.failures.length, 1)
  assert.equal(s.sender.pending, 0, 'nothing kept after giving up')
  // Later frames carry the new base: the receiver skips what was abandoned.
  s.sender.send(Uint8Array.of(42))
  s.deliver()
  assert.deepEqual(s.got, [42])
})

test('the receiver holds a bounded number of early frames', () => {
  const got = []
  const receiver = createStreamReceiver(
    frame => got.push(frame),
    () => {},
    {window: 2},
  )
  for (let seq = 1; seq < 1000; seq++) receiver.receive(seq, 0, Uint8Array.of(1))
  assert.ok(receiver.held <= 8, `held ${receiver.held}`)
  assert.equal(got.length, 0)
})

test('newcomers are taken in by the two members closest to them, whoever decides', () => {
  const keys = Array.from({length: 50}, (_, i) => BigInt(i * 7919 + 13) << 100n)
  for (const newcomer of [5n << 100n, 123456789n << 90n, 1n]) {
    const takers = keys.filter(self =>
      isBootstrapFor(
        self,
        keys.filter(k => k !== self),
        newcomer,
      ),
    )
    assert.equal(takers.length, 2)
  }
})

test('maxConnections: the default caps at 10, Infinity keeps a full mesh, nonsense is refused', () => {
  assert.equal(maxConnectionsOf(undefined), defaultMaxConnections)
  assert.equal(defaultMaxConnections, 10)
  assert.equal(maxConnectionsOf(3), 3)
  assert.equal(maxConnectionsOf(Number.POSITIVE_INFINITY), Number.POSITIVE_INFINITY)
  for (const bad of [0, 1, 2.5, -3, '4', Number.NaN]) assert.throws(() => maxConnectionsOf(bad))
})

test('a sender made again (seq 0, a newer epoch) is followed; an old sender late frame is dropped', () => {
  const got = []
  const back = []
  const receiver = createStreamReceiver(
    frame => got.push(frame[0]),
    bytes => back.push(bytes),
    {creditEvery: 1},
  )
  const sendWith = epoch => {
    const wire = []
    const sender = createStreamSender(bytes => wire.push(bytes), {failed: () => {}}, {epoch})
    return {sender, wire}
  }
  const pass = ({sender, wire}) => {
    for (const bytes of wire.splice(0)) {
      const frame = decodeStreamFrame(bytes)
      receiver.receive(frame.seq, frame.base, frame.frame, frame.epoch)
    }
    for (const bytes of back.splice(0)) sender.credit(decodeCredit(bytes), decodeCreditEpoch(bytes))
  }
  const first = sendWith(100)
  first.sender.outbox.add(frames(0, 5))
  pass(first)
  assert.deepEqual(got, [0, 1, 2, 3, 4])
  assert.equal(first.sender.pending, 0, 'credited')
  const second = sendWith(101)
  second.sender.outbox.add(frames(10, 13))
  pass(second)
  assert.deepEqual(got.slice(5), [10, 11, 12], 'seq 0 of the newer sender is not taken for a resend')
  assert.equal(second.sender.pending, 0, 'the newer sender is credited')
  first.sender.outbox.add(frames(20, 22))
  pass(first)
  assert.deepEqual(got.slice(8), [], 'the older sender is not followed back')
  assert.equal(first.sender.pending, 2, 'and gets no credit')
})
