/**
 * What every network strategy must do for its users, run against its real local server:
 * peers in separate pages meet, exchange actions, see a closed page leave, and refuse a
 * wrong password. Each strategy's test file calls this with its module and config.
 */
import {expect} from '@open-wc/testing'
import {closeAll, joinedPeers, type Joined} from './rooms.js'
import {openPeers, testConfig, uniqueRoom, until, type TestPeer} from './peers.js'
import {privateServer} from './servers.js'

export type StrategyUnderTest = {
  /** Module the peer pages import, e.g. '/src/strategies/supabase.ts' (or where to find it). */
  entry: string | (() => Promise<string>)
  /**
   * Config that reaches this strategy's local server (read when each test starts), or the
   * server at `serverUrl` when given (a private one, see `privateServer`).
   */
  config: (serverUrl?: string) => Promise<Record<string, unknown>>
  /** Name of that server in test/servers, for the restart test (which starts a private one). */
  server: string
}

/** Every peer sends its id to all others; resolves once each has heard from each. */
const exchangeGreetings = async (peers: Joined[]) => {
  const heard = new Map<string, Set<string>>()
  const actions = peers.map(p => {
    const [send, onGreeting] = p.room.makeAction('greeting')
    heard.set(p.id, new Set())
    onGreeting((data: {from: string}, peerId: string) => {
      expect(data.from).to.equal(peerId)
      heard.get(p.id)!.add(peerId)
    })
    return send
  })
  await Promise.all(peers.map((p, i) => actions[i]({from: p.id})))
  await until(() => peers.every(p => heard.get(p.id)!.size === peers.length - 1), 'every peer to hear every other')
}

export const strategySuite = (strategy: StrategyUnderTest) => {
  const {config} = strategy
  const entryOf = async () => (typeof strategy.entry === 'string' ? strategy.entry : strategy.entry())

  it('two peers in separate pages connect and exchange actions', async () => {
    const peers = await joinedPeers(2, await config(), await entryOf())
    const [a, b] = peers as [Joined, Joined]
    expect(a.joins).to.deep.equal([b.id])
    expect(b.joins).to.deep.equal([a.id])
    await exchangeGreetings(peers)
    const [sendFile] = a.room.makeAction('file')
    const [, onFile] = b.room.makeAction('file')
    const received = new Promise<ArrayBuffer>(resolve => onFile((data: ArrayBuffer) => resolve(data)))
    await sendFile(new Uint8Array(256 * 1024).fill(7))
    const data = await received
    expect(data.byteLength).to.equal(256 * 1024)
    expect(new Uint8Array(data)[1000]).to.equal(7)
    await closeAll(peers)
  })

  it('three peers all connect to each other and exchange actions', async () => {
    const peers = await joinedPeers(3, await config(), await entryOf())
    for (const p of peers)
      expect(p.joins.sort()).to.deep.equal(
        peers
          .filter(o => o !== p)
          .map(o => o.id)
          .sort(),
      )
    await exchangeGreetings(peers)
    await closeAll(peers)
  })

  it('a peer that closes its page is seen leaving by the others', async () => {
    const peers = await joinedPeers(3, await config(), await entryOf())
    const [a, b, c] = peers as [Joined, Joined, Joined]
    c.peer.close() // the iframe is removed, as a tab is closed
    await until(() => a.leaves.includes(c.id) && b.leaves.includes(c.id), 'a and b to see c leave')
    expect(Object.keys(a.room.getPeers())).to.deep.equal([b.id])
    expect(Object.keys(b.room.getPeers())).to.deep.equal([a.id])
    await exchangeGreetings([a, b])
    await closeAll([a, b])
  })

  it('a wrong password gives onJoinError and no connection', async () => {
    const [a, b] = await openPeers(2, await entryOf())
    const roomId = uniqueRoom()
    const base = {...testConfig, ...(await config()), announceIntervalMs: 500}
    const errors: Array<[string, {peerId: string; error: string}]> = []
    const roomA = a!.lib.joinRoom({...base, password: 'right'}, roomId, (e: any) => errors.push(['a', e]))
    const roomB = b!.lib.joinRoom({...base, password: 'wrong'}, roomId, (e: any) => errors.push(['b', e]))
    await until(
      () => errors.some(([side]) => side === 'a') && errors.some(([side]) => side === 'b'),
      'both sides to report the password',
    )
    for (const [side, details] of errors) {
      expect(details.peerId).to.equal(side === 'a' ? b!.lib.selfId : a!.lib.selfId)
      expect(details.error).to.match(/password/)
    }
    await new Promise(resolve => setTimeout(resolve, 1000))
    expect(Object.keys(roomA.getPeers())).to.deep.equal([])
    expect(Object.keys(roomB.getPeers())).to.deep.equal([])
    await roomA.leave()
    await roomB.leave()
    a!.close()
    b!.close()
  })

  it('a peer in the room meets a newcomer after the signaling server restarts', async () => {
    // This test stops its server: a private one, so tests running beside it keep theirs.
    const server = await privateServer(strategy.server)
    const pages = await openPeers(3, await entryOf())
    const roomId = uniqueRoom()
    const base = {...testConfig, ...(await config(server.url))}
    const joinOne = (peer: TestPeer): Joined => {
      const room = peer.lib.joinRoom(base, roomId)
      const joined: Joined = {peer, room, id: peer.lib.selfId, joins: [], leaves: [], errors: []}
      room.onPeerJoin((id: string) => joined.joins.push(id))
      room.onPeerLeave((id: string) => joined.leaves.push(id))
      return joined
    }
    const peers = pages.slice(0, 2).map(joinOne)
    const allConnected = () => peers.every(p => Object.keys(p.room.getPeers()).length === peers.length - 1)
    try {
      await until(allConnected, 'a and b to connect before the restart')
      await server.stop()
      await server.start() // same port, so the same URL
      peers.push(joinOne(pages[2]!))
      await until(allConnected, 'the newcomer to connect to a and b through the restarted server', 50_000)
      expect(peers[0]!.leaves, 'a and b stayed connected through the restart').to.deep.equal([])
      await exchangeGreetings(peers)
    } finally {
      await closeAll(peers)
      for (const page of pages) page.close()
      await server.dispose()
    }
  })
}
