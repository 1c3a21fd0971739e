/**
 * Files of any size between two peers: offered, consented, streamed in a window, verified.
 *
 * Everything travels on one internal action (`fileActionId`), so it is framed, chunked and
 * encrypted like any message. A transfer is:
 *
 *   sender → {t:'offer', id, name, type, size, chunk, metadata}       nothing else flows yet
 *   receiver → {t:'accept', id} | {t:'decline', id, code, reason}     the app's onFile decided
 *   sender → binary chunk i, meta {t:'c', id, i, h: sha256(chunk)}     at most `windowBytes` unacked
 *   receiver → {t:'ack', id, i, bytes}                                 chunks up to i verified and
 *                                                                      taken (written to disk, or read
 *                                                                      from the app's stream): one
 *                                                                      cumulative ack per 1 % or
 *                                                                      256 KiB, whichever is less
 *   sender → {t:'end', id, size, hash: sha256(whole)}
 *   receiver → {t:'done', id} | {t:'fail', id, code, reason}          whole hash checked
 *   either → {t:'cancel', id, reason}
 *
 * Resume: an offer of a File carries `key` (a hash of its name, size, type and lastModified, or
 * the app's `resumeKey`). A receiver assembling on disk commits a segment every few MiB and
 * records, in a sidecar (opfs.ts), the segments, the index of the next chunk and the SHA-256
 * state; when the same peer (same identity, so the same id) offers the same key to the same
 * receiver again, after a dropped connection or either side's reload, it answers
 * {t:'accept', id, from: n} and the sender re-hashes (in its Worker) the first n chunks and
 * sends from chunk n.
 *
 * Hashing: both the per-chunk and the whole-file SHA-256 run in a Worker (hash-worker.ts),
 * with several blocks in flight, so they overlap the wire instead of holding the main thread.
 *
 * Memory is bounded by the window on both sides, never by the file: the sender reads one
 * slice per chunk and stops when `windowBytes` are unacknowledged; the receiver acks a chunk
 * only once it left memory (OPFS write resolved, or the app's reader pulled it), so a slow
 * disk or a slow reader slows the sender instead of filling the tab. Progress on both sides
 * follows those acks. Every input from the peer is checked: the offer's shape and sizes,
 * metadata at most `maxMetadataBytes`, chunks only for accepted transfers and within the
 * window, each chunk's hash, the whole hash before the File is handed over (a stream gets
 * each chunk after its own hash matched, and errors at the end if the whole does not).
 */
import {callSafely} from '../call.js'
import {P2PError, type P2PErrorCode, errorMessage, invalidConfig} from '../errors.js'
import {randomId} from '../ids.js'
import type {Action, DataPayload, Metadata, PeerId} from '../types.js'
import {type Checked, type WholeHash, wholeHash} from './hash-worker.js'
import {type Saved, type Sink, dropResume, loadResume, opfsSink, saveResume} from './opfs.js'
import {type Sha256State, toHex} from './sha256.js'
import {Kept, createStreamResume} from './stream-resume.js'

/** The internal action files travel on; room.makeAction keeps ids starting with NUL for the library. */
export const fileActionId = '\u0000file'
/** Largest metadata an offer carries, in bytes of its JSON. */
export const maxMetadataBytes = 4096
/** Largest chunk a receiver accepts. */
export const maxChunkBytes = 256 * 1024
/**
 * Largest chunk a sender makes: 63 KiB, so a chunk and its headers (about 150 bytes) travel
 * in one 64 KiB frame, the size the raw data channel sends too: no frame split, no join on
 * the receiving side, which takes the chunk as a view of the frame it arrived in.
 */
export const frameChunkBytes = 63 * 1024
/** Bytes between the receiver's acks at most: progress at least every 256 KiB (and every 1 %). */
export const ackBytes = 256 * 1024
/** Unacknowledged bytes a sender may have out: the memory a transfer costs on either side. */
export const windowBytes = 4 * 1024 * 1024

/**
 * Chunk size for a file of `size` bytes: at most 1 % of it and at most 63 KiB (one frame),
 * whole KiB from 1 KiB up; unknown size: 63 KiB.
 */
export const chunkSizeFor = (size: number | undefined) => {
  if (size === undefined) return frameChunkBytes
  const onePercent = Math.floor(size / 100)
  return Math.max(1, Math.min(frameChunkBytes, onePercent >= 1024 ? onePercent - (onePercent % 1024) : onePercent))
}

/** Bytes the receiver may take between two acks: 1 % of the file or 256 KiB, whichever is less. */
const ackStepFor = (size: number | undefined) =>
  size === undefined ? ackBytes : Math.max(1, Math.min(ackBytes, Math.floor(size / 100)))

export type FileProgress = {
  /** Bytes the receiver has verified and taken. */
  bytes: number
  /** The file's size, if known (a stream of unknown length has none until it ends). */
  size?: number
  /** bytes / size, or undefined while the size is unknown. */
  fraction?: number
  /** Over the last few seconds. */
  bytesPerSecond: number
  /** At the current speed, or undefined while unknown. */
  secondsLeft?: number
}

export type SendFileOptions = {
  /** JSON the receiver sees before it accepts (at most 4 KiB). */
  metadata?: Metadata
  /** Defaults to the File's name, else "file". */
  name?: string
  /** Defaults to the Blob's type. */
  type?: string
  /** Called for every acknowledged chunk (at least every 1 % or 256 KiB). */
  onProgress?: (progress: FileProgress, peerId: PeerId) => void
  /** Aborting cancels the transfer on both sides; the promise rejects with 'cancelled'. */
  signal?: AbortSignal
  /** Names this content for resuming (default for a File: its name, size, type and lastModified). */
  resumeKey?: string
}

/** An offer, as the receiver's onFile sees it. Everything here came from the peer: untrusted. */
export type IncomingFile = {
  readonly id: string
  readonly peerId: PeerId
  /** The name the sender gave, stripped of control and bidi-override characters, at most 255 characters. */
  readonly name: string
  readonly type: string
  /** Declared size in bytes, or undefined for a stream of unknown length. Enforced: more bytes cancel it. */
  readonly size?: number
  readonly metadata?: Metadata
  /** Bytes already held from an earlier, interrupted transfer of the same file from the same peer (0 if none). */
  readonly resumedFrom: number
  /** Take the bytes as a stream (call it before accepting, i.e. inside onFile). Backpressured across the network. */
  stream(): ReadableStream<Uint8Array>
  /** The whole file, verified: in the Origin Private File System where present, else in memory (`maxMemoryBytes`). */
  file(): Promise<File>
  /** Progress of the bytes received (and acknowledged to the sender). */
  onProgress(callback: (progress: FileProgress) => void): void
  /** Stops the transfer on both sides. */
  cancel(reason?: string): void
  /** Resolves once every byte arrived and the whole hash matched; rejects with the reason it did not. */
  readonly done: Promise<void>
}

/**
 * Return false (or a promise of false), or throw, to decline; anything else accepts. Throwing a
 * P2PError with code 'too-large' or 'busy' declines with that code (the sender's rejection says it).
 */
export type FileHandler = (file: IncomingFile) => unknown

export type FileLimits = {
  /** Largest file accepted, in bytes (declared or actual). Default: no limit beyond the sink's. */
  maxFileBytes?: number
  /** Largest file assembled in memory when there is no OPFS. Default 256 MiB. */
  maxMemoryBytes?: number
  /** Incoming transfers one peer may have at once (offered or running). Default 4. */
  maxConcurrentPerPeer?: number
  /** A transfer with no chunk or ack for this long is dropped on both sides. Default 30 s. */
  idleMs?: number
  /** How long the app's onFile may take to decide. Default 60 s. */
  decideMs?: number
  /** How long a stream transfer whose connection dropped waits on both sides for the peer to come back. Default 60 s. */
  resumeMs?: number
}

const defaultLimits = {
  maxFileBytes: Number.POSITIVE_INFINITY,
  maxMemoryBytes: 256 * 1024 * 1024,
  maxConcurrentPerPeer: 4,
  idleMs: 30_000,
  decideMs: 60_000,
  resumeMs: 60_000,
}

/** Control and bidi-override/isolate characters, which can disguise a name ("gpj.exe" shown as "exe.jpg"). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
const unsafeNameChars = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g
/** A peer's file name, made safe to show and to save under. */
export const safeFileName = (name: unknown) =>
  (typeof name === 'string' ? name : '').replace(unsafeNameChars, '').replace(/[/\\]/g, '_').trim().slice(0, 255) ||
  'file'

type Speed = {samples: [number, number][]}
const speedWindowMs = 3000
const measure = (speed: Speed, bytes: number, size?: number): FileProgress => {
  const now = performance.now()
  speed.samples.push([now, bytes])
  while (speed.samples.length > 2 && now - speed.samples[0]![0] > speedWindowMs) speed.samples.shift()
  const [t0, b0] = speed.samples[0]!
  const bytesPerSecond = now > t0 ? ((bytes - b0) * 1000) / (now - t0) : 0
  const fraction = size === undefined ? undefined : size ? Math.min(1, bytes / size) : 1
  const secondsLeft =
    size === undefined ? undefined : bytesPerSecond > 0 ? Math.max(0, size - bytes) / bytesPerSecond : undefined
  return {bytes, size, fraction, bytesPerSecond, secondsLeft}
}

type Control =
  | {
      t: 'offer'
      id: string
      name: string
      type: string
      size?: number
      chunk: number
      metadata?: Metadata
      key?: string
    }
  | {t: 'accept'; id: string; from?: number}
  | {t: 'decline'; id: string; code: string; reason: string}
  | {t: 'ack'; id: string; i: number; bytes: number}
  | {t: 'end'; id: string; size: number; hash: string}
  | {t: 'done'; id: string}
  | {t: 'fail'; id: string; code: string; reason: string}
  | {t: 'cancel'; id: string; reason: string}

const peerCodes: P2PErrorCode[] = [
  'declined',
  'too-large',
  'busy',
  'integrity',
  'timeout',
  'cancelled',
  'malformed',
  'resume-lost',
]
const codeFrom = (code: unknown): P2PErrorCode =>
  peerCodes.includes(code as P2PErrorCode) ? (code as P2PErrorCode) : 'rejected'

type Outgoing = {
  id: string
  peerId: PeerId
  accepted: (ok: boolean, error?: P2PError) => void
  /** The chunk the receiver resumes from (0: from the start). */
  from: number
  /** Chunks acknowledged (the next ack's index is at least this). */
  acked: number
  ackedBytes: number
  /** Chunks and bytes sent so far (an ack cannot cover more). */
  sentChunks: number
  sentBytes: number
  /** Wakes the send loop when an ack opens the window. */
  wake?: () => void
  finish: (error?: P2PError) => void
  lastHeard: number
  speed: Speed
  size?: number
  chunk: number
  onProgress?: SendFileOptions['onProgress']
  stopped?: P2PError
  /** A stream source: the chunks not yet acknowledged, to send again after a drop (stream-resume.ts). */
  keep?: Kept
}

type Incoming = {
  id: string
  peerId: PeerId
  offer: Extract<Control, {t: 'offer'}>
  state: 'deciding' | 'running' | 'ended'
  nextIndex: number
  /** Chunks that arrived ahead of nextIndex (messages may complete out of order), within the window. */
  early: Map<number, {bytes: Uint8Array; hash: string; checked?: Promise<Checked>}>
  /** The next chunk index to hand to the hasher (chunks go to it in order, as soon as they can). */
  nextHashed: number
  /** The whole hash's state after the last chunk taken (what a resume point records). */
  hashState?: Sha256State
  heldBytes: number
  received: number
  /** Bytes covered by the last ack sent. */
  ackedBytes: number
  /** The whole-file hash, started once the transfer runs (in a Worker where one starts). */
  hash?: WholeHash
  sink?: Sink
  writing: Promise<void>
  lastHeard: number
  speed: Speed
  progress?: (progress: FileProgress) => void
  settle: (error?: P2PError, file?: File) => void
  public: IncomingFile
  wantsStream?: ReadableStream<Uint8Array>
  streamSink?: Sink
  end?: Extract<Control, {t: 'end'}>
  /** Swarm: the verified chunks' hashes, in order (for the `transferred` hook). */
  hashes?: string[]
  /** Its resume sidecar's id, for a file assembled on disk with a content key. */
  resume?: string
  /** The disk data directory. */
  dir?: string
  /** From a stream, its connection dropped: waiting for the peer to come back (stream-resume.ts). */
  parkedAt?: number
  dropError?: P2PError
}

export type FilesDeps = {
  action: Action<DataPayload>
  problem: (error: P2PError) => void
  isOpen: (peerId: PeerId) => boolean
  /** Closes the connection to a peer that kept sending junk. */
  disconnect: (peerId: PeerId, reason: string) => void
  limits?: FileLimits
  /**
   * Swarm hook (swarm.ts): every Blob sent whole and every File assembled whole, so this member
   * can serve it; with the chunk hashes (hex) and whole hash this transfer computed anyway, when it
   * covered every chunk (not resumed), so the swarm need not hash the file again.
   */
  transferred?: (file: Blob, name: string, type: string, hashes?: TransferHashes) => void
  /** This peer's id (its identity's, when it has one): part of where interrupted transfers are kept. */
  selfId?: () => PeerId
}

/** What a whole transfer hashed: its chunk size, each chunk's SHA-256 and the whole's (hex). */
export type TransferHashes = {chunk: number; digests: string[]; whole: string}

/** Bytes a sender reads from a Blob at once (then sends as chunks). */
const blobReadBytes = 1024 * 1024
/** Blocks a sender reads and hashes ahead of the one it sends (a Worker's latency hides behind them). */
const blocksAhead = 3
const digest = async (bytes: Uint8Array) =>
  toHex(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))

/** Memory sink: chunks kept as they come, up to `limit` bytes. */
const memorySink = (name: string, type: string, limit: number): Sink => {
  const parts: Uint8Array[] = []
  let size = 0
  return {
    write: async bytes => {
      size += bytes.byteLength
      if (size > limit)
        throw new P2PError(
          'too-large',
          `${name} is over the ${limit} bytes this page assembles in memory (no Origin Private File System here)`,
        )
      parts.push(bytes)
    },
    close: async () => new File(parts as Uint8Array<ArrayBuffer>[], name, {type}),
    abort: () => void (parts.length = 0),
  }
}

export {clearReceivedFiles, opfsDirectoryName} from './opfs.js'

// Tag checks, so Blobs made in another realm (an iframe) count too.
const isBlob = (value: unknown): value is Blob =>
  ['[object Blob]', '[object File]'].includes(Object.prototype.toString.call(value))

export const createFiles = ({
  action,
  problem,
  isOpen,
  disconnect,
  limits: given,
  transferred,
  selfId = () => '',
}: FilesDeps) => {
  const limits = {...defaultLimits, ...given}
  const outgoing = new Map<string, Outgoing>()
  const incoming = new Map<string, Incoming>()
  let handler: FileHandler | undefined
  /**
   * Where an interrupted transfer of `offer.key` from `peerId` is kept (its resume sidecar):
   * a hash of both peers' ids (identities) and the key, so only this receiver meeting this
   * sender with this content finds it again, after a reload too.
   */
  /** Resume sidecars being written (a peer that drops and comes straight back waits for its own). */
  const saving = new Map<string, Promise<void>>()
  const resumeId = async (peerId: PeerId, contentKey: string) =>
    (await digest(new TextEncoder().encode([selfId(), peerId, contentKey].join('\u0000')))).slice(0, 32)

  const key = (peerId: PeerId, id: string) => `${peerId}\u0000${id}`
  const say = (peerId: PeerId, message: Control) =>
    action.send(message, peerId).catch(() => {
      // the peer left: its transfers are failed by dropPeer
    })

  // ---- receiving -------------------------------------------------------------------------

  const failIncoming = (transfer: Incoming, error: P2PError, tell?: Control) => {
    if (incoming.get(key(transfer.peerId, transfer.id)) !== transfer) return
    incoming.delete(key(transfer.peerId, transfer.id))
    transfer.sink?.abort(error)
    transfer.hash?.close()
    if (transfer.resume) void dropResume(transfer.resume)
    transfer.early.clear()
    if (tell) void say(transfer.peerId, tell)
    transfer.settle(error)
  }

  const readOffer = (value: Record<string, unknown>): Extract<Control, {t: 'offer'}> | undefined => {
    const {id, name, type, size, chunk, metadata, key} = value
    if (key !== undefined && (typeof key !== 'string' || key.length > 64)) return undefined
    if (typeof id !== 'string' || !id || id.length > 32) return undefined
    if (size !== undefined && !(Number.isSafeInteger(size) && (size as number) >= 0)) return undefined
    if (!(Number.isSafeInteger(chunk) && (chunk as number) >= 1 && (chunk as number) <= maxChunkBytes)) return undefined
    if (metadata !== undefined && JSON.stringify(metadata).length > maxMetadataBytes) return undefined
    return {
      t: 'offer',
      id,
      name: safeFileName(name),
      type: typeof type === 'string' ? type.slice(0, 255) : '',
      size: size as number | undefined,
      chunk: chunk as number,
      metadata: metadata as Metadata,
      key: key as string | undefined,
    }
  }

  const onOffer = async (peerId: PeerId, value: Record<string, unknown>) => {
    const offer = readOffer(value)
    const id = typeof value.id === 'string' ? value.id.slice(0, 32) : ''
    const decline = (code: P2PErrorCode, reason: string) => say(peerId, {t: 'decline', id, code, reason})
    if (!offer) return decline('malformed', 'the offer is malformed or its metadata is over 4 KiB')
    if (incoming.has(key(peerId, id))) return decline('malformed', `a second offer for ${id}`)
    const running = [...incoming.values()].filter(t => t.peerId === peerId).length
    if (running >= limits.maxConcurrentPerPeer)
      return decline('busy', `already receiving ${running} files from this peer; try again when one finishes`)
    if (offer.size !== undefined && offer.size > limits.maxFileBytes)
      return decline('too-large', `${offer.size} bytes is over this peer's limit of ${limits.maxFileBytes}`)
    if (!handler) return decline('declined', 'this peer does not take files (no onFile handler)')

    // An interrupted transfer of the same content from the same peer, kept on disk (sidecar).
    const resume = offer.key === undefined ? undefined : await resumeId(peerId, offer.key)
    if (resume) await saving.get(resume)
    const saved = resume ? await loadResume(resume) : undefined
    const resumable = saved && saved.size === offer.size && saved.chunk === offer.chunk ? saved : undefined
    if (incoming.has(key(peerId, id)) || !handler) return decline('malformed', `a second offer for ${id}`)
    let settleDone!: (error?: P2PError, file?: File) => void
    let fileResult: Promise<File> | undefined
    const done = new Promise<File | undefined>((resolve, reject) => {
      settleDone = (error, file) => (error ? reject(error) : resolve(file))
    })
    done.catch(() => {})
    const transfer: Incoming = {
      id,
      peerId,
      offer,
      state: 'deciding',
      nextIndex: 0,
      early: new Map(),
      nextHashed: 0,
      heldBytes: 0,
      received: 0,
      ackedBytes: 0,
      writing: Promise.resolve(),
      lastHeard: Date.now(),
      speed: {samples: []},
      settle: (error, file) => settleDone(error, file),
      public: {
        id,
        peerId,
        name: offer.name,
        type: offer.type,
        size: offer.size,
        metadata: offer.metadata,
        resumedFrom: resumable?.bytes ?? 0,
        stream: () => {
          if (transfer.state !== 'deciding')
            throw invalidConfig('IncomingFile.stream() must be called inside onFile, before the transfer is accepted')
          transfer.wantsStream ??= makeStream(transfer)
          return transfer.wantsStream
        },
        file: () => {
          if (transfer.wantsStream)
            return Promise.reject(invalidConfig('this transfer was taken as a stream; read it there'))
          fileResult ??= done.then(file => file!)
          return fileResult
        },
        onProgress: callback => void (transfer.progress = callback),
        cancel: reason =>
          failIncoming(transfer, new P2PError('cancelled', `cancelled here: ${reason ?? 'no reason given'}`, peerId), {
            t: 'cancel',
            id,
            reason: reason ?? 'the receiver cancelled',
          }),
        done: done.then(() => {}),
      },
    }
    transfer.public.done.catch(() => {})
    incoming.set(key(peerId, id), transfer)

    let decision: unknown
    try {
      decision = await Promise.race([
        Promise.resolve(handler(transfer.public)),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error('onFile did not decide in time')), limits.decideMs),
        ),
      ])
    } catch (error) {
      // A P2PError with a code the wire carries ('too-large', 'busy'...) declines with that code.
      decision = error instanceof P2PError && peerCodes.includes(error.code) ? error : false
      if (!(error instanceof P2PError))
        problem(new P2PError('declined', `onFile failed, so the file was declined: ${errorMessage(error)}`, peerId))
    }
    if (incoming.get(key(peerId, id)) !== transfer) return
    if (decision === false || decision instanceof P2PError) {
      const code = decision instanceof P2PError ? decision.code : 'declined'
      const reason = decision instanceof P2PError ? decision.message : 'the receiver declined it'
      failIncoming(transfer, new P2PError(code, `declined here: ${reason}`, peerId), {t: 'decline', id, code, reason})
      return
    }
    let from = 0
    if (transfer.wantsStream) transfer.sink = transfer.streamSink
    else {
      let onDisk = resumable && (await opfsSink(resumable.dir, offer.name, offer.type, resumable))
      if (onDisk && resumable) {
        from = resumable.index
        transfer.dir = resumable.dir
        transfer.nextIndex = transfer.nextHashed = resumable.index
        transfer.hashState = resumable.hash
        transfer.received = transfer.ackedBytes = resumable.bytes
        transfer.hash = wholeHash(resumable.hash)
      } else {
        if (resumable) void dropResume(resume!)
        transfer.dir = `${Date.now()}-${randomId(8)}`
        onDisk = await opfsSink(transfer.dir, offer.name, offer.type)
      }
      if (onDisk && offer.key !== undefined) transfer.resume = resume
      if (!onDisk && offer.size !== undefined && offer.size > limits.maxMemoryBytes) {
        failIncoming(transfer, new P2PError('too-large', 'too large to assemble in memory here', peerId), {
          t: 'decline',
          id,
          code: 'too-large',
          reason: `${offer.size} bytes is over the ${limits.maxMemoryBytes} this peer can hold in memory (no OPFS)`,
        })
        return
      }
      transfer.sink = onDisk ?? memorySink(offer.name, offer.type, limits.maxMemoryBytes)
    }
    transfer.hash ??= wholeHash()
    transfer.state = 'running'
    transfer.lastHeard = Date.now()
    void say(peerId, {t: 'accept', id, from})
  }

  /** A stream whose pulls are what acknowledges chunks to the sender: a reader that stops stops the sender. */
  const makeStream = (transfer: Incoming): ReadableStream<Uint8Array> => {
    const queue: Uint8Array[] = []
    let waiting: (() => void) | undefined
    let ended = false
    let failed: P2PError | undefined
    let taken: (() => void)[] = []
    transfer.streamSink = {
      // Resolves when the reader has taken the chunk, so the ack (and the sender) waits for the reader.
      write: bytes =>
        new Promise<void>(resolve => {
          queue.push(bytes)
          taken.push(resolve)
          waiting?.()
        }),
      close: async () => {
        ended = true
        waiting?.()
        return undefined
      },
      abort: error => {
        failed = error as P2PError
        waiting?.()
      },
    }
    return new ReadableStream<Uint8Array>(
      {
        pull: async controller => {
          while (!queue.length && !ended && !failed) await new Promise<void>(resolve => (waiting = resolve))
          waiting = undefined
          if (failed) return controller.error(failed)
          if (queue.length) {
            controller.enqueue(queue.shift()!)
            taken.shift()!()
            return
          }
          controller.close()
        },
        cancel: reason => {
          taken = []
          transfer.public.cancel(`the reader cancelled: ${errorMessage(reason)}`)
        },
      },
      {highWaterMark: 0},
    )
  }

  /** A chunk: an ArrayBuffer, or (from a direct peer) a view of the frame it came in, which is ours to move. */
  const onChunk = (peerId: PeerId, bytes: ArrayBuffer | Uint8Array, meta: {id?: unknown; i?: unknown; h?: unknown}) => {
    const transfer = typeof meta.id === 'string' ? incoming.get(key(peerId, meta.id)) : undefined
    if (!transfer) return orphan(peerId, 'a file chunk for no transfer')
    const {i, h} = meta
    const chunk = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)
    const violation = (reason: string) =>
      failIncoming(transfer, new P2PError('malformed', `peer ${peerId} sent ${reason}`, peerId), {
        t: 'cancel',
        id: transfer.id,
        reason,
      })
    if (transfer.state !== 'running') return violation('a chunk before the file was accepted')
    if (!Number.isSafeInteger(i) || (i as number) < transfer.nextIndex || typeof h !== 'string')
      return violation('a chunk with a bad index or hash')
    if (transfer.early.has(i as number)) return violation(`chunk ${i} twice`)
    if (chunk.byteLength > transfer.offer.chunk || (chunk.byteLength === 0 && transfer.offer.size !== 0))
      return violation('a chunk larger than it announced')
    transfer.heldBytes += chunk.byteLength
    if (transfer.heldBytes > windowBytes + transfer.offer.chunk) return violation('more than the window allows')
    const received = transfer.received + chunk.byteLength
    if (transfer.offer.size !== undefined && received > transfer.offer.size)
      return violation(`more bytes than the ${transfer.offer.size} it declared`)
    if (received > limits.maxFileBytes)
      return failIncoming(transfer, new P2PError('too-large', 'over maxFileBytes', peerId), {
        t: 'cancel',
        id: transfer.id,
        reason: `over this peer's limit of ${limits.maxFileBytes} bytes`,
      })
    transfer.lastHeard = Date.now()
    transfer.early.set(i as number, {bytes: chunk, hash: h})
    // Hand chunks to the hasher (a Worker) in order as they arrive, so several are checked at once.
    for (let next = transfer.early.get(transfer.nextHashed); next; next = transfer.early.get(transfer.nextHashed)) {
      // The chunk's buffer moves to the Worker whole (a frame's view: nothing else uses it).
      next.checked = transfer.hash!.chunks(next.bytes, transfer.offer.chunk, true)
      next.checked.catch(() => {})
      transfer.nextHashed++
    }
    drain(transfer)
  }

  /** Commits the segment being written and records the resume point after it (the sidecar). */
  const saveProgress = async (transfer: Incoming) => {
    if (!transfer.hashState) return // nothing verified yet
    const segments = await transfer.sink!.commit!()
    const saved: Saved = {
      v: 1,
      dir: transfer.dir!,
      segments,
      bytes: transfer.received,
      index: transfer.nextIndex,
      hash: transfer.hashState!,
      size: transfer.offer.size,
      chunk: transfer.offer.chunk,
    }
    await saveResume(transfer.resume!, saved)
  }

  /** Verifies and hands on chunks in order, one write at a time; acks each once it left memory. */
  const drain = (transfer: Incoming) => {
    transfer.writing = transfer.writing.then(async () => {
      for (;;) {
        const next = transfer.early.get(transfer.nextIndex)
        if (!next?.checked || incoming.get(key(transfer.peerId, transfer.id)) !== transfer) return
        transfer.early.delete(transfer.nextIndex)
        // The chunk's hash and the whole-file hash, in the Worker; the bytes come back from it.
        let checked: Checked
        try {
          checked = await next.checked
        } catch {
          return // cancelled meanwhile (its hash closed), or the hasher died: the idle timer ends it
        }
        if (incoming.get(key(transfer.peerId, transfer.id)) !== transfer) return
        next.bytes = checked.bytes
        if (checked.hashes[0] !== next.hash) {
          failIncoming(transfer, new P2PError('integrity', `chunk ${transfer.nextIndex} did not match its hash`), {
            t: 'fail',
            id: transfer.id,
            code: 'integrity',
            reason: `chunk ${transfer.nextIndex} did not match its hash`,
          })
          return
        }
        if (transferred) (transfer.hashes ??= []).push(next.hash) // swarm: see FilesDeps.transferred
        try {
          await transfer.sink!.write(next.bytes)
        } catch (error) {
          const code = error instanceof P2PError ? error.code : 'unreadable'
          failIncoming(transfer, new P2PError(code, errorMessage(error), transfer.peerId), {
            t: 'fail',
            id: transfer.id,
            code,
            reason: errorMessage(error),
          })
          return
        }
        const index = transfer.nextIndex++
        transfer.hashState = checked.state
        transfer.received += next.bytes.byteLength
        transfer.heldBytes -= next.bytes.byteLength
        transfer.lastHeard = Date.now()
        // One cumulative ack before the bytes since the last one could pass the step (1 % or
        // 256 KiB, far below the sender's window, so it never waits for one), and at the end.
        const {size, chunk} = transfer.offer
        if (
          transfer.received - transfer.ackedBytes + chunk > ackStepFor(size) ||
          transfer.received === (size ?? transfer.end?.size)
        ) {
          transfer.ackedBytes = transfer.received
          void say(transfer.peerId, {t: 'ack', id: transfer.id, i: index, bytes: transfer.received})
        }
        const progress = measure(transfer.speed, transfer.received, transfer.offer.size)
        if (transfer.progress) callSafely(() => transfer.progress!(progress))
        // Every few MiB on disk: commit the segment, so a reload here loses at most that much.
        if (transfer.resume && transfer.sink!.full?.() && transfer.received < (transfer.offer.size ?? Infinity))
          await saveProgress(transfer).catch(error =>
            problem(new P2PError('unreadable', `could not save a resume point: ${errorMessage(error)}`)),
          )
      }
    })
    void transfer.writing.then(() => transfer.end && finishIncoming(transfer))
  }

  const finishIncoming = async (transfer: Incoming) => {
    const end = transfer.end!
    if (transfer.state === 'ended' || transfer.received < end.size || transfer.early.size) {
      if (transfer.received > end.size) transfer.public.cancel('more bytes than the end said')
      return
    }
    transfer.state = 'ended'
    const whole = await transfer.hash!.hex().catch(() => '')
    transfer.hash!.close()
    if (incoming.get(key(transfer.peerId, transfer.id)) !== transfer) return
    const reason =
      transfer.received !== end.size
        ? `${transfer.received} bytes arrived, the sender said ${end.size}`
        : transfer.offer.size !== undefined && end.size !== transfer.offer.size
          ? `the sender offered ${transfer.offer.size} bytes and sent ${end.size}`
          : whole !== end.hash
            ? 'the SHA-256 of the whole file does not match'
            : undefined
    if (reason)
      return failIncoming(transfer, new P2PError('integrity', reason, transfer.peerId), {
        t: 'fail',
        id: transfer.id,
        code: 'integrity',
        reason,
      })
    let file: File | undefined
    try {
      file = await transfer.sink!.close()
    } catch (error) {
      return failIncoming(transfer, new P2PError('unreadable', errorMessage(error), transfer.peerId), {
        t: 'fail',
        id: transfer.id,
        code: 'unreadable',
        reason: 'the receiver could not store it',
      })
    }
    incoming.delete(key(transfer.peerId, transfer.id))
    if (transfer.resume) void dropResume(transfer.resume)
    // A stream of unknown length learns its end late: the tail's ack, if the last one missed it.
    if (transfer.received > transfer.ackedBytes && transfer.nextIndex > 0) {
      transfer.ackedBytes = transfer.received
      void say(transfer.peerId, {t: 'ack', id: transfer.id, i: transfer.nextIndex - 1, bytes: transfer.received})
    }
    if (transfer.offer.size === undefined) streams.finished(transfer.peerId, transfer.id)
    void say(transfer.peerId, {t: 'done', id: transfer.id})
    // Swarm: a file assembled whole can be served to other members (not a stream the app consumed).
    if (file)
      transferred?.(
        file,
        transfer.offer.name,
        transfer.offer.type,
        transfer.hashes?.length === transfer.nextIndex
          ? {chunk: transfer.offer.chunk, digests: transfer.hashes, whole: end.hash}
          : undefined,
      )
    transfer.settle(undefined, file)
  }

  const onEnd = (peerId: PeerId, value: Record<string, unknown>) => {
    const transfer = typeof value.id === 'string' ? incoming.get(key(peerId, value.id)) : undefined
    if (!transfer) return orphan(peerId, 'a file end for no transfer')
    if (
      transfer.state !== 'running' ||
      transfer.end ||
      !Number.isSafeInteger(value.size) ||
      typeof value.hash !== 'string'
    )
      return transfer.public.cancel('a malformed end')
    transfer.end = {t: 'end', id: transfer.id, size: value.size as number, hash: value.hash}
    drain(transfer)
  }

  // ---- orphans and floods ----------------------------------------------------------------

  /** Per peer: orphan or malformed file messages in the current second, and in all. */
  const junk = new Map<PeerId, {windowStart: number; inWindow: number; total: number}>()
  /** Junk messages per second per peer reported; beyond it they are dropped silently. */
  const junkReportedPerSecond = 5
  /** Junk messages from one peer after which its file messages are all ignored. */
  const junkLimit = 200
  const orphan = (peerId: PeerId, what: string) => {
    const now = Date.now()
    const count = junk.get(peerId) ?? {windowStart: now, inWindow: 0, total: 0}
    junk.set(peerId, count)
    if (now - count.windowStart > 1000) Object.assign(count, {windowStart: now, inWindow: 0})
    count.inWindow++
    count.total++
    if (count.inWindow <= junkReportedPerSecond)
      problem(new P2PError('malformed', `peer ${peerId} sent ${what}; ignored it`, peerId))
    if (count.total === junkLimit + 1) {
      problem(
        new P2PError(
          'flood',
          `peer ${peerId} sent ${junkLimit} malformed or orphan file messages; disconnected it`,
          peerId,
        ),
      )
      disconnect(peerId, `it sent over ${junkLimit} malformed or orphan file messages`)
    }
  }
  const ignoring = (peerId: PeerId) => (junk.get(peerId)?.total ?? 0) > junkLimit

  // Stream sends that survive a dropped connection (stream-resume.ts).
  const streams = createStreamResume({
    outgoing: () => outgoing.values(),
    outgoingById: id => outgoing.get(id),
    incoming: () => incoming.values(),
    incomingOf: (peerId, id) => incoming.get(key(peerId, id)),
    say: (peerId, message) => void say(peerId, message as Control),
    resend: (peerId, id, chunk) =>
      void action.send(chunk.bytes, peerId, {t: 'c', id, i: chunk.i, h: chunk.h}).catch(() => {}),
    failIn: (transfer, error) => failIncoming(transfer as Incoming, error),
    junk: (peerId, what) => orphan(peerId, what),
    resumeMs: () => limits.resumeMs,
  })

  // ---- sending ---------------------------------------------------------------------------

  const onReply = (peerId: PeerId, value: Record<string, unknown>) => {
    const transfer = typeof value.id === 'string' ? outgoing.get(value.id) : undefined
    if (!transfer || transfer.peerId !== peerId) return orphan(peerId, `a file "${String(value.t)}" for no transfer`)
    transfer.lastHeard = Date.now()
    const reason = typeof value.reason === 'string' ? value.reason.slice(0, 300) : 'no reason given'
    switch (value.t) {
      case 'accept': {
        const chunks = transfer.size === undefined ? 0 : Math.ceil(transfer.size / transfer.chunk)
        const from = value.from ?? 0
        if (!Number.isSafeInteger(from) || (from as number) < 0 || (from as number) > chunks) {
          void say(peerId, {t: 'cancel', id: transfer.id, reason: 'a resume point past the file'})
          return transfer.finish(new P2PError('malformed', `peer ${peerId} asked to resume past the end`, peerId))
        }
        transfer.from = from as number
        return transfer.accepted(true)
      }
      case 'decline': {
        const error = new P2PError(codeFrom(value.code), `peer ${peerId} declined the file: ${reason}`, peerId)
        transfer.accepted(false, error)
        return transfer.finish(error)
      }
      case 'ack': {
        if (transfer.keep) {
          // A kept stream: its own bookkeeping (stream-resume.ts) also frees what was acked.
          if (!streams.ack(transfer, value.i, value.bytes)) return orphan(peerId, 'a file ack out of order')
        } else {
          // Cumulative: chunks up to i arrived, `bytes` in all; only ever forward, never past what was sent.
          const {i, bytes} = value as {i: number; bytes: number}
          if (
            !Number.isSafeInteger(i) ||
            i < transfer.acked ||
            i >= transfer.sentChunks ||
            !Number.isSafeInteger(bytes) ||
            bytes <= transfer.ackedBytes ||
            bytes > transfer.sentBytes
          )
            return orphan(peerId, 'a file ack out of order')
          transfer.acked = i + 1
          transfer.ackedBytes = bytes
        }
        const progress = measure(transfer.speed, transfer.ackedBytes, transfer.size)
        if (transfer.onProgress) callSafely(() => transfer.onProgress!(progress, peerId))
        transfer.wake?.()
        return
      }
      case 'done':
        return transfer.finish()
      case 'fail':
      case 'cancel': {
        const error = new P2PError(
          value.t === 'cancel' ? 'cancelled' : codeFrom(value.code),
          `peer ${peerId} stopped the file: ${reason}`,
          peerId,
        )
        transfer.accepted(false, error)
        return transfer.finish(error)
      }
    }
  }

  /** Yields the source as blocks of whole `size`-byte chunks (a stream: one chunk each), reading one at a time. */
  async function* slices(source: Blob | ReadableStream<Uint8Array>, size: number, from: number, to?: number) {
    if (isBlob(source)) {
      // A block of a few chunks per Blob read (fewer round trips to the Blob's store).
      const end = to ?? source.size
      const read = size * Math.max(1, Math.floor(blobReadBytes / size))
      for (let start = from; start < end; start += read) {
        yield new Uint8Array(await source.slice(start, Math.min(end, start + read)).arrayBuffer())
      }
      return
    }
    const reader = source.getReader()
    let pending: Uint8Array[] = []
    let pendingBytes = 0
    try {
      for (;;) {
        const {value, done} = await reader.read()
        if (value) {
          pending.push(value)
          pendingBytes += value.byteLength
        }
        while (pendingBytes >= size || (done && pendingBytes)) {
          const out = new Uint8Array(Math.min(size, pendingBytes))
          let filled = 0
          while (filled < out.byteLength) {
            const part = pending[0]!
            const take = Math.min(part.byteLength, out.byteLength - filled)
            out.set(part.subarray(0, take), filled)
            filled += take
            if (take === part.byteLength) pending.shift()
            else pending[0] = part.subarray(take)
          }
          pendingBytes -= out.byteLength
          yield out
        }
        if (done) return
      }
    } finally {
      pending = []
      reader.releaseLock()
    }
  }

  const sendOne = (
    source: Blob | ReadableStream<Uint8Array>,
    peerId: PeerId,
    options: SendFileOptions,
  ): Promise<void> => {
    const size = isBlob(source) ? source.size : undefined
    const name = safeFileName(options.name ?? (source as File).name)
    const type = options.type ?? (isBlob(source) ? source.type : '')
    if (options.metadata !== undefined && JSON.stringify(options.metadata).length > maxMetadataBytes)
      return Promise.reject(new P2PError('too-large', `file metadata is over ${maxMetadataBytes} bytes of JSON`))
    if (!isOpen(peerId))
      return Promise.reject(new P2PError('unknown-peer', `peer ${peerId} is not in the room`, peerId))
    const chunk = chunkSizeFor(size)
    const id = randomId(16)
    /** Swarm: this send's chunk hashes and whole hash, when it sent every chunk (see FilesDeps.transferred). */
    const swarmHashes: {chunk: number; digests: string[]; whole?: string} = {chunk, digests: []}
    return new Promise<void>((resolve, reject) => {
      let acceptedResolve!: (ok: boolean) => void
      const accepted = new Promise<boolean>(r => (acceptedResolve = r))
      const transfer: Outgoing = {
        id,
        peerId,
        acked: 0,
        ackedBytes: 0,
        sentChunks: 0,
        sentBytes: 0,
        lastHeard: Date.now(),
        speed: {samples: []},
        size,
        chunk,
        from: 0,
        onProgress: options.onProgress,
        keep: isBlob(source) ? undefined : new Kept(),
        accepted: ok => acceptedResolve(ok),
        finish: error => {
          if (outgoing.get(id) !== transfer) return
          outgoing.delete(id)
          transfer.stopped = error ?? new P2PError('cancelled', 'finished')
          acceptedResolve(false)
          transfer.wake?.()
          options.signal?.removeEventListener('abort', onAbort)
          if (error) reject(error)
          else {
            // Swarm: a Blob the receiver verified whole can be served to other members too.
            if (isBlob(source))
              transferred?.(source, name, type, swarmHashes.whole ? (swarmHashes as TransferHashes) : undefined)
            resolve()
          }
        },
      }
      const onAbort = () => {
        void say(peerId, {t: 'cancel', id, reason: 'the sender cancelled'})
        transfer.finish(new P2PError('cancelled', 'the transfer was cancelled', peerId))
      }
      if (options.signal?.aborted) return reject(new P2PError('cancelled', 'the transfer was cancelled', peerId))
      options.signal?.addEventListener('abort', onAbort)
      outgoing.set(id, transfer)
      void (async () => {
        const resumeKey =
          options.resumeKey?.slice(0, 64) ??
          (isBlob(source)
            ? await digest(
                new TextEncoder().encode([name, source.size, type, (source as File).lastModified ?? ''].join('\u0000')),
              )
            : undefined)
        void say(peerId, {t: 'offer', id, name, type, size, chunk, metadata: options.metadata, key: resumeKey})
        if (!(await accepted) || transfer.stopped) return
        if (transfer.keep) transfer.keep.running = true
        const from = isBlob(source) ? transfer.from : 0
        let index = from
        let sent = from * chunk
        // The whole-file hash runs beside the wire (a Worker reads the Blob itself, from byte 0:
        // when resuming, what the receiver holds is re-read only to carry the hash on).
        const whole = wholeHash()
        const blocks = slices(source, chunk, sent)
        try {
          if (from) void whole.blob(source as Blob, 0, sent).catch(() => {})
          transfer.acked = transfer.sentChunks = from
          transfer.ackedBytes = transfer.sentBytes = sent
          // A few blocks are read and hashed (in the Worker) ahead while the one before is sent.
          let reading = Promise.resolve()
          const hashNext = () => {
            const next = reading.then(() => blocks.next())
            reading = next.then(
              () => {},
              () => {},
            )
            const block = next.then(read => (read.done ? undefined : whole.chunks(read.value, chunk)))
            block.catch(() => {})
            return block
          }
          const ahead = Array.from({length: blocksAhead}, hashNext)
          for (let block = await ahead.shift(); block; block = await ahead.shift()) {
            ahead.push(hashNext())
            for (let k = 0; k < block.hashes.length; k++) {
              const bytes = block.bytes.subarray(k * chunk, (k + 1) * chunk)
              while (
                !transfer.stopped &&
                (transfer.keep?.parkedAt !== undefined || sent - transfer.ackedBytes + bytes.byteLength > windowBytes)
              )
                await new Promise<void>(resolve => (transfer.wake = resolve))
              if (transfer.stopped) return
              sent += bytes.byteLength
              transfer.sentBytes = sent
              transfer.sentChunks = index + 1
              transfer.lastHeard = Date.now()
              if (transferred && !from) swarmHashes.digests.push(block.hashes[k]!)
              transfer.keep?.add(index, bytes, block.hashes[k]!) // a stream's, to send again after a drop
              action.send(bytes, peerId, {t: 'c', id, i: index++, h: block.hashes[k]!}).catch(() => {})
            }
          }
          if (size !== undefined && sent !== size)
            return transfer.finish(new P2PError('unreadable', `the file changed while it was sent`, peerId))
          const hash = await whole.hex()
          if (transfer.stopped) return
          if (transferred && !from) swarmHashes.whole = hash
          transfer.size = sent
          if (transfer.keep) transfer.keep.end = {size: sent, hash}
          void say(peerId, {t: 'end', id, size: sent, hash})
        } catch (error) {
          void say(peerId, {t: 'cancel', id, reason: 'the sender could not read the file'})
          return transfer.finish(new P2PError('unreadable', `could not read the file: ${errorMessage(error)}`, peerId))
        } finally {
          whole.close()
          void blocks.return(undefined).catch(() => {})
        }
      })()
    })
  }

  // ---- wiring ----------------------------------------------------------------------------

  action.onMessage((value: unknown, peerId: PeerId, meta?: Metadata) => {
    if (ignoring(peerId)) return
    if (value instanceof ArrayBuffer || value instanceof Uint8Array)
      return onChunk(peerId, value, (meta ?? {}) as Record<string, unknown>)
    if (!value || typeof value !== 'object') return orphan(peerId, 'a malformed file message')
    const message = value as Record<string, unknown>
    switch (message.t) {
      case 'offer':
        return void onOffer(peerId, message)
      case 'end':
        return onEnd(peerId, message)
      case 'cancel': {
        const transfer = typeof message.id === 'string' ? incoming.get(key(peerId, message.id)) : undefined
        if (transfer) {
          const reason = typeof message.reason === 'string' ? message.reason.slice(0, 300) : 'no reason given'
          return failIncoming(transfer, new P2PError('cancelled', `peer ${peerId} cancelled: ${reason}`, peerId))
        }
        return onReply(peerId, message)
      }
      case 'resume':
      case 'held':
        return streams.onMessage(peerId, message)
      case 'fail': {
        // From a sender: a stream that could not resume ('resume-lost').
        const transfer = typeof message.id === 'string' ? incoming.get(key(peerId, message.id)) : undefined
        if (transfer) {
          const reason = typeof message.reason === 'string' ? message.reason.slice(0, 300) : 'no reason given'
          return failIncoming(transfer, new P2PError(codeFrom(message.code), `peer ${peerId}: ${reason}`, peerId))
        }
        return onReply(peerId, message)
      }
      case 'accept':
      case 'decline':
      case 'ack':
      case 'done':
        return onReply(peerId, message)
      default:
        return orphan(peerId, 'a file message of unknown kind')
    }
  })

  const idleTimer = setInterval(() => {
    const now = Date.now()
    for (const transfer of [...incoming.values()])
      if (transfer.state === 'running' && transfer.parkedAt === undefined && now - transfer.lastHeard > limits.idleMs)
        failIncoming(transfer, new P2PError('timeout', `no data for ${limits.idleMs} ms`, transfer.peerId), {
          t: 'cancel',
          id: transfer.id,
          reason: `idle for ${limits.idleMs} ms`,
        })
    for (const transfer of [...outgoing.values()])
      if (transfer.keep?.parkedAt === undefined && now - transfer.lastHeard > limits.idleMs + limits.decideMs)
        transfer.finish(new P2PError('timeout', `no answer from peer ${transfer.peerId} in time`, transfer.peerId))
    streams.sweep(now)
  }, 1000)
  ;(idleTimer as {unref?: () => void}).unref?.()

  return {
    /**
     * Sends a File, Blob or ReadableStream to one peer or several (a stream: one peer).
     * Resolves once the receiver verified the whole file; rejects with a P2PError ('declined',
     * 'too-large', 'busy', 'cancelled', 'timeout', 'integrity', 'peer-left', 'unreadable').
     */
    sendFile(
      source: Blob | ReadableStream<Uint8Array>,
      targets: PeerId | PeerId[],
      options: SendFileOptions = {},
    ): Promise<void> {
      const list = ([] as PeerId[]).concat(targets)
      if (!list.length) return Promise.reject(new P2PError('no-peers', 'sendFile needs a peer id'))
      if (!isBlob(source) && typeof (source as ReadableStream | undefined)?.getReader !== 'function')
        return Promise.reject(invalidConfig('sendFile sends a File, a Blob or a ReadableStream of bytes'))
      if (!isBlob(source) && list.length > 1)
        return Promise.reject(invalidConfig('a ReadableStream can go to one peer; tee() it for more'))
      return Promise.all(list.map(peerId => sendOne(source, peerId, options))).then(() => {})
    },
    /** The app's decision for every incoming file offer (latest wins; none: offers are declined). */
    onFile(callback: FileHandler | undefined) {
      handler = callback
    },
    /** A peer joined (again): stream transfers parked when its link dropped go on (stream-resume.ts). */
    peerJoined: (peerId: PeerId) => streams.peerJoined(peerId),
    /**
     * A peer's link closed. Streams park for its return, unless it said goodbye: a page that left
     * the room holds none of its transfers any more (leave() settled them), so they fail now.
     */
    dropPeer(peerId: PeerId, error: P2PError, goodbye = false) {
      junk.delete(peerId)
      for (const transfer of [...incoming.values()]) {
        if (transfer.peerId !== peerId) continue
        if (!goodbye && streams.parkIn(transfer, error)) continue // a stream's: kept in memory for the peer's return
        const {sink} = transfer
        if (transfer.state === 'running' && sink?.commit && transfer.resume) {
          // Keep what was verified, to resume when this peer offers the same file again.
          incoming.delete(key(peerId, transfer.id))
          transfer.settle(error)
          const resume = transfer.resume
          const saved = transfer.writing.then(() => saveProgress(transfer)).catch(() => {})
          saving.set(resume, saved)
          void saved.then(() => {
            transfer.hash?.close()
            if (saving.get(resume) === saved) saving.delete(resume)
          })
          continue
        }
        failIncoming(transfer, error)
      }
      for (const transfer of [...outgoing.values()])
        if (transfer.peerId === peerId && (goodbye || !streams.parkOut(transfer, error))) transfer.finish(error)
    },
    close() {
      clearInterval(idleTimer)
    },
  }
}

export type Files = ReturnType<typeof createFiles>
