// The rest of the PeerRelay API (p2p-elements/peer-relay), each peer in its own process as a
// user runs it: connect(id) gives a 'peer' event and disconnect(id) closes the link (messages
// then go relayed); send to an id no one knows gives an 'error' event with a clear message;
// PeerRelay.Socket works with close(cb) and close(); `npm run peer -- --listen PORT` prints its
// URL and id and relays between peers that do not listen. 127.0.0.1 only.
import {spawn} from 'node:child_process'
import {after, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {watchLines} from './_lines.mjs'
import {poll, sleep, startProcess} from './_peer-relay-net.mjs'
import PeerRelay from '../../dist/lib/peer-relay/index.js'

const root = new URL('../../', import.meta.url)

describe('PeerRelay API across processes', () => {
  const stops = []
  after(() => Promise.all(stops.map(stop => stop())))

  test('connect(id) gives a peer event, disconnect(id) closes the link, messages still arrive relayed', async () => {
    // Three peers over a bootstrap (a full mesh under the cap): connect(id) gives its 'peer'
    // event whether the overlay linked them already or the link opens for it.
    const boot = await startProcess({count: 1, listen: true, bootstrap: [], maxConnections: 3})
    stops.push(boot.stop)
    const url = boot.peers[0].url
    const [a, b] = await Promise.all(
      [0, 1].map(() => startProcess({count: 1, listen: true, bootstrap: [url], maxConnections: 3})),
    )
    stops.push(a.stop, b.stop)
    const [aId] = a.ids
    const [bId] = b.ids
    assert.ok(await poll(async () => (await a.ask({cmd: 'peers'}, 'peers')).members[0] === 2, 15_000), 'a knows b')
    const from = a.reports.length
    a.send({cmd: 'connect', index: 0, id: bId})
    await a.next(r => r.kind === 'peer' && r.id === bId, 15_000, "a's peer event for b", from)
    assert.ok((await a.ask({cmd: 'peers'}, 'peers')).peers[0].includes(bId))
    assert.ok(
      await poll(async () => (await b.ask({cmd: 'peers'}, 'peers')).peers[0].includes(aId), 5000),
      'b linked to a',
    )
    a.send({cmd: 'disconnect', index: 0, id: bId})
    const unlinked = await poll(async () => {
      const [pa, pb] = await Promise.all([a.ask({cmd: 'peers'}, 'peers'), b.ask({cmd: 'peers'}, 'peers')])
      return !pa.peers[0].includes(bId) && !pb.peers[0].includes(aId)
    }, 5000)
    assert.ok(unlinked, 'the link is closed on both sides')
    await sleep(3000) // rebalancing does not bring it back
    assert.ok(!(await a.ask({cmd: 'peers'}, 'peers')).peers[0].includes(bId), 'not redialed')
    const got = b.reports.length
    a.send({cmd: 'send', index: 0, id: bId, data: 'relayed after disconnect'})
    const message = await b.next(r => r.kind === 'received', 10_000, 'the relayed message', got)
    assert.deepEqual([message.data, message.from], ['relayed after disconnect', aId])
  })

  test("send to an id no one knows: an 'error' event that says so, the process carries on", async () => {
    const lone = await startProcess({count: 1, listen: true, bootstrap: []})
    stops.push(lone.stop)
    const from = lone.reports.length
    lone.send({cmd: 'send', index: 0, id: 'NoSuchPeer0000000000', data: 'hello?'})
    const error = await lone.next(r => r.kind === 'error', 15_000, 'the error event', from)
    assert.equal(error.code, 'unknown-peer')
    assert.match(error.message, /NoSuchPeer0000000000 is not a member/)
    lone.send({cmd: 'send', index: 0, id: 42, data: 'not an id'})
    const second = await lone.next(r => r.kind === 'error' && r !== error, 5000, 'the bad-id error', from + 1)
    assert.match(second.message, /non-empty string/)
    assert.ok(!lone.reports.some(r => r.kind === 'unhandled'), 'no unhandled rejection')
    assert.ok((await lone.ask({cmd: 'peers'}, 'peers')).peers, 'still answering')
  })

  test("without an 'error' listener the failure is a 'warning', not a crash", async () => {
    const peer = new PeerRelay({unknownPeerTimeoutMs: 300})
    stops.push(() => new Promise(resolve => peer.destroy(resolve)))
    const warning = new Promise(resolve => peer.once('warning', resolve))
    peer.send('NoSuchPeer0000000000', 'x')
    assert.match((await warning).message, /not a member/)
  })

  test('PeerRelay.Socket: bind, address, send(offset, length), message, close(cb) and close()', async () => {
    const boot = await startProcess({count: 1, listen: true, bootstrap: []})
    stops.push(boot.stop)
    const child = watchLines(
      spawn(process.execPath, ['test/node/_peer-relay-socket.mjs', boot.peers[0].url], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    )
    stops.push(async () => child.kill())
    await child.waitFor(/^bound$/, 'bind callback')
    const [, same, port, family] = await child.waitFor(/^address (\w+) (\d+) (\S+)$/, 'address')
    assert.deepEqual([same, port, family], ['true', '4242', 'peer-relay'])
    assert.deepEqual((await child.waitFor(/^message (.*) from-a (\w+) (\S+)$/, 'message')).slice(1), [
      'hello dgram',
      'true',
      'peer-relay',
    ])
    await child.waitFor(/^sent null 11$/, 'send callback')
    await child.waitFor(/^closed with callback$/, 'close(cb)')
    await child.waitFor(/^closed without callback$/, 'close()')
    const code = await new Promise(resolve => child.once('exit', resolve))
    assert.equal(code, 0, 'the process ends by itself once both sockets are closed')
  })

  test('npm run peer -- --listen 0: prints its URL and id, accepts links, relays', async () => {
    const child = watchLines(
      spawn(process.execPath, ['scripts/peer.mjs', '--listen', '0'], {cwd: root, stdio: ['ignore', 'pipe', 'inherit']}),
    )
    stops.push(async () => child.kill('SIGTERM'))
    const [, id, url] = await child.waitFor(/peer (\w{20}) listening at (ws:\/\/\S+)/, 'the URL line')
    const [a, b] = await Promise.all([0, 1].map(() => startProcess({count: 1, listen: false, bootstrap: [url]})))
    stops.push(a.stop, b.stop)
    const [bId] = b.ids
    assert.ok(await poll(async () => (await a.ask({cmd: 'peers'}, 'peers')).members[0] === 2, 15_000), 'a knows b')
    await child.waitFor(new RegExp(`linked ${a.ids[0]}`), 'the listening peer logs the link')
    const got = b.reports.length
    a.send({cmd: 'send', index: 0, id: bId, data: 'through the listening process'})
    const message = await b.next(r => r.kind === 'received', 10_000, 'the relayed message', got)
    assert.equal(message.data, 'through the listening process')
    const links = await a.ask({cmd: 'peers'}, 'peers')
    assert.deepEqual(links.peers[0], [id], 'a is linked only to the listening peer: the message was relayed')
  })
})
