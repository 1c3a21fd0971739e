import {openPeers, testConfig, uniqueRoom, until, type TestPeer} from './peers.js'

export type Joined = {peer: TestPeer; room: any; id: string; joins: string[]; leaves: string[]; errors: any[]}

/**
 * `count` peers, each in its own page, joined to one fresh room with the local strategy,
 * resolved once every peer sees every other one.
 */
export const joinedPeers = async (
  count: number,
  config: Record<string, unknown> = {},
  entry = '/src/strategies/local.ts',
): Promise<Joined[]> => {
  const pages = await openPeers(count, entry)
  const roomId = uniqueRoom()
  const joined = pages.map(peer => {
    const room = peer.lib.joinRoom({...testConfig, ...config}, roomId)
    const entry: Joined = {peer, room, id: peer.lib.selfId, joins: [], leaves: [], errors: []}
    room.onPeerJoin((id: string) => entry.joins.push(id))
    room.onPeerLeave((id: string) => entry.leaves.push(id))
    room.onError((error: unknown) => entry.errors.push(error))
    return entry
  })
  await until(() => joined.every(p => Object.keys(p.room.getPeers()).length === count - 1), `${count} peers to connect`)
  return joined
}

export const closeAll = async (peers: Joined[]) => {
  for (const {room, peer} of peers) {
    await room.leave()
    peer.close()
  }
}
