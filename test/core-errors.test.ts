import {expect} from '@open-wc/testing'
import type {JoinError, P2PError, PeerId} from '../src/core/index.js'
import {roomTopicOf} from '../src/core/room.js'
import {leaveAndClose, joinedPeers} from './helpers/rooms.js'
import {openPeers, rejection, testConfig, uniqueRoom, until} from './helpers/peers.js'

/**
 * Counts the announces each peer publishes on a room's topic, listening as one more page of
 * the origin would (the local strategy is BroadcastChannel).
 */
const watchAnnounces = async (appId: string, roomId: string) => {
  const counts = new Map<PeerId, number>()
  const channel = new BroadcastChannel(await roomTopicOf(appId, roomId))
  channel.onmessage = ({data}) => {
    const message = JSON.parse(data) as {t: string; peer: PeerId}
    if (message.t === 'announce') counts.set(message.peer, (counts.get(message.peer) ?? 0) + 1)
  }
  return {count: (peerId: PeerId) => counts.get(peerId) ?? 0, close: () => channel.close()}
}

describe('bad input gets a clear error and loses nothing', () => {
  it('a missing or empty appId throws an invalid-config error that says what to pass', async () => {
    const [page] = await openPeers(1)
    const {joinRoom} = page!.lib
    for (const config of [{}, {appId: ''}, {appId: '   '}, undefined]) {
      let error: P2PError | undefined
      try {
        joinRoom(config as never, 'lobby')
      } catch (e) {
        error = e as P2PError
      }
      expect(error?.name).to.equal('P2PError')
      expect(error!.code).to.equal('invalid-config')
      expect(error!.message).to.contain('appId')
    }
    expect(() => joinRoom(testConfig, '')).to.throw(/room id/)
    page!.close()
  })

  it('a runtime without RTCPeerConnection is told to pass rtcPolyfill', async () => {
    const [page] = await openPeers(1)
    Object.assign(page!.window, {RTCPeerConnection: undefined})
    expect(() => page!.lib.joinRoom(testConfig, uniqueRoom())).to.throw(/rtcPolyfill/)
    page!.close()
  })

  it('an action id longer than the wire carries throws', async () => {
    const [a, b] = await joinedPeers(2)
    expect(() => a.room.makeAction('x'.repeat(256))).to.throw(/at most 255/)
    expect(() => a.room.makeAction('')).to.throw(/non-empty/)
    expect(a.room.makeAction('x'.repeat(255))).to.exist
    await leaveAndClose([a, b])
  })

  it('a send to a peer that is not in the room rejects with unknown-peer', async () => {
    const [a, b] = await joinedPeers(2)
    const error = await rejection(a.room.makeAction('dm')[0]('hi', 'nobody-is-called-this'))
    expect(error?.code).to.equal('unknown-peer')
    expect(error?.peerId).to.equal('nobody-is-called-this')
    const pingError = await rejection(a.room.ping('nobody-is-called-this'))
    expect(pingError?.code).to.equal('unknown-peer')
    await leaveAndClose([a, b])
  })

  it('a wrong password gives onJoinError on both sides and no connection', async () => {
    const [a, b] = await openPeers(2)
    const roomId = uniqueRoom()
    const announces = await watchAnnounces(testConfig.appId, roomId)
    const errors: ['a' | 'b', JoinError][] = []
    // Announces every 300 ms without backing off, so each side hears the other again soon.
    const config = {...testConfig, announceIntervalMs: 300, announceMaxIntervalMs: 300}
    const roomA = a!.lib.joinRoom({...config, password: 'right'}, roomId, e => errors.push(['a', e]))
    const roomB = b!.lib.joinRoom({...config, password: 'wrong'}, roomId, e => errors.push(['b', e]))
    await until(() => errors.length >= 2, 'both sides to report the password')
    for (const [side, details] of errors) {
      expect(details.appId).to.equal(testConfig.appId)
      expect(details.roomId).to.equal(roomId)
      expect(details.peerId).to.equal(side === 'a' ? b!.lib.selfId : a!.lib.selfId)
      expect(details.error).to.match(/password/)
      expect(details.code).to.equal('bad-password')
    }
    // What could make a side report again is hearing the other announce again: wait for two
    // more announces from each, then check nothing more was reported.
    const seen = [a!.lib.selfId, b!.lib.selfId].map(id => [id, announces.count(id)] as const)
    await until(() => seen.every(([id, n]) => announces.count(id) >= n + 2), 'two more announces from each side')
    announces.close()
    expect(errors.length, 'each side reports once').to.equal(2)
    expect(Object.keys(roomA.getPeers())).to.deep.equal([])
    expect(Object.keys(roomB.getPeers())).to.deep.equal([])
    await roomA.leave()
    await roomB.leave()
    a!.close()
    b!.close()
  })

  it('malformed frames from a peer are reported with its id and the room keeps working', async () => {
    const [a, b] = await openPeers(2)
    // Keep b's data channel so the test can write raw bytes on it, as a buggy or hostile peer would.
    const channels: RTCDataChannel[] = []
    const proto = b!.window.RTCPeerConnection.prototype
    const create = proto.createDataChannel
    proto.createDataChannel = function (this: RTCPeerConnection, ...args: Parameters<typeof create>) {
      const channel = create.apply(this, args)
      channels.push(channel)
      return channel
    }
    const roomId = uniqueRoom()
    const roomA = a!.lib.joinRoom(testConfig, roomId)
    const roomB = b!.lib.joinRoom(testConfig, roomId)
    const errors: P2PError[] = []
    roomA.onError(e => errors.push(e))
    // When both peers hear each other's announce, both offer and the smaller id's attempt is closed: take the open channel.
    const open = () => channels.find(channel => channel.readyState === 'open')
    await until(() => roomA.getPeers()[b!.lib.selfId] && open(), 'connection')
    const raw = open()!
    raw.send(new Uint8Array([99, 1, 2])) // unknown frame type
    raw.send(new Uint8Array([1, 0, 0])) // truncated chunk
    raw.send('a text frame') // not binary
    raw.send(new Uint8Array([1, 0, 0, 0, 9, 0, 0, 0, 3, 1, 5])) // chunk 3 of a message that never started
    raw.send(new Uint8Array([6, 123, 34])) // control frame that is not JSON
    await until(() => errors.length >= 5, 'five reports')
    for (const error of errors) {
      expect(error.code).to.equal('malformed')
      expect(error.peerId).to.equal(b!.lib.selfId)
    }
    const got: unknown[] = []
    roomA.makeAction('after')[1]((data: unknown) => got.push(data))
    await roomB.makeAction('after')[0]('still fine')
    expect(got).to.deep.equal(['still fine'])
    expect(Object.keys(roomA.getPeers())).to.deep.equal([b!.lib.selfId])
    await roomA.leave()
    await roomB.leave()
    a!.close()
    b!.close()
  })

  it('a message over the receiver maxMessageSize is refused: the sender promise rejects and the receiver reports it', async () => {
    const [a, b] = await openPeers(2)
    const roomId = uniqueRoom()
    const roomA = a!.lib.joinRoom(testConfig, roomId)
    const roomB = b!.lib.joinRoom({...testConfig, maxMessageSize: 100_000}, roomId)
    const reports: P2PError[] = []
    roomB.onError(e => reports.push(e))
    await until(() => roomA.getPeers()[b!.lib.selfId], 'connection')
    const got: unknown[] = []
    roomB.makeAction('blob')[1]((data: unknown) => got.push(data))
    const error = await rejection(roomA.makeAction('blob')[0](new Uint8Array(1_000_000)))
    expect(error?.code).to.equal('too-large')
    expect(error?.peerId).to.equal(b!.lib.selfId)
    expect(error?.message).to.contain('maxMessageSize')
    expect(reports.map(r => r.code)).to.deep.equal(['too-large'])
    expect(reports[0]!.peerId).to.equal(a!.lib.selfId)
    await roomA.makeAction('blob')[0](new Uint8Array(50_000))
    expect(got.length).to.equal(1)
    expect((got[0] as ArrayBuffer).byteLength).to.equal(50_000)
    await roomA.leave()
    await roomB.leave()
    a!.close()
    b!.close()
  })

  it('metadata too large for one frame rejects with a message saying so', async () => {
    const [a, b] = await joinedPeers(2)
    const error = await rejection(a.room.makeAction('m')[0]('x', null, {blob: 'y'.repeat(100_000)}))
    expect(error?.code).to.equal('too-large')
    expect(error?.message).to.contain('metadata')
    await leaveAndClose([a, b])
  })
})
