// The elements on a server (SSR, Node): importing them must not throw, importing the classes
// must define nothing, and the define entry defines every tag, safely twice. Uses the built
// library (dist/lib, from `npm run build`, which `npm test` runs first): without it these fail.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const lib = fileURLToPath(new URL('../../dist/lib/elements/', import.meta.url))

/** A registry that keeps what is defined in it, as the browser's does. */
const memoryRegistry = () => {
  const defined = new Map()
  return {defined, get: tag => defined.get(tag), define: (tag, element) => void defined.set(tag, element)}
}

test('the library is built (these tests import dist/lib)', () => {
  assert.ok(existsSync(`${lib}define.js`), 'dist/lib is not built: run `npm run build` first')
})

test('importing the element classes in Node does not throw and defines nothing', async () => {
  const elements = await import(`${lib}index.js`)
  assert.equal(typeof elements.P2PRoom, 'function')
  assert.equal(elements.strategyNames.includes('nostr'), true)
  assert.equal(globalThis.customElements?.get(elements.tags.room), undefined)
})

test('defineElements defines every tag with its class, once', async () => {
  const elements = await import(`${lib}index.js`)
  const {defineElements} = await import(`${lib}define.js`)
  const registry = memoryRegistry()
  defineElements(registry)
  const classes = {
    room: elements.P2PRoom,
    action: elements.P2PAction,
    fileSend: elements.P2PFileSend,
    videoGrid: elements.P2PVideoGrid,
    peerList: elements.P2PPeerList,
    broadcast: elements.P2PBroadcast,
    diagnostics: elements.P2PDiagnostics,
  }
  assert.deepEqual(Object.keys(classes).sort(), Object.keys(elements.tags).sort())
  assert.deepEqual(
    [...registry.defined].sort(),
    Object.entries(classes)
      .map(([key, element]) => [elements.tags[key], element])
      .sort(),
  )
  const again = memoryRegistry()
  again.define(elements.tags.peerList, class Other {})
  defineElements(again) // a tag someone else defined first is left alone
  assert.equal(again.defined.size, 7)
  assert.notEqual(again.get(elements.tags.peerList), elements.P2PPeerList)
})

test('importing the define entry in Node registers the tags where there is a registry, and twice does not throw', async () => {
  const define = await import(`${lib}define.js`)
  // Lit's Node build brings a server-side registry (for SSR); the tags are defined in it.
  assert.ok(globalThis.customElements, 'Lit in Node provides a customElements registry')
  for (const [tag, element] of [
    [define.tags.room, define.P2PRoom],
    [define.tags.action, define.P2PAction],
    [define.tags.fileSend, define.P2PFileSend],
    [define.tags.videoGrid, define.P2PVideoGrid],
    [define.tags.peerList, define.P2PPeerList],
    [define.tags.diagnostics, define.P2PDiagnostics],
  ])
    assert.equal(globalThis.customElements.get(tag), element, `${tag} is defined`)
  await import(`${lib}define.js?second-copy`)
  assert.doesNotThrow(() => define.defineElements())
  assert.doesNotThrow(() => define.defineElements(undefined))
})

test('a <p2p-room> created on the server stays out of any room', async () => {
  const {P2PRoom} = await import(`${lib}index.js`)
  const room = new P2PRoom()
  room.setAttribute?.('app-id', 'ssr')
  assert.equal(room.joined, false)
  assert.equal(room.coreRoom, undefined)
  assert.equal(room.instance, undefined)
  assert.equal(typeof room.selfId, 'string')
})
