import {decrypt, encrypt} from './crypto.js'
import {errorMessage, type P2PErrorCode} from './errors.js'
import {
  fromBase64Url,
  idOfKey,
  peerIdPattern,
  publicKeyOf,
  sign,
  toBase64Url,
  verify,
  type Identity,
  type PeerKey,
} from './identity.js'
import type {DebugLog} from './debug.js'
import {randomId} from './ids.js'
import {createOfferSlot, type PreparedOffer} from './offer-ahead.js'
import type {Peer} from './peer.js'
import type {Signaling} from './strategy.js'
import type {PeerId} from './types.js'

/**
 * How peers find each other and open a connection through a strategy's pub/sub.
 * PROTOCOL.md is the full specification (fields, limits, who may send what, what a
 * receiver does with a bad message); this header is the summary.
 *
 * Every relay message is one signed envelope:
 *
 *   {v: 2, t, from, to, ts, key, sealed, sig}
 *
 *   t       announce (room topic, to '') | offer | answer | reject | restart | restart-answer
 *           | wrong-key (peer topics, to = the receiver)
 *   key     the sender's raw public key; `from` must be its id (identity.ts)
 *   sealed  AES-GCM under the room key of the inner message, which repeats t/from/to/ts and
 *           adds the sender's session, the receiver's session it answers, the SDP and the
 *           credentials ('' for wrong-key: it is about a seal that did not open)
 *   sig     the sender's signature over [domain, v, room topic, t, from, to, ts, key, sealed]
 *
 * The signature is checked first (so nobody can speak for an id whose key it does not
 * hold), then freshness and duplicates, then the seal (so nobody without the room key is
 * understood). Whoever hears an announce makes the offer: a join is announce, offer,
 * answer. When two peers offer to each other at once, the larger id's offer wins.
 */

export const protocolVersion = 2

/** Longest relay message we read; SDP with every candidate is a few KiB. */
export const maxEnvelopeLength = 64 * 1024
/** Longest SDP we accept in a sealed offer or answer. */
export const maxSdpLength = 48 * 1024
/** Longest `config.credentials`, as JSON. */
export const maxCredentialsLength = 4 * 1024
/** Messages older or newer than this (by the sender's clock) are dropped: the replay window. */
export const maxClockSkewMs = 120_000
/** Signatures of messages already acted on, to drop copies (each relay delivers one). */
export const seenLimit = 4096
/** Peer connections we hold that have not opened yet (both roles), whatever outsiders send. */
export const maxPendingHandshakes = 24
/** New handshakes started per `handshakeWindowMs`, at most. */
export const maxHandshakesPerWindow = 32
export const handshakeWindowMs = 10_000
/** An offer nobody answered by then frees its slot (real answers take well under a second). */
export const answerTimeoutMs = 8_000
/** A peer whose seal did not open, or who said ours did not, is not tried again for this long. */
export const refuseMs = 30_000
/** Join errors reported per `joinErrorWindowMs`, at most: a flood cannot flood the app. */
export const maxJoinErrorsPerWindow = 10
export const joinErrorWindowMs = 10_000
/** Signature checks per second, at most; the rest wait for the next announce. */
export const maxVerificationsPerSecond = 500
/** How long to gather ICE candidates before sending an offer or answer without the rest. */
export const iceGatheringTimeoutMs = 3000

const kinds = ['announce', 'offer', 'answer', 'reject', 'wrong-key', 'restart', 'restart-answer'] as const
export type SignalKind = (typeof kinds)[number]

/** What travels on the relay. */
export type Envelope = {
  v: typeof protocolVersion
  t: SignalKind
  from: PeerId
  to: PeerId | ''
  ts: number
  key: string
  sealed: string
  sig: string
}

/** What the seal holds. */
export type SealedSignal = {
  t: SignalKind
  from: PeerId
  to: PeerId | ''
  ts: number
  /** The sender's session: one per room joined, so a rejoin is a newer session of the same id. */
  session: string
  /** When that session started (sender's clock): the newer session replaces the older. */
  since: number
  /** The receiver's session this message is for ('' in announces). */
  peerSession: string
  sdp?: {type: 'offer' | 'answer'; sdp: string}
  credentials?: unknown
}

/** Why a message was dropped unread: the parser's typed rejection. */
export type ParseFailure =
  | 'not-text'
  | 'too-long'
  | 'not-json'
  | 'not-object'
  | 'version'
  | 'kind'
  | 'from'
  | 'to'
  | 'ts'
  | 'key'
  | 'sealed'
  | 'sig'
  | 'session'
  | 'sdp'
  | 'credentials'
  | 'mismatch'
  | 'extra-field'

export type Parsed<T> = {ok: true; value: T} | {ok: false; reason: ParseFailure}

const fail = (reason: ParseFailure) => ({ok: false, reason}) as const
const isObject = (value: unknown): value is Record<string, unknown> =>
  !!value && typeof value === 'object' && !Array.isArray(value)
const isTime = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0

const envelopeFields = new Set(['v', 't', 'from', 'to', 'ts', 'key', 'sealed', 'sig'])
const sessionPattern = /^[0-9A-Za-z]{16}$/
/** Raw public keys, base64url: 32 bytes (Ed25519) or 65 (P-256). */
const keyPattern = /^(?:[A-Za-z0-9_-]{43}|[A-Za-z0-9_-]{87})$/
/** 64-byte signatures (Ed25519, and P-256 in WebCrypto's r||s form), base64url. */
const sigPattern = /^[A-Za-z0-9_-]{86}$/
/** `base64(96-bit iv).base64(ciphertext with its 128-bit tag)`. */
const sealedPattern = /^[A-Za-z0-9+/]{16}\.[A-Za-z0-9+/]{22,}={0,2}$/

/**
 * Reads one relay message. Pure and total: any input gives a well-formed envelope or a
 * typed reason, never an exception. Checks shape only; `startSignaling` then checks the
 * signature, the clock and the seal before acting on anything in it.
 */
export const parseEnvelope = (text: unknown): Parsed<Envelope> => {
  if (typeof text !== 'string') return fail('not-text')
  if (text.length > maxEnvelopeLength) return fail('too-long')
  let message: unknown
  try {
    message = JSON.parse(text)
  } catch {
    return fail('not-json')
  }
  if (!isObject(message)) return fail('not-object')
  if (message.v !== protocolVersion) return fail('version')
  for (const field of Object.keys(message)) if (!envelopeFields.has(field)) return fail('extra-field')
  const {t, from, to, ts, key, sealed, sig} = message
  if (typeof t !== 'string' || !(kinds as readonly string[]).includes(t)) return fail('kind')
  if (typeof from !== 'string' || !peerIdPattern.test(from)) return fail('from')
  if (typeof to !== 'string' || (t === 'announce' ? to !== '' : !peerIdPattern.test(to))) return fail('to')
  if (!isTime(ts)) return fail('ts')
  if (typeof key !== 'string' || !keyPattern.test(key)) return fail('key')
  if (typeof sealed !== 'string' || (t === 'wrong-key' ? sealed !== '' : !sealedPattern.test(sealed)))
    return fail('sealed')
  if (typeof sig !== 'string' || !sigPattern.test(sig)) return fail('sig')
  return {ok: true, value: message as Envelope}
}

const sealedFields = new Set(['t', 'from', 'to', 'ts', 'session', 'since', 'peerSession', 'sdp', 'credentials'])
const sdpKinds: Partial<Record<SignalKind, 'offer' | 'answer'>> = {
  offer: 'offer',
  answer: 'answer',
  restart: 'offer',
  'restart-answer': 'answer',
}

/** Reads an opened seal, against the envelope it came in. Pure and total, like `parseEnvelope`. */
export const parseSealed = (text: string, envelope: Envelope): Parsed<SealedSignal> => {
  let message: unknown
  try {
    message = JSON.parse(text)
  } catch {
    return fail('not-json')
  }
  if (!isObject(message)) return fail('not-object')
  for (const field of Object.keys(message)) if (!sealedFields.has(field)) return fail('extra-field')
  const {t, from, to, ts, session, since, peerSession, sdp, credentials} = message
  // The seal repeats the header, so a header cannot be cut from one seal and pasted on another.
  if (t !== envelope.t || from !== envelope.from || to !== envelope.to || ts !== envelope.ts) return fail('mismatch')
  if (typeof session !== 'string' || !sessionPattern.test(session)) return fail('session')
  if (!isTime(since) || since > ts) return fail('session')
  if (typeof peerSession !== 'string' || (t === 'announce' ? peerSession !== '' : !sessionPattern.test(peerSession)))
    return fail('session')
  const sdpType = sdpKinds[t as SignalKind]
  if (sdpType) {
    if (!isObject(sdp) || sdp.type !== sdpType || typeof sdp.sdp !== 'string' || sdp.sdp.length > maxSdpLength)
      return fail('sdp')
    if (Object.keys(sdp).length !== 2) return fail('sdp')
  } else if (sdp !== undefined) return fail('sdp')
  if (credentials !== undefined) {
    if (t !== 'offer' && t !== 'answer') return fail('credentials')
    if (JSON.stringify(credentials).length > maxCredentialsLength) return fail('credentials')
  }
  return {ok: true, value: message as SealedSignal}
}

/** The bytes a signature covers: the domain, the room, and the whole envelope but its signature. */
export const signedText = (roomTopic: string, e: Omit<Envelope, 'sig'>): string =>
  JSON.stringify(['p2p-elements/signal', e.v, roomTopic, e.t, e.from, e.to, e.ts, e.key, e.sealed])

/** At most `limit` events per `windowMs` (a fixed window: cheap and good enough for caps). */
const windowLimiter = (limit: number, windowMs: number) => {
  let start = 0
  let count = 0
  return {
    take: (now = Date.now()) => {
      if (now - start >= windowMs) (start = now), (count = 0)
      if (count >= limit) return false
      count++
      return true
    },
  }
}

/**
 * A second way to carry signaling (mesh-signal, issue 11 part 5): straight to one peer,
 * e.g. sealed end to end through the room's overlay (src/core/mesh-signal/), instead of
 * the public relay's peer topic. What it carries is the same signed envelope text, and a
 * received one goes through every check a relay message does (signature and id, clock,
 * duplicates, room seal, `to`, sessions), plus one more: the transport's authenticated
 * sender must be the envelope's `from`, so a relaying member cannot hand over another
 * peer's envelope (a replay or a misdirected copy) as if that peer had sent it.
 */
export type SignalTransport = {
  /** Hands `text` toward `peerId`; false when this transport cannot reach it (the relay is used then). */
  send: (peerId: PeerId, text: string) => boolean | Promise<boolean>
  /** Delivers envelopes sent to us, each with the peer this transport authenticated as its sender. */
  subscribe: (onMessage: (text: string, from: PeerId) => void) => () => void
}

export type SignalingOptions = {
  signaling: Signaling
  /** Transports tried before the relay for messages to one peer (also `signaling.direct`, and `addTransport`). */
  direct?: SignalTransport[]
  identity: Identity
  /** The room key; may still be deriving when signaling starts (messages wait for it). */
  key: Promise<CryptoKey>
  roomTopic: string
  selfTopic: string
  peerTopic: (peerId: PeerId) => Promise<string>
  announceIntervalMs: number
  announceMaxIntervalMs: number
  connectTimeoutMs: number
  /** Sent sealed in our offers and answers, for the other side's `verify`. */
  credentials?: unknown
  /** The gate: resolves truthy to let a peer connect. */
  verify?: (peerId: PeerId, credentials: unknown) => unknown
  /** How long `verify` may take before the peer is refused. */
  verifyTimeoutMs: number
  /** The room's peer with this id, open or still connecting. */
  peer: (peerId: PeerId) => Peer | undefined
  /** `prepared`: a connection whose offer was made ahead (./offer-ahead.ts), for an offer we make. */
  createPeer: (peerId: PeerId, prepared?: PreparedOffer) => Peer
  /** Makes a connection with its offer ready before anyone asks (./offer-ahead.ts); none: offers made on the spot. */
  prepareOffer?: () => PreparedOffer
  joinError: (peerId: PeerId, error: string, code: P2PErrorCode) => void
  /** ICE restart through signaling (peer.ts): answer a restart offer of an open peer. */
  restartOffer?: (peerId: PeerId, offer: RTCSessionDescriptionInit) => Promise<RTCSessionDescriptionInit | undefined>
  restartAnswer?: (peerId: PeerId, answer: RTCSessionDescriptionInit) => void
  /** Called once per room when a message of another protocol version shows up (an older or newer release). */
  otherVersion?: (version: number) => void
  /**
   * A passive member (`config.passive`): never announces and never sends `wrong-key`, so it
   * publishes only in reply to a verified, sealed message of the room (PROTOCOL.md "Passive members").
   */
  passive?: boolean
  /** The room's debug log (`config.debug`), if on. */
  debug?: DebugLog
  /**
   * Rooms past a full mesh (src/core/mesh): whether to offer to a peer whose announce we
   * heard, or to answer its offer. Unset: always (a full mesh).
   */
  wants?: (peerId: PeerId, step: 'announce' | 'offer') => boolean | Promise<boolean>
}

/** A connection we hold to one session of a verified peer. */
type Link = {
  peer: Peer
  session: string
  since: number
  role: 'offerer' | 'answerer'
  key: PeerKey
  /** Latest `ts` acted on from this session: older copies are replays. */
  lastTs: number
  answered: boolean
  timer?: ReturnType<typeof setTimeout>
  /** When this handshake was counted in its id's own window, until it opens. */
  counted?: number
}

const encoder = new TextEncoder()
const newer = (a: {since: number; session: string}, b: {since: number; session: string}) =>
  a.since > b.since || (a.since === b.since && a.session > b.session)

export const startSignaling = (options: SignalingOptions) => {
  const {signaling, identity, roomTopic} = options
  const selfId = identity.id
  const session = randomId(16)
  const since = Date.now()
  let lastTs = 0
  let stopped = false
  let announceTimer: ReturnType<typeof setTimeout> | undefined

  const links = new Map<PeerId, Link>()
  /** Peers not tried until the time stored, by id; oldest dropped first past `refusedLimit`. */
  const refused = new Map<PeerId, number>()
  const refusedLimit = 256
  const seen = new Set<string>()
  const started: number[] = []
  const joinErrors = windowLimiter(maxJoinErrorsPerWindow, joinErrorWindowMs)
  const verifications = windowLimiter(maxVerificationsPerSecond, 1000)
  const chains = new Map<PeerId, Promise<void>>()

  const remember = (sig: string) => {
    seen.delete(sig)
    seen.add(sig)
    if (seen.size > seenLimit) seen.delete(seen.values().next().value!)
  }
  const isRefused = (peerId: PeerId) => (refused.get(peerId) ?? 0) > Date.now()
  const refuse = (peerId: PeerId) => {
    refused.delete(peerId)
    refused.set(peerId, Date.now() + refuseMs)
    if (refused.size > refusedLimit) refused.delete(refused.keys().next().value!)
  }
  const joinError = (peerId: PeerId, error: string, code: P2PErrorCode) => {
    if (joinErrors.take()) options.joinError(peerId, error, code)
  }

  /**
   * Ids that joined us (passed the gate and the handshake) lately, with their recent
   * handshake times. Their rejoins do not compete with strangers for the shared caps
   * (a page rejoining fast must meet again at once); each has a window of its own.
   */
  const known = new Map<PeerId, number[]>()
  const knownLimit = 256
  const noteKnown = (link: Link, peerId: PeerId) => {
    if (!link.peer.everOpened) return
    // A handshake that opened is paid for: only failed ones fill a known id's window, so any
    // number of quick rejoins meet at once while a key that keeps failing is still capped.
    if (link.counted !== undefined) {
      const own = known.get(peerId)
      const at = own?.indexOf(link.counted) ?? -1
      if (at >= 0) own!.splice(at, 1)
      link.counted = undefined
    }
    if (known.has(peerId)) return
    known.set(peerId, [])
    if (known.size > knownLimit) known.delete(known.keys().next().value!)
  }

  /** Our link to `peerId` if its peer is still the room's and not closed. */
  const liveLink = (peerId: PeerId): Link | undefined => {
    const link = links.get(peerId)
    if (link) noteKnown(link, peerId)
    if (link && !link.peer.isClosed && options.peer(peerId) === link.peer) return link
    if (link) clearTimeout(link.timer), links.delete(peerId)
    return undefined
  }
  const inWindow = (times: number[], now: number) => {
    while (times.length && now - times[0]! > handshakeWindowMs) times.shift()
    return times.length < maxHandshakesPerWindow
  }
  /**
   * Caps on new handshakes. A known id: its own window. Anyone else: the shared window, and
   * the pending cap unless it replaces a connection it already has (that adds no pending one).
   */
  const canStart = (peerId: PeerId, replacing: boolean) => {
    const now = Date.now()
    const own = known.get(peerId)
    if (own) return inWindow(own, now)
    if (!inWindow(started, now)) return false
    if (replacing) return true
    let pending = 0
    for (const id of [...links.keys()]) if (liveLink(id) && !links.get(id)!.peer.isOpen) pending++
    return pending < maxPendingHandshakes
  }
  const link = (peerId: PeerId, fields: Omit<Link, 'peer' | 'answered' | 'timer'>, prepared?: PreparedOffer): Link => {
    liveLink(peerId)?.peer.close('a newer handshake replaced it')
    const now = Date.now()
    const own = known.get(peerId)
    ;(own ?? started).push(now)
    let peer: Peer
    try {
      peer = options.createPeer(peerId, prepared)
    } catch (error) {
      // Browsers refuse new RTCPeerConnections past a limit (Chromium: 500 alive in a process,
      // closed ones counted until garbage collected). Said, not swallowed; the next announce retries.
      prepared?.connection.close()
      joinError(
        peerId,
        `could not make a peer connection for peer ${peerId} (${errorMessage(error)}): the browser limits how many a page holds, closed ones included until they are garbage collected; trying again on its next announce`,
        'no-webrtc',
      )
      throw error
    }
    // A handshake that has not opened its channel in time is dropped; the next announce retries it.
    peer.expireUnlessOpen(options.connectTimeoutMs)
    const entry: Link = {peer, answered: false, ...fields, counted: own ? now : undefined}
    links.set(peerId, entry)
    // This peer ends being alone: an offer made ahead goes, but only once this handshake's
    // offer or answer is out (offerTo, onOffer call `tend`), as closing a connection costs
    // main thread right when the answer is made. Its close may start one again.
    peer.channel.addEventListener('close', () => queueMicrotask(ahead.tend))
    return entry
  }

  /**
   * Runs a peer's signals one at a time, in order, each after the previous one's decisions.
   * A step waits for the one before it at most `connectTimeoutMs` (a handshake's own
   * deadline): a WebRTC call on a connection closed meanwhile may never settle in Chromium,
   * and must not make us deaf to that peer for good.
   */
  const enqueue = (peerId: PeerId, task: () => Promise<void> | void) => {
    const bounded = () => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const deadline = new Promise<void>(resolve => (timer = setTimeout(resolve, options.connectTimeoutMs)))
      return Promise.race([Promise.resolve().then(task), deadline]).finally(() => clearTimeout(timer))
    }
    const next = (chains.get(peerId) ?? Promise.resolve()).then(bounded).catch(() => {})
    chains.set(peerId, next)
    void next.then(() => chains.get(peerId) === next && chains.delete(peerId))
  }

  /** Adapters must not throw, but one that does must not break the room. */
  const publish = (topic: string, message: string) => {
    sent.relay++
    try {
      signaling.publish(topic, message)
    } catch {
      // the next announce tries again
    }
  }

  /** Direct transports (the overlay, mesh-signal), tried in order before the relay. */
  const transports: SignalTransport[] = []
  /** Messages handed to the relay and to direct transports: the figure bench/relay-msgs.mjs reads. */
  const sent = {relay: 0, direct: 0}
  const sendDirect = async (to: PeerId, text: string): Promise<boolean> => {
    for (const transport of [...transports]) {
      try {
        if (await transport.send(to, text)) return (sent.direct++, true)
      } catch {
        // a transport that throws is one that could not carry it
      }
    }
    return false
  }

  /**
   * Signs and seals one message and sends it: to one peer through a direct transport when
   * one reaches it, else on the relay. `via` sends an announce to one peer only, directly
   * (`connect`): it never falls back to the relay, and says whether a transport took it.
   */
  const send = async (
    t: SignalKind,
    to: PeerId | '',
    fields: {peerSession: string; sdp?: RTCSessionDescriptionInit; credentials?: unknown},
    via?: PeerId,
  ): Promise<boolean> => {
    // The peer topic's hash runs alongside the seal and the signature, not after them.
    const topic = to ? options.peerTopic(to) : roomTopic
    const ts = (lastTs = Math.max(Date.now(), lastTs + 1))
    const inner: SealedSignal = {t, from: selfId, to, ts, session, since, peerSession: fields.peerSession}
    if (fields.sdp) inner.sdp = {type: fields.sdp.type as 'offer' | 'answer', sdp: fields.sdp.sdp ?? ''}
    if (fields.credentials !== undefined) inner.credentials = fields.credentials
    const sealed = t === 'wrong-key' ? '' : await encrypt(await options.key, JSON.stringify(inner))
    const envelope = {v: protocolVersion, t, from: selfId, to, ts, key: identity.publicKeyText, sealed} as const
    const sig = toBase64Url(await sign(identity, encoder.encode(signedText(roomTopic, envelope))))
    if (stopped) return false
    const text = JSON.stringify({...envelope, sig})
    if (via) {
      const taken = await sendDirect(via, text)
      options.debug?.(taken ? `${t} sent through the overlay` : `${t} found no route`, via)
      return taken
    }
    if (to && transports.length && (await sendDirect(to, text))) {
      options.debug?.(`${t} sent through the overlay`, to)
      return true
    }
    publish(await topic, text)
    options.debug?.(`${t} sent`, to || undefined)
    return true
  }

  /** The gate: `verify` must resolve truthy within `verifyTimeoutMs`. */
  const admit = async (peerId: PeerId, credentials: unknown): Promise<boolean> => {
    if (!options.verify) return true
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      const verdict = await Promise.race([
        Promise.resolve().then(() => options.verify!(peerId, credentials)),
        new Promise(resolve => (timer = setTimeout(resolve, options.verifyTimeoutMs, false))),
      ])
      return !!verdict
    } catch {
      return false
    } finally {
      clearTimeout(timer)
    }
  }

  const credentials = () => (options.credentials === undefined ? {} : {credentials: options.credentials})

  /**
   * One offer made ahead (./offer-ahead.ts) while this member is alone in the room (from the
   * start, and again once its last peer is gone): the announce of whoever comes is answered
   * with it at once. It is signed and sealed for its receiver when taken, like any offer;
   * taking it empties the slot, so no two peers get the same one. While any handshake is
   * under way or any peer open there is none (it is dropped): a member then holds no
   * connection but its peers', and no new one competes with a handshake for the CPU. Passive members make none (they
   * hold no connection until someone announces). At most one connection more than the
   * handshakes the caps let start, and none while connected.
   */
  const alone = () => ![...links.keys()].some(id => liveLink(id))
  const ahead = createOfferSlot(options.passive ? undefined : options.prepareOffer, alone)
  ahead.tend()

  const offerTo = (peerId: PeerId, s: SealedSignal, key: PeerKey) => {
    const prepared = ahead.take()
    const entry = link(peerId, {session: s.session, since: s.since, role: 'offerer', key, lastTs: s.ts}, prepared)
    const {peer} = entry
    entry.timer = setTimeout(
      () => entry.answered || peer.close(`no answer within ${answerTimeoutMs} ms`),
      answerTimeoutMs,
    )
    void (async () => {
      try {
        const offer = await peer.createOffer(iceGatheringTimeoutMs)
        if (peer.isClosed || stopped) return
        await send('offer', peerId, {peerSession: s.session, sdp: offer, ...credentials()})
      } catch (error) {
        peer.close(`could not make an offer: ${errorMessage(error)}`)
      } finally {
        // The next one (if still alone), or dropping an unused one, once this offer is out.
        ahead.tend()
      }
    })()
  }

  /** The latest announce heard from each peer, so `dial` can offer to it later (mesh). */
  const heard = new Map<PeerId, {s: SealedSignal; key: PeerKey}>()
  const onAnnounce = async (s: SealedSignal, key: PeerKey) => {
    if (isRefused(s.from)) return
    if (options.wants) {
      heard.delete(s.from)
      heard.set(s.from, {s, key})
      if (heard.size > refusedLimit) heard.delete(heard.keys().next().value!)
    }
    const current = liveLink(s.from)
    // The same session again (a periodic announce, a copy) or an older one: nothing to do.
    if (current && (current.session === s.session || !newer(s, current))) return
    if (options.wants && !current && !(await options.wants(s.from, 'announce'))) return
    if (stopped || (!current && liveLink(s.from)) || !canStart(s.from, !!current)) return
    // A newer session of the same verified identity: it rejoined; `link` replaces the old connection.
    offerTo(s.from, s, key)
  }

  const onOffer = async (s: SealedSignal, key: PeerKey) => {
    const current = liveLink(s.from)
    if (current) {
      if (current.session === s.session) {
        // Both offered at once: the larger id's offer wins, the other side answers it.
        if (current.role === 'offerer' && selfId > s.from) return
        if (current.role === 'answerer' && (current.peer.isOpen || s.ts <= current.lastTs)) return
      } else if (!newer(s, current)) return
    }
    if (!canStart(s.from, !!current)) return
    // A member at its cap lets an offer go unanswered (the offerer's handshake times out).
    if (options.wants && !current && !(await options.wants(s.from, 'offer'))) return
    if (!(await admit(s.from, s.credentials))) {
      options.debug?.('verify gate refused', s.from)
      await send('reject', s.from, {peerSession: s.session})
      return
    }
    if (stopped) return
    refused.delete(s.from)
    const {peer} = link(s.from, {session: s.session, since: s.since, role: 'answerer', key, lastTs: s.ts})
    try {
      const answer = await peer.acceptOffer(s.sdp!, iceGatheringTimeoutMs)
      if (peer.isClosed || stopped) return
      await send('answer', s.from, {peerSession: s.session, sdp: answer, ...credentials()})
    } catch (error) {
      peer.close(`could not answer its offer: ${errorMessage(error)}`)
    } finally {
      ahead.tend() // the offer made ahead is dropped now that the answer is out (see `link`)
    }
  }

  const onAnswer = async (s: SealedSignal) => {
    const current = liveLink(s.from)
    if (current?.role !== 'offerer' || current.session !== s.session || current.answered) return
    current.answered = true
    current.lastTs = s.ts
    clearTimeout(current.timer)
    if (!(await admit(s.from, s.credentials))) {
      options.debug?.('verify gate refused', s.from)
      current.peer.close('it did not pass our verify gate')
      await send('reject', s.from, {peerSession: s.session})
      return
    }
    try {
      await current.peer.acceptAnswer(s.sdp!)
    } catch (error) {
      current.peer.close(`its answer did not apply: ${errorMessage(error)}`)
    }
  }

  const onReject = (s: SealedSignal) => {
    const current = liveLink(s.from)
    if (current && current.session !== s.session) return
    current?.peer.close('it refused this peer')
    if (isRefused(s.from)) return
    refuse(s.from)
    joinError(s.from, `peer ${s.from} refused this peer at its verify gate (config.verify)`, 'rejected')
  }

  const onRestart = async (s: SealedSignal) => {
    const current = liveLink(s.from)
    if (!current?.peer.isOpen || current.session !== s.session || s.ts <= current.lastTs) return
    current.lastTs = s.ts
    const answer = await options.restartOffer?.(s.from, s.sdp!)
    if (answer && !stopped) await send('restart-answer', s.from, {peerSession: s.session, sdp: answer})
  }

  const onRestartAnswer = (s: SealedSignal) => {
    const current = liveLink(s.from)
    if (!current?.peer.isOpen || current.session !== s.session || s.ts <= current.lastTs) return
    current.lastTs = s.ts
    options.restartAnswer?.(s.from, s.sdp!)
  }

  /** A correctly signed message from `from` whose seal did not open with our room key. */
  const sealDidNotOpen = (from: PeerId) => {
    // Never act against a peer we are connected or connecting to: it has our key.
    if (liveLink(from) || isRefused(from)) return
    refuse(from)
    if (!joinErrors.take()) return
    options.joinError(
      from,
      `incorrect password: could not decrypt signaling from peer ${from}; every peer of a room must use the same password`,
      'bad-password',
    )
    if (!options.passive) void send('wrong-key', from, {peerSession: ''})
  }

  const onWrongKey = (from: PeerId) => {
    if (liveLink(from) || isRefused(from)) return
    refuse(from)
    joinError(
      from,
      `incorrect password: peer ${from} could not decrypt our signaling; every peer of a room must use the same password`,
      'bad-password',
    )
  }

  /** Signature (and id), clock, duplicates, seal, content: in that order, before anything acts. */
  const check = async (e: Envelope) => {
    // The seal is opened while the signature is checked (each is a WebCrypto round trip, and
    // they do not depend on each other); what it holds is not read before the signature passed.
    const opened = e.t === 'wrong-key' ? undefined : options.key.then(roomKey => decrypt(roomKey, e.sealed))
    opened?.catch(() => {})
    let key: PeerKey
    try {
      const [id, peerKey] = await Promise.all([idOfKey(fromBase64Url(e.key)), publicKeyOf(e.key)])
      if (id !== e.from) return
      key = peerKey
      if (!(await verify(key, fromBase64Url(e.sig), encoder.encode(signedText(roomTopic, e))))) return
    } catch {
      return
    }
    if (stopped || Math.abs(Date.now() - e.ts) > maxClockSkewMs || seen.has(e.sig)) return
    remember(e.sig)
    if (e.t === 'wrong-key') return enqueue(e.from, () => onWrongKey(e.from))
    let text: string
    try {
      text = await opened!
    } catch {
      return enqueue(e.from, () => sealDidNotOpen(e.from))
    }
    const parsed = parseSealed(text, e)
    if (!parsed.ok || stopped) return
    const s = parsed.value
    // Everything but an announce answers one session of ours: older sessions' mail is not ours.
    if (s.t !== 'announce' && s.peerSession !== session) return
    enqueue(s.from, () => {
      if (stopped) return
      options.debug?.(`${s.t} received`, s.from)
      switch (s.t) {
        case 'announce':
          return onAnnounce(s, key)
        case 'offer':
          return onOffer(s, key)
        case 'answer':
          return onAnswer(s)
        case 'reject':
          return onReject(s)
        case 'restart':
          return onRestart(s)
        case 'restart-answer':
          return onRestartAnswer(s)
      }
    })
  }

  let versionReported = false
  /**
   * Envelopes of another version (`v`) are told once, acted on never. Version 1 messages
   * (`{t, peer, sealed}`, no `v`) are not told: they carry no signature, so one from an old
   * release cannot be told apart from an outsider's junk, and junk must change nothing.
   */
  const noteVersion = (text: string) => {
    if (versionReported) return
    try {
      const message = JSON.parse(text)
      const version = Number.isSafeInteger(message?.v) ? message.v : undefined
      if (version === undefined || version === protocolVersion) return
      versionReported = true
      options.otherVersion?.(version)
    } catch {}
  }

  const onMessage = (text: string) => {
    if (stopped) return
    const parsed = parseEnvelope(text)
    if (!parsed.ok) return void (parsed.reason === 'version' && noteVersion(text))
    const e = parsed.value
    if (e.from === selfId || (e.t !== 'announce' && e.to !== selfId) || seen.has(e.sig)) return
    if (!verifications.take()) return
    void check(e)
  }

  const unsubscribe = [signaling.subscribe(options.selfTopic, onMessage), signaling.subscribe(roomTopic, onMessage)]

  /** A direct transport's message: the relay's checks, and its sender must be the envelope's. */
  const onDirect = (text: string, sender: PeerId) => {
    if (stopped) return
    const parsed = parseEnvelope(text)
    if (!parsed.ok || parsed.value.from !== sender) return
    onMessage(text)
  }
  const addTransport = (transport: SignalTransport) => {
    transports.push(transport)
    const off = transport.subscribe(onDirect)
    let removed = false
    const remove = () => {
      if (removed) return
      removed = true
      off()
      transports.splice(transports.indexOf(transport), 1)
    }
    unsubscribe.push(remove)
    return remove
  }
  for (const transport of [...(options.direct ?? []), ...(signaling.direct ? [signaling.direct] : [])])
    addTransport(transport)

  let delay = options.announceIntervalMs
  const announce = () => {
    if (stopped) return
    void send('announce', '', {peerSession: ''}).catch(() => {})
    ahead.tend() // in case a peer's close went unheard
    announceTimer = setTimeout(announce, delay)
    delay = Math.min(delay * 2, options.announceMaxIntervalMs)
  }
  // The first announce goes out as soon as the room key is ready (it is sealed with it).
  // A passive member never announces: it meets only peers whose announces it hears.
  if (!options.passive) void options.key.then(announce, () => {})

  return {
    session,
    sent,
    addTransport,
    /**
     * Asks `peerId` for a direct connection without the relay (`room.connect`): our announce,
     * sent to it alone through a direct transport; it offers back the same way. False when no
     * transport reaches it. An open or connecting peer is left as it is.
     */
    connect: async (peerId: PeerId): Promise<boolean> => {
      if (stopped || peerId === selfId) return false
      if (liveLink(peerId)) return true
      await options.key
      return send('announce', '', {peerSession: ''}, peerId)
    },
    stop() {
      stopped = true
      ahead.stop()
      clearTimeout(announceTimer)
      for (const entry of links.values()) clearTimeout(entry.timer)
      links.clear()
      for (const off of unsubscribe) off()
    },
    /** The verified public key of a peer we hold a connection to. */
    keyOf: (peerId: PeerId): CryptoKey | undefined => liveLink(peerId)?.key.key,
    /** Offers to a peer whose announce we heard (mesh: a link the overlay chose); false if we cannot. */
    dial(peerId: PeerId): boolean {
      const last = heard.get(peerId)
      if (stopped || !last || liveLink(peerId) || isRefused(peerId) || !canStart(peerId, false)) return false
      offerTo(peerId, last.s, last.key)
      return true
    },
    /** Sends an ICE-restart offer to an open peer through the relay; false if it is not open. */
    restart(peerId: PeerId, offer: RTCSessionDescriptionInit): boolean {
      const current = liveLink(peerId)
      if (!current?.peer.isOpen || stopped) return false
      void send('restart', peerId, {peerSession: current.session, sdp: offer}).catch(() => {})
      return true
    },
  }
}
