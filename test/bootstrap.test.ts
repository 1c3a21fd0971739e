/**
 * The bootstrap strategy in real pages: each page (its own iframe and module instance) dials
 * a real `npm run peer -- --listen` Node peer (test/servers/peer-listen.mjs) over WebSocket,
 * joins its overlay, and meets the room with no Nostr/MQTT; WebRTC between the pages is
 * signaled through the overlay. `room.connect(id)` brings two passive members together
 * through it alone. An attacker on the same overlay (a member of the network, not of the
 * room) replaying, re-addressing or forging signaling changes nothing.
 */
import {expect} from '@open-wc/testing'
import {roomTopicOf} from '../src/core/index.js'
import {createIdentity, sign, toBase64Url} from '../src/core/identity.js'
import {createOverlaySignal, signalPrefix} from '../src/core/mesh-signal/overlay-signal.js'
import {createWsLinks, type WebSocketLikeConstructor} from '../src/core/mesh-signal/ws-link.js'
import {createOverlayNode} from '../src/core/overlay/node.js'
import {signedText} from '../src/core/signaling.js'
import {testConfig, uniqueRoom, until} from './helpers/peers.js'
import {servers} from './helpers/servers.js'
import {
  allConnected,
  exchange,
  openRoomPeer,
  peerIds,
  rejoin,
  sleep,
  waitAllConnected,
  type RoomPeer,
} from './helpers/hostile.js'

const entry = '/src/strategies/bootstrap.ts'
const encoder = new TextEncoder()
const decoder = new TextDecoder()

const pages = async (count: number, config: Record<string, unknown> = {}) => {
  const url = (await servers())['peer-listen']!
  return Promise.all(Array.from({length: count}, () => openRoomPeer(entry, {bootstrap: [url], ...config})))
}
const closeAll = async (peers: RoomPeer[]) => {
  await Promise.all(peers.map(peer => peer.room?.leave()))
  for (const peer of peers) peer.page.close()
}

describe('bootstrap strategy (overlay of --listen Node peers)', function () {
  this.timeout(60_000)

  it('three pages meet through a --listen Node peer, with no public relay, and exchange messages', async () => {
    const peers = await pages(3)
    const roomId = uniqueRoom('bootstrap')
    for (const peer of peers) rejoin(peer, roomId)
    await waitAllConnected(peers, 'all three to connect through the overlay')
    await exchange(peers, 'hello')
    for (const peer of peers) {
      expect(peer.joinErrors).to.deep.equal([])
      expect(peer.counted.open()).to.equal(2)
    }
    // Diagnostics name the strategy and the Node peer's link as its relay, open.
    const stats = Object.values(await peers[0]!.room.getPeerStats()) as {
      signaling: {strategy: string; relays: {url: string; state: string}[]}
    }[]
    expect(stats.length).to.equal(2)
    for (const entry of stats)
      expect(entry.signaling).to.deep.equal({
        strategy: 'bootstrap',
        relays: [{url: (await servers())['peer-listen'], state: 'open'}],
      })
    await closeAll(peers)
  })

  it('room.connect(id) brings two passive members together through the overlay alone', async () => {
    const peers = await pages(3, {passive: true})
    const [a, b, c] = peers as [RoomPeer, RoomPeer, RoomPeer]
    const roomId = uniqueRoom('connect')
    for (const peer of peers) rejoin(peer, roomId)
    // Passive members never announce: nothing else brings them together.
    await sleep(2500)
    expect(peers.map(p => p.counted.created())).to.deep.equal([0, 0, 0])
    await a.room.connect(b.id())
    await until(() => peerIds(b).includes(a.id()), 'B to see A')
    expect(peerIds(a)).to.deep.equal([b.id()])
    expect(peerIds(c)).to.deep.equal([])
    expect(c.counted.created()).to.equal(0)
    await exchange([a, b], 'after-connect')
    // A connect to an id nobody knows is a clear error, not a hang.
    const error = await a.room.connect('A1b2C3d4E5f6G7h8I9j0').catch((e: unknown) => e)
    expect((error as {code?: string}).code).to.equal('unknown-peer')
    await closeAll(peers)
  })

  it('an attacker on the overlay replaying, re-addressing or forging signaling changes nothing', async () => {
    const url = (await servers())['peer-listen']!
    const peers = await pages(3)
    const [a, b, c] = peers as [RoomPeer, RoomPeer, RoomPeer]
    const roomId = uniqueRoom('bootstrap-hostile')
    const roomTopic = await roomTopicOf(testConfig.appId, roomId)
    // The attacker: a member of the Node peers' network (its own identity), not of the room.
    const identity = await createIdentity()
    const heard: string[] = []
    let links: ReturnType<typeof createWsLinks> | undefined
    const node = await createOverlayNode({
      identity,
      scope: 'peer-relay',
      send: (to, message) => links?.send(to, message),
      broadcast: (_from, data) => {
        const {tp, m} = JSON.parse(decoder.decode(data))
        if (tp === roomTopic) heard.push(m)
      },
    })
    const signal = createOverlaySignal(node)
    links = createWsLinks({
      identity,
      scope: 'peer-relay',
      node,
      WebSocket: WebSocket as unknown as WebSocketLikeConstructor,
      up: id => void node.linkUp(id),
      down: id => node.linkDown(id),
      receive: (id, message) => void node.receive(id, message),
    })
    await node.start()
    links.dial(url)
    rejoin(a, roomId)
    rejoin(b, roomId)
    await waitAllConnected([a, b], 'A and B to meet')
    const before = [a.room.getPeers()[b.id()], b.room.getPeers()[a.id()]]
    const created = [a.counted.created(), b.counted.created()]
    await until(() => heard.some(m => JSON.parse(m).from === a.id()), "the attacker to read A's announce")
    await until(() => node.isMember(b.id()), 'the attacker to learn B')
    const announce = JSON.parse(heard.find(m => JSON.parse(m).from === a.id())!)
    const flood = (topic: string, m: string) => node.broadcast(encoder.encode(JSON.stringify({tp: topic, m})))
    for (let round = 0; round < 3; round++) {
      // A's real announce, replayed by the attacker: to B directly (not from A), and on the room topic.
      await signal.send(b.id(), JSON.stringify(announce))
      await flood(roomTopic, JSON.stringify(announce))
      // Re-addressed as an offer to B, and a fresh offer in A's name signed by the attacker.
      const offer = {...announce, t: 'offer', to: b.id(), ts: Date.now()}
      await signal.send(b.id(), JSON.stringify(offer))
      const sig = toBase64Url(await sign(identity, encoder.encode(signedText(roomTopic, offer))))
      await signal.send(b.id(), JSON.stringify({...offer, sig}))
      await flood(roomTopic, JSON.stringify({...offer, sig}))
      // Junk under the signaling prefix, and junk broadcasts.
      await node.sendTo(b.id(), encoder.encode(`${signalPrefix}{"v":2`))
      await node.broadcast(encoder.encode('not json'))
      await sleep(300)
    }
    await sleep(1500)
    expect([a.room.getPeers()[b.id()], b.room.getPeers()[a.id()]]).to.deep.equal(before)
    expect([a.counted.created(), b.counted.created()]).to.deep.equal(created)
    expect(a.joinErrors.concat(b.joinErrors)).to.deep.equal([])
    // The room still admits a newcomer.
    rejoin(c, roomId)
    await waitAllConnected(peers, 'a newcomer to join after the attack')
    expect(allConnected(peers)).to.equal(true)
    links.close()
    await node.stop()
    await closeAll(peers)
  })
})
