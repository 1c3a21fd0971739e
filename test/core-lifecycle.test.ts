import {expect} from '@open-wc/testing'
import {closeAll, joinedPeers} from './helpers/rooms.js'
import {openPeers, testConfig, uniqueRoom, until} from './helpers/peers.js'

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
    await b.room.leave()
    await until(() => a.leaves.includes(b.id) && c.leaves.includes(b.id), 'a and c to see b leave')
    expect(Object.keys(a.room.getPeers())).to.deep.equal([c.id])
    await closeAll([a, c])
    b.peer.close()
  })

  it('leaving and rejoining five times works and leaks no connections', async () => {
    const [a, b] = await joinedPeers(2)
    const roomId = uniqueRoom('rejoin')
    const connections: RTCPeerConnection[] = []
    const roomA = a.peer.lib.joinRoom(testConfig, roomId)
    for (let round = 0; round < 5; round++) {
      const roomB = b.peer.lib.joinRoom(testConfig, roomId)
      await until(() => roomB.getPeers()[a.id] && roomA.getPeers()[b.id], `round ${round} to connect`)
      connections.push(roomB.getPeers()[a.id])
      const got: unknown[] = []
      roomA.makeAction('round')[1]((n: unknown) => got.push(n))
      await roomB.makeAction('round')[0](round)
      expect(got).to.deep.equal([round])
      await roomB.leave()
      await until(() => !roomA.getPeers()[b.id], `round ${round}: a to see b leave`)
    }
    expect(connections.every(pc => pc.connectionState === 'closed')).to.equal(true)
    expect(Object.keys(roomA.getPeers())).to.deep.equal([])
    await roomA.leave()
    await closeAll([a, b])
  })

  it('a page closed abruptly is seen leaving, and a send to it rejects naming the peer', async () => {
    const [a, b] = await joinedPeers(2)
    const [send] = a.room.makeAction('big')
    b.room.makeAction('big')
    const pending = send(new Uint8Array(30 * 1024 * 1024))
    await new Promise(resolve => setTimeout(resolve, 50))
    b.peer.close() // the iframe is removed, as a tab is closed
    const error = await pending.then(
      () => undefined,
      (e: any) => e,
    )
    expect(error, 'the send must reject').to.exist
    expect(error.code).to.equal('peer-left')
    expect(error.peerId).to.equal(b.id)
    await until(() => a.leaves.includes(b.id), 'a to see b leave')
    await closeAll([a])
  })

  it('a peer that goes silent without leaving is dropped after peerTimeoutMs', async () => {
    const [a, b] = await joinedPeers(2, {peerTimeoutMs: 2000})
    // b's page stays, its connection stays up, but it stops sending: a frozen tab.
    b.peer.window.RTCDataChannel.prototype.send = () => {}
    expect(a.leaves).to.deep.equal([])
    await until(() => a.leaves.includes(b.id), 'a to drop the silent peer', 15_000)
    await closeAll([a, b])
  })

  it('a peer joining later gets the stream an app sends in onPeerJoin', async () => {
    const [a] = await openPeers(1)
    const roomId = uniqueRoom()
    const roomA = a!.lib.joinRoom(testConfig, roomId)
    const stream = await a!.window.navigator.mediaDevices.getUserMedia({video: true})
    roomA.onPeerJoin((peerId: string) => roomA.addStream(stream, peerId, {kind: 'camera'}))
    const [b] = await openPeers(1)
    const roomB = b!.lib.joinRoom(testConfig, roomId)
    let got: [MediaStream, string, unknown] | undefined
    roomB.onPeerStream((s: MediaStream, peerId: string, meta: unknown) => (got = [s, peerId, meta]))
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
    const servers = (a.room.getPeers()[b.id] as RTCPeerConnection).getConfiguration().iceServers!
    expect(servers.some(s => String(s.urls).includes('stun:'))).to.equal(true)
    expect(servers.some(s => String(s.urls).includes('turn:127.0.0.1'))).to.equal(true)
    await closeAll([a, b])
    const [c, d] = await joinedPeers(2, {rtcConfig: {iceServers: []}, turnConfig: [turn]})
    expect((c.room.getPeers()[d.id] as RTCPeerConnection).getConfiguration().iceServers).to.deep.equal([])
    await closeAll([c, d])
  })
})

describe('signaling over unreliable relays', () => {
  it('every signaling message delivered twice (as with redundant relays) still gives one working connection', async () => {
    const handlers = new Map<string, Set<(data: string) => void>>()
    const twice = {
      on: (topic: string, h: (d: string) => void) =>
        (handlers.get(topic) ?? handlers.set(topic, new Set()).get(topic)!).add(h),
      off: (topic: string, h: (d: string) => void) => handlers.get(topic)?.delete(h),
      emit: (topic: string, data: string) => {
        for (const h of [...(handlers.get(topic) ?? [])]) for (let i = 0; i < 2; i++) setTimeout(() => h(data), i * 5)
      },
    }
    const peers = await joinedPeers(3, {driver: twice}, '/src/strategies/driver.ts')
    await new Promise(resolve => setTimeout(resolve, 500))
    for (const p of peers) {
      expect(p.joins.length, 'each peer joins once').to.equal(2)
      expect(p.leaves).to.deep.equal([])
    }
    const got: unknown[] = []
    peers[2]!.room.makeAction('x')[1]((d: unknown) => got.push(d))
    await peers[0]!.room.makeAction('x')[0]('once')
    expect(got).to.deep.equal(['once'])
    await closeAll(peers)
  })

  it('garbage on the signaling topics is ignored', async () => {
    const handlers = new Map<string, Set<(data: string) => void>>()
    const noisy = {
      on: (topic: string, h: (d: string) => void) =>
        (handlers.get(topic) ?? handlers.set(topic, new Set()).get(topic)!).add(h),
      off: (topic: string, h: (d: string) => void) => handlers.get(topic)?.delete(h),
      emit: (topic: string, data: string) => {
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
          for (const g of garbage) h(g as string)
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
    rooms[1].makeAction('x')[1]((d: unknown) => got.push(d))
    await rooms[0].makeAction('x')[0]('through the noise')
    expect(got).to.deep.equal(['through the noise'])
    // Garbage changes nothing the app sees: no false wrong-password, no error, still connected.
    for (const room of rooms) expect(Object.keys(room.getPeers())).to.have.length(1)
    expect(errors.map(String), 'no onError').to.deep.equal([])
    expect(joinErrors, 'no onJoinError').to.deep.equal([])
    for (const room of rooms) await room.leave()
    for (const page of pages) page.close()
  })
})
