import {P2PError, type P2PErrorCode} from './errors.js'
import {
  FrameType,
  chunkHeaderSize,
  decodeMessageHeader,
  encodeAck,
  encodeAcks,
  encodeChunk,
  maxBatchedAcks,
  encodeMessageHeader,
  encodeRefuse,
  MalformedFrame,
  type Frame,
} from './frame.js'
import {decodeValue, ValueKind} from './codec.js'
import type {Peer} from './peer.js'
import type {Metadata, PeerId} from './types.js'

/**
 * Moving one action message to one peer: chunking, acknowledgement, progress, refusal.
 *
 * The receiver acknowledges every `ackEvery` (16) chunks, about once per MiB, with the bytes
 * it holds so far, and once more (done) when the whole message decoded: the sender's progress
 * follows what actually arrived, and its promise resolves only on that last ack. Between acks
 * the sender keeps writing; the outbox, not the acks, paces it. A receiver that will not take
 * a message (over its size cap, malformed) refuses it by nonce: the sender stops sending and
 * its promise rejects with the reason. Nothing is ever silently truncated.
 *
 * Bulk messages (the `bulk` hook: file chunks and the file protocol's own messages, which
 * carry their own acknowledgements) flag their chunks "ack may wait": the receiver gathers
 * their done-acks and sends one Acks frame per `lazyAckBatch` messages, or after
 * `lazyAckMs`, instead of a reverse frame per message. Their frames are written into pooled
 * buffers (frame.ts), and the `views` hook lets the receiver take a one-frame binary value as
 * a view into the received frame instead of a copy.
 */

type Outgoing = {
  peerId: PeerId
  total: number
  frames: Iterator<Uint8Array>
  resolve: () => void
  reject: (error: P2PError) => void
  onProgress?: (fraction: number, peerId: PeerId) => void
  /** The message's frames afresh under a new nonce, for another way to the same peer (reroute). */
  again: (nonce: number, frameSize: number) => Iterator<Uint8Array>
  /** The way (direct or relayed peer object) whose outbox carries `frames`. */
  via: Peer
}

type Incoming = {
  actionId: string
  kind: number
  meta: Metadata
  total: number
  received: number
  nextIndex: number
  // Chunks are kept as they come and joined at the end, so memory follows bytes actually
  // received, never a size a peer merely declares.
  chunks: Uint8Array[]
  lastHeard: number
}

export type TransferEvents = {
  deliver: (peerId: PeerId, actionId: string, value: unknown, meta: Metadata) => void
  progress: (peerId: PeerId, actionId: string, fraction: number, meta: Metadata) => void
  problem: (error: P2PError) => void
  /** Another way to a peer whose link closed between choosing it and sending (mesh: relayed). */
  elsewhere?: (peerId: PeerId) => Peer | undefined
  /** Messages of this action are bulk: their done-acks may be batched (see above). */
  bulk?: (actionId: string) => boolean
  /**
   * Binary values of this action from this peer are delivered as a Uint8Array view into the
   * received frame (no copy); the receiver owns that frame's buffer (it may move it to a Worker).
   */
  views?: (peer: Peer, actionId: string) => boolean
}

function* chunkFrames(nonce: number, header: Uint8Array, body: Uint8Array, frameSize: number, lazy: boolean) {
  const space = frameSize - chunkHeaderSize
  const options = {lazy, pooled: true}
  let end = Math.min(body.byteLength, space - header.byteLength)
  let index = 0
  yield encodeChunk(nonce, index++, end >= body.byteLength, [header, body.subarray(0, end)], options)
  while (end < body.byteLength) {
    const start = end
    end = Math.min(body.byteLength, start + space)
    yield encodeChunk(nonce, index++, end >= body.byteLength, [body.subarray(start, end)], options)
  }
}

const join = (chunks: Uint8Array[], total: number) => {
  if (chunks.length === 1 && chunks[0]!.byteLength === total) return chunks[0]!.slice()
  const bytes = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}

/** Chunks per progress ack: 16 × 64 KiB = one ack per MiB received. */
export const ackEvery = 16
/**
 * Messages up to this size (header and payload) skip ahead of the bulk in a peer's outbox:
 * chat lines, requests, and the overlay's heartbeats, acks and credits, which must not wait
 * behind relayed megabytes (a heartbeat late past the expiry is a member taken for gone).
 * A relayed data frame (16 KiB, base64 in JSON) is larger, so it stays in the bulk lane.
 */
export const smallMessageBytes = 16 * 1024
/** Bulk messages whose done-acks one Acks frame carries (at most maxBatchedAcks). */
export const lazyAckBatch = maxBatchedAcks
/** The longest a bulk message's done-ack waits for others to share its frame. */
export const lazyAckMs = 250

const refusalCodes: P2PErrorCode[] = ['too-large', 'malformed', 'busy', 'no-route']

/** Messages one peer may have part-way to us at once; a start beyond it is refused ('busy'). */
export const maxIncomingPerPeer = 64
/** A part-way message with no chunk for this long is dropped (its sender is stuck or hostile). */
export const incomingIdleMs = 60_000
/** Refusals per second per peer that are answered and reported; beyond, frames are dropped silently. */
export const refusalsPerSecond = 10
/** Refusals from one peer after which it is disconnected: a broken or hostile client. */
export const refusalLimit = 500

export const createTransfers = (maxMessageSize: number, events: TransferEvents) => {
  let lastNonce = 0
  const outgoing = new Map<number, Outgoing>()
  const incoming = new Map<PeerId, Map<number, Incoming>>()
  // Nonces refused mid-message: their remaining chunks are skipped quietly.
  const refused = new Map<PeerId, Set<number>>()
  // Per peer: refusals in the current second and in all, so a flood is not answered frame by frame.
  const refusals = new Map<PeerId, {windowStart: number; inWindow: number; total: number}>()
  // Per peer: done-acks of bulk messages not sent yet (one Acks frame carries them).
  const lazyAcks = new Map<PeerId, {peer: Peer; nonces: number[]; timer?: ReturnType<typeof setTimeout>}>()
  const flushAcks = (peerId: PeerId) => {
    const pending = lazyAcks.get(peerId)
    if (!pending) return
    lazyAcks.delete(peerId)
    clearTimeout(pending.timer)
    for (let at = 0; at < pending.nonces.length; at += maxBatchedAcks)
      pending.peer.send(encodeAcks(pending.nonces.slice(at, at + maxBatchedAcks)))
  }
  const ackLater = (peer: Peer, nonce: number) => {
    let pending = lazyAcks.get(peer.id)
    if (pending && pending.peer !== peer) flushAcks(peer.id)
    pending = lazyAcks.get(peer.id)
    if (!pending) lazyAcks.set(peer.id, (pending = {peer, nonces: []}))
    pending.nonces.push(nonce)
    if (pending.nonces.length >= lazyAckBatch) return flushAcks(peer.id)
    pending.timer ??= setTimeout(() => flushAcks(peer.id), lazyAckMs)
  }

  const refuse = (peer: Peer, nonce: number, code: P2PErrorCode, message: string) => {
    incoming.get(peer.id)?.delete(nonce)
    if (!refused.has(peer.id)) refused.set(peer.id, new Set())
    const skip = refused.get(peer.id)!
    if (skip.size < maxIncomingPerPeer) skip.add(nonce)
    const now = Date.now()
    const count = refusals.get(peer.id) ?? {windowStart: now, inWindow: 0, total: 0}
    refusals.set(peer.id, count)
    if (now - count.windowStart > 1000) Object.assign(count, {windowStart: now, inWindow: 0})
    count.total++
    if (count.total > refusalLimit) {
      events.problem(
        new P2PError('flood', `peer ${peer.id} sent over ${refusalLimit} refused messages; disconnected it`, peer.id),
      )
      return peer.close(`it sent over ${refusalLimit} malformed or refused messages`)
    }
    if (++count.inWindow > refusalsPerSecond) return
    peer.send(encodeRefuse(nonce, `${code}:${message}`))
    events.problem(new P2PError(code, `peer ${peer.id} sent ${message}; the message was dropped`, peer.id))
  }

  const idleTimer = setInterval(() => {
    const now = Date.now()
    for (const messages of incoming.values())
      for (const [nonce, message] of messages) if (now - message.lastHeard > incomingIdleMs) messages.delete(nonce)
  }, incomingIdleMs / 4)
  ;(idleTimer as {unref?: () => void}).unref?.()

  const receiveChunk = (peer: Peer, frame: Extract<Frame, {type: typeof FrameType.Chunk}>) => {
    const {nonce, index, last} = frame
    if (!incoming.has(peer.id)) incoming.set(peer.id, new Map())
    const messages = incoming.get(peer.id)!
    let message = messages.get(nonce)
    let body = frame.payload

    if (refused.get(peer.id)?.has(nonce)) {
      if (last) refused.get(peer.id)!.delete(nonce)
      return
    }
    if (index === 0) {
      if (message) return refuse(peer, nonce, 'malformed', `a second start for message ${nonce}`)
      let parsed: ReturnType<typeof decodeMessageHeader>
      try {
        parsed = decodeMessageHeader(body)
      } catch (error) {
        return refuse(peer, nonce, 'malformed', error instanceof MalformedFrame ? error.message : 'a bad header')
      }
      const {header} = parsed
      if (header.total > maxMessageSize)
        return refuse(
          peer,
          nonce,
          'too-large',
          `a ${header.total}-byte message, over this peer's maxMessageSize of ${maxMessageSize} bytes (raise maxMessageSize on the receiving side to accept it)`,
        )
      if (header.kind > ValueKind.Binary) return refuse(peer, nonce, 'malformed', `unknown value kind ${header.kind}`)
      if (messages.size >= maxIncomingPerPeer)
        return refuse(peer, nonce, 'busy', `a message while ${messages.size} of its messages are part-way`)
      message = {...header, meta: header.meta, received: 0, nextIndex: 0, chunks: [], lastHeard: Date.now()}
      messages.set(nonce, message)
      body = parsed.body
    } else if (!message) {
      // Relayed (mesh): the route broke and this side dropped the message's start; not the sender's fault.
      if ((peer as {relayed?: boolean}).relayed)
        return refuse(peer, nonce, 'no-route', `chunk ${index} of message ${nonce} after its route broke; send again`)
      return refuse(peer, nonce, 'malformed', `chunk ${index} of message ${nonce}, which never started`)
    }
    if (index !== message.nextIndex) return refuse(peer, nonce, 'malformed', `chunk ${index} out of order`)
    if (message.received + body.byteLength > message.total)
      return refuse(peer, nonce, 'malformed', `more bytes than the ${message.total} it declared`)
    if (last && message.received + body.byteLength !== message.total)
      return refuse(peer, nonce, 'malformed', `fewer bytes than the ${message.total} it declared`)

    message.nextIndex++
    message.lastHeard = Date.now()
    message.received += body.byteLength
    if (body.byteLength) message.chunks.push(body)
    events.progress(peer.id, message.actionId, message.total ? message.received / message.total : 1, message.meta)
    if (!last) {
      // Acks are what the sender's progress and promise follow; one per ackEvery chunks
      // keeps that fine-grained (every 1 MiB) without a reverse frame per chunk.
      if (message.nextIndex % ackEvery === 0) peer.send(encodeAck(nonce, message.received, false))
      return
    }
    messages.delete(nonce)
    let value: unknown
    try {
      const {chunks, total, kind} = message
      // A one-frame binary value for an action that takes views: the frame's own bytes, no copy.
      value =
        kind === ValueKind.Binary && events.views?.(peer, message.actionId)
          ? chunks.length === 1 && chunks[0]!.byteLength === total
            ? chunks[0]!
            : join(chunks, total)
          : decodeValue(kind, join(chunks, total))
    } catch {
      return refuse(peer, nonce, 'malformed', `a value that does not decode as its declared type`)
    }
    if (frame.lazy) ackLater(peer, nonce)
    else peer.send(encodeAck(nonce, message.received, true))
    events.deliver(peer.id, message.actionId, value, message.meta)
  }

  const settle = (nonce: number, error?: P2PError) => {
    const message = outgoing.get(nonce)
    if (!message) return
    outgoing.delete(nonce)
    if (error) message.reject(error)
    else message.resolve()
  }

  return {
    /** Stops the idle sweep (the room was left). */
    close: () => {
      clearInterval(idleTimer)
      for (const peerId of [...lazyAcks.keys()]) flushAcks(peerId)
    },
    /** Sends one encoded value to one peer; resolves when the peer has acknowledged every byte. */
    send(
      peer: Peer,
      actionId: string,
      kind: ValueKind,
      body: Uint8Array,
      meta: Metadata,
      onProgress?: (fraction: number, peerId: PeerId) => void,
    ): Promise<void> {
      if (!peer.isOpen) {
        const other = events.elsewhere?.(peer.id)
        if (other?.isOpen) peer = other
      }
      return new Promise((resolve, reject) => {
        const header = encodeMessageHeader({total: body.byteLength, actionId, kind, meta})
        if (header.byteLength > peer.frameSize - chunkHeaderSize)
          return reject(
            new P2PError(
              'too-large',
              `metadata for action "${actionId}" takes ${header.byteLength} bytes; keep it under ${peer.frameSize - chunkHeaderSize - 300} (put bulk data in the payload)`,
              peer.id,
            ),
          )
        if (!peer.isOpen)
          return reject(new P2PError('peer-left', `peer ${peer.id} left before the message was sent`, peer.id))
        const nonce = (lastNonce = (lastNonce + 1) >>> 0)
        const lazy = events.bulk?.(actionId) ?? false
        const frames = chunkFrames(nonce, header, body, peer.frameSize, lazy)
        const again = (nonce: number, frameSize: number) => {
          if (header.byteLength > frameSize - chunkHeaderSize)
            throw new RangeError('metadata too large for the new way')
          return chunkFrames(nonce, header, body, frameSize, lazy)
        }
        outgoing.set(nonce, {
          peerId: peer.id,
          total: body.byteLength,
          frames,
          resolve,
          reject,
          onProgress,
          again,
          via: peer,
        })
        peer.outbox.add(frames, header.byteLength + body.byteLength <= smallMessageBytes)
      })
    },

    /** Chunk, Ack, Acks and Refuse frames from a peer. */
    receive(peer: Peer, frame: Extract<Frame, {nonce: number} | {nonces: number[]}>) {
      if (frame.type === FrameType.Chunk) return receiveChunk(peer, frame)
      if (frame.type === FrameType.Acks) {
        for (const nonce of frame.nonces) {
          const message = outgoing.get(nonce)
          if (!message || message.peerId !== peer.id) continue
          message.onProgress?.(1, peer.id)
          settle(nonce)
        }
        return
      }
      const message = outgoing.get(frame.nonce)
      if (!message || message.peerId !== peer.id) return
      if (frame.type === FrameType.Ack) {
        message.onProgress?.(message.total ? Math.min(frame.received / message.total, 1) : 1, peer.id)
        if (frame.done) settle(frame.nonce)
      } else if (frame.type === FrameType.Refuse) {
        peer.outbox.remove(message.frames)
        const split = frame.reason.indexOf(':')
        const code = frame.reason.slice(0, split) as P2PErrorCode
        const reason = frame.reason.slice(split + 1)
        settle(
          frame.nonce,
          new P2PError(
            refusalCodes.includes(code) ? code : 'rejected',
            `peer ${peer.id} refused the message: it got ${reason}`,
            peer.id,
          ),
        )
      }
    },

    /**
     * The way to a peer changed (past a full mesh: its direct link closed, it is relayed now):
     * messages to it start again from their first chunk on `peer`, under new nonces (the
     * receiver dropped the part it had with the old link). Those `peer` cannot carry fail.
     */
    reroute(peerId: PeerId, peer: Peer, error: P2PError) {
      for (const [nonce, message] of [...outgoing]) {
        // A message already on `peer` (sent relayed) goes on as it is: a second copy would only race it.
        if (message.peerId !== peerId || message.via === peer) continue
        outgoing.delete(nonce)
        const fresh = (lastNonce = (lastNonce + 1) >>> 0)
        try {
          message.frames = message.again(fresh, peer.frameSize)
        } catch {
          message.reject(error)
          continue
        }
        message.via = peer
        outgoing.set(fresh, message)
        peer.outbox.add(message.frames)
      }
    },
    /** Fails the messages to a peer (its route broke) but keeps those part-way from it. */
    failOutgoing(peerId: PeerId, error: P2PError) {
      for (const [nonce, message] of outgoing) if (message.peerId === peerId) settle(nonce, error)
    },
    /** Fails every message to or from a peer that is gone. */
    dropPeer(peerId: PeerId, error: P2PError) {
      clearTimeout(lazyAcks.get(peerId)?.timer)
      lazyAcks.delete(peerId)
      incoming.delete(peerId)
      refused.delete(peerId)
      refusals.delete(peerId)
      for (const [nonce, message] of outgoing) if (message.peerId === peerId) settle(nonce, error)
    },
  }
}

export type Transfers = ReturnType<typeof createTransfers>
