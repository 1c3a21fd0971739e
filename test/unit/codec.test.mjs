// How values travel (src/core/codec.ts): every kind of value arrives as its own type, values
// made in another realm are recognized, and bytes that do not decode are a 'malformed' P2PError.
import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import vm from 'node:vm'
import {ValueKind, decodeValue, encodeValue} from '../../dist/lib/core/codec.js'
import {P2PError} from '../../dist/lib/core/errors.js'

const roundTrip = async value => {
  const {kind, bytes} = await encodeValue(value)
  return {kind, value: decodeValue(kind, bytes)}
}
const bytesOf = buffer => [...new Uint8Array(buffer)]
const tag = value => Object.prototype.toString.call(value)
const sample = n => Uint8Array.from({length: n}, (_, i) => (i * 31 + 7) & 255)

describe('values arrive as they were sent', () => {
  const same = [
    ['undefined', undefined, ValueKind.Undefined],
    ['empty string', '', ValueKind.Text],
    ['text with unicode', 'plain ✓ 🎉 日本語 \u0000 \n', ValueKind.Text],
    ['a long string', 'x'.repeat(100_000), ValueKind.Text],
    ['zero', 0, ValueKind.Json],
    ['a negative fraction', -0.5, ValueKind.Json],
    ['the largest safe integer', Number.MAX_SAFE_INTEGER, ValueKind.Json],
    ['true', true, ValueKind.Json],
    ['false', false, ValueKind.Json],
    ['null', null, ValueKind.Json],
    ['an empty object', {}, ValueKind.Json],
    ['an empty array', [], ValueKind.Json],
    ['a nested object', {nested: {list: [1, 'two', null, {deep: [[]]}]}, ok: true, s: '✓'}, ValueKind.Json],
    ['a nested array', [1, [2, [3, ['four']]]], ValueKind.Json],
  ]
  for (const [name, value, kind] of same)
    test(name, async () => {
      const got = await roundTrip(value)
      assert.equal(got.kind, kind)
      assert.deepEqual(got.value, value)
    })

  // JSON's rules, which apply to every number, object and array sent.
  const json = [
    ['NaN arrives as null', Number.NaN, null],
    ['Infinity arrives as null', Number.POSITIVE_INFINITY, null],
    ['-0 arrives as 0', -0, 0],
    ['undefined fields are dropped', {a: 1, b: undefined}, {a: 1}],
    ['undefined in an array arrives as null', [undefined, 1], [null, 1]],
    ['a Date arrives as its ISO string', new Date(0), '1970-01-01T00:00:00.000Z'],
    ['a Map arrives as an empty object', new Map([[1, 2]]), {}],
  ]
  for (const [name, value, expected] of json)
    test(name, async () => assert.deepEqual((await roundTrip(value)).value, expected))

  const binary = [
    ['an ArrayBuffer', sample(300).buffer, sample(300)],
    ['an empty ArrayBuffer', new ArrayBuffer(0), []],
    ['a Uint8Array', sample(300), sample(300)],
    ['a Uint8Array viewing part of its buffer', sample(64).subarray(10, 20), sample(64).subarray(10, 20)],
    ['a Float32Array', new Float32Array([1.5, -2.25]), new Uint8Array(new Float32Array([1.5, -2.25]).buffer)],
    ['a DataView on a slice', new DataView(sample(16).buffer, 4, 8), sample(16).subarray(4, 12)],
    ['a Node Buffer', Buffer.from('hi'), [104, 105]],
    ['a Blob', new Blob([sample(1000)]), sample(1000)],
    ['a File', new File([sample(5)], 'f.bin'), sample(5)],
  ]
  for (const [name, value, expected] of binary)
    test(`${name} arrives as an ArrayBuffer of exactly its bytes`, async () => {
      const got = await roundTrip(value)
      assert.equal(got.kind, ValueKind.Binary)
      assert.equal(tag(got.value), '[object ArrayBuffer]')
      assert.deepEqual(bytesOf(got.value), [...expected])
    })

  test('a received ArrayBuffer never exposes bytes around the value', () => {
    const frame = sample(100)
    const value = decodeValue(ValueKind.Binary, frame.subarray(10, 20))
    assert.equal(value.byteLength, 10)
    assert.notEqual(value, frame.buffer)
    assert.deepEqual(bytesOf(value), [...frame.subarray(10, 20)])
  })

  test('text is UTF-8 on the wire', async () => {
    const {bytes} = await encodeValue('é✓')
    assert.deepEqual([...bytes], [0xc3, 0xa9, 0xe2, 0x9c, 0x93])
  })
})

describe('values made in another realm (an iframe, a vm context) are recognized', () => {
  const realm = vm.createContext({})
  const cases = [
    ['ArrayBuffer', 'new Uint8Array([1, 2, 3]).buffer', ValueKind.Binary, [1, 2, 3]],
    ['Uint8Array', 'new Uint8Array([4, 5])', ValueKind.Binary, [4, 5]],
    ['DataView', 'new DataView(new Uint8Array([6, 7, 8]).buffer, 1)', ValueKind.Binary, [7, 8]],
    ['object', '({a: [1, "b"]})', ValueKind.Json, {a: [1, 'b']}],
    ['array', '[1, {c: null}]', ValueKind.Json, [1, {c: null}]],
  ]
  for (const [name, source, kind, expected] of cases)
    test(name, async () => {
      const value = vm.runInContext(source, realm)
      if (kind === ValueKind.Binary)
        assert.equal(value instanceof ArrayBuffer || ArrayBuffer.isView(value), name !== 'ArrayBuffer')
      const got = await roundTrip(value)
      assert.equal(got.kind, kind)
      assert.deepEqual(kind === ValueKind.Binary ? bytesOf(got.value) : got.value, expected)
    })

  test('the foreign ArrayBuffer is not instanceof ours, and still travels as binary', async () => {
    const buffer = vm.runInContext('new ArrayBuffer(4)', realm)
    assert.equal(buffer instanceof ArrayBuffer, false)
    assert.equal((await encodeValue(buffer)).kind, ValueKind.Binary)
  })
})

describe('bytes that do not decode as their kind are a malformed P2PError', () => {
  const cases = [
    ['JSON that does not parse', ValueKind.Json, new TextEncoder().encode('{"a":')],
    ['empty JSON', ValueKind.Json, new Uint8Array(0)],
    ['invalid UTF-8 as JSON', ValueKind.Json, new Uint8Array([0xff, 0xfe])],
    ['kind 4', 4, new Uint8Array(1)],
    ['kind 255', 255, new Uint8Array(0)],
    ['kind -1', -1, new Uint8Array(0)],
  ]
  for (const [name, kind, bytes] of cases)
    test(name, () =>
      assert.throws(
        () => decodeValue(kind, bytes),
        error => error instanceof P2PError && error.code === 'malformed',
      ),
    )

  test('invalid UTF-8 as text arrives with replacement characters, not an error', () =>
    assert.equal(decodeValue(ValueKind.Text, new Uint8Array([0x61, 0xff])), 'a\ufffd'))
})
