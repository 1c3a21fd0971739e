/**
 * One suite for each relay-based strategy (nostr, mqtt, torrent), run against its real
 * local server (see test/servers/): peers in separate pages meet through the relay,
 * survive a relay that is down or restarts, refuse a wrong password, and publish no more
 * than the documented rate once connected.
 */
import {expect} from '@open-wc/testing'
import {roomTopicOf, topicOf} from '../../src/core/index.js'
import {openPeers, testConfig, uniqueRoom, until, type TestPeer} from './peers.js'
import {servers, startServer, stopServer} from './servers.js'

export type RelayStrategyUnderTest = {
  /** The strategy module peers import, e.g. '/src/strategies/nostr.ts'. */
  entry: string
  /** The test server it uses (a file name in test/servers/). */
  server: string
  /** A URL of this server's kind where nothing listens: a relay that refuses connections. */
  downUrl: string
}

type Peer = {page: TestPeer; room: any; id: string; firstJoinMs?: number; errors: any[]; joinErrors: any[]}

/** GET /stats of a test server: the messages it received, by topic (see test/servers/README.md). */
const stats = async (relayUrl: string): Promise<{total: number; byTopic: Record<string, number>}> =>
  (await fetch(new URL('/stats', relayUrl.replace(/^ws/, 'http')))).json()

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

export const relayStrategySuite = ({entry, server, downUrl}: RelayStrategyUnderTest) => {
  const name = entry.split('/').pop()!.replace(/\.ts$/, '')
  let relayUrl = ''

  const joinOne = (page: TestPeer, roomId: string, config: Record<string, unknown> = {}): Peer => {
    const joinedAt = performance.now()
    const peer: Peer = {page, room: undefined, id: page.lib.selfId, errors: [], joinErrors: []}
    peer.room = page.lib.joinRoom({...testConfig, relayUrls: [relayUrl], ...config}, roomId, (error: unknown) =>
      peer.joinErrors.push(error),
    )
    peer.room.onPeerJoin(() => (peer.firstJoinMs ??= performance.now() - joinedAt))
    peer.room.onError((error: unknown) => peer.errors.push(error))
    return peer
  }
  /** `count` pages that each join `roomId` at once; resolves before anyone connected. */
  const join = async (count: number, roomId: string, config: Record<string, unknown> = {}) =>
    (await openPeers(count, entry)).map(page => joinOne(page, roomId, config))

  const connected = (peers: Peer[], what: string) =>
    until(() => peers.every(p => Object.keys(p.room.getPeers()).length === peers.length - 1), what)

  /** Every peer sends one message to the others and hears one from each of them. */
  const exchange = async (peers: Peer[], label: string) => {
    const heard = peers.map(() => new Set<string>())
    const senders = peers.map((peer, i) => {
      const [send, onReceive] = peer.room.makeAction(label)
      onReceive((data: {from: string}, from: string) => data?.from === from && heard[i]!.add(from))
      return send
    })
    await Promise.all(senders.map((send, i) => send({from: peers[i]!.id})))
    await until(
      () => heard.every(set => set.size === peers.length - 1),
      `every peer to hear "${label}" from every other`,
    )
    for (const [i, peer] of peers.entries())
      expect([...heard[i]!].sort()).to.deep.equal(
        peers
          .filter(other => other !== peer)
          .map(other => other.id)
          .sort(),
      )
  }

  const leaveAll = async (peers: Peer[]) => {
    for (const peer of peers) {
      await peer.room.leave()
      peer.page.close()
    }
  }

  const logJoinTimes = (peers: Peer[], what: string) =>
    console.log(
      `${name}, ${what}: time to onPeerJoin ${peers.map(p => `${Math.round(p.firstJoinMs ?? NaN)} ms`).join(', ')}`,
    )

  describe(`${name} strategy, against a real local ${server}`, () => {
    before(async () => {
      relayUrl = (await servers())[server]!
      expect(relayUrl, `test server ${server} is running`).to.be.a('string')
    })

    it('two peers find each other through the relay and exchange an action both ways', async () => {
      const peers = await join(2, uniqueRoom(name))
      await connected(peers, 'two peers to connect')
      logJoinTimes(peers, 'two peers')
      await exchange(peers, 'hello')
      for (const peer of peers) expect(peer.errors, 'no errors reported').to.deep.equal([])
      await leaveAll(peers)
    })

    it('three peers all find each other and every pair exchanges an action both ways', async () => {
      const peers = await join(3, uniqueRoom(name))
      await connected(peers, 'three peers to connect')
      logJoinTimes(peers, 'three peers')
      await exchange(peers, 'hello-all')
      await leaveAll(peers)
    })

    it('with two relays configured and one of them down, peers still connect, and getRelaySockets() lists both', async () => {
      const peers = await join(2, uniqueRoom(name), {relayUrls: [downUrl, relayUrl]})
      await connected(peers, 'two peers to connect through the one relay that works')
      await exchange(peers, 'one-relay-down')
      for (const {page} of peers) {
        const sockets = page.lib.getRelaySockets()
        expect(Object.keys(sockets).sort()).to.deep.equal([downUrl, relayUrl].sort())
        // (typeof, not chai's type check: a failing check on a WebSocket makes chai inspect it at length)
        for (const socket of Object.values(sockets))
          expect(typeof socket, 'a socket or client per relay').to.equal('object')
      }
      await leaveAll(peers)
    })

    it('peers stay connected while the relay is down, and a peer joining after it restarts finds them', async () => {
      const roomId = uniqueRoom(name)
      const peers = await join(2, roomId)
      await connected(peers, 'two peers to connect')
      await stopServer(server)
      try {
        await exchange(peers, 'relay-down')
      } finally {
        await startServer(server)
      }
      const [late] = await openPeers(1, entry)
      const all = [...peers, joinOne(late!, roomId)]
      await connected(all, 'the peer that joined after the restart to connect to both')
      logJoinTimes(all.slice(2), 'joining after a relay restart')
      await exchange(all, 'after-restart')
      await leaveAll(all)
    })

    it('pauseRelayReconnection() keeps a dropped relay down until resumeRelayReconnection(), and so do offline/online', async () => {
      const [peer] = await join(1, uniqueRoom(name))
      const {lib, window} = peer!.page
      // A WebSocket (readyState) or an mqtt.js client (connected).
      const isUp = () => {
        const socket = lib.getRelaySockets()[relayUrl]
        return socket?.readyState === 1 || socket?.connected === true
      }
      /** Drops the relay (stop + start on the same port) and checks it stays down while paused. */
      const dropWhilePaused = async () => {
        await stopServer(server)
        await startServer(server)
        // Longer than the first retry delay (at most 1 s): unpaused, it would have reconnected.
        await sleep(3_000)
        expect(isUp(), 'no reconnection while paused').to.equal(false)
      }
      await until(isUp, 'the relay to connect')

      lib.pauseRelayReconnection()
      await dropWhilePaused()
      lib.resumeRelayReconnection()
      await until(isUp, 'the relay to reconnect once resumed')

      window.dispatchEvent(new Event('offline'))
      await dropWhilePaused()
      window.dispatchEvent(new Event('online'))
      await until(isUp, 'the relay to reconnect once back online')
      await leaveAll([peer!])
    })

    it('a peer with the wrong password gets onJoinError and no connection', async () => {
      const roomId = uniqueRoom(name)
      const [right] = await join(1, roomId, {password: 'right'})
      const [wrong] = await join(1, roomId, {password: 'wrong'})
      await until(() => right!.joinErrors.length && wrong!.joinErrors.length, 'both peers to report a join error')
      for (const [peer, other] of [
        [right!, wrong!],
        [wrong!, right!],
      ] as const) {
        expect(peer.joinErrors[0]).to.include({roomId, peerId: other.id, appId: testConfig.appId})
        expect(peer.joinErrors[0].error).to.match(/password/)
        expect(peer.room.getPeers()).to.deep.equal({})
      }
      await leaveAll([right!, wrong!])
    })

    it('garbage from a relay is ignored: peers meet through the other relay and nothing throws', async () => {
      // test/servers/junk.mjs answers everything with malformed, forged, stale or undecryptable messages.
      const junkUrl = (await servers()).junk! + new URL(downUrl).pathname.replace(/^\/$/, '')
      const pages = await openPeers(2, entry)
      const thrown: unknown[] = []
      for (const {window} of pages) {
        window.addEventListener('error', event => thrown.push(event.error ?? event.message))
        window.addEventListener('unhandledrejection', event => thrown.push(event.reason))
      }
      const roomId = uniqueRoom(name)
      const peers = pages.map(page => joinOne(page, roomId, {relayUrls: [junkUrl, relayUrl]}))
      await connected(peers, 'two peers to connect despite the junk relay')
      await exchange(peers, 'despite-junk')
      expect(thrown, 'no uncaught errors in the peer pages').to.deep.equal([])
      await leaveAll(peers)
    })

    it('once peers are connected, each publishes at most one relay message per announceMaxIntervalMs', async () => {
      // Small intervals so the window spans many periods; the bound is the same at the defaults (2 s rising to 60 s).
      const announceIntervalMs = 200
      const announceMaxIntervalMs = 1_000
      const windowMs = 6_000
      const roomId = uniqueRoom(name)
      const peers = await join(3, roomId, {announceIntervalMs, announceMaxIntervalMs})
      await connected(peers, 'three peers to connect')
      // Past the backoff ramp (200 + 400 + 800 ms), every peer announces at the ceiling.
      await sleep(2 * announceMaxIntervalMs)
      const {appId} = testConfig
      const topics = [
        await roomTopicOf(appId, roomId),
        ...(await Promise.all(peers.map(p => topicOf(appId, roomId, p.id)))),
      ]
      const count = async () => {
        const {byTopic} = await stats(relayUrl)
        return topics.reduce((sum, topic) => sum + (byTopic[topic] ?? 0), 0)
      }
      const before = await count()
      const start = performance.now()
      await sleep(windowMs)
      const published = (await count()) - before
      const elapsed = performance.now() - start
      const bound = peers.length * (Math.ceil(elapsed / announceMaxIntervalMs) + 1)
      console.log(
        `${name}: ${published} relay messages from ${peers.length} connected peers in ${Math.round(elapsed)} ms ` +
          `(bound ${bound}: one per peer per ${announceMaxIntervalMs} ms, +1 per peer for the window's edges)`,
      )
      expect(published, 'the peers keep announcing, at the ceiling rate').to.be.greaterThan(0)
      expect(published).to.be.at.most(bound)
      for (const peer of peers) expect(Object.keys(peer.room.getPeers())).to.have.length(2)
      await leaveAll(peers)
    })
  })
}
