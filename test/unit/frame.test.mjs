// The wire format (src/core/frame.ts): every frame type round-trips byte for byte, and every
// malformed input is a MalformedFrame, never another exception and never a wrong frame.
import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {
  FrameType,
  MalformedFrame,
  chunkHeaderSize,
  decodeFrame,
  decodeMessageHeader,
  encodeAck,
  encodeChunk,
  encodeAcks,
  maxBatchedAcks,
  releaseFrame,
  encodeControl,
  encodeKeepalive,
  encodeMessageHeader,
  encodePing,
  encodeRefuse,
  maxActionIdBytes,
} from '../../dist/lib/core/frame.js'

/** The ArrayBuffer a data channel would hand over: exactly the frame's bytes. */
const wire = bytes => bytes.slice().buffer
const u8 = (...values) => new Uint8Array(values)
const hex = bytes => Buffer.from(bytes).toString('hex')

describe('frame encoding: exact bytes, big-endian', () => {
  const cases = [
    ['chunk', encodeChunk(0x01020304, 0x0a0b0c0d, true, [u8(0xaa), u8(0xbb, 0xcc)]), '01010203040a0b0c0d01aabbcc'],
    ['chunk, not last, no payload', encodeChunk(1, 0, false, []), '01000000010000000000'],
    ['ack', encodeAck(0xfffffffe, 65536, true), '02fffffffe0001000001'],
    ['ack, not done', encodeAck(7, 0, false), '02000000070000000000'],
    ['refuse', encodeRefuse(9, 'too-large:x'), `0300000009${Buffer.from('too-large:x').toString('hex')}`],
    ['ping', encodePing(FrameType.Ping, 0x12345678), '0412345678'],
    ['pong', encodePing(FrameType.Pong, 0), '0500000000'],
    ['control', encodeControl({t: 'leave'}), `06${Buffer.from('{"t":"leave"}').toString('hex')}`],
    ['keepalive', encodeKeepalive(), '07'],
  ]
  for (const [name, bytes, expected] of cases) test(name, () => assert.equal(hex(bytes), expected))

  test('a chunk header is chunkHeaderSize bytes', () =>
    assert.equal(encodeChunk(1, 2, true, []).byteLength, chunkHeaderSize))
})

describe('decodeFrame: every frame type round-trips', () => {
  const payload = Uint8Array.from({length: 300}, (_, i) => i & 255)
  const cases = [
    [
      'chunk',
      encodeChunk(42, 3, false, [payload.subarray(0, 100), payload.subarray(100)]),
      {type: FrameType.Chunk, nonce: 42, index: 3, last: false, payload},
    ],
    [
      'last chunk, largest u32 fields',
      encodeChunk(0xffffffff, 0xffffffff, true, [u8(1)]),
      {type: FrameType.Chunk, nonce: 0xffffffff, index: 0xffffffff, last: true, payload: u8(1)},
    ],
    [
      'empty chunk',
      encodeChunk(0, 0, true, []),
      {type: FrameType.Chunk, nonce: 0, index: 0, last: true, payload: u8()},
    ],
    ['ack', encodeAck(5, 1 << 20, false), {type: FrameType.Ack, nonce: 5, received: 1 << 20, done: false}],
    ['done ack', encodeAck(5, 0xffffffff, true), {type: FrameType.Ack, nonce: 5, received: 0xffffffff, done: true}],
    [
      'refuse',
      encodeRefuse(8, 'malformed:chunk 3 out of order ✓'),
      {type: FrameType.Refuse, nonce: 8, reason: 'malformed:chunk 3 out of order ✓'},
    ],
    ['refuse, empty reason', encodeRefuse(8, ''), {type: FrameType.Refuse, nonce: 8, reason: ''}],
    [
      'chunk whose done-ack may wait',
      encodeChunk(9, 0, true, [u8(5)], {lazy: true}),
      {type: FrameType.Chunk, nonce: 9, index: 0, last: true, lazy: true, payload: u8(5)},
    ],
    [
      'chunk whose done-ack may wait, more to come',
      encodeChunk(9, 1, false, [u8(5)], {lazy: true}),
      {type: FrameType.Chunk, nonce: 9, index: 1, last: false, lazy: true, payload: u8(5)},
    ],
    ['acks', encodeAcks([1, 0xffffffff, 7]), {type: FrameType.Acks, nonces: [1, 0xffffffff, 7]}],
    ['ping', encodePing(FrameType.Ping, 77), {type: FrameType.Ping, id: 77}],
    ['pong', encodePing(FrameType.Pong, 0xffffffff), {type: FrameType.Pong, id: 0xffffffff}],
    ['keepalive', encodeKeepalive(), {type: FrameType.Keepalive}],
  ]
  const controls = [
    {t: 'sdp', description: {type: 'offer', sdp: 'v=0\r\n'}},
    {t: 'ice', candidate: {candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0'}},
    {t: 'stream', streamId: '{abc}', meta: {label: 'cam', n: [1, null]}},
    {t: 'track', streamId: 's', trackId: 't', meta: null},
    {t: 'leave'},
  ]
  for (const message of controls)
    cases.push([`control ${message.t}`, encodeControl(message), {type: FrameType.Control, message}])

  for (const [name, bytes, expected] of cases)
    test(name, () => {
      const frame = decodeFrame(wire(bytes))
      assert.deepEqual(
        frame.payload ? {...frame, payload: [...frame.payload]} : frame,
        expected.payload ? {...expected, payload: [...expected.payload]} : expected,
      )
    })

  test('a chunk payload is a view into the received buffer, not a copy', () => {
    const buffer = wire(encodeChunk(1, 0, true, [payload]))
    const frame = decodeFrame(buffer)
    assert.equal(frame.payload.buffer, buffer)
    assert.equal(frame.payload.byteOffset, chunkHeaderSize)
  })

  test('pooled chunks reuse a released buffer, never one still held', () => {
    const first = encodeChunk(1, 0, true, [u8(1, 2)], {pooled: true})
    const held = encodeChunk(2, 0, true, [u8(3)], {pooled: true})
    assert.notEqual(first.buffer, held.buffer)
    releaseFrame(first)
    const again = encodeChunk(3, 0, true, [u8(4)], {pooled: true})
    assert.equal(again.buffer, first.buffer)
    assert.deepEqual([...again], [...encodeChunk(3, 0, true, [u8(4)])])
    assert.deepEqual([...held], [...encodeChunk(2, 0, true, [u8(3)])])
    releaseFrame(u8(1, 2, 3)) // not from the pool: ignored
  })

  test('only last = 1 or 3 mean last, only 2 or 3 mean the ack may wait', () => {
    for (const [flag, last, lazy] of [
      [1, true, undefined],
      [2, false, true],
      [3, true, true],
    ]) {
      const chunk = encodeChunk(1, 0, true, [])
      chunk[9] = flag
      assert.equal(decodeFrame(wire(chunk)).last, last)
      assert.equal(decodeFrame(wire(chunk)).lazy, lazy)
    }
  })

  test('only last = 1 and done = 1 mean true', () => {
    for (const flag of [0, 4, 255]) {
      const chunk = encodeChunk(1, 0, true, [])
      chunk[9] = flag
      assert.equal(decodeFrame(wire(chunk)).last, false)
      const ack = encodeAck(1, 0, true)
      ack[9] = flag
      assert.equal(decodeFrame(wire(ack)).done, false)
    }
  })

  test('bytes after a fixed-size frame are ignored', () => {
    assert.deepEqual(decodeFrame(wire(u8(7, 1, 2))), {type: FrameType.Keepalive})
    assert.deepEqual(decodeFrame(wire(u8(4, 0, 0, 0, 1, 9, 9))), {type: FrameType.Ping, id: 1})
    assert.deepEqual(decodeFrame(wire(u8(2, 0, 0, 0, 1, 0, 0, 0, 2, 1, 9))), {
      type: FrameType.Ack,
      nonce: 1,
      received: 2,
      done: true,
    })
  })
})

describe('decodeFrame: every malformed frame is a MalformedFrame', () => {
  const text = value => new TextEncoder().encode(value)
  const control = json => u8(6, ...text(json))
  const cases = [
    ['empty', u8(), /truncated/],
    ['type 0', u8(0), /unknown frame type 0/],
    ['type 9', u8(9, 0, 0, 0, 0), /unknown frame type 9/],
    ['acks without a nonce', u8(8), /acks frame of 1 bytes/],
    ['acks with a partial nonce', u8(8, 0, 0, 0, 1, 0, 0), /acks frame of 7 bytes/],
    ['acks over maxBatchedAcks', new Uint8Array(1 + 4 * (maxBatchedAcks + 1)).fill(8, 0, 1), /acks frame of/],
    ['type 255', u8(255), /unknown frame type 255/],
    ['chunk of 1 byte', u8(1), /truncated/],
    ['chunk of 9 bytes', u8(1, 0, 0, 0, 1, 0, 0, 0, 0), /truncated/],
    ['ack of 1 byte', u8(2), /truncated/],
    ['ack of 9 bytes', u8(2, 0, 0, 0, 1, 0, 0, 0, 0), /truncated/],
    ['refuse of 4 bytes', u8(3, 0, 0, 0), /truncated/],
    ['ping of 4 bytes', u8(4, 0, 0, 0), /truncated/],
    ['pong of 1 byte', u8(5), /truncated/],
    ['control, empty', u8(6), /not JSON/],
    ['control, not JSON', u8(6, 123, 34), /not JSON/],
    ['control, invalid UTF-8', u8(6, 0xff, 0xfe), /not JSON/],
    ['control null', control('null'), /unknown control/],
    ['control array', control('[]'), /unknown control/],
    ['control string', control('"sdp"'), /unknown control/],
    ['control number', control('42'), /unknown control/],
    ['control without t', control('{"description":{}}'), /unknown control/],
    ['control with t a number', control('{"t":1}'), /unknown control/],
    ['control of an unknown kind', control('{"t":"hack"}'), /unknown control/],
    ['control of an inherited kind', control('{"t":"toString"}'), /unknown control/],
  ]
  for (const [name, bytes, message] of cases)
    test(name, () =>
      assert.throws(
        () => decodeFrame(wire(bytes)),
        error => error instanceof MalformedFrame && error.name === 'MalformedFrame' && message.test(error.message),
      ),
    )
})

describe('message header (opens chunk 0)', () => {
  const headers = [
    {total: 0, actionId: 'a', kind: 0, meta: undefined},
    {total: 5, actionId: 'chat', kind: 1, meta: null},
    {total: 0xffffffff, actionId: 'x'.repeat(maxActionIdBytes), kind: 3, meta: {name: 'f.bin', size: 1e9}},
    {total: 12, actionId: 'émoji 🎉 id', kind: 2, meta: ['list', 1, true]},
    {total: 1, actionId: '', kind: 255, meta: 'a string'},
  ]
  for (const header of headers)
    test(`round trip: ${JSON.stringify(header).slice(0, 60)}`, () => {
      const body = u8(9, 8, 7)
      const bytes = new Uint8Array([...encodeMessageHeader(header), ...body])
      const decoded = decodeMessageHeader(bytes)
      assert.deepEqual(decoded.header, header)
      assert.deepEqual([...decoded.body], [...body])
      assert.equal(decoded.body.buffer, bytes.buffer, 'the body is a view, not a copy')
    })

  test('the layout is [total u32][id length u8][id][kind u8][meta length u32][meta]', () => {
    assert.equal(
      hex(encodeMessageHeader({total: 258, actionId: 'ab', kind: 2, meta: 1})),
      `00000102` + `02` + `6162` + `02` + `00000001` + `31`,
    )
  })

  test('a header inside a larger buffer (a subarray) decodes from its own offset', () => {
    const header = encodeMessageHeader({total: 3, actionId: 'id', kind: 1, meta: {a: 1}})
    const frame = encodeChunk(1, 0, true, [header, u8(1, 2, 3)])
    const decoded = decodeMessageHeader(decodeFrame(wire(frame)).payload)
    assert.deepEqual(decoded.header, {total: 3, actionId: 'id', kind: 1, meta: {a: 1}})
    assert.deepEqual([...decoded.body], [1, 2, 3])
  })

  const valid = encodeMessageHeader({total: 10, actionId: 'abc', kind: 1, meta: {x: 1}})
  const withMetaLength = length => {
    const bytes = valid.slice()
    new DataView(bytes.buffer).setUint32(9, length)
    return bytes
  }
  const malformed = [
    ['empty', u8(), /truncated/],
    ['4 bytes', u8(0, 0, 0, 1), /truncated/],
    ['id longer than the payload', u8(0, 0, 0, 1, 200, 97), /truncated/],
    ['no kind or meta length', u8(0, 0, 0, 1, 1, 97, 1), /truncated/],
    ['meta length 0xffffffff', withMetaLength(0xffffffff), /truncated/],
    ['meta length one past the end', withMetaLength(valid.byteLength - 13 + 1), /truncated/],
    ['meta that is not JSON', withMetaLength(3), /not JSON/],
    ['every prefix of a valid header', null, /truncated/],
  ]
  for (const [name, bytes, message] of malformed)
    test(name, () => {
      const inputs = bytes ? [bytes] : Array.from({length: valid.byteLength}, (_, n) => valid.subarray(0, n))
      for (const input of inputs)
        assert.throws(
          () => decodeMessageHeader(input),
          error => error instanceof MalformedFrame && message.test(error.message),
        )
    })
})
