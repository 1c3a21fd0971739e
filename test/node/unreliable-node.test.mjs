import {test} from 'node:test'
import assert from 'node:assert/strict'
import {startPeers as startBus} from './_bus.mjs'

const startPeers = (count, roomId) => startBus(new URL('./_unreliable-peer.mjs', import.meta.url), count, roomId)

test('Node peers (node-datachannel) exchange unreliable actions, latest wins, too-large rejects', async () => {
  const peers = startPeers(2, `unreliable-${Date.now()}`)
  const [a, b] = peers
  await Promise.all(peers.map(p => p.until(r => r.some(x => x.kind === 'joined'))))
  // Datagrams sent before the other side made its end of the channel are lost: send until one lands.
  let n = 0
  const timer = setInterval(() => a.child.send({type: 'move', n: n++}), 20)
  await b.until(r => r.filter(x => x.kind === 'state').length >= 20)
  clearInterval(timer)
  const seen = b.reports.filter(x => x.kind === 'state')
  assert.ok(seen.every(x => x.peerId === a.id()))
  assert.ok(
    seen.every((x, i) => i === 0 || x.n > seen[i - 1].n),
    'never an older one after a newer one',
  )
  a.child.send({type: 'big'})
  await a.until(r => r.some(x => x.kind === 'too-large'))
  assert.equal(a.reports.find(x => x.kind === 'too-large').code, 'too-large')
  assert.deepEqual(
    [...a.reports, ...b.reports].filter(x => x.kind === 'error'),
    [],
  )
  for (const peer of peers) peer.child.send({type: 'leave'})
  await Promise.all(peers.map(peer => peer.until(r => r.some(x => x.kind === 'left'))))
})
