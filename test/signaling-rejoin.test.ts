/**
 * Leave -> rejoin of the same identity, 100 rounds in a row on each relay strategy's real
 * local server, the rejoining side alternating so both id orders are covered. After every
 * round both sides meet again (the join event fires once), agree on who is connected, and
 * hold exactly one RTCPeerConnection each. How fast they meet is measured in
 * bench/join-stages.mjs, not asserted here.
 */
import {expect} from '@open-wc/testing'
import {executeServerCommand} from '@web/test-runner-commands'
import {testConfig, uniqueRoom, until} from './helpers/peers.js'
import {servers} from './helpers/servers.js'
import {allConnected, joinCounted, peerIds, rejoin, roomTopics, startAttack, type RoomPeer} from './helpers/hostile.js'

const rounds = 100
/** Long enough that only a rejoin that never meets fails; the time it takes is the bench's business. */
const meetMs = 30_000

const strategies = [
  {name: 'nostr', entry: '/src/strategies/nostr.ts', server: 'nostr'},
  {name: 'mqtt', entry: '/src/strategies/mqtt.ts', server: 'mqtt'},
  {name: 'torrent', entry: '/src/strategies/torrent.ts', server: 'tracker'},
]

/** A fixed identity for the page when the core can make one (else the page's own id is reused anyway). */
const pinnedIdentity = async (peer: RoomPeer) => {
  const core = await new peer.page.window.Function('return import("/src/core/index.ts")')()
  return core.createIdentity ? {identity: await core.createIdentity()} : {}
}

/** What a peer holds, for a failure message. */
const stateOf = (peer: RoomPeer, name: string) =>
  `${name} (${peer.id().slice(0, 8)}) sees [${peerIds(peer).map(id => id.slice(0, 8))}], ` +
  `${peer.counted.open()} RTCPeerConnection(s) open, join errors ${JSON.stringify(peer.joinErrors.map(e => e.code))}, ` +
  `errors ${JSON.stringify(peer.errors.map(e => e.message).slice(-3))}`

const rejoinRounds = async (a: RoomPeer, b: RoomPeer, roomId: string, label: string) => {
  for (let round = 1; round <= rounds; round++) {
    // Chromium refuses new RTCPeerConnections past 500 alive in a process, closed ones counted
    // until garbage collected. This file's pages share one process (iframes) and make ~3 a
    // round: 300 rounds of three strategies ran out at round ~165 (mqtt's 62nd, once in CI).
    // A page of an app rejoining 100 times stays far below; the test collects as one would.
    if (round % 50 === 0) await executeServerCommand('collect-garbage')
    const [mover, stayer] = round % 2 ? [a, b] : [b, a]
    const moverId = mover.id()
    const order = moverId > stayer.id() ? 'the rejoining id is the higher' : 'the rejoining id is the lower'
    const where = `${label}, round ${round} (${order})`
    const stayerJoins = stayer.joins.length
    await mover.room.leave()
    await until(() => peerIds(stayer).length === 0, `${where}: the other side to see the leave`, meetMs)
    rejoin(mover, roomId)
    await until(
      () => allConnected([a, b]) && stayer.joins.length > stayerJoins && mover.joins.length > 0,
      `${where}: both sides to meet again`,
      meetMs,
    ).catch(error => {
      throw new Error(`${error.message}; then: ${stateOf(a, 'a')}; ${stateOf(b, 'b')}`)
    })
    expect(mover.id(), `${where}: the same identity rejoined`).to.equal(moverId)
    expect(stayer.joins.slice(stayerJoins), `${where}: one join event for the rejoined peer`).to.deep.equal([moverId])
    expect(peerIds(a), `${where}: a sees b`).to.deep.equal([b.id()])
    expect(peerIds(b), `${where}: b sees a`).to.deep.equal([a.id()])
    await until(
      () => a.counted.open() === 1 && b.counted.open() === 1,
      `${where}: exactly one RTCPeerConnection left open on each side (a: ${a.counted.open()}, b: ${b.counted.open()})`,
      meetMs,
    )
    // The mover's fresh room records its own events from here.
    mover.joins.length = 0
  }
}

const setUp = async (entry: string, server: string) => {
  const url = (await servers())[server]!
  expect(url, `test server ${server} is running`).to.be.a('string')
  const roomId = uniqueRoom('rejoin')
  const config = {relayUrls: [url], relayRedundancy: 1}
  const [a, b] = await Promise.all([joinCounted(entry, roomId, config), joinCounted(entry, roomId, config)])
  // Pin each page's identity, so "the same identity" is explicit.
  for (const peer of [a!, b!]) {
    const pinned = await pinnedIdentity(peer)
    if (!('identity' in pinned)) continue
    await peer.room.leave()
    rejoin(peer, roomId, {...(peer as any).config, ...pinned})
  }
  await until(() => allConnected([a!, b!]), 'the two peers to meet first', meetMs)
  return {a: a!, b: b!, roomId, url}
}

const tearDown = async (peers: RoomPeer[]) => {
  for (const peer of peers) {
    await peer.room.leave()
    peer.page.close()
  }
}

describe('rejoin: leave and join again with the same identity', () => {
  for (const {name, entry, server} of strategies)
    it(`${name}: ${rounds} leave -> rejoin rounds meet again every time, both id orders, both sides agreeing, one connection each`, async function () {
      this.timeout(rounds * 2 * meetMs)
      const {a, b, roomId} = await setUp(entry, server)
      try {
        await rejoinRounds(a, b, roomId, name)
        for (const peer of [a, b]) expect(peer.joinErrors, `${name}: no join errors`).to.deep.equal([])
      } finally {
        await tearDown([a, b])
      }
    })

  it(`mqtt, with a relay that re-delivers every message 2.5 s and 8 s later: ${rounds} rounds, both sides agreeing after each`, async function () {
    this.timeout(rounds * 2 * meetMs)
    const {a, b, roomId, url} = await setUp('/src/strategies/mqtt.ts', 'mqtt')
    const attack = await startAttack('redeliver', url, await roomTopics(testConfig.appId, roomId, [a.id(), b.id()]))
    try {
      await rejoinRounds(a, b, roomId, 'mqtt + re-delivery')
      // Old copies keep arriving for 8 s after the last round: the two sides must still agree then.
      await new Promise(resolve => setTimeout(resolve, 9_000))
      expect(peerIds(a), 'after the last re-deliveries, a sees b').to.deep.equal([b.id()])
      expect(peerIds(b), 'after the last re-deliveries, b sees a').to.deep.equal([a.id()])
      expect([a.counted.open(), b.counted.open()], 'one RTCPeerConnection open on each side').to.deep.equal([1, 1])
      const {read} = await attack.status()
      expect(read, 'the attacker read the room').to.be.greaterThan(0)
    } finally {
      await attack.stop()
      await tearDown([a, b])
    }
  })
})
