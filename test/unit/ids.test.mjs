// Peer ids: 20 alphanumeric characters (the torrent strategy carries them as exactly 20
// bytes), derived from the public key of an identity, so a peer cannot pick its id.
// Who offers to whom is signaling's business: see signaling-replay and signaling-flood.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createIdentity} from '../../dist/lib/core/identity.js'
import {randomId} from '../../dist/lib/core/ids.js'

test('random ids are 20 alphanumeric characters and do not repeat', () => {
  const ids = Array.from({length: 10_000}, () => randomId(20))
  assert.ok(ids.every(id => /^[0-9A-Za-z]{20}$/.test(id)))
  assert.equal(new Set(ids).size, ids.length)
})

test('identity ids are 20 alphanumeric characters, one per key pair', async () => {
  const identities = await Promise.all(Array.from({length: 50}, () => createIdentity()))
  assert.ok(identities.every(({id}) => /^[0-9A-Za-z]{20}$/.test(id)))
  assert.equal(new Set(identities.map(({id}) => id)).size, identities.length)
})
