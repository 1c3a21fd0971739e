/**
 * Several strategies at once (issue 14.4, Trystero #108): `p2p-elements/multi` with
 * `strategy: ['nostr', 'mqtt']`, against a local Nostr relay and a local MQTT broker, each
 * peer in its own page. Servers a test stops are its own (`privateServer`).
 */
import {expect} from '@open-wc/testing'
import {exchange, joinCounted, peerIds, sleep, type RoomPeer} from './helpers/hostile.js'
import {uniqueRoom, until} from './helpers/peers.js'
import {type PrivateServer, privateServer, servers} from './helpers/servers.js'

const entry = '/src/multi/index.ts'
const fast = {announceIntervalMs: 300, announceMaxIntervalMs: 1_500}

const both = (nostr: string, mqtt: string, extra: Record<string, unknown> = {}) => ({
  strategy: ['nostr', 'mqtt'],
  strategyConfig: {nostr: {relayUrls: [nostr]}, mqtt: {relayUrls: [mqtt]}},
  ...fast,
  ...extra,
})

const leaveAll = async (peers: RoomPeer[]) => {
  for (const peer of peers) {
    await peer.room.leave()
    peer.page.close()
  }
}

const strategyErrors = (peer: RoomPeer, name: string) =>
  peer.errors.filter(e => e.code === 'strategy' && String(e.message).startsWith(`${name}: `))

describe('several strategies at once', () => {
  let shared: Record<string, string>
  const owned: PrivateServer[] = []
  const own = async (name: string) => {
    const server = await privateServer(name)
    owned.push(server)
    return server
  }

  before(async () => {
    shared = await servers()
  })
  after(async () => {
    await Promise.all(owned.map(server => server.dispose()))
  })

  it('two pages meet over nostr+mqtt, once: one connection, one onPeerJoin each', async () => {
    const roomId = uniqueRoom('multi')
    const config = both(shared.nostr!, shared.mqtt!)
    const a = await joinCounted(entry, roomId, config)
    const b = await joinCounted(entry, roomId, config)
    await until(() => peerIds(a).length === 1 && peerIds(b).length === 1, 'the two pages to meet')
    await exchange([a, b], 'hello')
    // Every announce, offer and answer arrived twice (once per network) for several rounds.
    await sleep(3_000)
    expect(a.joins).to.deep.equal([b.id()])
    expect(b.joins).to.deep.equal([a.id()])
    expect([a.leaves, b.leaves]).to.deep.equal([[], []])
    // Both offered at first (each heard the other's announce): glare leaves one connection.
    expect(a.counted.open() + b.counted.open()).to.equal(2)
    expect(a.room.selfId).to.equal(a.id())
    expect([a.errors, b.errors]).to.deep.equal([[], []])
    await leaveAll([a, b])
  })

  it('meets over nostr when the mqtt broker is down before the join, and says so as mqtt', async () => {
    const mqtt = await own('mqtt')
    await mqtt.stop()
    const roomId = uniqueRoom('multi-down')
    const config = both(shared.nostr!, mqtt.url)
    const a = await joinCounted(entry, roomId, config)
    const b = await joinCounted(entry, roomId, config)
    await until(() => peerIds(a).length === 1 && peerIds(b).length === 1, 'the two pages to meet over nostr')
    await exchange([a, b], 'over-nostr')
    await until(() => strategyErrors(a, 'mqtt').length, 'the mqtt outage to be reported')
    expect(strategyErrors(a, 'mqtt')[0].message).to.contain(mqtt.url)
    expect(strategyErrors(a, 'nostr')).to.deep.equal([])
    expect(a.joins).to.deep.equal([b.id()])
    await leaveAll([a, b])
  })

  it('keeps the room when one network stops mid-room; newcomers still meet through the other', async () => {
    const nostr = await own('nostr')
    const mqtt = await own('mqtt')
    const roomId = uniqueRoom('multi-mid')
    const config = both(nostr.url, mqtt.url)
    const a = await joinCounted(entry, roomId, config)
    const b = await joinCounted(entry, roomId, config)
    await until(() => peerIds(a).length === 1 && peerIds(b).length === 1, 'the two pages to meet')

    await nostr.stop()
    await until(() => strategyErrors(a, 'nostr').length, 'the nostr outage to be reported')
    await sleep(1_000)
    expect(peerIds(a)).to.deep.equal([b.id()])
    await exchange([a, b], 'after-nostr-stopped')

    // Signaling goes on over mqtt alone: a third page meets both.
    const c = await joinCounted(entry, roomId, config)
    await until(() => [a, b, c].every(p => peerIds(p).length === 2), 'a newcomer to meet both over mqtt')
    await exchange([a, b, c], 'three')
    expect(a.joins).to.deep.equal([b.id(), c.id()])
    expect(a.leaves).to.deep.equal([])

    // The other way round: nostr back, mqtt gone; a fourth page still gets in.
    await nostr.start()
    await mqtt.stop()
    const d = await joinCounted(entry, roomId, config)
    await until(() => [a, b, c, d].every(p => peerIds(p).length === 3), 'a fourth page to meet all over nostr', 40_000)
    expect(c.joins.filter(id => id === d.id())).to.have.length(1)
    await leaveAll([a, b, c, d])
  })

  it('takes one name too, and rejects names and config it cannot use', async () => {
    const roomId = uniqueRoom('multi-one')
    const config = {strategy: 'mqtt', relayUrls: [shared.mqtt!], ...fast}
    const a = await joinCounted(entry, roomId, config)
    const b = await joinCounted(entry, roomId, config)
    await until(() => peerIds(a).length === 1 && peerIds(b).length === 1, 'the two pages to meet over mqtt alone')
    const lib = a.page.lib as any
    const attempt = (config: unknown) => {
      try {
        lib.joinRoom(config, 'r')
      } catch (error) {
        return error as {code: string; message: string}
      }
    }
    expect(attempt({appId: 'x', strategy: ['nostr', 'nope']})).to.include({code: 'invalid-config'})
    expect(attempt({appId: 'x', strategy: ['nostr', 'nostr']})?.message).to.contain('twice')
    expect(attempt({appId: 'x', strategy: []})?.code).to.equal('invalid-config')
    expect(attempt({appId: 'x', strategy: 'nostr mqtt', strategyConfig: {torrent: {}}})?.message).to.contain(
      'strategyConfig.torrent',
    )
    await leaveAll([a, b])
  })
})
