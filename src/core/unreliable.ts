import {callSafely} from './call.js'
import {decodeValue, encodeValue, ValueKind} from './codec.js'
import {P2PError, invalidConfig} from './errors.js'
import {maxActionIdBytes} from './frame.js'
import type {Peer} from './peer.js'
import type {Action, ActionOptions, DataPayload, Metadata, PeerId, TargetPeers} from './types.js'

/**
 * Unreliable actions: `makeAction(id, {reliable: false})`. Each message is one datagram on a
 * second data channel, unordered and never retransmitted, so it cannot wait behind a file on
 * the reliable channel, nor behind a lost packet of its own. Latest wins: a receiver drops a
 * message older than the last one it delivered for that action from that sender.
 *
 * The channel is negotiated (both sides create it with id 1) rather than announced in-band:
 * no open handshake and no wait for the other side's `datachannel` event, and a peer that
 * never made an unreliable action (or runs an older release) simply has no stream 1, so its
 * browser drops what arrives there, and nothing else changes. Neither way needs an SDP
 * renegotiation: channels share the SCTP association the first offer set up.
 *
 * Datagram on channel 1 (integers big-endian):
 *   [version u8 = 1][seq u32][id length u8][action id utf8][kind u8][meta length u16][meta json] payload
 */

/** The SCTP stream id of the unreliable channel (id 0 is the reliable one). */
export const datagramChannelId = 1
/**
 * Largest datagram, header included: it must fit one SCTP packet, or it goes as fragments and
 * losing any one loses it whole. Chromium's SCTP packets are at most 1191 bytes (the IPv6
 * minimum MTU of 1280 less IP, UDP and DTLS overhead); less the 12-byte common header and a
 * 16-byte DATA chunk header, padded to 4 bytes, 1160 bytes of message remain. Measured
 * (bench/unreliable.mjs, Chromium 156): 1160 bytes go in one packet, 1162 in two. 1150 keeps
 * a margin for stacks that pad or bundle differently.
 */
export const maxDatagramBytes = 1150
/** Datagrams per second a peer may send us (bursts up to `datagramBurst`); the rest are dropped. */
export const datagramRate = 1000
export const datagramBurst = 500

const version = 1
const fixedHeaderBytes = 1 + 4 + 1 + 1 + 2
const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder('utf-8', {fatal: true})

// biome-ignore lint/suspicious/noExplicitAny: one registry holds actions of every payload type
type Receiver = (data: any, peerId: PeerId, metadata?: Metadata) => void
// biome-ignore lint/suspicious/noExplicitAny: as above
type Entry = {action: Action<any>; id: Uint8Array; seq: number; onMessage?: Receiver}

/** What the unreliable channel holds per peer connection (gone with the Peer). */
type Link = {
  channel: RTCDataChannel
  /** The latest datagram per action written before the channel opened. */
  pending: Map<string, Uint8Array>
  /** Highest sequence number delivered per action from this peer. */
  seen: Map<string, number>
  tokens: number
  refilledAt: number
  warned: boolean
}

/** Serial-number order (RFC 1982) on u32: true if `a` comes after `b`. */
const newer = (a: number, b: number) => {
  const distance = (a - b) >>> 0
  return distance !== 0 && distance < 0x8000_0000
}

export const isUnreliable = (options: ActionOptions | undefined): boolean => {
  if (options === undefined) return false
  if (typeof options !== 'object' || options === null)
    throw invalidConfig('makeAction(id, options): options must be an object such as {reliable: false}')
  const {reliable} = options
  if (reliable !== undefined && typeof reliable !== 'boolean')
    throw invalidConfig(`makeAction options.reliable must be true or false, not ${JSON.stringify(reliable)}`)
  return reliable === false
}

export const encodeDatagram = (seq: number, id: Uint8Array, kind: number, meta: Uint8Array, body: Uint8Array) => {
  const bytes = new Uint8Array(fixedHeaderBytes + id.byteLength + meta.byteLength + body.byteLength)
  const view = new DataView(bytes.buffer)
  bytes[0] = version
  view.setUint32(1, seq)
  bytes[5] = id.byteLength
  bytes.set(id, 6)
  let at = 6 + id.byteLength
  bytes[at] = kind
  view.setUint16(at + 1, meta.byteLength)
  at += 3
  bytes.set(meta, at)
  bytes.set(body, at + meta.byteLength)
  return bytes
}

type Datagram = {seq: number; actionId: string; kind: number; meta: Uint8Array; body: Uint8Array}

/** Parses one datagram's header; undefined for anything this library did not write. */
export const decodeDatagram = (data: unknown): Datagram | undefined => {
  if (Object.prototype.toString.call(data) !== '[object ArrayBuffer]') return undefined
  const buffer = data as ArrayBuffer
  if (buffer.byteLength < fixedHeaderBytes || buffer.byteLength > maxDatagramBytes) return undefined
  const bytes = new Uint8Array(buffer)
  const view = new DataView(buffer)
  if (bytes[0] !== version) return undefined
  const idLength = bytes[5]!
  if (!idLength || fixedHeaderBytes + idLength > bytes.byteLength) return undefined
  let actionId: string
  try {
    actionId = fromUtf8.decode(bytes.subarray(6, 6 + idLength))
  } catch {
    return undefined
  }
  const at = 6 + idLength
  const kind = bytes[at]!
  const metaLength = view.getUint16(at + 1)
  const metaStart = at + 3
  if (kind > ValueKind.Binary || metaStart + metaLength > bytes.byteLength) return undefined
  return {
    seq: view.getUint32(1),
    actionId,
    kind,
    meta: bytes.subarray(metaStart, metaStart + metaLength),
    body: bytes.subarray(metaStart + metaLength),
  }
}

export type DatagramEvents = {
  /** Open, joined peers for `targets` (explicit ids not in the room throw `unknown-peer`). */
  resolveTargets: (targets: TargetPeers) => Peer[]
  /** Whether app data from this peer may be delivered (it passed the handshake). */
  isJoined: (peer: Peer) => boolean
  problem: (error: P2PError) => void
}

export const createDatagrams = ({resolveTargets, isJoined, problem}: DatagramEvents) => {
  const entries = new Map<string, Entry>()
  const links = new WeakMap<Peer, Link>()

  const malformed = (peer: Peer, link: Link, what: string) => {
    if (link.warned) return
    link.warned = true
    problem(
      new P2PError(
        'malformed',
        `peer ${peer.id} sent ${what} on the unreliable channel; it and any further bad datagrams are dropped quietly`,
        peer.id,
      ),
    )
  }

  const receive = (peer: Peer, link: Link, data: unknown) => {
    // Token bucket first: a flood costs one subtraction per datagram, nothing is kept.
    const now = performance.now()
    link.tokens = Math.min(datagramBurst, link.tokens + ((now - link.refilledAt) * datagramRate) / 1000)
    link.refilledAt = now
    if (link.tokens < 1) return
    link.tokens--
    if (!isJoined(peer)) return
    const datagram = decodeDatagram(data)
    if (!datagram) return malformed(peer, link, 'a datagram that does not parse')
    // An action this page did not make unreliable (or nobody listens to): latest-wins data
    // is worthless later, so nothing is kept for it.
    const entry = entries.get(datagram.actionId)
    if (!entry?.onMessage) return
    const last = link.seen.get(datagram.actionId)
    if (last !== undefined && !newer(datagram.seq, last)) return
    let meta: Metadata
    let value: unknown
    try {
      meta = datagram.meta.byteLength ? JSON.parse(fromUtf8.decode(datagram.meta)) : undefined
      value = decodeValue(datagram.kind, datagram.body)
    } catch {
      return malformed(peer, link, 'a datagram whose value or metadata does not decode')
    }
    link.seen.set(datagram.actionId, datagram.seq)
    const onMessage = entry.onMessage
    callSafely(() => onMessage(value, peer.id, meta))
  }

  /** The unreliable channel to a joined peer, created on first need on both sides. */
  const linkTo = (peer: Peer): Link | undefined => {
    const existing = links.get(peer)
    if (existing) return existing
    if (peer.isClosed) return undefined
    let channel: RTCDataChannel
    try {
      channel = peer.connection.createDataChannel('p2p-elements-unreliable', {
        negotiated: true,
        id: datagramChannelId,
        ordered: false,
        maxRetransmits: 0,
      })
    } catch {
      return undefined // the connection is closing
    }
    channel.binaryType = 'arraybuffer'
    const link: Link = {
      channel,
      pending: new Map(),
      seen: new Map(),
      tokens: datagramBurst,
      refilledAt: performance.now(),
      warned: false,
    }
    links.set(peer, link)
    channel.addEventListener('open', () => {
      for (const frame of link.pending.values()) write(link, frame)
      link.pending.clear()
    })
    channel.addEventListener('message', event => receive(peer, link, event.data))
    return link
  }

  const write = (link: Link, frame: Uint8Array) => {
    try {
      link.channel.send(frame as Uint8Array<ArrayBuffer>)
    } catch {
      // closing: an unreliable message may be lost, and this one is
    }
  }

  const entryFor = (actionId: string): Entry => {
    const existing = entries.get(actionId)
    if (existing) return existing
    const id = utf8.encode(actionId)
    const entry = {id, seq: 0} as Entry

    const send = async (
      data: DataPayload,
      targets?: TargetPeers,
      meta?: Metadata,
      onProgress?: (fraction: number, peerId: PeerId) => void,
    ) => {
      // Numbered when called, so the last call is the one that wins, whatever encoding takes.
      const seq = (entry.seq = (entry.seq + 1) >>> 0)
      const peers = resolveTargets(targets)
      let metaBytes: Uint8Array
      try {
        metaBytes = meta === undefined ? new Uint8Array(0) : utf8.encode(JSON.stringify(meta))
      } catch (error) {
        throw invalidConfig(`action "${actionId}": metadata must be JSON (${error})`)
      }
      const {kind, bytes} = await encodeValue(data)
      const size = fixedHeaderBytes + id.byteLength + metaBytes.byteLength + bytes.byteLength
      if (size > maxDatagramBytes)
        throw new P2PError(
          'too-large',
          `unreliable action "${actionId}": the message takes ${size} bytes with its header, over the ${maxDatagramBytes} one datagram carries ` +
            `(${maxDatagramBytes - fixedHeaderBytes - id.byteLength - metaBytes.byteLength} left for the value here); send less, or use a reliable action`,
        )
      const frame = encodeDatagram(seq, id, kind, metaBytes, bytes)
      for (const peer of peers) {
        const link = linkTo(peer)
        if (!link) continue
        if (link.channel.readyState === 'open') write(link, frame)
        else if (link.channel.readyState === 'connecting') link.pending.set(actionId, frame)
        onProgress?.(1, peer.id)
      }
    }
    const onMessage = (callback: Receiver) => {
      entry.onMessage = callback
    }
    const onReceiveProgress = (_callback: unknown) => {} // one datagram: nothing arrives in parts
    entry.action = Object.assign([send, onMessage, onReceiveProgress], {send, onMessage, onReceiveProgress}) as Action
    entries.set(actionId, entry)
    return entry
  }

  return {
    /** The unreliable action `actionId`; opens the channel to every joined peer. */
    makeAction<T extends DataPayload>(actionId: string): Action<T> {
      if (typeof actionId !== 'string' || !actionId)
        throw new P2PError(
          'action-id',
          'makeAction needs a non-empty string id, e.g. makeAction("cursor", {reliable: false})',
        )
      const bytes = utf8.encode(actionId).byteLength
      if (bytes > maxActionIdBytes)
        throw new P2PError(
          'action-id',
          `action id "${actionId.slice(0, 32)}…" is ${bytes} bytes in UTF-8; the wire carries at most ${maxActionIdBytes}: use a shorter id`,
        )
      const entry = entryFor(actionId)
      for (const peer of resolveTargets(undefined)) linkTo(peer)
      return entry.action as Action<T>
    },

    has: (actionId: string) => entries.has(actionId),

    /** A peer passed the handshake: open its unreliable channel if this page has such actions. */
    peerJoined(peer: Peer) {
      if (entries.size) linkTo(peer)
    },
  }
}

export type Datagrams = ReturnType<typeof createDatagrams>
