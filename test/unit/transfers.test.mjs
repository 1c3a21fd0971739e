// Moving messages (src/core/transfers.ts) between two transfer managers over fake peers: the
// frames a sender queues are fed to a receiver, and the receiver's acks and refusals back.
import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {ValueKind} from '../../dist/lib/core/codec.js'
import {P2PError} from '../../dist/lib/core/errors.js'
import {
  FrameType,
  chunkHeaderSize,
  decodeFrame,
  encodeAck,
  encodeChunk,
  encodeMessageHeader,
  encodeRefuse,
} from '../../dist/lib/core/frame.js'
import {ackEvery, createTransfers, lazyAckBatch, lazyAckMs} from '../../dist/lib/core/transfers.js'

const decode = bytes => decodeFrame(bytes.slice().buffer)

/** What transfers needs of a Peer: an id, a frame size, send() for urgent frames, an outbox. */
const fakePeer = (id, frameSize = 1024) => {
  const peer = {
    id,
    frameSize,
    isOpen: true,
    /** Frames written with send() (acks, refusals), decoded. */
    sent: [],
    /** Called with each decoded frame written with send(). */
    onSend: () => {},
    /** The message iterators in this peer's outbox. */
    queued: [],
    removed: [],
    send(bytes) {
      const frame = decode(bytes)
      peer.sent.push(frame)
      peer.onSend(frame)
      return true
    },
    outbox: {
      add: frames => peer.queued.push(frames),
      remove: frames => {
        peer.removed.push(frames)
        const index = peer.queued.indexOf(frames)
        if (index >= 0) peer.queued.splice(index, 1)
      },
      clear: () => (peer.queued.length = 0),
    },
  }
  return peer
}

const recorder = () => {
  const log = {delivered: [], progress: [], problems: []}
  log.events = {
    deliver: (peerId, actionId, value, meta) => log.delivered.push({peerId, actionId, value, meta}),
    progress: (peerId, actionId, fraction, meta) => log.progress.push({peerId, actionId, fraction, meta}),
    problem: error => log.problems.push(error),
  }
  return log
}

/** Peer A sends to peer B. `pump(n)` moves up to n queued frames from A to B, round robin. */
const link = ({maxMessageSize = 1 << 30, frameSize = 1024, bulk, views} = {}) => {
  const a = recorder()
  const b = recorder()
  const sender = createTransfers(1 << 30, {...a.events, bulk})
  const receiver = createTransfers(maxMessageSize, {...b.events, views})
  const toB = fakePeer('B', frameSize) // A's view of B
  const toA = fakePeer('A', frameSize) // B's view of A
  toA.onSend = frame => sender.receive(toB, frame)
  const moved = []
  const pump = (limit = Number.POSITIVE_INFINITY) => {
    let count = 0
    while (toB.queued.length && count < limit) {
      const frames = toB.queued.shift()
      const next = frames.next()
      if (next.done) continue
      toB.queued.push(frames)
      const frame = decode(next.value)
      moved.push(frame)
      receiver.receive(toA, frame)
      count++
    }
    return count
  }
  return {a, b, sender, receiver, toA, toB, pump, moved}
}

/** Settles to {value} or {error} without throwing, so a test can look at either. */
const outcome = promise =>
  promise.then(
    value => ({value}),
    error => ({error}),
  )
const flush = () => new Promise(resolve => setImmediate(resolve))
const pending = async promise => {
  let settled = false
  promise.then(
    () => (settled = true),
    () => (settled = true),
  )
  await flush()
  return !settled
}
const sample = n => Uint8Array.from({length: n}, (_, i) => (i * 131 + 17) & 255)

describe('a message arrives whole, acknowledged every ackEvery chunks and at the end', () => {
  const frameSize = 1024
  const space = frameSize - chunkHeaderSize
  const meta = {name: 'f.bin'}
  const headerBytes = encodeMessageHeader({total: 0, actionId: 'file', kind: ValueKind.Binary, meta}).byteLength
  const sizes = [
    ['empty', 0],
    ['one byte', 1],
    ['exactly one chunk', space - headerBytes],
    ['one byte into a second chunk', space - headerBytes + 1],
    [`exactly ${ackEvery} chunks`, ackEvery * space - headerBytes],
    [`${ackEvery} chunks and a byte`, ackEvery * space - headerBytes + 1],
    ['100 chunks', 100 * space - headerBytes - 7],
  ]
  for (const [name, size] of sizes)
    test(`${name} (${size} bytes)`, async () => {
      const {a, b, sender, toA, toB, pump, moved} = link({frameSize})
      const body = sample(size)
      const fractions = []
      const sent = sender.send(toB, 'file', ValueKind.Binary, body, meta, (fraction, peerId) =>
        fractions.push([fraction, peerId]),
      )
      const chunks = Math.max(1, Math.ceil((size + headerBytes) / space))
      assert.equal(pump(chunks - 1), chunks - 1)
      assert.equal(await pending(sent), true, 'no promise before the last chunk is acknowledged')
      pump()
      await sent
      assert.equal(moved.length, chunks)
      assert.ok(moved.every(frame => frame.type === FrameType.Chunk && frame.payload.byteLength <= space))
      assert.deepEqual(
        moved.map(frame => frame.index),
        moved.map((_, i) => i),
      )
      assert.deepEqual(
        moved.map(frame => frame.last),
        moved.map((_, i) => i === chunks - 1),
      )

      // Acks: one after every ackEvery-th chunk that is not the last, then one done.
      const acks = toA.sent
      const progressAcks = Math.floor((chunks - 1) / ackEvery)
      assert.equal(acks.length, progressAcks + 1)
      assert.ok(acks.every(frame => frame.type === FrameType.Ack && frame.nonce === moved[0].nonce))
      acks.slice(0, -1).forEach((ack, i) => {
        assert.equal(ack.done, false)
        assert.equal(ack.received, (i + 1) * ackEvery * space - headerBytes, `ack ${i} counts the bytes held`)
      })
      assert.deepEqual({...acks.at(-1)}, {type: FrameType.Ack, nonce: moved[0].nonce, received: size, done: true})

      assert.equal(b.delivered.length, 1)
      const [delivery] = b.delivered
      assert.deepEqual([delivery.peerId, delivery.actionId, delivery.meta], ['A', 'file', meta])
      assert.deepEqual(new Uint8Array(delivery.value), body)
      assert.equal(b.progress.length, chunks, 'the receiver reports progress per chunk')
      assert.equal(b.progress.at(-1).fraction, 1)
      assert.ok(b.progress.every((p, i) => i === 0 || p.fraction >= b.progress[i - 1].fraction))
      assert.ok(b.progress.every(p => p.peerId === 'A' && p.actionId === 'file' && p.meta.name === 'f.bin'))
      assert.deepEqual(
        fractions,
        acks.map(ack => [size ? ack.received / size : 1, 'B']),
        'the sender progress follows the acks',
      )
      assert.deepEqual([a.problems, b.problems], [[], []])
    })

  test('every value kind arrives as its kind', async () => {
    const {b, sender, toB, pump} = link()
    const encoder = new TextEncoder()
    const values = [
      [ValueKind.Undefined, new Uint8Array(0), undefined],
      [ValueKind.Text, encoder.encode('héllo'), 'héllo'],
      [ValueKind.Json, encoder.encode('{"a":[1,null]}'), {a: [1, null]}],
    ]
    const sends = values.map(([kind, bytes]) => sender.send(toB, 'v', kind, bytes, undefined))
    pump()
    await Promise.all(sends)
    assert.deepEqual(
      b.delivered.map(d => d.value),
      values.map(([, , value]) => value),
    )
  })

  test('concurrent messages interleave and each arrives intact', async () => {
    const {b, sender, toB, pump, moved} = link()
    const bodies = [sample(20_000), sample(5_000).reverse(), sample(12_345)]
    const sends = bodies.map((body, i) => sender.send(toB, `m${i}`, ValueKind.Binary, body, i))
    pump()
    await Promise.all(sends)
    assert.deepEqual(
      moved.slice(0, 3).map(frame => frame.index),
      [0, 0, 0],
      'the outbox order is round robin',
    )
    assert.equal(new Set(moved.map(frame => frame.nonce)).size, 3, 'each message has its own nonce')
    const byAction = Object.fromEntries(b.delivered.map(d => [d.actionId, new Uint8Array(d.value)]))
    for (const [i, body] of bodies.entries()) assert.deepEqual(byAction[`m${i}`], body)
  })
})

/** Chunk frames crafted by hand, as a buggy or hostile peer would send them. */
const header = (total, {actionId = 'x', kind = ValueKind.Binary, meta} = {}) =>
  encodeMessageHeader({total, actionId, kind, meta})
const chunk = (nonce, index, last, ...parts) => decode(encodeChunk(nonce, index, last, parts))
const start = (nonce, total, body, last = true, options) => chunk(nonce, 0, last, header(total, options), body)

describe('a receiver refuses what it will not take, by nonce, and reports it', () => {
  const cases = [
    [
      'a chunk out of order',
      [start(1, 20, sample(5), false), chunk(1, 2, true, sample(15))],
      'malformed',
      /chunk 2 out of order/,
    ],
    [
      'a repeated chunk',
      [start(1, 20, sample(5), false), chunk(1, 1, false, sample(5)), chunk(1, 1, true, sample(10))],
      'malformed',
      /chunk 1 out of order/,
    ],
    [
      'a second start',
      [start(1, 20, sample(5), false), start(1, 20, sample(5), false)],
      'malformed',
      /a second start for message 1/,
    ],
    ['an orphan chunk', [chunk(7, 3, false, sample(5))], 'malformed', /chunk 3 of message 7, which never started/],
    ['an orphan last chunk', [chunk(7, 1, true, sample(5))], 'malformed', /never started/],
    [
      'a message over maxMessageSize',
      [start(1, 1001, sample(3), false)],
      'too-large',
      /1001-byte message, over this peer's maxMessageSize of 1000/,
    ],
    ['more bytes than declared in chunk 0', [start(1, 5, sample(6))], 'malformed', /more bytes than the 5/],
    [
      'more bytes than declared later',
      [start(1, 8, sample(5), false), chunk(1, 1, true, sample(4))],
      'malformed',
      /more bytes than the 8/,
    ],
    ['a last chunk short of the total', [start(1, 10, sample(5))], 'malformed', /fewer bytes than the 10/],
    ['an unknown value kind', [start(1, 1, sample(1), true, {kind: 4})], 'malformed', /unknown value kind 4/],
    [
      'a truncated header',
      [chunk(1, 0, true, new Uint8Array([0, 0, 0, 1]))],
      'malformed',
      /message header is truncated/,
    ],
    [
      'metadata that is not JSON',
      [chunk(1, 0, true, new Uint8Array([0, 0, 0, 0, 1, 120, 1, 0, 0, 0, 1, 123]))],
      'malformed',
      /metadata is not JSON/,
    ],
    [
      'JSON that does not parse',
      [start(1, 2, new TextEncoder().encode('{{'), true, {kind: ValueKind.Json})],
      'malformed',
      /does not decode as its declared type/,
    ],
  ]
  for (const [name, frames, code, message] of cases)
    test(name, () => {
      const {events, delivered, problems} = recorder()
      const transfers = createTransfers(1000, events)
      const peer = fakePeer('A')
      for (const frame of frames) transfers.receive(peer, frame)
      assert.equal(delivered.length, 0)
      assert.equal(problems.length, 1)
      assert.ok(problems[0] instanceof P2PError)
      assert.equal(problems[0].code, code)
      assert.equal(problems[0].peerId, 'A')
      assert.match(problems[0].message, message)
      const refusals = peer.sent.filter(frame => frame.type === FrameType.Refuse)
      assert.equal(refusals.length, 1)
      assert.equal(refusals[0].nonce, frames.at(-1).nonce)
      assert.ok(refusals[0].reason.startsWith(`${code}:`))
      assert.match(refusals[0].reason, message)
    })

  test('the rest of a refused message is skipped quietly, then its nonce is forgotten', () => {
    const {events, delivered, problems} = recorder()
    const transfers = createTransfers(1000, events)
    const peer = fakePeer('A')
    transfers.receive(peer, start(1, 5000, sample(10), false))
    for (let i = 1; i < 5; i++) transfers.receive(peer, chunk(1, i, i === 4, sample(10)))
    assert.equal(problems.length, 1, 'one report for the whole message')
    assert.equal(peer.sent.length, 1, 'one refusal')
    transfers.receive(peer, start(1, 3, sample(3)))
    assert.equal(delivered.length, 1, 'the nonce is free again after its last chunk')
  })

  test('memory follows the bytes received, not the size a peer declares', () => {
    const {events, problems} = recorder()
    const transfers = createTransfers(2 ** 32, events)
    const peer = fakePeer('A')
    const before = process.memoryUsage().arrayBuffers
    for (let nonce = 1; nonce <= 50; nonce++) transfers.receive(peer, start(nonce, 0xffffffff, sample(100), false))
    const grown = process.memoryUsage().arrayBuffers - before
    assert.deepEqual(problems, [])
    assert.ok(grown < 4 << 20, `50 messages declaring 4 GiB each took ${grown} bytes of ArrayBuffers`)
  })

  test('the same nonce from two peers is two messages', () => {
    const {events, delivered, problems} = recorder()
    const transfers = createTransfers(1000, events)
    const [a, b] = [fakePeer('A'), fakePeer('B')]
    transfers.receive(a, start(1, 6, sample(3), false))
    transfers.receive(b, start(1, 2, sample(2)))
    transfers.receive(a, chunk(1, 1, true, sample(3)))
    assert.deepEqual(problems, [])
    assert.deepEqual(
      delivered.map(d => [d.peerId, d.value.byteLength]),
      [
        ['B', 2],
        ['A', 6],
      ],
    )
  })

  test('dropPeer forgets what a peer was sending', () => {
    const {events, problems} = recorder()
    const transfers = createTransfers(1000, events)
    const peer = fakePeer('A')
    transfers.receive(peer, start(1, 6, sample(3), false))
    transfers.dropPeer('A', new P2PError('peer-left', 'gone', 'A'))
    transfers.receive(peer, chunk(1, 1, true, sample(3)))
    assert.match(problems[0]?.message ?? '', /never started/)
  })
})

describe('a sender settles on acks and refusals from the right peer only', () => {
  test('a refusal rejects the send with the refused code and stops its frames', async () => {
    const {sender, toB, pump} = link({maxMessageSize: 2000})
    const result = outcome(sender.send(toB, 'big', ValueKind.Binary, sample(5000), undefined))
    const frames = toB.queued[0]
    pump(1)
    const {error} = await result
    assert.ok(error instanceof P2PError)
    assert.equal(error.code, 'too-large')
    assert.equal(error.peerId, 'B')
    assert.match(error.message, /peer B refused the message: it got a 5000-byte message/)
    assert.deepEqual(toB.removed, [frames])
    assert.equal(toB.queued.length, 0)
  })

  const codes = [
    ['too-large', 'too-large'],
    ['malformed', 'malformed'],
    ['something-else', 'rejected'],
    ['', 'rejected'],
  ]
  for (const [sent, expected] of codes)
    test(`a refusal coded "${sent}" rejects as ${expected}`, async () => {
      const {sender, toB} = link()
      const result = outcome(sender.send(toB, 'x', ValueKind.Text, sample(1), undefined))
      sender.receive(toB, decode(encodeRefuse(decode(toB.queued[0].next().value).nonce, `${sent}:why`)))
      const {error} = await result
      assert.equal(error.code, expected)
      assert.match(error.message, /it got why$/)
    })

  test('acks and refusals for a nonce it never sent, or from another peer, change nothing', async () => {
    const {sender, toB, pump} = link()
    const stranger = fakePeer('C')
    const progress = []
    const sent = sender.send(toB, 'x', ValueKind.Binary, sample(10), undefined, f => progress.push(f))
    const nonce = decode(toB.queued[0].next().value).nonce
    toB.queued.length = 0
    for (const frame of [
      encodeRefuse(nonce + 1, 'malformed:unknown nonce'),
      encodeAck(nonce + 1, 10, true),
      encodeRefuse(0xffffffff, 'too-large:x'),
    ])
      sender.receive(toB, decode(frame))
    sender.receive(stranger, decode(encodeRefuse(nonce, 'malformed:not yours')))
    sender.receive(stranger, decode(encodeAck(nonce, 10, true)))
    assert.equal(await pending(sent), true)
    assert.deepEqual(progress, [])
    sender.receive(toB, decode(encodeAck(nonce, 10, true)))
    await sent
    assert.deepEqual(progress, [1])
    assert.equal(pump(), 0)
  })

  test('an ack claiming more than the total reports progress 1, not more', async () => {
    const {sender, toB} = link()
    const progress = []
    const sent = sender.send(toB, 'x', ValueKind.Binary, sample(10), undefined, f => progress.push(f))
    const nonce = decode(toB.queued[0].next().value).nonce
    sender.receive(toB, decode(encodeAck(nonce, 0xffffffff, false)))
    assert.deepEqual(progress, [1])
    assert.equal(await pending(sent), true, 'only a done ack settles')
  })

  test('dropPeer rejects the sends to that peer with the given error, and only those', async () => {
    const {sender, toB} = link()
    const toC = fakePeer('C')
    const toB1 = outcome(sender.send(toB, 'x', ValueKind.Binary, sample(10), undefined))
    const toB2 = outcome(sender.send(toB, 'y', ValueKind.Binary, sample(10), undefined))
    const toC1 = sender.send(toC, 'x', ValueKind.Binary, sample(10), undefined)
    const gone = new P2PError('peer-left', 'peer B left', 'B')
    sender.dropPeer('B', gone)
    assert.equal((await toB1).error, gone)
    assert.equal((await toB2).error, gone)
    assert.equal(await pending(toC1), true)
  })

  test('a send to a peer that is not open rejects with peer-left', async () => {
    const {sender, toB} = link()
    toB.isOpen = false
    const {error} = await outcome(sender.send(toB, 'x', ValueKind.Text, sample(1), undefined))
    assert.equal(error.code, 'peer-left')
    assert.equal(error.peerId, 'B')
    assert.equal(toB.queued.length, 0)
  })

  test('metadata that does not fit chunk 0 rejects with too-large and sends nothing', async () => {
    const {sender, toB} = link({frameSize: 1024})
    const {error} = await outcome(sender.send(toB, 'x', ValueKind.Text, sample(1), {blob: 'y'.repeat(2000)}))
    assert.equal(error.code, 'too-large')
    assert.match(error.message, /metadata for action "x"/)
    assert.equal(toB.queued.length, 0)
  })

  test('nonces are distinct across messages and peers', () => {
    const {sender, toB} = link()
    const toC = fakePeer('C')
    for (let i = 0; i < 5; i++) sender.send(i % 2 ? toB : toC, 'x', ValueKind.Text, sample(1), undefined)
    const nonces = [...toB.queued, ...toC.queued].map(frames => decode(frames.next().value).nonce)
    assert.equal(new Set(nonces).size, 5)
  })
})

describe('bulk messages: done-acks batched, values as views', () => {
  test('the done-acks of lazyAckBatch bulk messages travel in one Acks frame; fewer go after lazyAckMs', async () => {
    const {b, sender, receiver, toA, toB, pump} = link({frameSize: 1024, bulk: id => id === 'bulk'})
    const sends = Array.from({length: lazyAckBatch + 3}, (_, i) =>
      sender.send(toB, 'bulk', ValueKind.Binary, sample(100 + i), undefined),
    )
    pump()
    assert.equal(b.delivered.length, lazyAckBatch + 3)
    assert.deepEqual(
      toA.sent.map(frame => [frame.type, frame.nonces?.length]),
      [[FrameType.Acks, lazyAckBatch]],
      'one frame for the first batch, nothing yet for the rest',
    )
    await Promise.all(sends.slice(0, lazyAckBatch))
    assert.equal(await pending(sends.at(-1)), true)
    await new Promise(resolve => setTimeout(resolve, lazyAckMs + 50))
    assert.deepEqual(toA.sent.at(-1), {type: FrameType.Acks, nonces: toA.sent.at(-1).nonces})
    assert.equal(toA.sent.at(-1).nonces.length, 3)
    await Promise.all(sends)
    // An ordinary message is still acknowledged at once, with its own Ack frame.
    const plain = sender.send(toB, 'plain', ValueKind.Binary, sample(10), undefined)
    pump()
    await plain
    assert.equal(toA.sent.at(-1).type, FrameType.Ack)
    receiver.close()
    sender.close()
  })

  test('an Acks frame settles only messages sent to the peer it came from', async () => {
    const {sender, toB, pump} = link({bulk: () => true})
    const sent = sender.send(toB, 'bulk', ValueKind.Binary, sample(10), undefined)
    const other = fakePeer('C')
    sender.receive(other, {type: FrameType.Acks, nonces: [1, 2, 3]})
    assert.equal(await pending(sent), true)
    pump()
    await new Promise(resolve => setTimeout(resolve, lazyAckMs + 50))
    await sent
    sender.close()
  })

  test('a one-frame binary value of a views action arrives as a view of its frame, others as ArrayBuffers', () => {
    const {b, sender, toB, pump, moved} = link({views: (_, id) => id === 'view'})
    void sender.send(toB, 'view', ValueKind.Binary, sample(50), undefined)
    void sender.send(toB, 'copy', ValueKind.Binary, sample(50), undefined)
    void sender.send(toB, 'view', ValueKind.Binary, sample(3000), undefined)
    pump()
    const [view, copy, joined] = b.delivered.map(d => d.value)
    assert.ok(view instanceof Uint8Array && view.buffer === moved[0].payload.buffer)
    assert.deepEqual([...view], [...sample(50)])
    assert.ok(copy instanceof ArrayBuffer)
    assert.ok(joined instanceof Uint8Array && joined.byteLength === 3000)
    assert.deepEqual([...joined], [...sample(3000)])
    sender.close()
  })
})
