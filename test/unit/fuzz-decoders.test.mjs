// Property-based fuzzing (fast-check) of everything that decodes bytes a peer sent: frames,
// message headers, values, and the transfer state machine fed whole streams of chunks.
// For arbitrary bytes and for valid inputs mutated (bit flips, truncation, extension, length
// fields set to extremes) each decoder returns a well-formed result or throws its typed error
// (MalformedFrame, P2PError), never anything else; no case grows memory by more than a small
// multiple of its input, so a length field cannot make a decoder allocate what the input does
// not contain; and nothing hangs: each test has a timeout, so a decoder stuck in a loop fails
// it rather than stalling the run. (The slowest case is reported, not asserted: on a loaded
// machine wall-clock limits per case only measure the scheduler.)
// FUZZ_RUNS=200000 node --test test/unit/fuzz-decoders.test.mjs runs longer (cases per property).
import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import v8 from 'node:v8'
import fc from 'fast-check'
import {ValueKind, decodeValue, encodeValue} from '../../dist/lib/core/codec.js'
import {P2PError} from '../../dist/lib/core/errors.js'
import {
  FrameType,
  MalformedFrame,
  chunkHeaderSize,
  decodeFrame,
  decodeMessageHeader,
  encodeAck,
  encodeAcks,
  encodeChunk,
  encodeControl,
  encodeKeepalive,
  encodeMessageHeader,
  encodePing,
  encodeRefuse,
  maxBatchedAcks,
} from '../../dist/lib/core/frame.js'
import {createTransfers} from '../../dist/lib/core/transfers.js'

/** Cases per property; the whole unit suite stays well under 20 s with this. */
const numRuns = Number(process.env.FUZZ_RUNS ?? 20_000)
/** A hang fails the test after this long instead of stalling the suite. */
const timeout = 120_000
/**
 * What a case may add beyond its input. ArrayBuffers (what a decoder trusting a length field
 * would allocate) are counted tightly. The JS heap moves by up to ~1 MiB whenever a garbage
 * collection lands inside a case (seen in runs of 200,000 cases), hence its larger allowance.
 * A 32-bit length field taken at its word asks for up to 4 GiB: either bound catches that.
 */
const bufferSlack = 64 * 1024
const heapSlack = 4 * 1024 * 1024

/** Bytes held by ArrayBuffers, and by live JS objects (code space left out: JIT output is not the decoder's). */
const memory = () => {
  const buffers = v8.getHeapStatistics().external_memory
  let heap = 0
  for (const space of v8.getHeapSpaceStatistics())
    if (!space.space_name.startsWith('code')) heap += space.space_used_size
  return {buffers, heap}
}

/**
 * Runs one decode and checks its promises: only `allowed` errors, bounded memory.
 * Returns the result, or undefined when the decoder threw an allowed error.
 */
const stats = {}
const check = (name, inputBytes, decode, allowed) => {
  const entry = (stats[name] ??= {cases: 0, results: 0, errors: 0, slowestMs: 0, largestBuffers: 0, largestHeap: 0})
  entry.cases++
  const before = memory()
  const start = performance.now()
  let result
  try {
    result = decode()
    entry.results++
  } catch (error) {
    if (!allowed(error)) throw new Error(`${name} threw ${error?.name}: ${error?.message}`, {cause: error})
    entry.errors++
  }
  const ms = performance.now() - start
  const after = memory()
  const buffers = after.buffers - before.buffers
  const heap = after.heap - before.heap
  entry.slowestMs = Math.max(entry.slowestMs, ms)
  entry.largestBuffers = Math.max(entry.largestBuffers, buffers)
  entry.largestHeap = Math.max(entry.largestHeap, heap)
  if (buffers > inputBytes + bufferSlack)
    throw new Error(`${name} allocated ${buffers} bytes of ArrayBuffers on a ${inputBytes}-byte input`)
  if (heap > 8 * inputBytes + heapSlack)
    throw new Error(`${name} grew the heap by ${heap} bytes on a ${inputBytes}-byte input`)
  return result
}
const kib = bytes => `${(Math.max(0, bytes) / 1024).toFixed(0)} KiB`
const report = (t, name) => {
  const {cases, results, errors, slowestMs, largestBuffers, largestHeap} = stats[name]
  t.diagnostic(
    `${name}: ${cases} cases (${results} returned, ${errors} typed errors), slowest ${slowestMs.toFixed(2)} ms, ` +
      `largest growth: ArrayBuffers ${kib(largestBuffers)}, heap ${kib(largestHeap)}`,
  )
}

const isMalformedFrame = error => error instanceof MalformedFrame
const isMalformedValue = error => error instanceof P2PError && error.code === 'malformed'

// --- generators --------------------------------------------------------------------------

const u32 = fc.integer({min: 0, max: 0xffffffff})
const extremes = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]
const controlMessage = fc.oneof(
  fc.record({
    t: fc.constant('sdp'),
    description: fc.record({type: fc.constantFrom('offer', 'answer'), sdp: fc.string()}),
  }),
  fc.record({t: fc.constant('ice'), candidate: fc.record({candidate: fc.string(), sdpMid: fc.string()})}),
  fc.record({t: fc.constant('stream'), streamId: fc.string(), meta: fc.jsonValue({maxDepth: 2})}),
  fc.record({t: fc.constant('track'), streamId: fc.string(), trackId: fc.string(), meta: fc.jsonValue({maxDepth: 2})}),
  fc.constant({t: 'leave'}),
)
/** A valid frame of every type, as the bytes a peer of ours would send. */
const validFrame = fc.oneof(
  fc
    .tuple(u32, u32, fc.boolean(), fc.uint8Array({maxLength: 512}))
    .map(([nonce, index, last, payload]) => encodeChunk(nonce, index, last, [payload])),
  fc
    .tuple(u32, u32, fc.boolean(), fc.uint8Array({maxLength: 512}))
    .map(([nonce, index, last, payload]) => encodeChunk(nonce, index, last, [payload], {lazy: true})),
  fc.array(u32, {minLength: 1, maxLength: maxBatchedAcks}).map(nonces => encodeAcks(nonces)),
  fc.tuple(u32, u32, fc.boolean()).map(([nonce, received, done]) => encodeAck(nonce, received, done)),
  fc.tuple(u32, fc.string({maxLength: 200})).map(([nonce, reason]) => encodeRefuse(nonce, reason)),
  fc.tuple(fc.constantFrom(FrameType.Ping, FrameType.Pong), u32).map(([type, id]) => encodePing(type, id)),
  controlMessage.map(message => encodeControl(message)),
  fc.constant(encodeKeepalive()),
)
/** The header that opens a message, followed by some body bytes. */
const validHeader = fc
  .tuple(
    u32,
    fc.string({unit: 'grapheme', maxLength: 60}).filter(id => new TextEncoder().encode(id).byteLength <= 255),
    fc.integer({min: 0, max: 255}),
    fc.option(fc.jsonValue({maxDepth: 2}), {nil: undefined}),
    fc.uint8Array({maxLength: 64}),
  )
  .map(([total, actionId, kind, meta, body]) => {
    const header = encodeMessageHeader({total, actionId, kind, meta})
    return {bytes: new Uint8Array([...header, ...body]), idLength: new TextEncoder().encode(actionId).byteLength}
  })

/**
 * A change to valid bytes: a bit flip, a cut, extra bytes, a byte or a u32 (a length, count,
 * nonce or index field wherever it falls) set to an extreme.
 */
const mutation = fc.oneof(
  fc.record({op: fc.constant('flip'), at: fc.nat(), bit: fc.integer({min: 0, max: 7})}),
  fc.record({op: fc.constant('truncate'), at: fc.nat()}),
  fc.record({op: fc.constant('extend'), bytes: fc.uint8Array({minLength: 1, maxLength: 64})}),
  fc.record({op: fc.constant('byte'), at: fc.nat(), value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xfe, 0xff)}),
  fc.record({op: fc.constant('u32'), at: fc.nat(), value: fc.constantFrom(...extremes)}),
)
const mutate = (input, {op, at, bit, bytes, value}) => {
  const out = input.slice()
  const position = out.byteLength ? at % out.byteLength : 0
  switch (op) {
    case 'flip':
      if (out.byteLength) out[position] ^= 1 << bit
      return out
    case 'truncate':
      return out.subarray(0, at % (out.byteLength + 1)).slice()
    case 'extend':
      return new Uint8Array([...out, ...bytes])
    case 'byte':
      if (out.byteLength) out[position] = value
      return out
    case 'u32':
      if (out.byteLength >= 4) new DataView(out.buffer).setUint32(at % (out.byteLength - 3), value)
      return out
  }
}
const mutated = (valid, count = 3) =>
  fc
    .tuple(valid, fc.array(mutation, {minLength: 1, maxLength: count}))
    .map(([input, mutations]) => mutations.reduce(mutate, input))

/** A frame the decoder returned must be one of ours, and point only into the input. */
const wellFormed = (frame, input) => {
  assert.equal(frame.type, input[0])
  const isU32 = n => Number.isInteger(n) && n >= 0 && n <= 0xffffffff
  switch (frame.type) {
    case FrameType.Chunk:
      assert.ok(isU32(frame.nonce) && isU32(frame.index) && typeof frame.last === 'boolean')
      assert.ok(frame.lazy === undefined || frame.lazy === true)
      assert.equal(frame.payload.buffer, input.buffer, 'a chunk payload is a view, never a copy')
      assert.equal(frame.payload.byteLength, input.byteLength - chunkHeaderSize)
      return
    case FrameType.Ack:
      assert.ok(isU32(frame.nonce) && isU32(frame.received) && typeof frame.done === 'boolean')
      return
    case FrameType.Acks:
      assert.ok(frame.nonces.length >= 1 && frame.nonces.length <= maxBatchedAcks && frame.nonces.every(isU32))
      assert.equal(input.byteLength, 1 + 4 * frame.nonces.length)
      return
    case FrameType.Refuse:
      assert.ok(isU32(frame.nonce) && typeof frame.reason === 'string')
      assert.ok(frame.reason.length <= input.byteLength)
      return
    case FrameType.Ping:
    case FrameType.Pong:
      assert.ok(isU32(frame.id))
      return
    case FrameType.Control:
      assert.ok(['sdp', 'ice', 'stream', 'track', 'leave'].includes(frame.message.t))
      return
    case FrameType.Keepalive:
      return
    default:
      assert.fail(`decoded an unknown frame type ${frame.type}`)
  }
}

const property = (t, name, arbitrary, predicate) => {
  fc.assert(fc.property(arbitrary, predicate), {numRuns, includeErrorInReport: true})
  report(t, name)
}

// --- properties ----------------------------------------------------------------------------

describe('fuzzing decodeFrame', () => {
  test('arbitrary bytes: a frame of ours or a MalformedFrame', {timeout}, t => {
    // Half the cases start with a known type byte, so every branch sees arbitrary bodies.
    const bytes = fc.oneof(
      fc.uint8Array({maxLength: 600}),
      fc
        .tuple(fc.integer({min: 1, max: 8}), fc.uint8Array({maxLength: 600}))
        .map(([type, rest]) => new Uint8Array([type, ...rest])),
    )
    property(t, 'decodeFrame(arbitrary)', bytes, input => {
      const frame = check('decodeFrame(arbitrary)', input.byteLength, () => decodeFrame(input.buffer), isMalformedFrame)
      if (frame) wellFormed(frame, input)
    })
  })

  test('valid frames round-trip exactly', {timeout}, t => {
    property(t, 'decodeFrame(valid)', validFrame, input => {
      const frame = check(
        'decodeFrame(valid)',
        input.byteLength,
        () => decodeFrame(input.buffer),
        () => false,
      )
      wellFormed(frame, input)
      const again =
        frame.type === FrameType.Chunk
          ? encodeChunk(frame.nonce, frame.index, frame.last, [frame.payload], {lazy: frame.lazy})
          : frame.type === FrameType.Acks
            ? encodeAcks(frame.nonces)
            : frame.type === FrameType.Ack
              ? encodeAck(frame.nonce, frame.received, frame.done)
              : frame.type === FrameType.Refuse
                ? encodeRefuse(frame.nonce, frame.reason)
                : frame.type === FrameType.Control
                  ? encodeControl(frame.message)
                  : frame.type === FrameType.Keepalive
                    ? encodeKeepalive()
                    : encodePing(frame.type, frame.id)
      assert.deepEqual([...again], [...input])
    })
  })

  test('mutated valid frames: a frame of ours or a MalformedFrame', {timeout}, t => {
    property(t, 'decodeFrame(mutated)', mutated(validFrame), input => {
      const frame = check('decodeFrame(mutated)', input.byteLength, () => decodeFrame(input.buffer), isMalformedFrame)
      if (frame) wellFormed(frame, input)
    })
  })
})

describe('fuzzing decodeMessageHeader', () => {
  const headerIsSound = (decoded, input) => {
    const {header, body} = decoded
    assert.ok(Number.isInteger(header.total) && header.total >= 0 && header.total <= 0xffffffff)
    assert.ok(Number.isInteger(header.kind) && header.kind >= 0 && header.kind <= 255)
    assert.equal(typeof header.actionId, 'string')
    assert.equal(body.buffer, input.buffer, 'the body is a view, never a copy')
    assert.ok(body.byteOffset + body.byteLength === input.byteOffset + input.byteLength)
  }

  test('arbitrary bytes: a header or a MalformedFrame', {timeout}, t => {
    property(t, 'decodeMessageHeader(arbitrary)', fc.uint8Array({maxLength: 400}), input => {
      const decoded = check(
        'decodeMessageHeader(arbitrary)',
        input.byteLength,
        () => decodeMessageHeader(input),
        isMalformedFrame,
      )
      if (decoded) headerIsSound(decoded, input)
    })
  })

  test('mutated valid headers, and length fields set to extremes', {timeout}, t => {
    // Besides random mutations, set the id length or the meta length to an extreme on purpose.
    const lengths = fc
      .tuple(validHeader, fc.constantFrom('id', 'meta'), fc.constantFrom(...extremes))
      .map(([{bytes, idLength}, field, value]) => {
        const out = bytes.slice()
        if (field === 'id') out[4] = value & 0xff
        else new DataView(out.buffer).setUint32(6 + idLength, value)
        return out
      })
    const inputs = fc.oneof(mutated(validHeader.map(h => h.bytes)), lengths)
    property(t, 'decodeMessageHeader(mutated)', inputs, input => {
      const decoded = check(
        'decodeMessageHeader(mutated)',
        input.byteLength,
        () => decodeMessageHeader(input),
        isMalformedFrame,
      )
      if (decoded) headerIsSound(decoded, input)
    })
  })
})

describe('fuzzing decodeValue', () => {
  test('arbitrary kind and bytes: a value or a malformed P2PError', {timeout}, t => {
    const inputs = fc.tuple(fc.integer({min: -1, max: 260}), fc.uint8Array({maxLength: 400}))
    property(t, 'decodeValue(arbitrary)', inputs, ([kind, bytes]) => {
      const value = check('decodeValue(arbitrary)', bytes.byteLength, () => decodeValue(kind, bytes), isMalformedValue)
      if (kind === ValueKind.Binary) assert.equal(value.byteLength, bytes.byteLength)
    })
  })

  test('values round-trip, and their encodings mutated decode or fail as malformed', {timeout}, async t => {
    const values = fc.oneof(
      fc.jsonValue({maxDepth: 3}),
      fc.string({unit: 'grapheme', maxLength: 100}),
      fc.uint8Array({maxLength: 200}),
      fc.constant(undefined),
    )
    await fc.assert(
      fc.asyncProperty(values, fc.array(mutation, {maxLength: 3}), async (value, mutations) => {
        const {kind, bytes} = await encodeValue(value)
        if (!mutations.length) {
          const got = check(
            'decodeValue(valid)',
            bytes.byteLength,
            () => decodeValue(kind, bytes),
            () => false,
          )
          const expected =
            value instanceof Uint8Array ? [...value] : value === undefined ? value : JSON.parse(JSON.stringify(value))
          assert.deepEqual(value instanceof Uint8Array ? [...new Uint8Array(got)] : got, expected)
          return
        }
        const input = mutations.reduce(mutate, bytes)
        check('decodeValue(mutated)', input.byteLength, () => decodeValue(kind, input), isMalformedValue)
      }),
      {numRuns, includeErrorInReport: true},
    )
    report(t, 'decodeValue(mutated)')
    t.diagnostic(`(and ${stats['decodeValue(valid)'].cases} unmutated round trips)`)
  })
})

describe('fuzzing the transfer receiver with streams of chunks', () => {
  // A real message's chunks (from a sender over a fake peer), then dropped, duplicated,
  // swapped and mutated, plus arbitrary frames; the receiver must only refuse and report.
  const fakePeer = id => {
    const peer = {id, frameSize: 256, isOpen: true, sent: [], queued: []}
    peer.send = bytes => (peer.sent.push(bytes), true)
    peer.outbox = {add: frames => peer.queued.push(frames), remove: () => {}, clear: () => {}}
    return peer
  }
  const messageChunks = fc
    .tuple(fc.integer({min: 0, max: 3}), fc.uint8Array({maxLength: 2000}), fc.option(fc.jsonValue({maxDepth: 2})))
    .map(([kind, body, meta]) => {
      const sender = createTransfers(1 << 20, {deliver() {}, progress() {}, problem() {}})
      const peer = fakePeer('receiver')
      sender.send(peer, 'fuzz', kind, body, meta ?? undefined).catch(() => {})
      // Metadata too large for a 256-byte frame is refused at send: then the stream starts empty.
      return peer.queued.length ? [...peer.queued[0]] : []
    })
  const stream = fc
    .tuple(
      messageChunks,
      fc.array(
        fc.oneof(
          fc.record({op: fc.constant('drop'), at: fc.nat()}),
          fc.record({op: fc.constant('duplicate'), at: fc.nat()}),
          fc.record({op: fc.constant('swap'), at: fc.nat(), with: fc.nat()}),
          fc.record({op: fc.constant('mutate'), at: fc.nat(), mutation}),
          fc.record({op: fc.constant('insert'), at: fc.nat(), bytes: fc.uint8Array({minLength: 1, maxLength: 40})}),
        ),
        {maxLength: 4},
      ),
    )
    .map(([frames, edits]) => {
      const out = [...frames]
      for (const edit of edits) {
        const at = edit.at % Math.max(1, out.length)
        if (edit.op === 'drop') out.splice(at, 1)
        else if (edit.op === 'duplicate' && out.length) out.splice(at, 0, out[at])
        else if (edit.op === 'swap' && out.length) {
          const other = edit.with % out.length
          ;[out[at], out[other]] = [out[other], out[at]]
        } else if (edit.op === 'mutate' && out.length) out[at] = mutate(out[at], edit.mutation)
        else if (edit.op === 'insert') out.splice(at, 0, new Uint8Array([FrameType.Chunk, ...edit.bytes]))
      }
      return out
    })

  test('only P2PErrors are reported, and nothing delivered exceeds the bytes received', {timeout}, t => {
    const runs = Math.max(1, Math.floor(numRuns / 4))
    fc.assert(
      fc.property(stream, frames => {
        const delivered = []
        const problems = []
        const transfers = createTransfers(1 << 20, {
          deliver: (_peerId, _actionId, value) => delivered.push(value),
          progress: () => {},
          problem: error => problems.push(error),
        })
        const peer = fakePeer('sender')
        const size = frames.reduce((sum, frame) => sum + frame.byteLength, 0)
        check(
          'transfers.receive(stream)',
          size,
          () => {
            for (const bytes of frames) {
              let frame
              try {
                frame = decodeFrame(bytes.slice().buffer)
              } catch (error) {
                if (error instanceof MalformedFrame) continue
                throw error
              }
              if (frame.type === FrameType.Chunk) transfers.receive(peer, frame)
            }
          },
          () => false,
        )
        assert.ok(problems.every(error => error instanceof P2PError && ['malformed', 'too-large'].includes(error.code)))
        assert.ok(delivered.length <= frames.length)
        for (const value of delivered) if (value instanceof ArrayBuffer) assert.ok(value.byteLength <= size)
      }),
      {numRuns: runs, includeErrorInReport: true},
    )
    report(t, 'transfers.receive(stream)')
  })
})
