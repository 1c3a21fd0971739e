import {expect} from '@open-wc/testing'
import type {SignalingDriver} from '../src/strategies/driver.js'
import {leaveAndClose, joinedPeers} from './helpers/rooms.js'
import {openPeers, rejection, testConfig, uniqueRoom, until} from './helpers/peers.js'

/** Bigger than a local data channel moves before the test acts: still in flight when it does. */
const inFlightBytes = 64 * 1024 * 1024

describe('room lifecycle', () => {
  it('joinRoom returns the same room for the same app and room until it is left', async () => {
    const [page] = await openPeers(1)
    const roomId = uniqueRoom()
    const room = page!.lib.joinRoom(testConfig, roomId)
    expect(page!.lib.joinRoom(testConfig, roomId)).to.equal(room)
    expect(page!.lib.joinRoom(testConfig, `${roomId}-other`)).not.to.equal(room)
    await room.leave()
    expect(page!.lib.joinRoom(testConfig, roomId)).not.to.equal(room)
    page!.close()
  })

  it('selfId is 20 random characters, the same in every room of a page and different across pages', async () => {
    const [a, b] = await openPeers(2)
    expect(a!.lib.selfId).to.match(/^[0-9A-Za-z]{20}$/)
    expect(a!.lib.selfId).not.to.equal(b!.lib.selfId)
    a!.close()
    b!.close()
  })

  it('a peer that leaves is seen leaving promptly, and its pending sends reject with its id', async () => {
    const [a, b, c] = await joinedPeers(3)
    const progress: number[] = []
    const sending = a.room.makeAction('big')[0](new Uint8Array(inFlightBytes), b.id, undefined, f => progress.push(f))
    const pending = rejection(sending)
    await until(() => progress.length, 'the send to b to be under way')
    await b.room.leave()
    const error = await pending
    expect(progress.at(-1), 'the send was still pending when b left').to.be.below(1)
    expect(error?.code).to.equal('peer-left')
    expect(error?.peerId).to.equal(b.id)
    await until(() => a.leaves.includes(b.id) && c.leaves.includes(b.id), 'a and c to see b leave')
    expect(Object.keys(a.room.getPeers())).to.deep.equal([c.id])
    await leaveAndClose([a, c])
    b.peer.close()
  })

  it('leaving and rejoining five times works and leaks no connections', async () => {
    const [a, b] = await joinedPeers(2)
    const roomId = uniqueRoom('rejoin')
    // Both ends of every round's connection: b's to a, and a's to b.
    const connections: {side: string; pc: RTCPeerConnection}[] = []
    const roomA = a.peer.lib.joinRoom(testConfig, roomId)
    for (let round = 0; round < 5; round++) {
      const roomB = b.peer.lib.joinRoom(testConfig, roomId)
      // a's page already holds its default identity in another room, so this room has its own id.
      await until(() => roomB.getPeers()[roomA.selfId] && roomA.getPeers()[roomB.selfId], `round ${round} to connect`)
      connections.push({side: `b's to a, round ${round}`, pc: roomB.getPeers()[roomA.selfId]!})
      connections.push({side: `a's to b, round ${round}`, pc: roomA.getPeers()[roomB.selfId]!})
      const got: unknown[] = []
      roomA.makeAction('round')[1]((n: unknown) => got.push(n))
      await roomB.makeAction('round')[0](round)
      expect(got).to.deep.equal([round])
      await roomB.leave()
      await until(() => !roomA.getPeers()[roomB.selfId], `round ${round}: a to see b leave`)
    }
    expect(new Set(connections.map(({pc}) => pc)).size, 'a new connection each round').to.equal(10)
    const open = connections.filter(({pc}) => pc.connectionState !== 'closed').map(({side}) => side)
    expect(open, 'connections left open').to.deep.equal([])
    expect(Object.keys(roomA.getPeers())).to.deep.equal([])
    await roomA.leave()
    await leaveAndClose([a, b])
  })

  it('a page closed abruptly is seen leaving, and a send to it rejects naming the peer', async () => {
    const [a, b] = await joinedPeers(2)
    const [send] = a.room.makeAction('big')
    b.room.makeAction('big')
    const progress: number[] = []
    const pending = rejection(send(new Uint8Array(inFlightBytes), null, undefined, f => progress.push(f)))
    await until(() => progress.length, 'the send to be under way')
    b.peer.close() // the iframe is removed, as a tab is closed
    const error = await pending
    expect(error, 'the send must reject').to.exist
    expect(error?.code).to.equal('peer-left')
    expect(error?.peerId).to.equal(b.id)
    await until(() => a.leaves.includes(b.id), 'a to see b leave')
    await leaveAndClose([a])
  })

  it('a peer that goes silent without leaving is dropped after peerTimeoutMs', async () => {
    const [a, b] = await joinedPeers(2, {peerTimeoutMs: 2000})
    // b's page stays, its connection stays up, but it stops sending: a frozen tab.
    b.peer.window.RTCDataChannel.prototype.send = () => {}
    expect(a.leaves).to.deep.equal([])
    await until(() => a.leaves.includes(b.id), 'a to drop the silent peer', 15_000)
    await leaveAndClose([a, b])
  })

  it('a peer joining later gets the stream an app sends in onPeerJoin', async () => {
    const [a] = await openPeers(1)
    const roomId = uniqueRoom()
    const roomA = a!.lib.joinRoom(testConfig, roomId)
    const stream = await a!.window.navigator.mediaDevices.getUserMedia({video: true})
    roomA.onPeerJoin(peerId => roomA.addStream(stream, peerId, {kind: 'camera'}))
    const [b] = await openPeers(1)
    const roomB = b!.lib.joinRoom(testConfig, roomId)
    let got: [MediaStream, string, unknown] | undefined
    roomB.onPeerStream((s, peerId, meta) => (got = [s, peerId, meta]))
    await until(() => got, 'the late joiner to get the stream')
    expect(got![1]).to.equal(a!.lib.selfId)
    expect(got![2]).to.deep.equal({kind: 'camera'})
    expect(got![0].getVideoTracks().length).to.equal(1)
    for (const t of stream.getTracks()) t.stop()
    await roomA.leave()
    await roomB.leave()
    a!.close()
    b!.close()
  })
})

describe('connection config', () => {
  it('turnConfig is added to the default STUN servers, and rtcConfig.iceServers replaces them', async () => {
    const turn = {urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'p'}
    const [a, b] = await joinedPeers(2, {rtcConfig: undefined, turnConfig: [turn]})
    const servers = a.room.getPeers()[b.id]!.getConfiguration().iceServers!
    expect(servers.some(s => String(s.urls).includes('stun:'))).to.equal(true)
    expect(servers.some(s => String(s.urls).includes('turn:127.0.0.1'))).to.equal(true)
    await leaveAndClose([a, b])
    const [c, d] = await joinedPeers(2, {rtcConfig: {iceServers: []}, turnConfig: [turn]})
    expect(c.room.getPeers()[d.id]!.getConfiguration().iceServers).to.deep.equal([])
    await leaveAndClose([c, d])
  })
})

describe('signaling over unreliable relays', () => {
  it('every signaling message delivered twice (as with redundant relays) still gives one working connection', async () => {
    const handlers = new Map<string, Set<(data: string) => void>>()
    const deliveries = {scheduled: 0, done: 0}
    const twice: SignalingDriver = {
      on: (topic, h) => void (handlers.get(topic) ?? handlers.set(topic, new Set()).get(topic)!).add(h),
      off: (topic, h) => void handlers.get(topic)?.delete(h),
      emit: (topic, data) => {
        for (const h of [...(handlers.get(topic) ?? [])])
          for (let i = 0; i < 2; i++) {
            deliveries.scheduled++
            setTimeout(() => (deliveries.done++, h(data)), i * 5)
          }
      },
    }
    const peers = await joinedPeers(3, {driver: twice}, '/src/strategies/driver.ts')
    // Every copy sent so far (the second offer and answer of each pair included) has arrived.
    const sent = deliveries.scheduled
    await until(() => deliveries.done >= sent, 'every duplicate delivered')
    for (const p of peers) {
      expect(p.joins.length, 'each peer joins once').to.equal(2)
      expect(p.leaves).to.deep.equal([])
    }
    const got: unknown[] = []
    peers[2]!.room.makeAction('x')[1](d => got.push(d))
    await peers[0]!.room.makeAction('x')[0]('once')
    expect(got).to.deep.equal(['once'])
    await leaveAndClose(peers)
  })

  it('garbage on the signaling topics is ignored', async () => {
    const handlers = new Map<string, Set<(data: string) => void>>()
    const noisy: SignalingDriver = {
      on: (topic, h) => void (handlers.get(topic) ?? handlers.set(topic, new Set()).get(topic)!).add(h),
      off: (topic, h) => void handlers.get(topic)?.delete(h),
      emit: (topic, data) => {
        const garbage = [
          'not json',
          '{"t":"offer"}',
          '{"t":"offer","peer":"x","sealed":"AAAA.BBBB"}',
          'null',
          '[]',
          '{"t":"announce","peer":12}',
          '{"t":"answer","peer":"zzzzzzzzzzzzzzzzzzzz","sealed":"x"}',
        ]
        for (const h of [...(handlers.get(topic) ?? [])]) {
          for (const g of garbage) h(g)
          setTimeout(() => h(data))
        }
      },
    }
    const pages = await openPeers(2, '/src/strategies/driver.ts')
    const roomId = uniqueRoom()
    const joinErrors: unknown[] = []
    const errors: unknown[] = []
    const rooms = pages.map(page => {
      const room = page.lib.joinRoom({...testConfig, driver: noisy}, roomId, (e: unknown) => joinErrors.push(e))
      room.onError((error: unknown) => errors.push(error))
      return room
    })
    await until(() => rooms.every(room => Object.keys(room.getPeers()).length === 1), '2 peers to connect')
    const got: unknown[] = []
    rooms[1]!.makeAction('x')[1]((d: unknown) => got.push(d))
    await rooms[0]!.makeAction('x')[0]('through the noise')
    expect(got).to.deep.equal(['through the noise'])
    // Garbage changes nothing the app sees: no false wrong-password, no error, still connected.
    for (const room of rooms) expect(Object.keys(room.getPeers())).to.have.length(1)
    expect(errors.map(String), 'no onError').to.deep.equal([])
    expect(joinErrors, 'no onJoinError').to.deep.equal([])
    for (const room of rooms) await room.leave()
    for (const page of pages) page.close()
  })
})
