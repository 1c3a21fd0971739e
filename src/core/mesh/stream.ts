/**
 * A reliable, ordered, windowed stream of frames between two members over the overlay, which
 * itself may lose, duplicate or reorder what it carries (a relaying peer leaves, a per-hop
 * queue is full, two routes race). Pure state and callbacks, no I/O: the mesh hands it a
 * `transmit` and feeds it what arrives, so it runs the same in a unit test and in a room.
 *
 * Sender: every frame gets a sequence number and is kept until the receiver's cumulative
 * credit covers it. Data frames (chunks of action messages) are sent only while fewer than
 * `window` are uncredited: that is the end-to-end flow control, so a slow far member holds
 * back its sender and no relaying peer has to buffer more than one window of a flow. Small
 * frames (acks, pings, refusals) skip the window but are sequenced and kept all the same,
 * so an ack lost on a broken route is resent rather than leaving a send pending forever.
 * No credit progress for `retransmitMs`: everything kept is sent again (a relaying peer left
 * mid-transfer; the overlay routes around it). None for `failAfterMs`: the stream gives up,
 * drops what it kept and reports it (the mesh rejects the pending sends with 'no-route').
 *
 * Receiver: holds frames that arrive early (up to a bound), hands them on in order, and
 * sends a credit {next} after every `creditEvery` frames or shortly after the last. Every
 * sequenced frame also carries `base`, the oldest number its sender still keeps: a receiver
 * behind it skips ahead, so a sender that gave up does not wedge the stream for good.
 *
 * Epochs: each sender is made with an epoch, newer for every sender made on this page, that
 * every frame and credit carries. A member whose sender was made again (it thought the other
 * gone and heard it back) starts again at seq 0: a receiver sees the newer epoch and starts
 * over with it, instead of taking seq 0 for a resend of what it already holds (which wedged
 * the stream until it failed). Frames of an older epoch than the receiver's are dropped, and
 * a sender ignores credits for another epoch.
 */

import {createFrameQueue} from '../frame-queue.js'

export type StreamOptions = {
  /** Data frames in flight, at most: with 16 KiB frames, 64 is 1 MiB. */
  window?: number
  creditEvery?: number
  /** Delay of a credit after a burst that stopped short of `creditEvery`. */
  creditDelayMs?: number
  retransmitMs?: number
  failAfterMs?: number
  now?: () => number
  /** The sender's epoch (default: nextEpoch()). */
  epoch?: number
}

export const streamDefaults = {window: 64, creditEvery: 8, creditDelayMs: 20, retransmitMs: 3_000, failAfterMs: 20_000}

/** Wire bytes of the two kinds a stream sends. Tag 0 and 1; the mesh owns the other tags. */
export const StreamTag = {Frame: 0, Credit: 1} as const

/** Bytes before a sequenced frame's payload: tag, seq, base, epoch. */
export const streamHeaderSize = 13

export const encodeStreamFrame = (seq: number, base: number, frame: Uint8Array, epoch = 0): Uint8Array<ArrayBuffer> => {
  const bytes = new Uint8Array(streamHeaderSize + frame.byteLength)
  const view = new DataView(bytes.buffer)
  bytes[0] = StreamTag.Frame
  view.setUint32(1, seq)
  view.setUint32(5, base)
  view.setUint32(9, epoch >>> 0)
  bytes.set(frame, streamHeaderSize)
  return bytes
}

export const encodeCredit = (next: number, epoch = 0): Uint8Array<ArrayBuffer> => {
  const bytes = new Uint8Array(9)
  bytes[0] = StreamTag.Credit
  new DataView(bytes.buffer).setUint32(1, next)
  new DataView(bytes.buffer).setUint32(5, epoch >>> 0)
  return bytes
}

let lastEpoch = 0
/** A new sender's epoch: the clock in 64 ms steps, and always past the last one made here. */
export const nextEpoch = () => {
  const clock = Math.floor(Date.now() / 64) >>> 0
  lastEpoch = newer(clock, lastEpoch) ? clock : (lastEpoch + 1) >>> 0
  return lastEpoch
}
/** Serial-number order on 32 bits: whether epoch `a` is after `b`. */
export const newer = (a: number, b: number) => a !== b && (a - b) >>> 0 < 2 ** 31

type Kept = {seq: number; bytes: Uint8Array<ArrayBuffer>; data: boolean}

export type StreamSender = ReturnType<typeof createStreamSender>

export const createStreamSender = (
  transmit: (bytes: Uint8Array<ArrayBuffer>) => void,
  events: {failed: (reason: string) => void},
  options: StreamOptions = {},
) => {
  const {window, retransmitMs, failAfterMs} = {...streamDefaults, ...options}
  const now = options.now ?? Date.now
  const epoch = options.epoch ?? nextEpoch()
  let next = 0
  let credited = 0
  let inFlight = 0
  let lastProgress = now()
  let closed = false
  const kept: Kept[] = []
  const queue = createFrameQueue()
  let resent = 0

  const base = () => kept[0]?.seq ?? next
  const put = (frame: Uint8Array, data: boolean) => {
    if (!kept.length) lastProgress = now()
    const seq = next
    const bytes = encodeStreamFrame(seq, base(), frame, epoch)
    next++
    kept.push({seq, bytes, data})
    if (data) inFlight++
    transmit(bytes)
  }

  const pump = () => {
    while (!closed && queue.size && inFlight < window) {
      const frame = queue.next()
      if (!frame) break
      put(frame, true)
    }
  }

  return {
    /** Sends one small frame now, outside the window (acks, pings, refusals). */
    send: (frame: Uint8Array) => void (closed || put(frame, false)),
    /** The outbox shape transfers.ts writes chunk frames to. */
    outbox: {
      /** `small`: ahead of the bulk (../frame-queue.ts). */
      add: (frames: Iterator<Uint8Array>, small?: boolean) => void (queue.add(frames, small), pump()),
      remove: queue.remove,
      clear: queue.clear,
    },
    /** The receiver holds everything below `upTo` (of this sender's epoch, when it says one). */
    credit: (upTo: number, of?: number) => {
      if (of !== undefined && of !== epoch) return
      if (!Number.isSafeInteger(upTo) || upTo <= credited || upTo > next) return
      credited = upTo
      lastProgress = now()
      resent = 0
      while (kept.length && kept[0]!.seq < upTo) if (kept.shift()!.data) inFlight--
      pump()
    },
    /** Called on a timer: resends after a stall, gives up after a long one. */
    tick: () => {
      if (closed || !kept.length) return
      const idle = now() - lastProgress
      if (idle > failAfterMs) {
        kept.length = 0
        inFlight = 0
        queue.clear()
        lastProgress = now()
        events.failed(`no credit from the receiver for ${failAfterMs} ms`)
        return
      }
      if (idle > retransmitMs * (1 + resent)) {
        resent++
        for (const item of kept) transmit(item.bytes)
        return
      }
    },
    close: () => {
      closed = true
      kept.length = 0
      queue.clear()
    },
    get pending() {
      return kept.length
    },
    get inFlight() {
      return inFlight
    },
    /** Resend rounds since the last credit progress (read by tests). */
    get resent() {
      return resent
    },
    get base() {
      return base()
    },
    epoch,
  }
}

export type StreamReceiver = ReturnType<typeof createStreamReceiver>

export const createStreamReceiver = (
  deliver: (frame: Uint8Array) => void,
  sendCredit: (bytes: Uint8Array<ArrayBuffer>) => void,
  options: StreamOptions = {},
) => {
  const {window, creditEvery, creditDelayMs} = {...streamDefaults, ...options}
  /** Early frames held, at most: a few windows (small frames travel outside the window). */
  const holdLimit = window * 4
  let expected = 0
  let since = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  const held = new Map<number, Uint8Array>()
  /** The epoch of the sender we follow (the first one heard, then only newer ones). */
  let current: number | undefined

  const credit = () => {
    clearTimeout(timer)
    timer = undefined
    since = 0
    sendCredit(encodeCredit(expected, current))
  }

  return {
    /** One sequenced frame as it arrived (its stream header read by the caller). */
    receive: (seq: number, base: number, frame: Uint8Array, epoch?: number) => {
      if (epoch !== undefined && epoch !== current) {
        if (current !== undefined && !newer(epoch, current)) return // an old sender's late frame
        // A sender made again: start over with it (what the old one had part-way is gone).
        if (current !== undefined) held.clear(), (expected = 0)
        current = epoch
      }
      if (base > expected) {
        for (const key of held.keys()) if (key < base) held.delete(key)
        expected = base
      }
      if (seq < expected || held.has(seq)) return credit() // a resend: say where we are
      if (seq - expected > holdLimit) return
      held.set(seq, frame)
      while (held.has(expected)) {
        const next = held.get(expected)!
        held.delete(expected++)
        since++
        deliver(next)
      }
      if (since >= creditEvery) credit()
      else if (since && !timer) timer = setTimeout(credit, creditDelayMs)
    },
    close: () => clearTimeout(timer),
    get expected() {
      return expected
    },
    get held() {
      return held.size
    },
  }
}

/** Reads a sequenced frame's header; undefined when the bytes are not one. */
export const decodeStreamFrame = (bytes: Uint8Array) => {
  if (bytes.byteLength < streamHeaderSize || bytes[0] !== StreamTag.Frame) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return {
    seq: view.getUint32(1),
    base: view.getUint32(5),
    epoch: view.getUint32(9),
    frame: bytes.subarray(streamHeaderSize),
  }
}

export const decodeCredit = (bytes: Uint8Array) => {
  if (bytes.byteLength !== 9 || bytes[0] !== StreamTag.Credit) return undefined
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1)
}

/** The sender epoch a credit is for. */
export const decodeCreditEpoch = (bytes: Uint8Array) =>
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(5)
