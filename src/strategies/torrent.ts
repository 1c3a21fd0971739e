/**
 * `torrent`: peers meet through public WebTorrent trackers (the BitTorrent tracker
 * protocol over WebSocket), spoken directly: the protocol is a handful of JSON messages.
 *
 * A tracker is not publish/subscribe, so this file emulates the core's contract on it:
 * - the room topic (40 hex characters) is the swarm's info_hash, and our peer id is the
 *   core's `selfId` (20 characters, as the protocol wants);
 * - publishing to the room topic is an announce carrying a pool of "offers", each holding
 *   the message; the tracker hands each offer to a different random peer of the swarm,
 *   who delivers it to its room-topic subscriber;
 * - publishing to a peer's topic is an "answer" addressed to that peer's tracker id, which
 *   the tracker forwards as is; it arrives at that peer's self-topic subscriber;
 * - between announces, we re-announce (without offers) on the tracker's interval so we
 *   stay in the swarm.
 */
import {createJoinRoom, selfId, type PeerId} from '../core/index.js'
import {randomId} from '../core/ids.js'
import {defineRelayStrategy} from './shared/builder.js'
import {
  createRelayManager,
  pickRelayUrls,
  validateRelayConfig,
  webSocketTransport,
  type RelayConfig,
  maxRelayMessageChars,
} from './shared/relay-manager.js'

export type TorrentRoomConfig = RelayConfig

/**
 * Public WebTorrent trackers (secure WebSocket), as listed by the WebTorrent project and
 * their operators. Each app uses `relayRedundancy` of them, picked by its appId.
 */
export const defaultRelayUrls: readonly string[] = [
  'wss://tracker.webtorrent.dev',
  'wss://tracker.openwebtorrent.com',
  'wss://tracker.btorrent.xyz',
  'wss://tracker.files.fm:7073/announce',
]

/** Trackers used at once. */
export const defaultRelayRedundancy = 3

/**
 * Offers per announce: the tracker hands one to each of this many random peers of the
 * swarm, so rooms up to this size hear every announce; bigger ones hear it over a few.
 */
export const offerPoolSize = 10
/** Re-announce interval until a tracker tells us its own (the WebTorrent default). */
const defaultTrackerIntervalMs = 120_000
/** Never re-announce more often than this, whatever a tracker says. */
const minTrackerIntervalMs = 10_000
/** Peer topics remembered per room (peer id -> its topic): plenty for any room. */
const peerLimit = 1_000

const relays = createRelayManager(webSocketTransport)

/**
 * Rooms of this page in each tracker's swarm under each peer id (`url info_hash peer_id`).
 * A room left and joined again at once (same identity) shares the tracker socket with the
 * room it replaces (`preconnect` takes it before the old room lets go): the old one's
 * `stopped` must not take the peer id out of the swarm the new one just joined.
 */
const swarmMembers = new Map<string, number>()

/** 40 hex characters -> the 20-character "binary string" the protocol uses for hashes. */
const hexToBinary = (hex: string) => hex.replace(/../g, pair => String.fromCharCode(parseInt(pair, 16)))

type TrackerMessage = {
  action?: unknown
  info_hash?: unknown
  peer_id?: unknown
  offer?: {sdp?: unknown}
  answer?: {sdp?: unknown}
  interval?: unknown
  'failure reason'?: unknown
  'warning message'?: unknown
}

export const strategy = defineRelayStrategy<TorrentRoomConfig>({
  name: 'torrent',
  validate: config => validateRelayConfig('torrent', config),
  preconnect: config => relays.warm(config, pickRelayUrls(config, defaultRelayUrls, defaultRelayRedundancy)),
  connect: (config, room) => {
    const {context, report} = room
    const infoHash = hexToBinary(context.roomTopic)
    const peerIdsByTopic = new Map<string, PeerId>()
    const urls = pickRelayUrls(config, defaultRelayUrls, defaultRelayRedundancy)

    /** Learns which peer topic a tracker peer id stands for (once per peer), then delivers. */
    const topicsByPeer = new Map<PeerId, Promise<string>>()
    const heard = async (peerId: PeerId, topic: string, message: string) => {
      let peerTopic = topicsByPeer.get(peerId)
      if (!peerTopic) {
        peerTopic = context.peerTopic(peerId)
        topicsByPeer.set(peerId, peerTopic)
        if (topicsByPeer.size > peerLimit) topicsByPeer.delete(topicsByPeer.keys().next().value!)
      }
      peerIdsByTopic.set(await peerTopic, peerId)
      if (peerIdsByTopic.size > peerLimit) peerIdsByTopic.delete(peerIdsByTopic.keys().next().value!)
      room.deliver(topic, message)
    }

    // Per tracker: whether we are in its swarm (since its socket last opened), and the
    // re-announce timer that keeps us there.
    const trackers = new Map<string, {joined: boolean; intervalMs: number; timer?: ReturnType<typeof setTimeout>}>()
    const stateOf = (url: string) => {
      if (!trackers.has(url)) trackers.set(url, {joined: false, intervalMs: defaultTrackerIntervalMs})
      return trackers.get(url)!
    }

    const announceMessage = (url: string, offers: {offer: {type: 'offer'; sdp: string}; offer_id: string}[]) => {
      const state = stateOf(url)
      const event = state.joined ? 'update' : 'started'
      state.joined = true
      // Re-announce (to stay in the swarm) one interval after the latest announce.
      clearTimeout(state.timer)
      state.timer = setTimeout(() => lease(url)?.send(announceMessage(url, [])), state.intervalMs)
      return JSON.stringify({
        action: 'announce',
        info_hash: infoHash,
        peer_id: context.selfId,
        numwant: offers.length,
        uploaded: 0,
        downloaded: 0,
        event,
        ...(offers.length ? {offers} : {}),
      })
    }

    const onMessage = (url: string) => (data: unknown) => {
      // Longer than any envelope the core would take (escaped inside JSON, plus the tracker's own
      // fields): not parsed, so a flood of huge junk costs no JSON.parse and builds no objects.
      if (typeof data !== 'string' || room.closed || data.length > maxRelayMessageChars) return
      let message: TrackerMessage
      try {
        message = JSON.parse(data)
      } catch {
        return
      }
      if (!message || typeof message !== 'object' || message.info_hash !== infoHash) return
      if (message['failure reason'] !== undefined)
        return report(`tracker ${url} refused: ${String(message['failure reason'])}`)
      if (message.action !== 'announce') return
      const interval = Number(message.interval)
      if (Number.isFinite(interval) && interval > 0)
        stateOf(url).intervalMs = Math.max(minTrackerIntervalMs, interval * 1000)
      const from = message.peer_id
      if (typeof from !== 'string' || from.length !== 20 || from === context.selfId) return
      const offer = message.offer?.sdp
      const answer = message.answer?.sdp
      if (typeof offer === 'string') void heard(from, context.roomTopic, offer)
      else if (typeof answer === 'string') void heard(from, context.selfTopic, answer)
    }

    // A passive member (config.passive) never publishes to the room topic, so it would never
    // join a swarm; it must be in one to hear newcomers' offers: it joins without offers.
    if (config.passive) for (const url of urls) stateOf(url).joined = true
    const pool = relays.acquireAll(config, urls, url => ({
      // A (re)connected tracker has forgotten us: rejoin its swarm at once if we had joined,
      // so peers announcing meanwhile can reach us.
      open: socket => {
        const state = stateOf(url)
        const wasJoined = state.joined
        state.joined = false
        if (wasJoined) socket.send(announceMessage(url, []))
        room.flush()
      },
      message: onMessage(url),
      down: reason => {
        clearTimeout(stateOf(url).timer)
        report(`tracker ${url} is unreachable (${reason}); retrying with backoff`)
      },
    }))
    room.onClose(pool.release)
    const lease = (url: string) => pool.leases.find(lease => lease.url === url)
    const memberKeys = urls.map(url => `${url} ${context.roomTopic} ${context.selfId}`)
    for (const key of memberKeys) swarmMembers.set(key, (swarmMembers.get(key) ?? 0) + 1)

    return {
      relays: pool.states,
      publish: (topic, message) => {
        if (topic === context.roomTopic) {
          const offers = Array.from({length: offerPoolSize}, () => ({
            offer: {type: 'offer' as const, sdp: message},
            offer_id: randomId(20),
          }))
          let sent = false
          for (const each of pool.leases) {
            if (each.socket()) sent = each.send(announceMessage(each.url, offers)) || sent
            // Not connected yet: join its swarm the moment it opens (see `open`), before the
            // queued announce goes out, so peers announcing meanwhile can reach us.
            else stateOf(each.url).joined = true
          }
          return sent
        }
        const to = peerIdsByTopic.get(topic)
        // We only ever write to peers we heard from, through this adapter; anything else is not routable.
        if (!to) return true
        const answer = JSON.stringify({
          action: 'announce',
          info_hash: infoHash,
          peer_id: context.selfId,
          to_peer_id: to,
          answer: {type: 'answer', sdp: message},
          offer_id: randomId(20),
        })
        let sent = false
        for (const each of pool.leases) sent = each.send(answer) || sent
        return sent
      },
      close: () => {
        for (const key of memberKeys) {
          const left = (swarmMembers.get(key) ?? 1) - 1
          if (left > 0) swarmMembers.set(key, left)
          else swarmMembers.delete(key)
        }
        for (const [url, state] of trackers) {
          clearTimeout(state.timer)
          if (!state.joined || swarmMembers.has(`${url} ${context.roomTopic} ${context.selfId}`)) continue
          try {
            lease(url)
              ?.socket()
              ?.send(
                JSON.stringify({
                  action: 'announce',
                  info_hash: infoHash,
                  peer_id: context.selfId,
                  event: 'stopped',
                  numwant: 0,
                  uploaded: 0,
                  downloaded: 0,
                }),
              )
          } catch {
            // the tracker is going away anyway
          }
        }
      },
    }
  },
})

export const joinRoom = createJoinRoom(strategy)
export const getRelaySockets = relays.getRelaySockets
export const pauseRelayReconnection = relays.pauseRelayReconnection
export const resumeRelayReconnection = relays.resumeRelayReconnection
export {selfId}
