// The Yjs provider's wire format (src/yjs/wire.ts): what it writes is what y-protocols and lib0
// read and write (so the messages are y-protocols' own), and its reader turns any bytes at all
// into one well-formed message or undefined, never a throw (fast-check over arbitrary and
// mutated input).
import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as syncProtocol from 'y-protocols/sync'
import {Awareness, encodeAwarenessUpdate} from 'y-protocols/awareness'
import {
  encodeAwareness,
  encodeAwarenessEntries,
  encodeSync,
  maxAwarenessEntries,
  readMessage,
} from '../../dist/lib/yjs/wire.js'

const runs = Number(process.env.FUZZ_RUNS ?? 2000)

const docWith = text => {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return doc
}

describe('yjs wire format', () => {
  test('sync step 1 and 2 are byte for byte what y-protocols writes, and y-protocols reads ours', () => {
    const doc = docWith('hello')
    const ours = encodeSync(0, Y.encodeStateVector(doc))
    const theirs = encoding.createEncoder()
    encoding.writeVarUint(theirs, 0)
    syncProtocol.writeSyncStep1(theirs, doc)
    assert.deepEqual(ours, encoding.toUint8Array(theirs))

    const step2 = encodeSync(1, Y.encodeStateAsUpdate(doc))
    const target = new Y.Doc()
    const decoder = decoding.createDecoder(step2)
    assert.equal(decoding.readVarUint(decoder), 0)
    syncProtocol.readSyncMessage(decoder, encoding.createEncoder(), target, null)
    assert.equal(target.getText('t').toString(), 'hello')
  })

  test('an awareness message carries y-protocols awareness updates unchanged', () => {
    const awareness = new Awareness(new Y.Doc())
    awareness.setLocalStateField('user', {name: 'Ada ✓'})
    const update = encodeAwarenessUpdate(awareness, [awareness.clientID])
    const message = readMessage(encodeAwareness(update))
    assert.equal(message.kind, 'awareness')
    assert.deepEqual(
      message.entries.map(e => [e.clientID, e.state]),
      [[awareness.clientID, {user: {name: 'Ada ✓'}}]],
    )
    assert.deepEqual(encodeAwarenessEntries(message.entries), update)
    awareness.destroy()
  })

  test('large numbers and lengths round-trip (varUint up to 2^53 - 1)', () => {
    const entries = [{clientID: 2 ** 32 + 5, clock: Number.MAX_SAFE_INTEGER, state: null, json: 'null'}]
    const message = readMessage(encodeAwareness(encodeAwarenessEntries(entries)))
    assert.deepEqual(
      message.entries.map(e => [e.clientID, e.clock]),
      [[2 ** 32 + 5, Number.MAX_SAFE_INTEGER]],
    )
    const payload = new Uint8Array(70_000).fill(7)
    assert.deepEqual(readMessage(encodeSync(2, payload)), {kind: 'sync', step: 2, payload})
  })

  test('refuses what is not exactly one message', () => {
    const good = encodeSync(2, Y.encodeStateAsUpdate(docWith('x')))
    const bad = [
      new Uint8Array(0),
      new Uint8Array([2]), // unknown type
      new Uint8Array([0, 3, 0]), // unknown sync step
      good.subarray(0, good.length - 1), // truncated
      new Uint8Array([...good, 0]), // trailing byte
      new Uint8Array([0, 2, ...Array(9).fill(0xff), 1]), // a length past 2^53
      encodeAwareness(new Uint8Array([maxAwarenessEntries + 1])), // too many entries
      encodeAwareness(new Uint8Array([1, 1, 1, 2, 0xc3, 0x28])), // invalid UTF-8
      encodeAwareness(new Uint8Array([1, 1, 1, 1, 0x7b])), // invalid JSON
    ]
    for (const bytes of bad) assert.equal(readMessage(bytes), undefined, `accepted ${[...bytes]}`)
  })

  test('any bytes, and valid messages mutated, read as a message or undefined, never a throw', () => {
    const valid = [
      encodeSync(0, Y.encodeStateVector(docWith('abc'))),
      encodeSync(2, Y.encodeStateAsUpdate(docWith('some text'))),
      encodeAwareness(encodeAwarenessEntries([{clientID: 9, clock: 3, state: {a: 1}, json: '{"a":1}'}])),
    ]
    const mutated = fc
      .tuple(fc.constantFrom(...valid), fc.nat(), fc.integer({min: 0, max: 255}), fc.nat(8))
      .map(([bytes, at, value, cut]) => {
        const copy = bytes.slice(0, Math.max(0, bytes.length - cut))
        if (copy.length) copy[at % copy.length] = value
        return copy
      })
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({maxLength: 64}), mutated), bytes => {
        const message = readMessage(bytes)
        assert.ok(message === undefined || message.kind === 'sync' || message.kind === 'awareness')
      }),
      {numRuns: runs},
    )
  })
})
