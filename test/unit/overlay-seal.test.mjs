// End-to-end sealing (src/core/overlay/seal.ts): a relay can neither read, alter, re-address,
// replay nor forge; cards cannot be claimed under another id; broadcasts are signed.
import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {createIdentity} from '../../dist/lib/core/identity.js'
import {createSealer} from '../../dist/lib/core/overlay/seal.js'

const bytes = text => new TextEncoder().encode(text)
const text = b => new TextDecoder().decode(b)

describe('seal', async () => {
  const [alice, bob, mallory] = await Promise.all([createIdentity(), createIdentity(), createIdentity()])
  const scope = 'room-topic'
  const [a, b, m] = await Promise.all([alice, bob, mallory].map(id => createSealer(id, scope)))
  const [aCard, bCard, mCard] = await Promise.all([a, b, m].map(s => b.verifyCard(s.card)))

  test("cards verify; a card under someone else's id, or from another scope, does not", async () => {
    assert.ok(aCard && bCard && mCard)
    assert.equal(await b.verifyCard({...m.card, id: alice.id}), undefined)
    assert.equal(await b.verifyCard({...a.card, dh: m.card.dh}), undefined)
    assert.equal(await b.verifyCard({...m.card, key: alice.publicKeyText}), undefined)
    const other = await createSealer(alice, 'another-room')
    assert.equal(await b.verifyCard(other.card), undefined)
    assert.equal(await b.verifyCard(null), undefined)
    assert.equal(await b.verifyCard({id: 1}), undefined)
  })

  test('sealed: only the receiver reads it; tampering, re-addressing and replay are dropped', async () => {
    const sealed = await a.seal(bCard, bytes('secret for bob'))
    assert.ok(!JSON.stringify(sealed).includes('secret'))
    // Mallory relays it: she cannot open it (it is not for her, and her key differs).
    assert.equal(await m.open(aCard, sealed), undefined)
    assert.equal(await m.open(aCard, {...sealed, t: mallory.id}), undefined)
    // A flipped bit, a changed seq or a changed sender is dropped by Bob.
    const c = sealed.c
    const flipped = c.slice(0, 5) + (c[5] === 'A' ? 'B' : 'A') + c.slice(6)
    assert.equal(await b.open(aCard, {...sealed, c: flipped}), undefined)
    assert.equal(await b.open(aCard, {...sealed, n: sealed.n + 1}), undefined)
    assert.equal(await b.open(mCard, {...sealed, f: mallory.id}), undefined)
    assert.equal(text(await b.open(aCard, sealed)), 'secret for bob')
    // The same frame again: a replay.
    assert.equal(await b.open(aCard, sealed), undefined)
    // Mallory forges "from Alice" with her own key: Bob's key with Alice differs.
    const forged = await m.seal(bCard, bytes('from alice, honest'))
    assert.equal(await b.open(aCard, {...forged, f: alice.id}), undefined)
    // Junk
    assert.equal(await b.open(aCard, {f: alice.id, t: bob.id, n: 9, iv: '!!', c: ''}), undefined)
    assert.equal(await b.open(aCard, null), undefined)
  })

  test('signed broadcasts: readable by all, unforgeable, not replayable', async () => {
    const signed = await a.sign(bytes('hello room'))
    assert.equal(text(await m.check(aCard, signed)), 'hello room')
    assert.equal(text(await b.check(aCard, signed)), 'hello room')
    assert.equal(await b.check(aCard, signed), undefined, 'replay')
    const next = await a.sign(bytes('second'))
    assert.equal(await b.check(aCard, {...next, p: Buffer.from('evil').toString('base64url')}), undefined)
    assert.equal(await b.check(aCard, {...next, n: next.n + 5}), undefined)
    const forged = await m.sign(bytes('i am alice'))
    assert.equal(await b.check(aCard, {...forged, f: alice.id}), undefined)
    assert.equal(text(await b.check(aCard, next)), 'second')
  })
})
