// The nostr strategy's own BIP-340 signer (src/strategies/nostr-sign.ts): every event it
// signs verifies under nostr-tools (the check relays run), its id is the event's hash, and
// one changed byte anywhere makes verification fail.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {schnorr} from '@noble/curves/secp256k1.js'
import {verifyEvent} from 'nostr-tools/pure'
import {hexToBytes} from 'nostr-tools/utils'
import {createNostrSigner} from '../../dist/lib/strategies/nostr-sign.js'

const verify = (sig, id, pubkey) => schnorr.verify(hexToBytes(sig), hexToBytes(id), hexToBytes(pubkey))

test('signed events verify, with the session key as pubkey', () => {
  for (let i = 0; i < 40; i++) {
    const signer = createNostrSigner()
    assert.match(signer.publicKey, /^[0-9a-f]{64}$/)
    for (let j = 0; j < 3; j++) {
      const content = 'x'.repeat(i * 37 + j)
      const event = signer.sign({kind: 25_713, created_at: 1_700_000_000 + i, tags: [['x', `t${j}`]], content})
      assert.equal(event.pubkey, signer.publicKey)
      assert.equal(event.content, content)
      assert.ok(verifyEvent({...event}), `event ${i}.${j} verifies`)
      assert.ok(verify(event.sig, event.id, event.pubkey))
    }
  }
})

test('a changed content, id, signature or key fails verification', () => {
  const signer = createNostrSigner()
  const event = signer.sign({kind: 25_713, created_at: 1_700_000_000, tags: [['x', 'a']], content: 'hello'})
  const flip = hex => (hex[0] === '0' ? '1' : '0') + hex.slice(1)
  assert.equal(verifyEvent({...event, content: 'hellp'}), false)
  assert.equal(verify(flip(event.sig), event.id, event.pubkey), false)
  assert.equal(verify(event.sig, flip(event.id), event.pubkey), false)
  assert.equal(verify(event.sig, event.id, createNostrSigner().publicKey), false)
})

test('two signatures of the same event differ (fresh aux randomness) and both verify', () => {
  const signer = createNostrSigner()
  const template = {kind: 25_713, created_at: 1_700_000_000, tags: [], content: 'same'}
  const [a, b] = [signer.sign(template), signer.sign(template)]
  assert.equal(a.id, b.id)
  assert.notEqual(a.sig, b.sig)
  assert.ok(verify(a.sig, a.id, a.pubkey) && verify(b.sig, b.id, b.pubkey))
})
