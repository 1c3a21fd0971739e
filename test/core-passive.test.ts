/**
 * Passive members (`config.passive`, issue 14.2), over a real local MQTT broker, each peer in
 * its own page. A relay-side observer (a plain mqtt.js client subscribed to every topic)
 * records what each peer publishes, so "never announces" is checked where it matters: at
 * the relay, not inside the library.
 */
import {expect} from '@open-wc/testing'
import mqtt from 'mqtt'
import {exchange, joinCounted, peerIds, sleep, type RoomPeer} from './helpers/hostile.js'
import {uniqueRoom, until} from './helpers/peers.js'
import {servers} from './helpers/servers.js'

const entry = '/src/strategies/mqtt.ts'
let relayUrl: string
/** Active peers re-announce fast, so the tests do not wait on the default 2 s, 4 s, 8 s... */
const fast = {announceIntervalMs: 300, announceMaxIntervalMs: 1_000}

type Seen = {topic: string; raw: string; t?: string; from?: string; to?: string}

/** A relay client that reads everything published on the broker (MQTT's `#`). */
const observe = async () => {
  const client = mqtt.connect(relayUrl)
  const seen: Seen[] = []
  client.on('message', (topic, payload) => {
    const raw = new TextDecoder().decode(payload)
    try {
      const {t, from, to} = JSON.parse(raw)
      seen.push({topic, raw, t, from, to})
    } catch {
      seen.push({topic, raw})
    }
  })
  await new Promise<void>((resolve, reject) => {
    client.on('connect', () => client.subscribe('#', {qos: 0}, error => (error ? reject(error) : resolve())))
    client.on('error', reject)
  })
  return {seen, from: (id: string) => seen.filter(m => m.from === id), end: () => client.end(true)}
}

const leaveAll = async (peers: RoomPeer[]) => {
  for (const peer of peers) {
    await peer.room.leave()
    peer.page.close()
  }
}

describe('passive members', () => {
  before(async () => {
    relayUrl = (await servers()).mqtt!
  })

  it('never announce, and still meet every active peer, which meet each other', async () => {
    const observer = await observe()
    const roomId = uniqueRoom('passive')
    const passive = await joinCounted(entry, roomId, {relayUrls: [relayUrl], passive: true})
    const a = await joinCounted(entry, roomId, {relayUrls: [relayUrl], ...fast})
    const b = await joinCounted(entry, roomId, {relayUrls: [relayUrl], ...fast})
    const peers = [passive, a, b]
    await until(() => peers.every(p => peerIds(p).length === 2), 'the passive and two active peers to meet')
    await exchange(peers, 'hello')
    await sleep(1_500) // several announce rounds of the active peers

    const mine = observer.from(passive.id())
    expect(observer.from(a.id()).some(m => m.t === 'announce')).to.equal(true, 'the observer sees active announces')
    expect(mine.filter(m => m.t === 'announce')).to.deep.equal([], 'the passive peer never announced')
    // What it did publish: offers to the two peers whose announces it heard, on their own topics.
    expect(mine.length).to.be.greaterThan(0)
    expect(mine.every(m => m.t === 'offer' && (m.to === a.id() || m.to === b.id()))).to.equal(true)
    expect(passive.joins.sort()).to.deep.equal([a.id(), b.id()].sort())
    observer.end()
    await leaveAll(peers)
  })

  it('two passive members never meet; both meet an active peer that arrives', async () => {
    const observer = await observe()
    const roomId = uniqueRoom('passive-pair')
    const p1 = await joinCounted(entry, roomId, {relayUrls: [relayUrl], passive: true})
    const p2 = await joinCounted(entry, roomId, {relayUrls: [relayUrl], passive: true})
    await sleep(3_000)
    // Nothing on the relay from either, no connection attempted: a room of passive members is silent.
    expect(observer.from(p1.id())).to.deep.equal([])
    expect(observer.from(p2.id())).to.deep.equal([])
    expect([p1.counted.created(), p2.counted.created()]).to.deep.equal([0, 0])

    const a = await joinCounted(entry, roomId, {relayUrls: [relayUrl], ...fast})
    await until(() => peerIds(a).length === 2, 'the active peer to meet both passive ones')
    await sleep(2_000)
    expect(peerIds(p1)).to.deep.equal([a.id()])
    expect(peerIds(p2)).to.deep.equal([a.id()])
    expect(p1.joins).to.deep.equal([a.id()])
    expect(p2.joins).to.deep.equal([a.id()])
    // One connection each, to the active peer: they never tried each other.
    expect([p1.counted.created(), p2.counted.created()]).to.deep.equal([1, 1])
    observer.end()
    await leaveAll([p1, p2, a])
  })

  it('an outsider cannot make a passive member publish or connect; a member still can', async () => {
    const observer = await observe()
    const roomId = uniqueRoom('passive-outsider')
    const passive = await joinCounted(entry, roomId, {relayUrls: [relayUrl], passive: true})
    // An outsider: same room, its own key pair, another password; it announces fast and would
    // get a `wrong-key` back from any active member.
    const outsider = await joinCounted(entry, roomId, {relayUrls: [relayUrl], password: 'not-the-room-s', ...fast})
    await until(() => passive.joinErrors.some(e => e.code === 'bad-password'), 'the passive peer to notice the key')
    await sleep(2_500)
    expect(observer.from(outsider.id()).filter(m => m.t === 'announce').length).to.be.greaterThan(2)
    expect(observer.from(passive.id())).to.deep.equal([], 'the passive peer published nothing')
    expect(passive.counted.created()).to.equal(0)
    expect(outsider.joinErrors).to.deep.equal([], 'the outsider learned nothing of it')

    // Replaying what the relay carried (the outsider's announces) changes nothing either.
    const client = mqtt.connect(relayUrl)
    await new Promise(resolve => client.on('connect', resolve))
    const captured = observer.seen.filter(m => m.from === outsider.id())
    expect(captured.length).to.be.greaterThan(0)
    for (const m of captured) client.publish(m.topic, m.raw)
    await sleep(1_000)
    const before = observer.from(passive.id()).length

    // A member with the room key is "looking for it": the passive peer meets it at once.
    const a = await joinCounted(entry, roomId, {relayUrls: [relayUrl], ...fast})
    await until(() => peerIds(passive).join() === a.id(), 'the passive peer to meet the member')
    expect(before).to.equal(0)
    expect(observer.from(passive.id()).every(m => m.t === 'offer' && m.to === a.id())).to.equal(true)
    client.end(true)
    observer.end()
    await leaveAll([passive, outsider, a])
  })

  it('meets active peers over torrent too: it joins the swarm without offers', async () => {
    const tracker = (await servers()).tracker!
    const roomId = uniqueRoom('passive-torrent')
    const config = {relayUrls: [tracker], ...fast}
    const passive = await joinCounted('/src/strategies/torrent.ts', roomId, {...config, passive: true})
    const a = await joinCounted('/src/strategies/torrent.ts', roomId, config)
    const b = await joinCounted('/src/strategies/torrent.ts', roomId, config)
    await until(() => [passive, a, b].every(p => peerIds(p).length === 2), 'the passive and two active peers to meet')
    await exchange([passive, a, b], 'torrent')
    await leaveAll([passive, a, b])
  })

  it('rejects a passive that is not a boolean', async () => {
    const page = await joinCounted(entry, uniqueRoom('passive-config'), {relayUrls: [relayUrl]})
    await page.room.leave()
    let error: any
    try {
      page.page.lib.joinRoom({appId: 'x', passive: 'yes'} as never, 'r')
    } catch (e) {
      error = e
    }
    expect(error?.code).to.equal('invalid-config')
    expect(error?.message).to.contain('config.passive')
    page.page.close()
  })
})
