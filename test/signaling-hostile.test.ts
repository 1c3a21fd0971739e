/**
 * An outsider on the relay (no password, no room key: a plain client of the real local MQTT
 * broker, test/servers/hostile-mqtt.mjs) reads what the peers publish and publishes what an
 * attacker would. Whatever it sends, the room keeps working: the peers meet and stay
 * connected, a newcomer still joins within connectTimeoutMs, nobody gets a false join error,
 * and what the attack costs (peer connections, heap, relay messages) stays bounded.
 */
import {expect} from '@open-wc/testing'
import {defaults} from '../src/core/index.js'
import {testConfig, uniqueRoom, until} from './helpers/peers.js'
import {servers} from './helpers/servers.js'
import {
  exchange,
  heapBytes,
  openRoomPeer,
  peerIds,
  rejoin,
  roomTopics,
  sleep,
  startAttack,
  waitAllConnected,
  type RoomPeer,
} from './helpers/hostile.js'

const entry = '/src/strategies/mqtt.ts'
const {connectTimeoutMs} = defaults
/** Peer connections a page may make because of an attack: the core's caps on pending handshakes bound it. */
const maxConnectionsPerAttack = 40
/** Heap a page may grow by during an attack (1000 junk offers of 100 KB cost +95 MiB before the fix). */
const maxHeapGrowth = 32 * 1024 * 1024
/** Relay messages a page may publish because of an attack (2000 fake announces made 2000 offers each). */
const maxMessagesPerAttack = 100
/** How long a flood may take to travel broker → browser on a busy 2-core machine (~6 MB/s idle). */
const floodDeliveryMs = 120_000
/** How long a lasting attack runs before the newcomer joins. */
const attackMs = 3_000

type Stats = {byClient: Record<string, number>}
const relayStats = async (url: string): Promise<Stats> =>
  (await fetch(new URL('/stats', url.replace(/^ws/, 'http')))).json()
const clientIdOf = (peer: RoomPeer, url: string): string | undefined =>
  peer.page.lib.getRelaySockets?.()[url]?.options?.clientId

/**
 * Two peers and a newcomer in a fresh room on the local broker, an attacker reading all
 * their topics from before anyone joins. `lasting` attacks run from before the two meet;
 * `oneShot` attacks go out once the two are connected. Then the newcomer joins.
 */
const underAttack = async ({
  lasting,
  oneShot,
  options = {},
  settleMs = 0,
  deliveredBytes = 0,
}: {
  lasting?: string
  oneShot?: string
  options?: Record<string, unknown>
  settleMs?: number
  /**
   * Bytes a flood puts on each peer's relay connection: the newcomer joins once they have
   * arrived. The broker and the browser move them at a rate this machine sets, and no
   * client can read past them in its socket; the join is timed from there.
   */
  deliveredBytes?: number
}) => {
  const url = (await servers()).mqtt!
  const roomId = uniqueRoom('hostile')
  const config = {relayUrls: [url], relayRedundancy: 1}
  const [a, b, c] = await Promise.all([0, 1, 2].map(() => openRoomPeer(entry, config, {countRelayBytes: true})))
  const peers = [a!, b!, c!]
  const label = lasting ?? oneShot
  const attack = await startAttack(
    lasting ?? '',
    url,
    await roomTopics(
      testConfig.appId,
      roomId,
      peers.map(peer => peer.id()),
    ),
    options,
  )
  try {
    rejoin(a!, roomId)
    rejoin(b!, roomId)
    await waitAllConnected([a!, b!], `${label}: the first two peers to meet`, connectTimeoutMs)
    const pair = [a!, b!]
    const connectionsBefore = [a!.room.getPeers()[b!.id()], b!.room.getPeers()[a!.id()]]
    const createdBefore = pair.map(peer => peer.counted.created())
    const heapBefore = heapBytes(a!)
    const statsBefore = await relayStats(url)

    const receivedBefore = pair.map(peer => peer.counted.relayBytes())
    if (oneShot) await attack.run(oneShot, options)
    else await sleep(attackMs)
    if (deliveredBytes)
      await until(
        () => pair.every((peer, i) => peer.counted.relayBytes() - receivedBefore[i]! >= deliveredBytes),
        `${label}: the flood to reach both peers (${pair.map((peer, i) => peer.counted.relayBytes() - receivedBefore[i]!)} of ${deliveredBytes} bytes)`,
        floodDeliveryMs,
      )
    if (settleMs) await sleep(settleMs)

    rejoin(c!, roomId)
    await waitAllConnected(peers, `${label}: a newcomer to join within connectTimeoutMs`, connectTimeoutMs)
    await exchange(peers, `${label}-after`)

    const statsAfter = await relayStats(url)
    for (const [i, peer] of pair.entries()) {
      const name = i ? 'b' : 'a'
      const other = pair[1 - i]!
      expect(peer.leaves, `${label}: ${name} never saw anyone leave`).to.deep.equal([])
      expect(peer.joins, `${label}: ${name} saw each peer join once`).to.deep.equal([other.id(), c!.id()])
      const made = peer.counted.created() - createdBefore[i]!
      expect(made, `${label}: peer connections ${name} made during the attack`).to.be.at.most(
        maxConnectionsPerAttack + 1,
      )
      const client = clientIdOf(peer, url)
      if (client) {
        const published = (statsAfter.byClient[client] ?? 0) - (statsBefore.byClient[client] ?? 0)
        expect(published, `${label}: relay messages ${name} published during the attack`).to.be.at.most(
          maxMessagesPerAttack,
        )
      }
    }
    const kept =
      a!.room.getPeers()[b!.id()] === connectionsBefore[0] && b!.room.getPeers()[a!.id()] === connectionsBefore[1]
    expect(kept, `${label}: a and b kept the RTCPeerConnections they had before the attack`).to.equal(true)
    expect(c!.joins.sort(), `${label}: the newcomer saw both join once`).to.deep.equal([a!.id(), b!.id()].sort())
    for (const peer of peers)
      expect(
        peer.joinErrors.filter(error => peers.some(other => other.id() === error.peerId)),
        `${label}: no join error about a real peer`,
      ).to.deep.equal([])
    for (const peer of peers)
      expect(peer.joinErrors.length, `${label}: join errors about forged peers are rate limited`).to.be.at.most(10)
    // Garbage counts in the heap until a collection runs (the page cannot force one): what
    // the attack left behind must fall below the bound once the collector has had its chance.
    await until(
      () => heapBytes(a!) - heapBefore < maxHeapGrowth,
      `${label}: heap growth of a peer during the attack to fall below ${maxHeapGrowth} bytes (it is ${heapBytes(a!) - heapBefore})`,
      30_000,
    ).catch(() => {})
    const growth = heapBytes(a!) - heapBefore
    expect(growth, `${label}: heap growth of a peer during the attack (bytes), once collected`).to.be.below(
      maxHeapGrowth,
    )
    await until(
      () => peers.every(peer => peer.counted.open() === 2),
      `${label}: two RTCPeerConnections open on each page (${peers.map(peer => peer.counted.open())})`,
      connectTimeoutMs,
    )
    return {peers, attack, status: await attack.status()}
  } finally {
    await attack.stop()
    for (const peer of peers) {
      await peer.room?.leave()
      peer.page.close()
    }
  }
}

describe('signaling against a hostile relay client (no password), on a real local MQTT broker', function () {
  this.timeout(120_000)

  it('plaintext and forged `wrong-key` reports naming a peer close nothing and refuse no one', async () => {
    const {status} = await underAttack({lasting: 'wrong-key'})
    expect(status.published, 'the attacker sent its reports').to.be.greaterThan(10)
  })

  it('offers that claim to be a peer but whose seal does not open close nothing and refuse no one', async () => {
    const {status} = await underAttack({lasting: 'bad-offer'})
    expect(status.published, 'the attacker sent its offers').to.be.greaterThan(10)
  })

  it('2000 announces from ids that sort below every real id cost bounded connections and relay messages', async () => {
    const {status} = await underAttack({oneShot: 'announce-flood', options: {count: 2000}, settleMs: 2_000})
    expect(status.published, 'the attacker sent the flood').to.be.at.least(2000)
  })

  it('1000 junk offers of ~100 KB, then a replayed old sealed offer, cost bounded heap and close no live connection', async function () {
    this.timeout(240_000)
    const [count, bytes] = [1000, 97_000]
    const {status} = await underAttack({
      oneShot: 'junk-offers',
      options: {count, bytes},
      settleMs: 2_000,
      deliveredBytes: count * bytes,
    })
    expect(status.replayed, 'the attacker replayed the real offers it had read').to.be.greaterThan(0)
  })

  it('copies with a corrupted string, a swapped peer id or a swapped kind change nothing: peers still meet', async () => {
    const {status} = await underAttack({lasting: 'alter'})
    expect(status.published, 'the attacker sent altered copies').to.be.greaterThan(0)
  })

  it('every message re-delivered 2.5 s and 8 s later leaves both sides agreeing on who is connected', async () => {
    // The newcomer joins once the first copies are 8 s old: every check above runs after them.
    const {status} = await underAttack({lasting: 'redeliver', settleMs: 9_000})
    expect(status.published, 'the attacker re-delivered messages').to.be.greaterThan(0)
  })
})

describe('signaling after re-delivered messages: both sides agree after rejoins', function () {
  this.timeout(180_000)

  it('five rejoins with every message re-delivered 2.5 s and 8 s later end with both sides connected, one connection each', async () => {
    const url = (await servers()).mqtt!
    const roomId = uniqueRoom('redeliver')
    const config = {relayUrls: [url], relayRedundancy: 1}
    const [a, b] = await Promise.all([openRoomPeer(entry, config), openRoomPeer(entry, config)])
    const attack = await startAttack('redeliver', url, await roomTopics(testConfig.appId, roomId, [a!.id(), b!.id()]))
    try {
      rejoin(a!, roomId)
      rejoin(b!, roomId)
      await waitAllConnected([a!, b!], 'the two peers to meet', connectTimeoutMs)
      for (let round = 1; round <= 5; round++) {
        await b!.room.leave()
        await until(() => peerIds(a!).length === 0, `round ${round}: a to see b leave`, connectTimeoutMs)
        rejoin(b!, roomId)
        await waitAllConnected([a!, b!], `round ${round}: the two to meet again`, connectTimeoutMs)
        await sleep(1_000)
      }
      // The last old copies arrive up to 8 s after the last round.
      await sleep(9_000)
      expect(peerIds(a!), 'a sees b').to.deep.equal([b!.id()])
      expect(peerIds(b!), 'b sees a').to.deep.equal([a!.id()])
      expect([a!.counted.open(), b!.counted.open()], 'one RTCPeerConnection open on each side').to.deep.equal([1, 1])
    } finally {
      await attack.stop()
      for (const peer of [a!, b!]) {
        await peer.room?.leave()
        peer.page.close()
      }
    }
  })
})
