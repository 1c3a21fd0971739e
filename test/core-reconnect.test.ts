/**
 * Reconnect after a network change: an ICE restart keeps the peer (no leave or join events,
 * pending sends still arrive), also when the path is down and the restart has to go through
 * signaling; and when offers and answers were exchanged but ICE never connected, the join
 * error says so and points at TURN. Peers are separate pages on the local strategy.
 */
import {expect} from '@open-wc/testing'
import {uniqueRoom, until} from './helpers/peers.js'
import {servers, startServer, stopServer} from './helpers/servers.js'
import {exchange, openRoomPeer, rejoin, sleep, waitAllConnected, type RoomPeer} from './helpers/hostile.js'

const entry = '/src/strategies/local.ts'

const ufragOf = (description: RTCSessionDescription | null) => description?.sdp.match(/a=ice-ufrag:(\S+)/)?.[1]

const pair = async (config: Record<string, unknown> = {}) => {
  const roomId = uniqueRoom('reconnect')
  const [a, b] = await Promise.all([openRoomPeer(entry, config), openRoomPeer(entry, config)])
  rejoin(a!, roomId)
  rejoin(b!, roomId)
  return {a: a!, b: b!}
}

const connectionTo = (from: RoomPeer, to: RoomPeer): RTCPeerConnection => from.room.getPeers()[to.id()]

/** States the ICE connection of `pc` goes through from now on. */
const iceStates = (pc: RTCPeerConnection) => {
  const states: string[] = []
  pc.addEventListener('iceconnectionstatechange', () => states.push(pc.iceConnectionState))
  return states
}

const close = async (peers: RoomPeer[]) => {
  for (const peer of peers) {
    await peer.room.leave()
    peer.page.close()
  }
}

/** A big message in flight, received whole on the other side. */
const sendBig = (from: RoomPeer, to: RoomPeer, bytes: number) => {
  const [, onReceive] = to.room.makeAction('big')
  const received = new Promise<number>(resolve => onReceive((data: ArrayBuffer) => resolve(data.byteLength)))
  const [send] = from.room.makeAction('big')
  const sent = send(new Uint8Array(bytes), to.id())
  return {sent, received}
}

describe('reconnect: ICE restarts keep the peer', function () {
  this.timeout(90_000)

  it('restartIce() on a live connection restarts ICE and keeps the peer: no leave or join, a message in flight arrives, a stream stays', async () => {
    const {a, b} = await pair()
    try {
      await waitAllConnected([a, b], 'two peers to connect')
      // A stream that must survive the restart.
      const camera = await a.page.window.navigator.mediaDevices.getUserMedia({video: true})
      const streams: MediaStream[] = []
      b.room.onPeerStream((stream: MediaStream) => streams.push(stream))
      a.room.addStream(camera, b.id())
      await until(() => streams.length, 'b to get the stream')
      const pc = connectionTo(a, b)
      const before = ufragOf(connectionTo(b, a).remoteDescription)
      const big = sendBig(a, b, 4 * 1024 * 1024)
      pc.restartIce()
      await until(
        () =>
          ufragOf(connectionTo(b, a)?.remoteDescription) !== before &&
          ['connected', 'completed'].includes(pc.iceConnectionState),
        'the ICE restart to finish (new credentials, connected again)',
      )
      expect(await big.received, 'the message sent during the restart arrived whole').to.equal(4 * 1024 * 1024)
      await big.sent
      await exchange([a, b], 'after-restart')
      expect(a.leaves, 'a saw no leave').to.deep.equal([])
      expect(b.leaves, 'b saw no leave').to.deep.equal([])
      expect(a.joins, 'a saw b join once').to.deep.equal([b.id()])
      expect(b.joins, 'b saw a join once').to.deep.equal([a.id()])
      expect(connectionTo(a, b), 'the same RTCPeerConnection').to.equal(pc)
      expect(streams.length, 'the stream was not sent again').to.equal(1)
      expect(
        streams[0]!.getVideoTracks().map(track => track.readyState),
        'its track is still live',
      ).to.deep.equal(['live'])
      for (const track of camera.getTracks()) track.stop()
    } finally {
      await close([a, b])
    }
  })

  it('a path that breaks (its TURN server stops) and comes back (restarts, every allocation gone) is restarted through signaling; the peer stays', async () => {
    const turn = (await servers())['hostile-turn']!
    // Relay-only through our local TURN server: stopping it cuts the only path, as a network change does.
    const {a, b} = await pair({
      rtcConfig: {iceServers: [{urls: turn, username: 'u', credential: 'p'}], iceTransportPolicy: 'relay'},
      peerTimeoutMs: 30_000,
    })
    try {
      await waitAllConnected([a, b], 'two peers to connect through TURN')
      const pcs = [connectionTo(a, b), connectionTo(b, a)]
      const states = pcs.map(iceStates)
      await stopServer('hostile-turn')
      try {
        await until(
          () => pcs.some(pc => ['disconnected', 'failed'].includes(pc.iceConnectionState)),
          'the path to break',
          30_000,
        )
        const [send] = a.room.makeAction('during')
        const [, onDuring] = b.room.makeAction('during')
        const heard = new Promise(resolve => onDuring(resolve))
        void send('sent while the path was down', b.id())
        await sleep(2_000)
        await startServer('hostile-turn')
        await until(
          () => pcs.every(pc => ['connected', 'completed'].includes(pc.iceConnectionState)),
          'the peers to reconnect by themselves',
          30_000,
        )
        expect(await heard, 'the message sent while the path was down arrived').to.equal('sent while the path was down')
      } finally {
        await startServer('hostile-turn')
      }
      await exchange([a, b], 'after-outage')
      expect(states.flat(), 'ICE went down on the way').to.satisfy((all: string[]) =>
        all.some(state => state === 'disconnected' || state === 'failed'),
      )
      expect(a.leaves, 'a saw no leave').to.deep.equal([])
      expect(b.leaves, 'b saw no leave').to.deep.equal([])
      expect(a.joins, 'a saw b join once').to.deep.equal([b.id()])
      expect(b.joins, 'b saw a join once').to.deep.equal([a.id()])
      expect(connectionTo(a, b), 'a kept the same RTCPeerConnection').to.equal(pcs[0])
      expect(connectionTo(b, a), 'b kept the same RTCPeerConnection').to.equal(pcs[1])
    } finally {
      await close([a, b])
    }
  })
})

describe('reconnect: no path at all', function () {
  this.timeout(60_000)

  it('when offers and answers were exchanged but ICE never connected, onJoinError says ice-failed and suggests TURN', async () => {
    // Relay-only with no TURN server: the offer and answer go through, no candidate pair can form.
    const {a, b} = await pair({rtcConfig: {iceServers: [], iceTransportPolicy: 'relay'}, connectTimeoutMs: 4_000})
    try {
      await until(() => a.joinErrors.length && b.joinErrors.length, 'both sides to report the failed join', 30_000)
      for (const [name, peer, other] of [
        ['a', a, b],
        ['b', b, a],
      ] as const) {
        const error = peer.joinErrors[0]
        expect(error.code, `${name}: the join error code`).to.equal('ice-failed')
        expect(error.peerId, `${name}: about the other peer`).to.equal(other.id())
        expect(error.error, `${name}: the message suggests TURN`).to.match(/TURN/)
        expect(error.error, `${name}: and names the config`).to.match(/turnConfig/)
        expect(peer.joins, `${name}: no join`).to.deep.equal([])
      }
    } finally {
      await close([a, b])
    }
  })
})
