// The unreliable channel's datagram codec, fed what a hostile peer can send: for any bytes,
// decodeDatagram returns a well-formed datagram or undefined (never throws), never reads
// beyond its input, and accepts nothing over one datagram. Round trips are exact.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {decodeDatagram, encodeDatagram, isUnreliable, maxDatagramBytes} from '../../dist/lib/core/unreliable.js'

const numRuns = Number(process.env.FUZZ_RUNS ?? 20_000)
const utf8 = new TextEncoder()
const buffer = bytes => bytes.slice().buffer

const datagramParts = fc.record({
  seq: fc.integer({min: 0, max: 0xffff_ffff}),
  id: fc
    .string({minLength: 1, maxLength: 40})
    .map(s => utf8.encode(s))
    .filter(b => b.byteLength >= 1 && b.byteLength <= 255),
  kind: fc.integer({min: 0, max: 3}),
  meta: fc.uint8Array({maxLength: 200}),
  body: fc.uint8Array({maxLength: 800}),
})

test('a datagram round-trips: sequence number, id, kind, metadata and body', () => {
  fc.assert(
    fc.property(datagramParts, ({seq, id, kind, meta, body}) => {
      const decoded = decodeDatagram(buffer(encodeDatagram(seq, id, kind, meta, body)))
      assert.ok(decoded)
      assert.equal(decoded.seq, seq)
      assert.equal(decoded.actionId, new TextDecoder().decode(id))
      assert.equal(decoded.kind, kind)
      assert.deepEqual([...decoded.meta], [...meta])
      assert.deepEqual([...decoded.body], [...body])
    }),
    {numRuns},
  )
})

const wellFormed = decoded =>
  decoded === undefined ||
  (Number.isInteger(decoded.seq) &&
    typeof decoded.actionId === 'string' &&
    decoded.actionId.length > 0 &&
    decoded.kind >= 0 &&
    decoded.kind <= 3 &&
    decoded.meta instanceof Uint8Array &&
    decoded.body instanceof Uint8Array)

test('arbitrary bytes decode to a well-formed datagram or to undefined, never a throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({maxLength: 1400}), bytes => {
      const decoded = decodeDatagram(buffer(bytes))
      assert.ok(wellFormed(decoded))
      if (decoded) assert.ok(decoded.meta.byteLength + decoded.body.byteLength < bytes.byteLength)
    }),
    {numRuns},
  )
})

test('valid datagrams mutated (bit flips, truncation, lengths at extremes) never throw', () => {
  const mutated = fc
    .tuple(datagramParts, fc.nat(), fc.integer({min: 0, max: 255}), fc.nat({max: 1200}), fc.boolean())
    .map(([{seq, id, kind, meta, body}, at, value, cut, truncate]) => {
      const bytes = encodeDatagram(seq, id, kind, meta, body)
      bytes[at % bytes.byteLength] = value
      return truncate ? bytes.subarray(0, cut % (bytes.byteLength + 1)) : bytes
    })
  fc.assert(
    fc.property(mutated, bytes => {
      assert.ok(wellFormed(decodeDatagram(buffer(bytes))))
    }),
    {numRuns},
  )
})

test('anything over one datagram, text frames and non-buffers are refused', () => {
  const body = new Uint8Array(maxDatagramBytes)
  assert.equal(decodeDatagram(buffer(encodeDatagram(1, utf8.encode('x'), 3, new Uint8Array(0), body))), undefined)
  const fits = new Uint8Array(maxDatagramBytes - 10)
  assert.ok(decodeDatagram(buffer(encodeDatagram(1, utf8.encode('x'), 3, new Uint8Array(0), fits))))
  for (const junk of ['text', null, undefined, 42, {}, new Uint8Array(20), new Blob([])])
    assert.equal(decodeDatagram(junk), undefined)
})

test('options: only {reliable: false} is unreliable; anything malformed is invalid-config', () => {
  assert.equal(isUnreliable(undefined), false)
  assert.equal(isUnreliable({}), false)
  assert.equal(isUnreliable({reliable: true}), false)
  assert.equal(isUnreliable({reliable: false}), true)
  for (const bad of [null, 'unreliable', {reliable: 0}, {reliable: 'false'}])
    assert.throws(
      () => isUnreliable(bad),
      error => error.code === 'invalid-config',
    )
})
