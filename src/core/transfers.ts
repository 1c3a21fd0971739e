import {P2PError, type P2PErrorCode} from './errors.js'
import {
  FrameType,
  chunkHeaderSize,
  decodeMessageHeader,
  encodeAck,
  encodeChunk,
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
 */

type Outgoing = {
  peerId: PeerId
  total: number
  frames: Iterator<Uint8Array>
  resolve: () => void
  reject: (error: P2PError) => void
  onProgress?: (fraction: number, peerId: PeerId) => void
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
}

function* chunkFrames(nonce: number, header: Uint8Array, body: Uint8Array, frameSize: number) {
  const space = frameSize - chunkHeaderSize
  let end = Math.min(body.byteLength, space - header.byteLength)
  let index = 0
  yield encodeChunk(nonce, index++, end >= body.byteLength, [header, body.subarray(0, end)])
  while (end < body.byteLength) {
    const start = end
    end = Math.min(body.byteLength, start + space)
    yield encodeChunk(nonce, index++, end >= body.byteLength, [body.subarray(start, end)])
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

const refusalCodes: P2PErrorCode[] = ['too-large', 'malformed', 'busy']

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
      value = decodeValue(message.kind, join(message.chunks, message.total))
    } catch {
      return refuse(peer, nonce, 'malformed', `a value that does not decode as its declared type`)
    }
    peer.send(encodeAck(nonce, message.received, true))
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
    close: () => clearInterval(idleTimer),
    /** Sends one encoded value to one peer; resolves when the peer has acknowledged every byte. */
    send(
      peer: Peer,
      actionId: string,
      kind: ValueKind,
      body: Uint8Array,
      meta: Metadata,
      onProgress?: (fraction: number, peerId: PeerId) => void,
    ): Promise<void> {
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
        const frames = chunkFrames(nonce, header, body, peer.frameSize)
        outgoing.set(nonce, {peerId: peer.id, total: body.byteLength, frames, resolve, reject, onProgress})
        peer.outbox.add(frames)
      })
    },

    /** Chunk, Ack and Refuse frames from a peer. */
    receive(peer: Peer, frame: Extract<Frame, {nonce: number}>) {
      if (frame.type === FrameType.Chunk) return receiveChunk(peer, frame)
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

    /** Fails every message to or from a peer that is gone. */
    dropPeer(peerId: PeerId, error: P2PError) {
      incoming.delete(peerId)
      refused.delete(peerId)
      refusals.delete(peerId)
      for (const [nonce, message] of outgoing) if (message.peerId === peerId) settle(nonce, error)
    },
  }
}

export type Transfers = ReturnType<typeof createTransfers>
