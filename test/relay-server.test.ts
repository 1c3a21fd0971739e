/**
 * Rooms in separate Chromium pages meet through the relay of `p2p-elements/relay` (run with
 * its default limits by test/servers/relay.mjs), with the nostr strategy pointed at it by
 * `relayUrls`; the relay's normal traffic stays inside its limits (nothing refused), and a
 * graceful shutdown leaves connected peers connected and a restart lets newcomers in.
 */
import {expect} from '@open-wc/testing'
import {openPeers, testConfig, uniqueRoom, until, type TestPeer} from './helpers/peers.js'
import {privateServer, servers} from './helpers/servers.js'

const entry = '/src/strategies/nostr.ts'
type Peer = {page: TestPeer; room: any; id: string; errors: unknown[]}

describe('a relay you run yourself (p2p-elements/relay), from Chromium pages', () => {
  let relayUrl = ''
  before(async () => {
    relayUrl = (await servers()).relay!
    expect(relayUrl, 'the relay test server is running').to.be.a('string')
  })

  const join = async (count: number, roomId: string, url = relayUrl): Promise<Peer[]> =>
    (await openPeers(count, entry)).map(page => {
      const peer: Peer = {page, room: undefined, id: page.lib.selfId, errors: []}
      peer.room = page.lib.joinRoom({...testConfig, relayUrls: [url]}, roomId)
      peer.room.onError((error: unknown) => peer.errors.push(error))
      return peer
    })
  const connected = (peers: Peer[], what: string) =>
    until(() => peers.every(p => Object.keys(p.room.getPeers()).length === peers.length - 1), what)
  const exchange = async (peers: Peer[], label: string) => {
    const heard = peers.map(() => new Set<string>())
    const sends = peers.map((peer, i) => {
      const [send, onReceive] = peer.room.makeAction(label)
      onReceive((data: {from: string}, from: string) => data?.from === from && heard[i]!.add(from))
      return send
    })
    await Promise.all(sends.map((send, i) => send({from: peers[i]!.id})))
    await until(
      () => heard.every(set => set.size === peers.length - 1),
      `every peer to hear "${label}" from every other`,
    )
  }
  const leaveAll = async (peers: Peer[]) => {
    for (const peer of peers) {
      await peer.room.leave()
      peer.page.close()
    }
  }

  it('two pages meet through it and exchange an action both ways, with nothing refused', async () => {
    const peers = await join(2, uniqueRoom('relay'))
    await connected(peers, 'two peers to connect')
    await exchange(peers, 'hello')
    for (const peer of peers) expect(peer.errors, 'no refusal or error reported').to.deep.equal([])
    await leaveAll(peers)
  })

  it('three pages all meet through it', async () => {
    const peers = await join(3, uniqueRoom('relay'))
    await connected(peers, 'three peers to connect')
    await exchange(peers, 'hello-all')
    for (const peer of peers) expect(peer.errors).to.deep.equal([])
    await leaveAll(peers)
  })

  it('after a graceful shutdown connected peers stay connected, and once it is back a newcomer finds them', async () => {
    // This test stops its relay: it gets one of its own, so no other test loses theirs.
    const relay = await privateServer('relay')
    const roomId = uniqueRoom('relay')
    const peers = await join(2, roomId, relay.url)
    await connected(peers, 'two peers to connect')
    await relay.stop()
    try {
      await exchange(peers, 'while-down')
    } finally {
      await relay.start()
    }
    const [late] = await join(1, roomId, relay.url)
    const all = [...peers, late!]
    await connected(all, 'the newcomer to connect to both')
    await exchange(all, 'after-restart')
    await leaveAll(all)
    await relay.dispose()
  })
})
