// The path a relayed message reports (OverlayNode's `message` hook, what room.peerInfo(id).path
// shows and examples/crowd draws): along a chain of 4 nodes the far end hears the sender first,
// each relaying member in order, itself last, and as many hops as the path has links.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createIdentity} from '../../dist/lib/core/identity.js'
import {createOverlayNode} from '../../dist/lib/core/overlay/node.js'

const until = async (check, ms = 10_000, what = 'condition') => {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(r => setTimeout(r, 20))
  }
}

test('a message along a chain reports the members it passed, in order', async () => {
  const identities = await Promise.all(Array.from({length: 4}, () => createIdentity()))
  const ids = identities.map(i => i.id)
  const nodes = new Map()
  const heard = []
  // A fixed chain ids[0] - ids[1] - ids[2] - ids[3]: no link is opened or closed by the nodes.
  const linked = (a, b) => Math.abs(ids.indexOf(a) - ids.indexOf(b)) === 1
  for (const identity of identities) {
    const id = identity.id
    const node = await createOverlayNode({
      identity,
      scope: 'path-test',
      maxConnections: 2,
      gossipIntervalMs: 50,
      send: (to, message) =>
        setTimeout(() => linked(id, to) && nodes.get(to)?.receive(id, structuredClone(message)), 1),
      message: (from, data, hops, path) => heard.push({at: id, from, hops, path}),
    })
    nodes.set(id, node)
    await node.start()
  }
  for (let i = 1; i < ids.length; i++) {
    nodes.get(ids[i - 1]).linkUp(ids[i])
    nodes.get(ids[i]).linkUp(ids[i - 1])
  }
  await until(
    () => ids.every(id => ids.every(other => other === id || nodes.get(id).isMember(other))),
    10_000,
    'members',
  )
  await nodes.get(ids[0]).sendTo(ids[3], new TextEncoder().encode('across'))
  await until(() => heard.some(h => h.at === ids[3]), 10_000, 'the far end to hear it')
  const got = heard.find(h => h.at === ids[3])
  assert.equal(got.from, ids[0])
  assert.deepEqual(got.path, ids)
  assert.equal(got.hops, got.path.length - 1)
  await Promise.all([...nodes.values()].map(n => n.stop()))
})
