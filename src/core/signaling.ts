import {decrypt, encrypt} from './crypto.js'
import type {Peer} from './peer.js'
import type {Signaling} from './strategy.js'
import type {P2PErrorCode} from './errors.js'
import type {PeerId} from './types.js'

/**
 * How peers find each other and open a connection through a strategy's pub/sub.
 *
 *   room topic:  {t: 'announce', peer}                  "I am here"
 *   peer topic:  {t: 'hello', peer}                      "I heard you; please offer"
 *                {t: 'offer' | 'answer', peer, sealed}   SDP, sealed with the room key
 *                {t: 'wrong-key', peer}                  "your seal did not open"
 *
 * The peer with the larger id makes the offer; the other answers. So a newcomer's first
 * announce is enough: peers already in the room hear it and either offer or say hello,
 * and nobody needs to announce on a timer once connected. Announces back off from
 * `announceIntervalMs` to `announceMaxIntervalMs`: the steady-state cost per peer is one
 * relay message per `announceMaxIntervalMs`, whatever the number of peers.
 */

/** Sealed payloads remembered to drop duplicates: the same offer arrives once per relay. */
const seenLimit = 1000

/** How long to gather ICE candidates before sending an offer or answer without the rest. */
export const iceGatheringTimeoutMs = 3000

type Message = {t: 'announce' | 'hello' | 'offer' | 'answer' | 'wrong-key'; peer: PeerId; sealed?: string}
type Sealed = {from: PeerId; to: PeerId; description: RTCSessionDescriptionInit}

const kinds = new Set(['announce', 'hello', 'offer', 'answer', 'wrong-key'])

/** Relays may deliver anything: keep only well-formed messages of ours. */
const parse = (text: unknown): Message | undefined => {
  if (typeof text !== 'string' || text.length > 100_000) return
  try {
    const message = JSON.parse(text)
    if (!message || typeof message !== 'object' || !kinds.has(message.t)) return
    if (typeof message.peer !== 'string' || !message.peer || message.peer.length > 64) return
    if ((message.t === 'offer' || message.t === 'answer') && typeof message.sealed !== 'string') return
    return message
  } catch {
    return
  }
}

export type SignalingOptions = {
  signaling: Signaling
  selfId: PeerId
  key: CryptoKey
  roomTopic: string
  selfTopic: string
  peerTopic: (peerId: PeerId) => Promise<string>
  announceIntervalMs: number
  announceMaxIntervalMs: number
  connectTimeoutMs: number
  /** The room's peer with this id, open or still connecting. */
  peer: (peerId: PeerId) => Peer | undefined
  createPeer: (peerId: PeerId) => Peer
  joinError: (peerId: PeerId, error: string, code: P2PErrorCode) => void
}

export const startSignaling = (options: SignalingOptions) => {
  const {signaling, selfId, key} = options
  const refused = new Set<PeerId>() // peers whose seal did not open: we stop trying them
  const lastHello = new Map<PeerId, number>()
  const seen = new Set<string>()
  /** True the first time a sealed payload is seen (each has a fresh IV, so copies are equal strings). */
  const firstSight = (sealed: string) => {
    if (seen.has(sealed)) return false
    if (seen.size >= seenLimit) seen.clear()
    seen.add(sealed)
    return true
  }
  let stopped = false
  let announceTimer: ReturnType<typeof setTimeout> | undefined

  const isInitiator = (peerId: PeerId) => selfId > peerId

  /** Adapters must not throw, but one that does must not break the room. */
  const publish = (topic: string, message: Message) => {
    try {
      signaling.publish(topic, JSON.stringify(message))
    } catch {
      // the next announce tries again
    }
  }
  const publishTo = async (peerId: PeerId, message: Message) => publish(await options.peerTopic(peerId), message)

  const seal = (to: PeerId, description: RTCSessionDescriptionInit) =>
    encrypt(key, JSON.stringify({from: selfId, to, description} satisfies Sealed))

  const open = async (
    from: PeerId,
    sealed: string,
    type: RTCSdpType,
  ): Promise<RTCSessionDescriptionInit | undefined> => {
    let content: Sealed
    try {
      content = JSON.parse(await decrypt(key, sealed))
    } catch {
      if (refused.has(from)) return
      refused.add(from)
      options.peer(from)?.close('its signaling could not be decrypted')
      options.joinError(
        from,
        `incorrect password: could not decrypt signaling from peer ${from}; every peer of a room must use the same password`,
        'bad-password',
      )
      void publishTo(from, {t: 'wrong-key', peer: selfId})
      return
    }
    // The seal names sender and receiver, so a sealed offer cannot be replayed to someone else.
    if (content?.from !== from || content.to !== selfId || content.description?.type !== type) return
    return content.description
  }

  const offerTo = async (peerId: PeerId) => {
    if (options.peer(peerId) || refused.has(peerId) || stopped) return
    const peer = options.createPeer(peerId)
    // A handshake that has not opened its channel in time is dropped; the next announce retries it.
    peer.expireUnlessOpen(options.connectTimeoutMs)
    try {
      const offer = await peer.createOffer(iceGatheringTimeoutMs)
      if (peer.isClosed || stopped) return
      await publishTo(peerId, {t: 'offer', peer: selfId, sealed: await seal(peerId, offer)})
    } catch (error) {
      peer.close(`could not make an offer: ${error}`)
    }
  }

  const answer = async (from: PeerId, sealed: string) => {
    if (isInitiator(from) || refused.has(from)) return
    const offer = await open(from, sealed, 'offer')
    if (!offer || stopped) return
    // A fresh offer from a peer we think we know means it started over (rejoined): replace it.
    options.peer(from)?.close('it reconnected')
    const peer = options.createPeer(from)
    peer.expireUnlessOpen(options.connectTimeoutMs)
    try {
      const description = await peer.acceptOffer(offer, iceGatheringTimeoutMs)
      if (peer.isClosed || stopped) return
      await publishTo(from, {t: 'answer', peer: selfId, sealed: await seal(from, description)})
    } catch (error) {
      peer.close(`could not answer its offer: ${error}`)
    }
  }

  const complete = async (from: PeerId, sealed: string) => {
    const peer = options.peer(from)
    if (!peer || peer.isOpen || !isInitiator(from)) return
    const description = await open(from, sealed, 'answer')
    if (!description) return
    try {
      await peer.acceptAnswer(description)
    } catch (error) {
      peer.close(`its answer did not apply: ${error}`)
    }
  }

  const onMessage = (text: string) => {
    const message = parse(text)
    if (!message || message.peer === selfId || stopped) return
    const from = message.peer
    switch (message.t) {
      case 'announce':
        if (options.peer(from) || refused.has(from)) return
        if (isInitiator(from)) return void offerTo(from)
        // Say hello at most once per handshake window; the initiator takes it from there.
        if (Date.now() - (lastHello.get(from) ?? 0) < options.connectTimeoutMs) return
        lastHello.set(from, Date.now())
        return void publishTo(from, {t: 'hello', peer: selfId})
      case 'hello':
        if (isInitiator(from)) void offerTo(from)
        return
      case 'offer':
        if (firstSight(message.sealed!)) void answer(from, message.sealed!)
        return
      case 'answer':
        if (firstSight(message.sealed!)) void complete(from, message.sealed!)
        return
      case 'wrong-key':
        if (refused.has(from)) return
        refused.add(from)
        options.peer(from)?.close('it could not decrypt our signaling')
        options.joinError(
          from,
          `incorrect password: peer ${from} could not decrypt our signaling; every peer of a room must use the same password`,
          'bad-password',
        )
    }
  }

  const unsubscribe = [
    signaling.subscribe(options.selfTopic, onMessage),
    signaling.subscribe(options.roomTopic, onMessage),
  ]

  let delay = options.announceIntervalMs
  const announce = () => {
    if (stopped) return
    publish(options.roomTopic, {t: 'announce', peer: selfId})
    announceTimer = setTimeout(announce, delay)
    delay = Math.min(delay * 2, options.announceMaxIntervalMs)
  }
  announce()

  return {
    stop() {
      stopped = true
      clearTimeout(announceTimer)
      for (const off of unsubscribe) off()
    },
  }
}
