// The elements on a server (SSR, Node): importing them must not throw, importing the classes
// must define nothing, and the define entry is safe to run twice. Uses the built library
// (dist/lib, from `npm run build`).
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const lib = fileURLToPath(new URL('../../dist/lib/elements/', import.meta.url))
const built = existsSync(`${lib}define.js`)
const skip = built ? false : 'dist/lib is not built: run `npm run build` first'

test('importing the element classes in Node does not throw and defines nothing', {skip}, async () => {
  const elements = await import(`${lib}index.js`)
  assert.equal(typeof elements.P2PRoom, 'function')
  assert.deepEqual(elements.strategyNames.includes('nostr'), true)
  assert.equal(globalThis.customElements?.get('p2p-room'), undefined)
})

test('importing the define entry in Node does not throw, and defining again does not either', {skip}, async () => {
  const define = await import(`${lib}define.js`)
  assert.equal(globalThis.customElements?.get('p2p-room') ?? define.P2PRoom, define.P2PRoom)
  await import(`${lib}define.js?second-copy`)
  assert.doesNotThrow(() => define.defineElements())
  assert.doesNotThrow(() => define.defineElements(undefined))
})

test('a <p2p-room> created on the server stays out of any room', {skip}, async () => {
  const {P2PRoom} = await import(`${lib}index.js`)
  const room = new P2PRoom()
  room.setAttribute?.('app-id', 'ssr')
  assert.equal(room.joined, false)
  assert.equal(room.instance, undefined)
  assert.equal(typeof room.selfId, 'string')
})
