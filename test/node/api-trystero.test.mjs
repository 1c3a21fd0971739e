// Trystero's README API, end to end between Node peers (node-datachannel, driver strategy),
// each peer in its own process: joinRoom(config, roomId, onJoinError), makeAction's
// [send, receive, onProgress], send(data, targetPeers, metadata, onProgress) → promise,
// onPeerJoin/onPeerLeave (latest callback wins), getPeers, ping, leave, selfId.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {startPeers as startBus} from './_bus.mjs'

const script = new URL('./_api-peer.mjs', import.meta.url)
const kinds = (peer, kind) => peer.reports.filter(r => r.kind === kind)
const stop = peers => {
  for (const peer of peers) if (peer.child.exitCode === null) peer.child.kill()
}

test("Trystero's room API between three Node peers", async () => {
  const peers = startBus(script, 3, `api-${Date.now()}`)
  try {
    const [a, b, c] = peers
    await Promise.all(peers.map(p => p.until(() => kinds(p, 'joined').length === 2)))
    for (const p of peers) {
      const ready = kinds(p, 'ready')[0]
      assert.equal(typeof ready.selfId, 'string')
      assert.ok(ready.sameSelfId, 'selfId is the same from every entry point')
      assert.ok(ready.sameRoom, 'joinRoom twice with the same roomId gives the same room')
      assert.ok(ready.action, 'makeAction gives [send, receive, onProgress]')
      assert.deepEqual(
        kinds(p, 'joined')
          .map(r => r.peerId)
          .sort(),
        peers
          .filter(o => o !== p)
          .map(o => o.id())
          .sort(),
      )
      assert.equal(kinds(p, 'stale-callback').length, 0, 'only the latest onPeerJoin callback is called')
    }

    // getPeers: RTCPeerConnections keyed by peer id, not including the local user.
    a.child.send({type: 'peers'})
    await a.until(() => kinds(a, 'peers').length === 1)
    const listed = kinds(a, 'peers')[0]
    assert.deepEqual(listed.ids.sort(), [b.id(), c.id()].sort())
    assert.ok(listed.connections)

    // To everyone (targetPeers omitted), to one id (a string), to a list of ids.
    a.child.send({type: 'send', text: 'to all'})
    a.child.send({type: 'send', text: 'to b', to: b.id()})
    a.child.send({type: 'send', text: 'to c', to: [c.id()]})
    await a.until(() => kinds(a, 'sent').length === 3)
    assert.ok(
      kinds(a, 'sent').every(r => r.isPromise),
      'send returns a promise',
    )
    await b.until(() => kinds(b, 'received').length === 2)
    await c.until(() => kinds(c, 'received').length === 2)
    assert.deepEqual(
      kinds(b, 'received').map(r => [r.data, r.peerId]),
      [
        ['to all', a.id()],
        ['to b', a.id()],
      ],
    )
    assert.deepEqual(
      kinds(c, 'received').map(r => r.data),
      ['to all', 'to c'],
    )

    // Binary with metadata (targetPeers null: all): an ArrayBuffer at the other end, the
    // metadata alongside; progress on both sides runs to 1.
    const metadata = {name: 'photo.jpg', type: 'image/jpeg'}
    b.child.send({type: 'send', bytes: 200_000, to: null, metadata})
    await b.until(() => kinds(b, 'sent').length === 1)
    const {progress} = kinds(b, 'sent')[0]
    assert.deepEqual(Object.keys(progress).sort(), [a.id(), c.id()].sort())
    assert.ok(
      Object.values(progress).every(f => f === 1),
      `sender progress ${JSON.stringify(progress)}`,
    )
    for (const p of [a, c]) {
      const fromB = () => kinds(p, 'receive-progress').find(r => r.peerId === b.id())
      await p.until(() => kinds(p, 'received').some(r => r.arrayBuffer) && fromB())
      const got = kinds(p, 'received').find(r => r.arrayBuffer)
      assert.deepEqual([got.bytes, got.data, got.peerId, got.metadata], [200_000, [0, 1, 2, 3], b.id(), metadata])
      assert.deepEqual(fromB(), {
        type: 'report',
        kind: 'receive-progress',
        percent: 1,
        peerId: b.id(),
        metadata,
      })
    }

    // ping resolves to the round trip in milliseconds.
    c.child.send({type: 'ping', to: a.id()})
    await c.until(() => kinds(c, 'pong').length === 1)
    assert.ok(typeof kinds(c, 'pong')[0].rtt === 'number' && kinds(c, 'pong')[0].rtt >= 0)

    // leave: the others' onPeerLeave gets the id; the leaver's process ends by itself.
    const exited = new Promise(resolve => c.child.once('exit', resolve))
    c.child.send({type: 'leave'})
    await Promise.all([a, b].map(p => p.until(() => kinds(p, 'peer-left').some(r => r.peerId === c.id()))))
    await exited
    a.child.send({type: 'peers'})
    await a.until(() => kinds(a, 'peers').length === 2)
    assert.deepEqual(kinds(a, 'peers')[1].ids, [b.id()])
  } finally {
    stop(peers)
  }
})

test('onJoinError(details) with appId, roomId, peerId and error when the passwords differ', async () => {
  const roomId = `api-pw-${Date.now()}`
  const [right] = startBus(script, 1, roomId, ['right'])
  const [wrong] = startBus(script, 1, roomId, ['wrong'])
  // The two buses are separate: join them by hand, each one's publishes go to the other too.
  const peers = [right, wrong]
  for (const p of peers)
    p.child.on('message', message => {
      if (message.type === 'publish')
        for (const other of peers)
          if (other !== p && other.child.connected)
            other.child.send({type: 'deliver', topic: message.topic, data: message.data})
    })
  try {
    await Promise.all(peers.map(p => p.until(() => kinds(p, 'join-error').length >= 1)))
    for (const [p, other] of [
      [right, wrong],
      [wrong, right],
    ]) {
      const {details} = kinds(p, 'join-error')[0]
      assert.equal(details.appId, 'api-test')
      assert.equal(details.roomId, roomId)
      assert.equal(details.peerId, other.id())
      assert.equal(typeof details.error, 'string')
      assert.match(details.error, /password/)
    }
    assert.equal(kinds(right, 'joined').length + kinds(wrong, 'joined').length, 0, 'no connection')
  } finally {
    stop(peers)
  }
})
