import type {P2PError, PeerId, Room} from '../../src/core/index.js'
import {openPeers, testConfig, uniqueRoom, until, type TestPeer, type TestRoomConfig} from './peers.js'

/** One peer page joined to a room, with what its room reported so far. */
export type Joined = {
  peer: TestPeer
  room: Room
  id: PeerId
  joins: PeerId[]
  leaves: PeerId[]
  errors: P2PError[]
}

/**
 * `count` peers, each in its own page, joined to one fresh room with the local strategy,
 * resolved once every peer sees every other one.
 */
export const joinedPeers = async (
  count: number,
  config: Partial<TestRoomConfig> = {},
  entry = '/src/strategies/local.ts',
): Promise<Joined[]> => {
  const pages = await openPeers(count, entry)
  const roomId = uniqueRoom()
  const joined = pages.map(peer => {
    const room = peer.lib.joinRoom({...testConfig, ...config}, roomId)
    const entry: Joined = {peer, room, id: peer.lib.selfId, joins: [], leaves: [], errors: []}
    room.onPeerJoin(id => entry.joins.push(id))
    room.onPeerLeave(id => entry.leaves.push(id))
    room.onError(error => entry.errors.push(error))
    return entry
  })
  await until(() => joined.every(p => Object.keys(p.room.getPeers()).length === count - 1), `${count} peers to connect`)
  return joined
}

/** A modified client (a lying swarm source): every Blob read in its page comes back with its first byte flipped. */
export const flipBlobReads = (joined: Joined) => {
  const proto = joined.peer.window.Blob.prototype
  const read = proto.arrayBuffer
  proto.arrayBuffer = async function (this: Blob) {
    const buffer = await read.call(this)
    new Uint8Array(buffer)[0]! ^= 0xff
    return buffer
  }
}

/**
 * The data channels `joined`'s page sends on while it pings `targets`, in order: a hostile test
 * then writes raw frames on them, as a modified client could.
 */
export const channelsPingedOn = async (joined: Joined, ...targets: PeerId[]): Promise<RTCDataChannel[]> => {
  const channels = new Set<RTCDataChannel>()
  const proto = joined.peer.window.RTCDataChannel.prototype
  const send = proto.send
  proto.send = function (this: RTCDataChannel, data: never) {
    channels.add(this)
    return send.call(this, data)
  }
  try {
    for (const target of targets) await joined.room.ping(target)
  } finally {
    proto.send = send
  }
  return [...channels]
}

/** Leaves each peer's room, then removes its page. */
export const leaveAndClose = async (peers: Joined[]) => {
  for (const {room, peer} of peers) {
    await room.leave()
    peer.close()
  }
}

/**
 * @deprecated the old name of `leaveAndClose`, kept until test/helpers/strategy-suite.ts
 * (another area's file) switches; `closeAll` in test/helpers/elements.ts is a different helper.
 */
export const closeAll = leaveAndClose
