/**
 * Resuming a ReadableStream send after its connection dropped, while both pages stay open.
 *
 * A Blob or File resumes by its content key (index.ts, opfs.ts): the sender can read it again
 * from any offset. A stream cannot be read again, so the sender keeps the chunks the receiver has
 * not acknowledged (`Kept`): never more than the window (`windowBytes`), because the send loop
 * does not read past it. When the peer drops, neither side fails the transfer: both park it for
 * `resumeMs`. When the same peer (same id: same identity, or the same page) joins again:
 *
 *   receiver → {t:'resume', id, from, taken, bytes, ended}   from: the first chunk it lacks (every
 *                                                             chunk before it is taken or being
 *                                                             verified); taken/bytes: chunks and
 *                                                             bytes taken so far (acks lost in the
 *                                                             drop); ended: it holds the 'end'
 *   sender → the kept chunks from `from`, then 'end' again if the receiver lacks it
 *   sender → {t:'held', id}                                   "I still hold this stream for you"
 *   receiver → {t:'done', id} if it finished meanwhile (its 'done' was lost), else
 *              {t:'fail', id, code:'resume-lost'} if it no longer has the transfer
 *
 * A receiver's 'resume' for a stream the sender no longer has (its page reloaded: the source is
 * gone) is answered {t:'fail', id, code:'resume-lost'}, so the receiver's stream errors with that
 * code instead of waiting. A peer that does not come back within `resumeMs` fails the transfer on
 * the side still waiting with the error the drop carried ('peer-left'). A peer that said goodbye
 * (it left the room, or its page closed) is not waited for: its side of every transfer is gone,
 * so the transfers fail with 'peer-left' at once.
 *
 * Everything here comes from the peer: a resume point outside what was sent, a resume for a
 * transfer that is not parked, or more answers than a bound are treated as junk (index.ts's
 * orphan counter: reported a few times, then the peer is disconnected).
 */
import {P2PError, type P2PErrorCode} from '../errors.js'
import type {PeerId} from '../types.js'

/** Chunks sent and not yet acknowledged, for a stream source: bounded by the send window. */
export class Kept {
  /** Sent chunks from the oldest unacknowledged one, in order. */
  readonly chunks: {i: number; bytes: Uint8Array; h: string}[] = []
  /** Chunks sent so far (the next index), and their bytes. */
  sent = 0
  sentBytes = 0
  /** The receiver accepted: a drop from here on parks the transfer instead of failing it. */
  running = false
  /** When the connection dropped (undefined while connected), and the error the drop carried. */
  parkedAt?: number
  dropError?: P2PError
  /** The 'end' once sent, to send again if the receiver did not get it. */
  end?: {size: number; hash: string}

  add(i: number, bytes: Uint8Array, h: string) {
    this.chunks.push({i, bytes, h})
    this.sent = i + 1
    this.sentBytes += bytes.byteLength
  }

  /**
   * The bytes of the chunks before `next` (what a receiver that took them all has), or undefined
   * when `next` is past what was sent or before the oldest kept chunk: a peer's ack or resume
   * must name a chunk boundary exactly, not any byte count in range.
   */
  bytesBefore(next: number) {
    if (next > this.sent || next < (this.chunks[0]?.i ?? this.sent)) return undefined
    let bytes = this.sentBytes
    for (let k = this.chunks.length - 1; k >= 0 && this.chunks[k]!.i >= next; k--)
      bytes -= this.chunks[k]!.bytes.byteLength
    return bytes
  }

  /** Drops the chunks before `next` (the receiver has them). */
  release(next: number) {
    let drop = 0
    while (drop < this.chunks.length && this.chunks[drop]!.i < next) drop++
    if (drop) this.chunks.splice(0, drop)
  }
}

/** The parts of an outgoing transfer this module touches (index.ts's Outgoing). */
type Out = {
  id: string
  peerId: PeerId
  acked: number
  ackedBytes: number
  lastHeard: number
  keep?: Kept
  wake?: () => void
  finish: (error?: P2PError) => void
}
/** The parts of an incoming transfer this module touches (index.ts's Incoming). */
type In = {
  id: string
  peerId: PeerId
  offer: {size?: number}
  state: string
  nextIndex: number
  nextHashed: number
  received: number
  heldBytes: number
  early: Map<number, {bytes: Uint8Array}>
  end?: unknown
  lastHeard: number
  parkedAt?: number
  dropError?: P2PError
}

type Message = Record<string, unknown>

export type StreamResumeDeps = {
  outgoing: () => Iterable<Out>
  outgoingById: (id: string) => Out | undefined
  incoming: () => Iterable<In>
  incomingOf: (peerId: PeerId, id: string) => In | undefined
  /** Sends a control message (failures mean the peer is gone again: ignored). */
  say: (peerId: PeerId, message: Message) => void
  /** Sends one kept chunk again, exactly as the send loop sent it. */
  resend: (peerId: PeerId, id: string, chunk: {i: number; bytes: Uint8Array; h: string}) => void
  /** Fails an incoming transfer here (index.ts's failIncoming), telling the peer nothing. */
  failIn: (transfer: In, error: P2PError) => void
  /** Counts junk from a peer (index.ts's orphan: reported a few times, then disconnected). */
  junk: (peerId: PeerId, what: string) => void
  resumeMs: () => number
}

/** Answers ('done' or 'resume-lost') to ids this side no longer holds, per peer, before they count as junk. */
const answersPerPeer = 32
/** Streams finished here whose 'done' may have been lost in a drop, remembered to answer 'held'. */
const finishedKept = 64

export const createStreamResume = (deps: StreamResumeDeps) => {
  const finished: string[] = []
  const answered = new Map<PeerId, number>()
  const answer = (peerId: PeerId, message: Message) => {
    const count = (answered.get(peerId) ?? 0) + 1
    answered.set(peerId, count)
    if (count > answersPerPeer) return deps.junk(peerId, `a file "${String(message.t)}" for no transfer`)
    deps.say(peerId, message)
  }
  const lost = (id: string, reason: string) => ({t: 'fail', id, code: 'resume-lost' satisfies P2PErrorCode, reason})
  const finishedKey = (peerId: PeerId, id: string) => `${peerId}\u0000${id}`

  /** Receiver: asks the sender to go on from the first chunk it lacks. */
  const askResume = (transfer: In) => {
    // Chunks that arrived ahead of the hasher are dropped (they will come again); those handed
    // to it are verified and taken as usual.
    for (const [i, chunk] of [...transfer.early]) {
      if (i < transfer.nextHashed) continue
      transfer.early.delete(i)
      transfer.heldBytes -= chunk.bytes.byteLength
    }
    transfer.parkedAt = undefined
    transfer.lastHeard = Date.now()
    deps.say(transfer.peerId, {
      t: 'resume',
      id: transfer.id,
      from: transfer.nextHashed,
      taken: transfer.nextIndex,
      bytes: transfer.received,
      ended: !!transfer.end,
    })
  }

  /** Sender: the receiver's resume point; sends the kept chunks from it and unparks. */
  const onResume = (peerId: PeerId, message: Message) => {
    const id = typeof message.id === 'string' ? message.id.slice(0, 32) : ''
    const transfer = deps.outgoingById(id)
    if (!transfer || transfer.peerId !== peerId || !transfer.keep)
      return answer(
        peerId,
        lost(id, 'the sender no longer has this stream (its page reloaded, or it gave up): a stream cannot resume'),
      )
    const keep = transfer.keep
    if (keep.parkedAt === undefined) return deps.junk(peerId, 'a file resume for a transfer that did not drop')
    const {from, taken, bytes} = message
    if (
      !Number.isSafeInteger(from) ||
      !Number.isSafeInteger(taken) ||
      !Number.isSafeInteger(bytes) ||
      (taken as number) < transfer.acked ||
      (from as number) < (taken as number) ||
      (from as number) > keep.sent ||
      bytes !== keep.bytesBefore(taken as number)
    ) {
      deps.say(peerId, {t: 'cancel', id, reason: 'a resume point outside what was sent'})
      return transfer.finish(new P2PError('malformed', `peer ${peerId} asked to resume outside what was sent`, peerId))
    }
    // Acks lost in the drop: what the receiver says it took.
    transfer.acked = taken as number
    transfer.ackedBytes = bytes as number
    keep.release(taken as number)
    keep.parkedAt = keep.dropError = undefined
    transfer.lastHeard = Date.now()
    for (const chunk of keep.chunks) if (chunk.i >= (from as number)) deps.resend(peerId, id, chunk)
    if (keep.end && message.ended !== true) deps.say(peerId, {t: 'end', id, ...keep.end})
    transfer.wake?.()
  }

  /** Receiver: the sender still holds a stream; we answer only if we no longer do. */
  const onHeld = (peerId: PeerId, message: Message) => {
    const id = typeof message.id === 'string' ? message.id.slice(0, 32) : ''
    if (deps.incomingOf(peerId, id)) return // our own 'resume' (sent as it joined) is on its way
    if (finished.includes(finishedKey(peerId, id))) return answer(peerId, {t: 'done', id})
    answer(peerId, lost(id, 'the receiver no longer has this transfer (its page reloaded, or it gave up)'))
  }

  return {
    /** Sender, on a drop: parks a running stream send (true), else the caller fails it. */
    parkOut(transfer: Out, error: P2PError) {
      const keep = transfer.keep
      if (!keep?.running || error.code === 'room-left') return false
      keep.parkedAt = Date.now()
      keep.dropError = error
      return true
    },
    /** Receiver, on a drop: parks a running transfer from a stream (unknown size), else the caller fails it. */
    parkIn(transfer: In, error: P2PError) {
      if (transfer.state !== 'running' || transfer.offer.size !== undefined || error.code === 'room-left') return false
      transfer.parkedAt = Date.now()
      transfer.dropError = error
      return true
    },
    /** The peer joined (again): resume what was parked with it. */
    peerJoined(peerId: PeerId) {
      answered.delete(peerId)
      for (const transfer of [...deps.incoming()])
        if (transfer.peerId === peerId && transfer.parkedAt !== undefined) askResume(transfer)
      for (const transfer of [...deps.outgoing()])
        if (transfer.peerId === peerId && transfer.keep?.parkedAt !== undefined)
          deps.say(peerId, {t: 'held', id: transfer.id})
    },
    /** 'resume' and 'held' messages. */
    onMessage(peerId: PeerId, message: Message) {
      if (message.t === 'resume') onResume(peerId, message)
      else onHeld(peerId, message)
    },
    /** A stream received in full here (its 'done' may be lost if the link drops now). */
    finished(peerId: PeerId, id: string) {
      finished.push(finishedKey(peerId, id))
      if (finished.length > finishedKept) finished.shift()
    },
    /**
     * Sender: an ack for a kept stream. Acks may skip (the resume's `taken` covered lost ones) and a
     * stale one (before `acked`) is ignored; false for one past what was sent, or whose bytes are
     * not those of the chunks up to i.
     */
    ack(transfer: Out, i: unknown, bytes: unknown) {
      const keep = transfer.keep!
      if (!Number.isSafeInteger(i) || !Number.isSafeInteger(bytes)) return false
      if ((i as number) < transfer.acked) return true
      if (bytes !== keep.bytesBefore((i as number) + 1)) return false
      transfer.acked = (i as number) + 1
      transfer.ackedBytes = bytes as number
      keep.release(transfer.acked)
      return true
    },
    /** Every second: parked transfers whose peer did not come back in time fail with the drop's error. */
    sweep(now: number) {
      const limit = deps.resumeMs()
      for (const transfer of [...deps.incoming()])
        if (transfer.parkedAt !== undefined && now - transfer.parkedAt > limit)
          deps.failIn(transfer, transfer.dropError ?? new P2PError('peer-left', 'the peer left', transfer.peerId))
      for (const transfer of [...deps.outgoing()]) {
        const keep = transfer.keep
        if (keep?.parkedAt !== undefined && now - keep.parkedAt > limit)
          transfer.finish(keep.dropError ?? new P2PError('peer-left', 'the peer left', transfer.peerId))
      }
    },
  }
}
