/**
 * Files of any size between two peers: offered, consented, streamed in a window, verified.
 *
 * Everything travels on one internal action (`fileActionId`), so it is framed, chunked and
 * encrypted like any message. A transfer is:
 *
 *   sender → {t:'offer', id, name, type, size, chunk, metadata}       nothing else flows yet
 *   receiver → {t:'accept', id} | {t:'decline', id, code, reason}     the app's onFile decided
 *   sender → binary chunk i, meta {t:'c', id, i, h: sha256(chunk)}     at most `windowBytes` unacked
 *   receiver → {t:'ack', id, i, bytes}                                 chunk i verified and taken
 *                                                                      (written to disk, or read
 *                                                                      from the app's stream)
 *   sender → {t:'end', id, size, hash: sha256(whole)}
 *   receiver → {t:'done', id} | {t:'fail', id, code, reason}          whole hash checked
 *   either → {t:'cancel', id, reason}
 *
 * Resume: an offer of a File carries `key` (a hash of its name, size, type and lastModified, or
 * the app's `resumeKey`). When a peer drops mid-way, the receiver keeps what it verified (the
 * OPFS file, the index of the next chunk, the SHA-256 state); when the same peer (same
 * identity, so the same id) offers the same key again, it answers {t:'accept', id, from: n}
 * and the sender re-reads (and re-hashes, locally) the first n chunks and sends from chunk n.
 * Kept in memory on the receiver: it survives the sender's reload or a dropped connection,
 * not the receiver's own reload.
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
import {Sha256, toHex} from './sha256.js'

/** The internal action files travel on; room.makeAction keeps ids starting with NUL for the library. */
export const fileActionId = '\u0000file'
/** Largest metadata an offer carries, in bytes of its JSON. */
export const maxMetadataBytes = 4096
/** Largest chunk: 256 KiB, so a progress ack comes at least every 256 KiB. */
export const maxChunkBytes = 256 * 1024
/** Smallest chunk, for small files (where 1 % of the file is less than this). */
export const minChunkBytes = 16 * 1024
/** Unacknowledged bytes a sender may have out: the memory a transfer costs on either side. */
export const windowBytes = 4 * 1024 * 1024

/** Chunk size for a file of `size` bytes: ~1 % of it, within [16 KiB, 256 KiB]; unknown size: 256 KiB. */
export const chunkSizeFor = (size: number | undefined) =>
  size === undefined
    ? maxChunkBytes
    : Math.max(minChunkBytes, Math.min(maxChunkBytes, Math.ceil(size / 100 / 1024) * 1024))

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
}

const defaultLimits = {
  maxFileBytes: Number.POSITIVE_INFINITY,
  maxMemoryBytes: 256 * 1024 * 1024,
  maxConcurrentPerPeer: 4,
  idleMs: 30_000,
  decideMs: 60_000,
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

const peerCodes: P2PErrorCode[] = ['declined', 'too-large', 'busy', 'integrity', 'timeout', 'cancelled', 'malformed']
const codeFrom = (code: unknown): P2PErrorCode =>
  peerCodes.includes(code as P2PErrorCode) ? (code as P2PErrorCode) : 'rejected'

type Outgoing = {
  id: string
  peerId: PeerId
  accepted: (ok: boolean, error?: P2PError) => void
  /** The chunk the receiver resumes from (0: from the start). */
  from: number
  acked: number
  ackedBytes: number
  /** Wakes the send loop when an ack opens the window. */
  wake?: () => void
  finish: (error?: P2PError) => void
  lastHeard: number
  speed: Speed
  size?: number
  chunk: number
  onProgress?: SendFileOptions['onProgress']
  stopped?: P2PError
}

type Sink = {
  write: (bytes: Uint8Array) => Promise<void>
  close: () => Promise<File | undefined>
  abort: (error: P2PError) => void
  /** Commits what was written and returns the file handle, to resume into later (OPFS only). */
  suspend?: () => Promise<FileSystemFileHandle>
}

/** What a receiver keeps of an interrupted transfer, to resume it. */
type Partial = {
  handle: FileSystemFileHandle
  bytes: number
  index: number
  hash: ReturnType<Sha256['state']>
  size?: number
  chunk: number
}

type Incoming = {
  id: string
  peerId: PeerId
  offer: Extract<Control, {t: 'offer'}>
  state: 'deciding' | 'running' | 'ended'
  nextIndex: number
  /** Chunks that arrived ahead of nextIndex (messages may complete out of order), within the window. */
  early: Map<number, {bytes: Uint8Array; hash: string}>
  heldBytes: number
  received: number
  hash: Sha256
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
}

export type FilesDeps = {
  action: Action<DataPayload>
  problem: (error: P2PError) => void
  isOpen: (peerId: PeerId) => boolean
  /** Closes the connection to a peer that kept sending junk. */
  disconnect: (peerId: PeerId, reason: string) => void
  limits?: FileLimits
}

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

/** The directory received files are assembled in, under the Origin Private File System. */
export const opfsDirectoryName = 'p2p-files'

const opfsSink = async (id: string, name: string, type: string, resume?: Partial): Promise<Sink | undefined> => {
  const storage = (globalThis.navigator as Navigator | undefined)?.storage
  if (!storage?.getDirectory) return undefined
  try {
    const root = await storage.getDirectory()
    const dir = await root.getDirectoryHandle(opfsDirectoryName, {create: true})
    const handle = resume?.handle ?? (await dir.getFileHandle(id, {create: true}))
    if (typeof handle.createWritable !== 'function') return undefined
    const writable = await handle.createWritable({keepExistingData: !!resume})
    if (resume) {
      // Only verified bytes count: drop anything past them, and write on from there.
      await writable.truncate(resume.bytes)
      await writable.seek(resume.bytes)
    }
    return {
      suspend: async () => {
        await writable.close()
        return handle
      },
      write: bytes => writable.write(bytes as Uint8Array<ArrayBuffer>),
      close: async () => {
        await writable.close()
        const onDisk = await handle.getFile()
        // A File made of a disk-backed Blob stays on disk; only its name and type change.
        return new File([onDisk], name, {type})
      },
      abort: () => {
        void writable.abort().then(
          () => dir.removeEntry(handle.name),
          () => {},
        )
      },
    }
  } catch {
    return undefined
  }
}

/** Deletes the files received into the Origin Private File System (they stay until then). */
export const clearReceivedFiles = async () => {
  const storage = (globalThis.navigator as Navigator | undefined)?.storage
  if (!storage?.getDirectory) return
  const root = await storage.getDirectory()
  await root.removeEntry(opfsDirectoryName, {recursive: true}).catch(() => {})
}

// Tag checks, so Blobs made in another realm (an iframe) count too.
const isBlob = (value: unknown): value is Blob =>
  ['[object Blob]', '[object File]'].includes(Object.prototype.toString.call(value))

export const createFiles = ({action, problem, isOpen, disconnect, limits: given}: FilesDeps) => {
  const limits = {...defaultLimits, ...given}
  const outgoing = new Map<string, Outgoing>()
  const incoming = new Map<string, Incoming>()
  let handler: FileHandler | undefined
  /** Interrupted transfers kept for resuming, by peer and key; at most `maxPartials`, oldest dropped. */
  const partials = new Map<string, Partial>()
  const maxPartials = 16

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

    const partialKey = offer.key === undefined ? undefined : key(peerId, offer.key)
    const partial = partialKey ? partials.get(partialKey) : undefined
    const resumable = partial && partial.size === offer.size && partial.chunk === offer.chunk ? partial : undefined
    if (partialKey) partials.delete(partialKey)
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
      heldBytes: 0,
      received: 0,
      hash: new Sha256(),
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
      let onDisk = resumable && (await opfsSink('', offer.name, offer.type, resumable))
      if (onDisk && resumable) {
        from = resumable.index
        transfer.nextIndex = resumable.index
        transfer.received = resumable.bytes
        transfer.hash = Sha256.fromState(resumable.hash)
      } else onDisk = await opfsSink(`${Date.now()}-${randomId(8)}`, offer.name, offer.type)
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
        failed = error
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

  const onChunk = (peerId: PeerId, bytes: ArrayBuffer, meta: {id?: unknown; i?: unknown; h?: unknown}) => {
    const transfer = typeof meta.id === 'string' ? incoming.get(key(peerId, meta.id)) : undefined
    if (!transfer) return orphan(peerId, 'a file chunk for no transfer')
    const {i, h} = meta
    const chunk = new Uint8Array(bytes)
    const violation = (reason: string) =>
      failIncoming(transfer, new P2PError('malformed', `peer ${peerId} sent ${reason}`, peerId), {
        t: 'cancel',
        id: transfer.id,
        reason,
      })
    if (transfer.state !== 'running') return violation('a chunk before the file was accepted')
    if (!Number.isSafeInteger(i) || (i as number) < transfer.nextIndex || typeof h !== 'string')
      return violation('a chunk with a bad index or hash')
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
    drain(transfer)
  }

  /** Verifies and hands on chunks in order, one write at a time; acks each once it left memory. */
  const drain = (transfer: Incoming) => {
    transfer.writing = transfer.writing.then(async () => {
      for (;;) {
        const next = transfer.early.get(transfer.nextIndex)
        if (!next || incoming.get(key(transfer.peerId, transfer.id)) !== transfer) return
        transfer.early.delete(transfer.nextIndex)
        if ((await digest(next.bytes)) !== next.hash) {
          failIncoming(transfer, new P2PError('integrity', `chunk ${transfer.nextIndex} did not match its hash`), {
            t: 'fail',
            id: transfer.id,
            code: 'integrity',
            reason: `chunk ${transfer.nextIndex} did not match its hash`,
          })
          return
        }
        transfer.hash.update(next.bytes)
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
        transfer.received += next.bytes.byteLength
        transfer.heldBytes -= next.bytes.byteLength
        transfer.lastHeard = Date.now()
        void say(transfer.peerId, {t: 'ack', id: transfer.id, i: index, bytes: transfer.received})
        const progress = measure(transfer.speed, transfer.received, transfer.offer.size)
        if (transfer.progress) callSafely(() => transfer.progress!(progress))
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
    const reason =
      transfer.received !== end.size
        ? `${transfer.received} bytes arrived, the sender said ${end.size}`
        : transfer.offer.size !== undefined && end.size !== transfer.offer.size
          ? `the sender offered ${transfer.offer.size} bytes and sent ${end.size}`
          : transfer.hash.hex() !== end.hash
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
    void say(transfer.peerId, {t: 'done', id: transfer.id})
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
        if (!Number.isSafeInteger(value.i) || value.i !== transfer.acked || !Number.isSafeInteger(value.bytes))
          return orphan(peerId, 'a file ack out of order')
        transfer.acked++
        transfer.ackedBytes = value.bytes as number
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

  /** Yields the source as slices of `size` bytes, reading one at a time. */
  async function* slices(source: Blob | ReadableStream<Uint8Array>, size: number, from: number, to?: number) {
    if (isBlob(source)) {
      const end = to ?? source.size
      for (let start = from; start < end; start += size)
        yield new Uint8Array(await source.slice(start, Math.min(end, start + size)).arrayBuffer())
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
    return new Promise<void>((resolve, reject) => {
      let acceptedResolve!: (ok: boolean) => void
      const accepted = new Promise<boolean>(r => (acceptedResolve = r))
      const transfer: Outgoing = {
        id,
        peerId,
        acked: 0,
        ackedBytes: 0,
        lastHeard: Date.now(),
        speed: {samples: []},
        size,
        chunk,
        from: 0,
        onProgress: options.onProgress,
        accepted: ok => acceptedResolve(ok),
        finish: error => {
          if (outgoing.get(id) !== transfer) return
          outgoing.delete(id)
          transfer.stopped = error ?? new P2PError('cancelled', 'finished')
          acceptedResolve(false)
          transfer.wake?.()
          options.signal?.removeEventListener('abort', onAbort)
          if (error) reject(error)
          else resolve()
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
        const whole = new Sha256()
        const from = isBlob(source) ? transfer.from : 0
        let index = from
        let sent = from * chunk
        try {
          // Resuming: what the receiver holds is re-read here only to carry the whole-file hash on.
          if (from) for await (const bytes of slices(source as Blob, 4 * 1024 * 1024, 0, sent)) whole.update(bytes)
          transfer.acked = from
          transfer.ackedBytes = sent
          for await (const bytes of slices(source, chunk, sent)) {
            while (!transfer.stopped && sent - transfer.ackedBytes + bytes.byteLength > windowBytes)
              await new Promise<void>(resolve => (transfer.wake = resolve))
            if (transfer.stopped) return
            whole.update(bytes)
            const h = await digest(bytes)
            if (transfer.stopped) return
            sent += bytes.byteLength
            transfer.lastHeard = Date.now()
            action.send(bytes, peerId, {t: 'c', id, i: index++, h}).catch(() => {})
          }
        } catch (error) {
          void say(peerId, {t: 'cancel', id, reason: 'the sender could not read the file'})
          return transfer.finish(new P2PError('unreadable', `could not read the file: ${errorMessage(error)}`, peerId))
        }
        if (size !== undefined && sent !== size)
          return transfer.finish(new P2PError('unreadable', `the file changed while it was sent`, peerId))
        transfer.size = sent
        void say(peerId, {t: 'end', id, size: sent, hash: whole.hex()})
      })()
    })
  }

  // ---- wiring ----------------------------------------------------------------------------

  action.onMessage((value: unknown, peerId: PeerId, meta?: Metadata) => {
    if (ignoring(peerId)) return
    if (value instanceof ArrayBuffer) return onChunk(peerId, value, (meta ?? {}) as Record<string, unknown>)
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
      case 'accept':
      case 'decline':
      case 'ack':
      case 'done':
      case 'fail':
        return onReply(peerId, message)
      default:
        return orphan(peerId, 'a file message of unknown kind')
    }
  })

  const idleTimer = setInterval(() => {
    const now = Date.now()
    for (const transfer of [...incoming.values()])
      if (transfer.state === 'running' && now - transfer.lastHeard > limits.idleMs)
        failIncoming(transfer, new P2PError('timeout', `no data for ${limits.idleMs} ms`, transfer.peerId), {
          t: 'cancel',
          id: transfer.id,
          reason: `idle for ${limits.idleMs} ms`,
        })
    for (const transfer of [...outgoing.values()])
      if (now - transfer.lastHeard > limits.idleMs + limits.decideMs)
        transfer.finish(new P2PError('timeout', `no answer from peer ${transfer.peerId} in time`, transfer.peerId))
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
    dropPeer(peerId: PeerId, error: P2PError) {
      junk.delete(peerId)
      for (const transfer of [...incoming.values()]) {
        if (transfer.peerId !== peerId) continue
        const {sink, offer} = transfer
        if (transfer.state === 'running' && sink?.suspend && offer.key !== undefined) {
          // Keep what was verified, to resume when this peer offers the same file again.
          incoming.delete(key(peerId, transfer.id))
          transfer.settle(error)
          void transfer.writing
            .then(() => sink.suspend!())
            .then(handle => {
              partials.set(key(peerId, offer.key!), {
                handle,
                bytes: transfer.received,
                index: transfer.nextIndex,
                hash: transfer.hash.state(),
                size: offer.size,
                chunk: offer.chunk,
              })
              while (partials.size > maxPartials) partials.delete(partials.keys().next().value!)
            })
            .catch(() => {})
          continue
        }
        failIncoming(transfer, error)
      }
      for (const transfer of [...outgoing.values()]) if (transfer.peerId === peerId) transfer.finish(error)
    },
    close() {
      clearInterval(idleTimer)
    },
  }
}

export type Files = ReturnType<typeof createFiles>
