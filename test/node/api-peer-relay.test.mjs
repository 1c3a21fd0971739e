// peer-relay's README, as its users write it, in one process: new PeerRelay({port, bootstrap}),
// peer.id at once (before any link), 'peer' events, send(id, data) relayed to a peer with no
// direct link, 'message' (data, from), destroy(cb); PeerRelay.Socket's address() at once.
import {createServer} from 'node:net'
import {test} from 'node:test'
import assert from 'node:assert/strict'
import PeerRelay from '../../dist/lib/peer-relay/index.js'

const freePort = () =>
  new Promise(resolve => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const {port} = server.address()
      server.close(() => resolve(port))
    })
  })
const event = (emitter, name, check = () => true) =>
  new Promise(resolve => {
    const listener = (...args) => check(...args) && (emitter.off(name, listener), resolve(args))
    emitter.on(name, listener)
  })

test('PeerRelay: ids at construction, peer events, a relayed message, destroy(cb)', async () => {
  const port = await freePort()
  const peer1 = new PeerRelay({port})
  const bootstrap = [`ws://127.0.0.1:${port}`]
  const peer2 = new PeerRelay({bootstrap})
  const peer3 = new PeerRelay({bootstrap})
  const peers = [peer1, peer2, peer3]
  try {
    for (const peer of peers) assert.match(peer.id, /^[0-9A-Za-z]{20}$/, 'peer.id is set by the constructor')
    assert.equal(new Set(peers.map(p => p.id)).size, 3)
    // Both newcomers link to the bootstrap peer: 'peer' (id) on each side.
    const linked = [
      event(peer2, 'peer', id => id === peer1.id),
      event(peer3, 'peer', id => id === peer1.id),
      event(peer1, 'peer', id => id === peer2.id),
      event(peer1, 'peer', id => id === peer3.id),
    ]
    await Promise.all(linked)
    // peer2 and peer3 have no port and no wrtc: the message goes through peer1.
    const got = event(peer3, 'message')
    peer2.send(peer3.id, {hello: 'world', n: [1, 2]})
    const [data, from] = await got
    assert.deepEqual(data, {hello: 'world', n: [1, 2]})
    assert.equal(from, peer2.id)
    assert.ok(!peer2.peers().includes(peer3.id), 'relayed, not direct')
  } finally {
    await Promise.all(peers.map(peer => new Promise(resolve => peer.destroy(resolve))))
  }
})

test('PeerRelay.Socket: address() names the peer id as soon as it is constructed', async () => {
  const socket = new PeerRelay.Socket()
  const address = socket.address()
  assert.equal(address.address, socket.peer.id)
  assert.match(address.address, /^[0-9A-Za-z]{20}$/)
  assert.equal(address.family, 'peer-relay')
  await new Promise(resolve => socket.bind(7000, resolve))
  assert.equal(socket.address().port, 7000)
  const closed = event(socket, 'close')
  await new Promise(resolve => socket.close(resolve))
  await closed
})
