/**
 * Diagnostics on real connections: `room.getPeerStats` between two pages (candidate types,
 * bytes that grow, a number for RTT), the TURN-only hint through a local TURN server
 * (test/servers/hostile-turn.mjs, relay-only ICE), and the no-TURN hint when ICE fails.
 * Peers are separate pages on the local strategy.
 */
import {expect} from '@open-wc/testing'
import {rejection, uniqueRoom, until} from './helpers/peers.js'
import {servers} from './helpers/servers.js'
import {openRoomPeer, rejoin, waitAllConnected, type RoomPeer} from './helpers/hostile.js'

const entry = '/src/strategies/local.ts'

const pair = async (config: Record<string, unknown> = {}) => {
  const roomId = uniqueRoom('diagnostics')
  const [a, b] = await Promise.all([openRoomPeer(entry, config), openRoomPeer(entry, config)])
  rejoin(a!, roomId)
  rejoin(b!, roomId)
  return {a: a!, b: b!}
}

const close = async (peers: RoomPeer[]) => {
  for (const peer of peers) {
    await peer.room.leave()
    peer.page.close()
  }
}

const types = ['host', 'srflx', 'prflx', 'relay']

describe('diagnostics: room.getPeerStats', function () {
  this.timeout(90_000)

  it('between two pages: the selected pair (host candidates on loopback), an RTT, bytes that grow and bytes per second each way', async () => {
    const {a, b} = await pair()
    try {
      await waitAllConnected([a, b], 'two peers to connect')
      const first = await a.room.getPeerStats(b.id())
      expect(first.peerId).to.equal(b.id())
      expect(first.state).to.equal('connected')
      expect(types, 'a local candidate type').to.include(first.local.type)
      expect(types, 'a remote candidate type').to.include(first.remote.type)
      // No STUN or TURN here: both ends of the pair are this machine's own addresses.
      expect(first.local.type, 'local: a host candidate').to.equal('host')
      expect(first.local.protocol, 'over UDP').to.equal('udp')
      expect(first.localCandidateTypes, 'candidates offered').to.include('host')
      expect(first.rttMs, 'an RTT in ms').to.be.a('number')
      expect(first.rttMs).to.be.at.least(0)
      expect(first.turnConfigured).to.equal(false)
      expect(first.signaling.strategy).to.equal('local')
      expect(first.signaling.relays, 'local has no relays').to.deep.equal([])
      expect(first.hintKind).to.equal('direct-local')
      expect(first.hint).to.match(/directly on your local network/)
      expect(first.sendBytesPerSecond, 'no rate on the first sample').to.equal(undefined)

      // 2 MiB from a to b, then sample again: counters grew, rates are positive.
      const [, onBig] = b.room.makeAction('big')
      const got = new Promise<number>(resolve => onBig((data: ArrayBuffer) => resolve(data.byteLength)))
      const [sendBig] = a.room.makeAction('big')
      await sendBig(new Uint8Array(2 * 1024 * 1024), b.id())
      expect(await got).to.equal(2 * 1024 * 1024)
      const second = await a.room.getPeerStats(b.id())
      const grew = second.bytesSent - first.bytesSent
      console.log(
        `stats a->b: ${first.local.type}/${first.remote.type} ${first.local.protocol}, rtt ${second.rttMs} ms, sent +${grew} B, ` +
          `${Math.round(second.sendBytesPerSecond)} B/s up, ${Math.round(second.receiveBytesPerSecond)} B/s down`,
      )
      expect(grew, 'bytes sent grew by at least the 2 MiB').to.be.at.least(2 * 1024 * 1024)
      expect(second.bytesReceived, 'acks came back').to.be.greaterThan(first.bytesReceived)
      expect(second.sendBytesPerSecond, 'bytes per second up').to.be.greaterThan(0)
      expect(second.receiveBytesPerSecond, 'bytes per second down').to.be.greaterThan(0)
      const onB = await b.room.getPeerStats(a.id())
      expect(onB.bytesReceived, "b's view: received the 2 MiB").to.be.at.least(2 * 1024 * 1024)

      const all = await a.room.getPeerStats()
      expect(Object.keys(all), 'every peer, by id').to.deep.equal([b.id()])
      const unknown = await rejection(a.room.getPeerStats('nobody'))
      expect(unknown?.code).to.equal('unknown-peer')
    } finally {
      await close([a, b])
    }
  })

  it('over a relay strategy, the signaling part names it and says each relay is open', async () => {
    const relay = (await servers()).nostr!
    const roomId = uniqueRoom('diagnostics-nostr')
    const [a, b] = await Promise.all([
      openRoomPeer('/src/strategies/nostr.ts', {relayUrls: [relay]}),
      openRoomPeer('/src/strategies/nostr.ts', {relayUrls: [relay]}),
    ])
    rejoin(a!, roomId)
    rejoin(b!, roomId)
    try {
      await waitAllConnected([a!, b!], 'two peers to meet through the local nostr relay')
      const stats = await a!.room.getPeerStats(b!.id())
      expect(stats.signaling).to.deep.equal({strategy: 'nostr', relays: [{url: relay, state: 'open'}]})
    } finally {
      await close([a!, b!])
    }
  })

  it('through a local TURN server with relay-only ICE: the pair is relay, and the hint says the peer is reached only through TURN', async () => {
    const turn = (await servers())['hostile-turn']!
    const {a, b} = await pair({
      rtcConfig: {iceServers: [{urls: turn, username: 'u', credential: 'p'}], iceTransportPolicy: 'relay'},
    })
    try {
      await waitAllConnected([a, b], 'two peers to connect through TURN')
      const [, onData] = b.room.makeAction('x')
      const got = new Promise(resolve => onData(resolve))
      await a.room.makeAction('x')[0]('through the relay', b.id())
      await got
      const stats = await a.room.getPeerStats(b.id())
      console.log(`turn stats: ${JSON.stringify({local: stats.local, remote: stats.remote, rtt: stats.rttMs})}`)
      expect(stats.local.type, 'local: a relay candidate').to.equal('relay')
      expect(stats.local.relayProtocol, 'reached over UDP').to.equal('udp')
      expect(stats.localCandidateTypes, 'only relay candidates were offered').to.deep.equal(['relay'])
      expect(stats.turnConfigured).to.equal(true)
      expect(stats.relayOnly).to.equal(true)
      expect(stats.hintKind).to.equal('turn')
      expect(stats.hint).to.match(/only through TURN/)
      expect(stats.bytesSent).to.be.greaterThan(0)
    } finally {
      await close([a, b])
    }
  })

  it('when ICE fails with no TURN server configured, the failed peer is still listed and the hint says no TURN is configured', async () => {
    // Relay-only with no TURN server: offer and answer go through, no candidate pair can form.
    const {a, b} = await pair({rtcConfig: {iceServers: [], iceTransportPolicy: 'relay'}, connectTimeoutMs: 4_000})
    try {
      await until(() => a.joinErrors.length, 'a to report the failed join', 30_000)
      expect(a.joinErrors[0].code).to.equal('ice-failed')
      const stats = await a.room.getPeerStats(b.id())
      expect(stats.state).to.equal('failed')
      expect(stats.turnConfigured).to.equal(false)
      expect(stats.hintKind).to.equal('failed-no-turn')
      expect(stats.hint).to.match(/No TURN configured and the connection failed/)
      const all = await a.room.getPeerStats()
      expect(all[b.id()]?.hintKind, 'listed among all peers').to.equal('failed-no-turn')
    } finally {
      await close([a, b])
    }
  })
})
