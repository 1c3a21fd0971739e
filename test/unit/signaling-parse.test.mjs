// The signaling parser is the first thing every relay message meets: fuzz it. Whatever a
// relay delivers (arbitrary text, valid messages mutated in any field), it must return a
// well-formed envelope or a typed rejection, and never throw.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {parseEnvelope, parseSealed, protocolVersion, signedText} from '../../dist/lib/core/signaling.js'
import {createIdentity, sign, toBase64Url} from '../../dist/lib/core/identity.js'
import {deriveKey, encrypt} from '../../dist/lib/core/crypto.js'

const reasons = new Set([
  'not-text',
  'too-long',
  'not-json',
  'not-object',
  'version',
  'kind',
  'from',
  'to',
  'ts',
  'key',
  'sealed',
  'sig',
  'session',
  'sdp',
  'credentials',
  'mismatch',
  'extra-field',
])
const runs = Number(process.env.FUZZ_RUNS ?? 20_000)
let cases = 0
const typed = result => {
  cases++
  assert.equal(typeof result, 'object')
  if (result.ok) return assert.equal(result.value.v, protocolVersion)
  assert.ok(reasons.has(result.reason), `untyped rejection ${result.reason}`)
}

/** A seal's parse: typed rejection, or the inner message of the envelope's kind and sender. */
const typedSeal = (result, envelope) => {
  cases++
  assert.equal(typeof result, 'object')
  if (!result.ok) return assert.ok(reasons.has(result.reason), `untyped rejection ${result.reason}`)
  assert.equal(result.value.t, envelope.t)
  assert.equal(result.value.from, envelope.from)
}

const alice = await createIdentity()
const bob = await createIdentity()
const key = await deriveKey('fuzz-app', 'fuzz-room')
const roomTopic = 'a'.repeat(40)
const inner = {
  t: 'offer',
  from: alice.id,
  to: bob.id,
  ts: Date.now(),
  session: 'S'.repeat(16),
  since: Date.now() - 5,
  peerSession: 'P'.repeat(16),
  sdp: {type: 'offer', sdp: 'v=0\r\n'},
  credentials: {token: 'x'},
}
const sealed = await encrypt(key, JSON.stringify(inner))
const head = {v: 2, t: 'offer', from: alice.id, to: bob.id, ts: inner.ts, key: alice.publicKeyText, sealed}
const valid = {...head, sig: toBase64Url(await sign(alice, new TextEncoder().encode(signedText(roomTopic, head))))}
const validText = JSON.stringify(valid)

test('a valid envelope and its seal parse', () => {
  const envelope = parseEnvelope(validText)
  assert.equal(envelope.ok, true)
  assert.equal(parseSealed(JSON.stringify(inner), envelope.value).ok, true)
})

test('arbitrary strings and JSON values give a typed rejection, never an exception', () => {
  fc.assert(
    fc.property(fc.string({maxLength: 300}), text => typed(parseEnvelope(text))),
    {numRuns: runs},
  )
  fc.assert(
    fc.property(fc.jsonValue(), value => typed(parseEnvelope(JSON.stringify(value)))),
    {numRuns: runs},
  )
  fc.assert(
    fc.property(fc.anything(), value => typed(parseEnvelope(value))),
    {numRuns: runs / 4},
  )
})

const fields = Object.keys(valid)
const mutations = fc.oneof(
  // a field replaced by any JSON value
  fc
    .record({field: fc.constantFrom(...fields), value: fc.jsonValue()})
    .map(({field, value}) => ({...valid, [field]: value})),
  // a field removed
  fc.constantFrom(...fields).map(field => Object.fromEntries(Object.entries(valid).filter(([k]) => k !== field))),
  // a field added
  fc
    .record({field: fc.string({maxLength: 8}), value: fc.jsonValue()})
    .map(({field, value}) => ({...valid, [field]: value})),
  // one character of a string field changed (a corrupted id, key, seal or signature)
  fc
    .record({
      field: fc.constantFrom('t', 'from', 'to', 'key', 'sealed', 'sig'),
      at: fc.nat(),
      char: fc.string({minLength: 1, maxLength: 1, unit: 'binary'}),
    })
    .map(({field, at, char}) => {
      const text = valid[field]
      const i = at % text.length
      return {...valid, [field]: text.slice(0, i) + char + text.slice(i + 1)}
    }),
  // the kind swapped for another
  fc
    .constantFrom('announce', 'answer', 'reject', 'wrong-key', 'restart', 'restart-answer', 'hello')
    .map(t => ({...valid, t})),
)

test('mutated valid messages give an envelope or a typed rejection', () => {
  fc.assert(
    fc.property(mutations, message => {
      const result = parseEnvelope(JSON.stringify(message))
      typed(result)
      // Whatever got through the parser must still match its seal to be acted on.
      // (A mutated `sig` or `key` can pass both parsers: the signature is checked after them.)
      if (result.ok) typedSeal(parseSealed(JSON.stringify(inner), result.value), result.value)
    }),
    {numRuns: runs},
  )
})

test('mutated seals give a typed rejection against their envelope', () => {
  const envelope = parseEnvelope(validText).value
  const innerFields = Object.keys(inner)
  fc.assert(
    fc.property(
      fc.oneof(
        fc
          .record({field: fc.constantFrom(...innerFields), value: fc.jsonValue()})
          .map(({field, value}) => ({...inner, [field]: value})),
        fc
          .constantFrom(...innerFields)
          .map(field => Object.fromEntries(Object.entries(inner).filter(([k]) => k !== field))),
        fc.string({maxLength: 200}),
      ),
      message => {
        const result = parseSealed(typeof message === 'string' ? message : JSON.stringify(message), envelope)
        cases++
        if (!result.ok) assert.ok(reasons.has(result.reason))
      },
    ),
    {numRuns: runs},
  )
})

test('oversized input is refused before parsing', () => {
  typed(parseEnvelope(`{"v":2,"x":"${'a'.repeat(70_000)}"}`))
  assert.equal(parseEnvelope(`{"v":2,"x":"${'a'.repeat(70_000)}"}`).reason, 'too-long')
})

test('report the case count', () => {
  console.log(`# signaling parser fuzz: ${cases} cases, every one an envelope or a typed rejection`)
  assert.ok(cases > runs)
})
