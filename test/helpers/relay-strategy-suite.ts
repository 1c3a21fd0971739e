/**
 * One suite for each relay-based strategy (nostr, mqtt, torrent), run against its real
 * local server (see test/servers/): peers in separate pages meet through the relay,
 * survive a relay that is down or restarts, refuse a wrong password, and publish no more
 * than the documented rate once connected.
 */
import {expect} from '@open-wc/testing'
import {roomTopicOf, topicOf} from '../../src/core/index.js'
import {reconnectMinMs} from '../../src/strategies/shared/backoff.js'
import {maxRelayMessageChars} from '../../src/strategies/shared/relay-manager.js'
import {openPeers, testConfig, uniqueRoom, until, type TestPeer} from './peers.js'
import {privateServer, servers} from './servers.js'

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
      // This test stops its relay: a private one, so tests running beside it keep theirs.
      const relay = await privateServer(server)
      const config = {relayUrls: [relay.url]}
      const roomId = uniqueRoom(name)
      const peers = await join(2, roomId, config)
      try {
        await connected(peers, 'two peers to connect')
        await relay.stop()
        try {
          await exchange(peers, 'relay-down')
        } finally {
          await relay.start()
        }
        const [late] = await openPeers(1, entry)
        peers.push(joinOne(late!, roomId, config))
        await connected(peers, 'the peer that joined after the restart to connect to both')
        logJoinTimes(peers.slice(2), 'joining after a relay restart')
        await exchange(peers, 'after-restart')
      } finally {
        await leaveAll(peers)
        await relay.dispose()
      }
    })

    it('pauseRelayReconnection() keeps a dropped relay down until resumeRelayReconnection(), and so do offline/online', async () => {
      const relay = await privateServer(server)
      // `paused` is the page under test; `control` uses the same relay and is never paused,
      // so its reconnection is the event that shows a retry was due.
      const [pausedPage, controlPage] = await openPeers(2, entry)
      const paused = joinOne(pausedPage!, uniqueRoom(name), {relayUrls: [relay.url]})
      const control = joinOne(controlPage!, uniqueRoom(name), {relayUrls: [relay.url]})
      // A WebSocket (readyState) or an mqtt.js client (connected).
      const isUp = (peer: Peer) => {
        const socket = peer.page.lib.getRelaySockets()[relay.url]
        return socket?.readyState === 1 || socket?.connected === true
      }
      /** Drops the relay (stop + start on the same port) and checks `paused` stays down while the control reconnects. */
      const dropWhilePaused = async () => {
        await relay.stop()
        await until(() => !isUp(paused) && !isUp(control), 'both pages to see the relay drop')
        const droppedAt = performance.now()
        await relay.start()
        // Unpaused, a page retries within reconnectMinMs of the drop: the control does.
        await until(
          () => isUp(control) && performance.now() - droppedAt > reconnectMinMs,
          'the control page to reconnect',
        )
        expect(isUp(paused), 'no reconnection while paused').to.equal(false)
      }
      try {
        await until(() => isUp(paused) && isUp(control), 'the relay to connect')

        pausedPage!.lib.pauseRelayReconnection()
        await dropWhilePaused()
        pausedPage!.lib.resumeRelayReconnection()
        await until(() => isUp(paused), 'the relay to reconnect once resumed')

        pausedPage!.window.dispatchEvent(new Event('offline'))
        await dropWhilePaused()
        pausedPage!.window.dispatchEvent(new Event('online'))
        await until(() => isUp(paused), 'the relay to reconnect once back online')
      } finally {
        await leaveAll([paused, control])
        await relay.dispose()
      }
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
      // The longest text each page parsed: the junk relay's 1 MiB message must be skipped unread.
      let longestParsed = 0
      for (const {window} of pages) {
        window.addEventListener('error', event => thrown.push(event.error ?? event.message))
        window.addEventListener('unhandledrejection', event => thrown.push(event.reason))
        const parse = window.JSON.parse
        window.JSON.parse = (text: string, ...rest: never[]) => {
          longestParsed = Math.max(longestParsed, String(text).length)
          return parse(text, ...rest)
        }
      }
      const roomId = uniqueRoom(name)
      const peers = pages.map(page => joinOne(page, roomId, {relayUrls: [junkUrl, relayUrl]}))
      await connected(peers, 'two peers to connect despite the junk relay')
      await exchange(peers, 'despite-junk')
      expect(thrown, 'no uncaught errors in the peer pages').to.deep.equal([])
      expect(longestParsed, 'the 1 MiB junk message was skipped before JSON.parse').to.be.below(maxRelayMessageChars)
      for (const peer of peers) {
        expect(Object.keys(peer.room.getPeers()), 'still connected').to.have.length(1)
        // Only what the junk relay says about itself (it refuses events) may reach onError.
        const unexpected = peer.errors.filter(error => !String(error?.message).includes(junkUrl))
        expect(unexpected.map(String), 'no onError but about the junk relay').to.deep.equal([])
        // The junk relay's undecryptable offers come from a peer that does not exist: no wrong password.
        const joinErrors = peer.joinErrors.map(e => `${e.code}: ${e.error}`)
        expect(joinErrors, 'no onJoinError').to.deep.equal([])
      }
      await leaveAll(peers)
    })

    it('once peers are connected, each publishes at most one relay message per announceMaxIntervalMs', async () => {
      // Small intervals so the window spans many periods; the bound is the same at the defaults (2 s rising to 60 s).
      const announceIntervalMs = 200
      const announceMaxIntervalMs = 1_000
      // The window ends when the peers have published this many messages in all: a few intervals' worth.
      const target = 12
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
      // Waits for the announces themselves rather than a fixed time: peers publishing too
      // often reach the target early, and the bound below, computed from the elapsed time, fails.
      let published = 0
      while ((published = (await count()) - before) < target) {
        if (performance.now() - start > 30_000) throw new Error(`only ${published} relay messages in 30 s`)
        await sleep(50)
      }
      const elapsed = performance.now() - start
      const bound = peers.length * (Math.ceil(elapsed / announceMaxIntervalMs) + 1)
      console.log(
        `${name}: ${published} relay messages from ${peers.length} connected peers in ${Math.round(elapsed)} ms ` +
          `(bound ${bound}: one per peer per ${announceMaxIntervalMs} ms, +1 per peer for the window's edges)`,
      )
      expect(published).to.be.at.most(bound)
      for (const peer of peers) expect(Object.keys(peer.room.getPeers())).to.have.length(2)
      await leaveAll(peers)
    })
  })
}
