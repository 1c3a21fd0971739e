/**
 * Peers for the hostile-relay and rejoin tests: each in its own page, with its
 * RTCPeerConnections counted (through `rtcPolyfill`, so the library is not touched), and
 * the attacker clients of test/servers/hostile-*.mjs to point at their room.
 */
import {roomTopicOf, topicOf} from '../../src/core/index.js'
import {openPeer, testConfig, until, type TestPeer} from './peers.js'
import {servers} from './servers.js'

export type Counted = {
  /** RTCPeerConnections made so far in this page. */
  created: () => number
  /** Those not closed yet. */
  open: () => number
  /** Bytes this page has received from relays over WebSocket, if opened with `countRelayBytes` (through `config.WebSocket`). */
  relayBytes: () => number
}

export type RoomPeer = {
  page: TestPeer
  counted: Counted
  room: any
  /** The id this room uses (per-room identities), else the page's. */
  id: () => string
  joins: string[]
  leaves: string[]
  joinErrors: any[]
  errors: any[]
}

/**
 * Installs counting RTCPeerConnection and WebSocket subclasses in the page, made in the
 * page's own realm; the library gets them through `rtcPolyfill` and `WebSocket`.
 */
const countConnections = (page: TestPeer): {RTC: unknown; WS: unknown; counted: Counted} => {
  const make = new page.window.Function(`
    const Native = window.RTCPeerConnection
    const live = new Set()
    let created = 0
    class Counted extends Native {
      constructor(...args) {
        super(...args)
        created++
        live.add(this)
      }
      close() {
        live.delete(this)
        super.close()
      }
    }
    let received = 0
    class CountedSocket extends window.WebSocket {
      constructor(...args) {
        super(...args)
        this.addEventListener('message', event => (received += event.data.byteLength ?? event.data.length ?? 0))
      }
    }
    return {
      RTC: Counted,
      WS: CountedSocket,
      counted: {created: () => created, open: () => live.size, relayBytes: () => received},
    }
  `) as () => {RTC: unknown; WS: unknown; counted: Counted}
  return make()
}

export const openCountedPeer = async (entry: string) => {
  const page = await openPeer(entry)
  return {page, ...countConnections(page)}
}

/** A fresh page with counted connections, not in a room yet (join it with `rejoin`). */
export const openRoomPeer = async (
  entry: string,
  config: Record<string, unknown> = {},
  {countRelayBytes = false} = {},
): Promise<RoomPeer> => {
  const {page, RTC, WS, counted} = await openCountedPeer(entry)
  const peer: RoomPeer = {
    page,
    counted,
    room: undefined,
    id: () => peer.room?.selfId ?? page.lib.selfId,
    joins: [],
    leaves: [],
    joinErrors: [],
    errors: [],
  }
  ;(peer as any).config = {...config, rtcPolyfill: RTC, ...(countRelayBytes && {WebSocket: WS})}
  return peer
}

/** Joins `roomId` from a fresh page with counted connections, recording every event. */
export const joinCounted = async (
  entry: string,
  roomId: string,
  config: Record<string, unknown>,
): Promise<RoomPeer> => {
  const peer = await openRoomPeer(entry, config)
  rejoin(peer, roomId)
  return peer
}

/** (Re)joins `roomId` with `config` (kept for the next rejoin) on the peer's page. */
export const rejoin = (peer: RoomPeer, roomId: string, config?: Record<string, unknown>) => {
  const saved = {...(peer as any).config, ...config} as Record<string, unknown>
  ;(peer as any).config = saved
  peer.room = peer.page.lib.joinRoom({...testConfig, ...saved}, roomId, (error: unknown) => peer.joinErrors.push(error))
  peer.room.onPeerJoin((id: string) => peer.joins.push(id))
  peer.room.onPeerLeave((id: string) => peer.leaves.push(id))
  peer.room.onError((error: unknown) => peer.errors.push(error))
}

export const peerIds = (peer: RoomPeer) => Object.keys(peer.room.getPeers()).sort()

/** Every peer's open peers are exactly all the others. */
export const allConnected = (peers: RoomPeer[]) =>
  peers.every(
    peer =>
      peerIds(peer).join() ===
      peers
        .filter(other => other !== peer)
        .map(other => other.id())
        .sort()
        .join(),
  )

export const waitAllConnected = (peers: RoomPeer[], what: string, ms?: number) =>
  until(() => allConnected(peers), what, ms)

/** Every peer hears one message from each other peer on a fresh action. */
export const exchange = async (peers: RoomPeer[], label: string, ms?: number) => {
  const heard = peers.map(() => new Set<string>())
  const senders = peers.map((peer, i) => {
    const [send, onReceive] = peer.room.makeAction(label)
    onReceive((data: {from: string}, from: string) => data?.from === from && heard[i]!.add(from))
    return send
  })
  await Promise.all(senders.map((send, i) => send({from: peers[i]!.id()})))
  await until(() => heard.every(set => set.size === peers.length - 1), `every peer to hear "${label}"`, ms)
}

/** JS heap of the page's process, in bytes (Chromium's performance.memory). */
export const heapBytes = (peer: RoomPeer): number =>
  (peer.page.window.performance as unknown as {memory: {usedJSHeapSize: number}}).memory.usedJSHeapSize

/** Relay topics of a room and of its peers, as the core derives them (what a relay observer sees). */
export const roomTopics = async (appId: string, roomId: string, ids: string[]) => ({
  room: await roomTopicOf(appId, roomId),
  peers: Object.fromEntries(await Promise.all(ids.map(async id => [id, await topicOf(appId, roomId, id)]))),
})

export type Attack = {
  id: string
  /** Runs another attack with what this attacker has read so far; one-shot attacks resolve once sent. */
  run: (attack: string, options?: Record<string, unknown>) => Promise<{published: number; replayed?: number}>
  watch: (peers: Record<string, string>) => Promise<void>
  status: () => Promise<{published: number; read: number; replayed?: number}>
  stop: () => Promise<{published: number; read: number}>
}

const post = async (url: string, body: unknown) =>
  (await fetch(url, {method: 'POST', body: JSON.stringify(body), headers: {'content-type': 'text/plain'}})).json()

/**
 * Starts an attacker (test/servers/hostile-mqtt.mjs) on `relay`, reading the given topics,
 * and runs `attack` at once unless it is '' (then `run` it later).
 */
export const startAttack = async (
  attack: string,
  relay: string,
  topics: {room: string; peers: Record<string, string>},
  options: Record<string, unknown> = {},
): Promise<Attack> => {
  const base = (await servers())['hostile-mqtt']!
  const {id, error} = await post(`${base}/start`, {relay, attack, room: topics.room, peers: topics.peers, options})
  if (error) throw new Error(`attacker ${attack} did not start: ${error}`)
  return {
    id,
    run: (attack, options = {}) => post(`${base}/attack`, {id, attack, options}),
    watch: async peers => void (await post(`${base}/watch`, {id, peers})),
    status: async () => (await fetch(`${base}/status?id=${id}`)).json(),
    stop: () => post(`${base}/stop`, {id}),
  }
}

export const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))
