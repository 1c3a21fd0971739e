/**
 * Swarm download: one file fetched from several members at once, by its content hash.
 *
 * A member that holds a file whole (it sent or received it with sendFile/onFile, or seeded it
 * with room.seedFile) can serve it while it stays in the room. A file is named by its
 * *content hash*: the SHA-256 of its manifest, which lists its size, its chunk size (the same
 * 1 %-in-[16 KiB, 256 KiB] rule as sendFile), the SHA-256 of the whole and the SHA-256 of
 * every chunk. So a receiver that knows the content hash checks a source's manifest against
 * it (a forged manifest does not hash to it) and then every chunk against the manifest (a
 * source that sends wrong bytes is caught on that chunk).
 *
 * Everything travels on one internal action (`swarmActionId`), framed and encrypted like any message:
 *
 *   member → {t:'have', files: [{hash, name, size}]}     what it serves (on join, and when it changes)
 *   fetcher → {t:'want', q, hash}                         to each source; nothing flows before it answers
 *   source → manifest digests (binary), meta {t:'manifest', q, size, chunk, whole, name, type}
 *          | {t:'no', q, code, reason}                    does not hold it, declined ('declined'), 'busy'
 *   fetcher → {t:'get', q, i}                              chunk i; at most `maxQueuedPerFetch` outstanding
 *   source → chunk i bytes (binary), meta {t:'c', q, i}
 *   fetcher → {t:'stop', q}                                finished, cancelled, or dropping that source
 *   fetcher → {t:'part', hash, name, size, ranges}         chunk ranges [start, end) it can serve while its
 *                                                          own download runs ([] withdraws); its manifest
 *                                                          reply then carries `partial: true`
 *
 * Piece choice: among whole sources every chunk is held by every source: chunks are handed out
 * lowest index first, to whichever source has room in its share of the window. A partial source
 * (a member part-way, swarm-store.ts) is asked only for chunks it announced, lowest first; while
 * any is about, a whole source is asked for a random group of chunks none of them holds (rarest
 * first), so members fetching at once take different chunks and fill each other in. In `sequential` mode the
 * bytes are delivered in order to a stream and requests stay within `windowBytes` of the
 * reader (so a `<video>` can play the start while the rest arrives, with memory bounded); a
 * chunk at the head that one source is slow to send is also asked of an idle source
 * (first verified copy wins). Otherwise chunks are written where they belong (OPFS) as they
 * verify, and only the bytes in flight are bounded.
 */
import {callSafely} from '../call.js'
import {P2PError, type P2PErrorCode, errorMessage, invalidConfig} from '../errors.js'
import {randomId} from '../ids.js'
import type {Action, DataPayload, Metadata, PeerId} from '../types.js'
import {chunkSizeFor, type FileProgress, safeFileName, type TransferHashes, windowBytes} from './index.js'
import {Sha256, toHex} from './sha256.js'
import {groupChunks, type SwarmStore, openSwarmStore, readRanges} from './swarm-store.js'

/** The internal action the swarm travels on (ids starting with NUL are the library's). */
export const swarmActionId = '\u0000swarm'

/** What a content hash stands for. Checked against the hash before any of it is believed. */
export type Manifest = {
  size: number
  chunk: number
  /** SHA-256 of the whole file, hex. */
  whole: string
  /** SHA-256 of each chunk, 32 bytes each, in order. */
  digests: Uint8Array
  /** Hints from the source: not covered by the hash, sanitized. */
  name: string
  type: string
}

export type SwarmSource = {
  peerId: PeerId
  /** asking: 'want' sent; serving: manifest checked, chunks flowing; done: finished; dropped: see `reason`. */
  state: 'asking' | 'serving' | 'done' | 'dropped'
  /** Verified bytes this source delivered. */
  bytes: number
  reason?: string
  code?: P2PErrorCode
}

export type FetchFileOptions = {
  /** Members to fetch from. Default: those that announced the hash, else every member. */
  sources?: PeerId[]
  /** Deliver the bytes in order to `download.stream()` (for a `<video>` via MediaSource); default: assemble a File. */
  sequential?: boolean
  onProgress?: (progress: FileProgress) => void
  /** Called whenever a source changes state (asked, serving, dropped and why). */
  onSources?: (sources: SwarmSource[]) => void
  /** Aborting stops the download (rejects with 'cancelled') and tells the sources. */
  signal?: AbortSignal
}

export type SwarmDownload = {
  readonly hash: string
  /** In sequential mode: the bytes, in order, once each chunk verified. Backpressured: a reader that stops stops the requests. */
  stream(): ReadableStream<Uint8Array>
  /** Otherwise: the whole file, verified (OPFS where present, else memory up to `maxMemoryBytes`). */
  file(): Promise<File>
  /** Resolves with the manifest once a source's manifest matched the hash (name, type and size known). */
  readonly manifest: Promise<Manifest>
  /** Every source asked, and how it went. */
  sources(): SwarmSource[]
  cancel(reason?: string): void
  /** Resolves once every chunk arrived and verified; rejects with a P2PError ('no-sources', 'cancelled', ...). */
  readonly done: Promise<void>
  /** Byte ranges `[start, end)` verified so far, sorted (empty until the manifest is known). */
  verifiedRanges(): [number, number][]
}

/** A file some member serves: its name and size are that member's word (untrusted) until fetched. */
export type SwarmFile = {
  hash: string
  name: string
  size: number
  /** Other members that announced it. */
  holders: PeerId[]
  /** Whether this member serves it. */
  here: boolean
}

/** A fetch request, as a source's onServe sees it. */
export type ServeRequest = {peerId: PeerId; hash: string; name: string; size: number}
/** Return false (or a promise of it), or throw, to decline serving; anything else serves. Default: serve. */
export type ServeHandler = (request: ServeRequest) => unknown

export type SwarmLimits = {
  /** Fetches this member serves at once (all peers). Default 8. */
  maxServing?: number
  /** Fetches one peer may have from this member at once. Default 2. */
  maxServingPerPeer?: number
  /** Upload rate this member serves at, across all fetches, in bytes/s. Default: no cap. */
  serveBytesPerSecond?: number
  /** Files held for serving; the oldest is forgotten past it. Default 64. */
  maxHeld?: number
  /** Serve files this member sent or received (sendFile/onFile with file()). Default true; false: only seedFile. */
  serveTransferred?: boolean
  /** A source that sends nothing asked of it for this long is dropped. Default 15 s. */
  idleMs?: number
  /** Largest file assembled in memory without OPFS. Default 256 MiB. */
  maxMemoryBytes?: number
}

const defaults = {
  maxServing: 8,
  maxServingPerPeer: 2,
  serveBytesPerSecond: Number.POSITIVE_INFINITY,
  maxHeld: 64,
  serveTransferred: true,
  idleMs: 15_000,
  maxMemoryBytes: 256 * 1024 * 1024,
}

/** Requests a fetcher may have outstanding at one source for one fetch (the source refuses more). */
const maxQueuedPerFetch = Math.ceil(windowBytes / 16384) + 2
/** Content hashes one peer's 'have' may list; more are ignored. */
const maxAnnounced = 256
/** Largest file a manifest may describe: 2^42 bytes (4 TiB, 16 M chunks). */
const maxSize = 2 ** 42

const isHash = (value: unknown): value is string => typeof value === 'string' && /^[0-9a-f]{64}$/.test(value)
const sha = async (bytes: Uint8Array) =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))
const isBlob = (value: unknown): value is Blob =>
  ['[object Blob]', '[object File]'].includes(Object.prototype.toString.call(value))

const fromHex = (hexes: string[]) => {
  const out = new Uint8Array(hexes.length * 32)
  hexes.forEach((hex, i) => {
    for (let k = 0; k < 32; k++) out[i * 32 + k] = Number.parseInt(hex.slice(k * 2, k * 2 + 2), 16)
  })
  return out
}

/** The content hash: SHA-256 over a fixed header (size, chunk size, whole hash) and the chunk digests. */
export const contentHash = async (manifest: Pick<Manifest, 'size' | 'chunk' | 'whole' | 'digests'>) => {
  const head = new TextEncoder().encode(`p2p-swarm/1\n${manifest.size}\n${manifest.chunk}\n${manifest.whole}\n`)
  const all = new Uint8Array(head.byteLength + manifest.digests.byteLength)
  all.set(head)
  all.set(manifest.digests, head.byteLength)
  return toHex(await sha(all))
}

/** Reads a Blob chunk by chunk and builds its manifest (the whole hash incrementally, chunks with WebCrypto). */
export const manifestOf = async (blob: Blob, name?: string, type?: string): Promise<Manifest> => {
  const chunk = chunkSizeFor(blob.size)
  const count = Math.ceil(blob.size / chunk)
  const digests = new Uint8Array(count * 32)
  const whole = new Sha256()
  for (let i = 0; i < count; i++) {
    const bytes = new Uint8Array(await blob.slice(i * chunk, (i + 1) * chunk).arrayBuffer())
    whole.update(bytes)
    digests.set(await sha(bytes), i * 32)
  }
  return {
    size: blob.size,
    chunk,
    whole: whole.hex(),
    digests,
    name: safeFileName(name ?? (blob as File).name),
    type: (type ?? blob.type).slice(0, 255),
  }
}

type Held = {blob: Blob; manifest: Manifest; hash: string}
/** What a serving session reads: a file held whole, or a download part-way (its verified chunks). */
type Served = {manifest: Manifest; hash: string; blob?: Blob; store?: SwarmStore; fetch?: Fetch}

type Serving = {
  peerId: PeerId
  q: string
  held: Served
  queue: number[]
  running: boolean
  stopped: boolean
}

type Source = SwarmSource & {
  inflight: Map<number, number>
  lastHeard: number
  since: number
  /** A partial source (a member part-way through its own download): the chunks it announced. */
  partial?: Uint8Array
}

type Fetch = {
  q: string
  hash: string
  sources: Map<PeerId, Source>
  manifest?: Manifest
  count: number
  /** Per chunk: 0 wanted, 1 verified (and taken). */
  have: Uint8Array
  /** Per chunk: 1 while asked of some source. */
  asked: Uint8Array
  /** Since when no live source could give a missing chunk (partial sources only); see the idle timer. */
  stuckSince?: number
  /** A 'part' announcement of this download's servable chunks is scheduled. */
  announcing?: ReturnType<typeof setTimeout>
  /** Chunks to request next, lowest first: `cursor` onward, plus any handed back by dropped sources. */
  cursor: number
  returned: number[]
  /** Sequential: verified chunks waiting for the reader, and the next index the reader gets. */
  early: Map<number, Uint8Array>
  delivered: number
  verified: number
  bytes: number
  deliverIndex: number
  deliverBusy: boolean
  writing: Promise<void>
  sink?: SwarmStore
  options: FetchFileOptions
  /** Set up by the first source whose manifest checked out. */
  ready?: Promise<void>
  manifestReady: (manifest: Manifest) => void
  speed: [number, number][]
  settle: (error?: P2PError, file?: File) => void
  finished: boolean
  streamParts?: {push: (bytes: Uint8Array) => Promise<void>; end: () => void; fail: (error: P2PError) => void}
}

export type SwarmDeps = {
  action: Action<DataPayload>
  problem: (error: P2PError) => void
  /** Members joined and open. */
  peers: () => PeerId[]
  disconnect: (peerId: PeerId, reason: string) => void
  limits?: SwarmLimits
}

export const createSwarm = ({action, problem, peers, disconnect, limits: given}: SwarmDeps) => {
  const limits = {...defaults, ...given}
  const held = new Map<string, Held>()
  /** Hashes each peer said it serves. */
  const announced = new Map<PeerId, Map<string, {name: string; size: number}>>()
  let onFilesChange: ((files: SwarmFile[]) => void) | undefined
  const serving = new Map<string, Serving>()
  const fetches = new Map<string, Fetch>()
  let serveHandler: ServeHandler | undefined
  const seen = new WeakSet<Blob>()
  let closed = false

  const say = (peerId: PeerId, message: Record<string, unknown>) => action.send(message, peerId).catch(() => {})
  const skey = (peerId: PeerId, q: string) => `${peerId}\u0000${q}`

  // ---- orphans and floods (as files/index.ts: reported a few times a second, disconnected past a bound)
  const junk = new Map<PeerId, {start: number; n: number; total: number}>()
  const junkLimit = 200
  const orphan = (peerId: PeerId, what: string) => {
    const now = Date.now()
    const count = junk.get(peerId) ?? {start: now, n: 0, total: 0}
    junk.set(peerId, count)
    if (now - count.start > 1000) Object.assign(count, {start: now, n: 0})
    count.n++
    count.total++
    if (count.n <= 5) problem(new P2PError('malformed', `peer ${peerId} sent ${what}; ignored it`, peerId))
    if (count.total === junkLimit + 1) {
      problem(
        new P2PError('flood', `peer ${peerId} sent ${junkLimit} malformed swarm messages; disconnected it`, peerId),
      )
      disconnect(peerId, `it sent over ${junkLimit} malformed swarm messages`)
    }
  }

  // ---- holding and announcing ----------------------------------------------------------

  const swarmFiles = (): SwarmFile[] => {
    const files = new Map<string, SwarmFile>()
    for (const {hash, manifest} of held.values())
      files.set(hash, {hash, name: manifest.name, size: manifest.size, holders: [], here: true})
    for (const [peerId, announcedFiles] of announced)
      for (const [hash, {name, size}] of announcedFiles) {
        const file = files.get(hash) ?? {hash, name, size, holders: [], here: false}
        file.holders.push(peerId)
        files.set(hash, file)
      }
    return [...files.values()]
  }
  const filesChanged = () => {
    if (!onFilesChange) return
    const files = swarmFiles()
    callSafely(() => onFilesChange!(files))
  }

  const announce = (to?: PeerId) => {
    const files = [...held.values()]
      .slice(-maxAnnounced)
      .map(({hash, manifest}) => ({hash, name: manifest.name, size: manifest.size}))
    for (const peerId of to ? [to] : peers()) void say(peerId, {t: 'have', files})
    if (!to) filesChanged()
  }

  const hold = async (blob: Blob, name?: string, type?: string, manifest?: Manifest): Promise<string> => {
    const m = manifest ?? (await manifestOf(blob, name, type))
    const hash = await contentHash(m)
    if (closed) return hash
    held.delete(hash)
    held.set(hash, {blob, manifest: m, hash})
    while (held.size > limits.maxHeld) held.delete(held.keys().next().value!)
    announce()
    return hash
  }

  // ---- serving -------------------------------------------------------------------------

  /** Token bucket for serveBytesPerSecond: one per member, shared by its fetches. */
  let bucketTime = performance.now()
  let bucketDebt = 0
  const throttle = async (bytes: number) => {
    const rate = limits.serveBytesPerSecond
    if (!Number.isFinite(rate)) return
    const now = performance.now()
    bucketDebt = Math.max(0, bucketDebt - ((now - bucketTime) * rate) / 1000)
    bucketTime = now
    bucketDebt += bytes
    const wait = ((bucketDebt - bytes) * 1000) / rate
    if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
  }

  const serveLoop = async (session: Serving) => {
    if (session.running) return
    session.running = true
    try {
      while (!session.stopped && session.queue.length) {
        const i = session.queue.shift()!
        const {blob, manifest, store} = session.held
        const bytes = blob
          ? new Uint8Array(await blob.slice(i * manifest.chunk, (i + 1) * manifest.chunk).arrayBuffer())
          : await store!.read(i)
        await throttle(bytes.byteLength)
        if (session.stopped) return
        // Not awaited: the fetcher's request cap bounds what is queued below.
        action.send(bytes, session.peerId, {t: 'c', q: session.q, i}).catch(() => {})
      }
    } catch (error) {
      void say(session.peerId, {t: 'no', q: session.q, code: 'unreadable', reason: 'the source could not read it'})
      problem(new P2PError('unreadable', `could not read a file being served: ${errorMessage(error)}`))
      endServing(session)
    } finally {
      session.running = false
    }
  }

  const endServing = (session: Serving) => {
    session.stopped = true
    serving.delete(skey(session.peerId, session.q))
  }

  const onWant = async (peerId: PeerId, q: string, hash: unknown) => {
    const no = (code: P2PErrorCode, reason: string) => say(peerId, {t: 'no', q, code, reason})
    if (!isHash(hash)) return orphan(peerId, 'a swarm want without a content hash')
    if (serving.has(skey(peerId, q))) return orphan(peerId, 'a second swarm want')
    // A file held whole, else a download of it part-way (its verified chunks: see 'part').
    const file: Served | undefined = held.get(hash) ?? partOf(hash)
    if (!file) return no('declined', 'this member does not hold that file')
    const mine = [...serving.values()].filter(s => s.peerId === peerId).length
    if (serving.size >= limits.maxServing || mine >= limits.maxServingPerPeer)
      return no('busy', `already serving ${mine} fetches to this peer, ${serving.size} in all`)
    const session: Serving = {peerId, q, held: file, queue: [], running: false, stopped: false}
    serving.set(skey(peerId, q), session)
    let decision: unknown = true
    try {
      if (serveHandler)
        decision = await serveHandler({peerId, hash, name: file.manifest.name, size: file.manifest.size})
    } catch {
      decision = false
    }
    if (serving.get(skey(peerId, q)) !== session) return
    if (decision === false) {
      endServing(session)
      return no('declined', 'the source declined to serve it')
    }
    const {digests, ...rest} = file.manifest
    const partial = file.store ? {partial: true} : {}
    action.send(digests.slice().buffer, peerId, {t: 'manifest', q, ...rest, ...partial}).catch(() => {})
  }

  const onGet = (peerId: PeerId, q: string, i: unknown) => {
    const session = serving.get(skey(peerId, q))
    if (!session) return orphan(peerId, 'a swarm get for no fetch')
    const count = Math.ceil(session.held.manifest.size / session.held.manifest.chunk)
    if (!Number.isSafeInteger(i) || (i as number) < 0 || (i as number) >= count)
      return orphan(peerId, 'a swarm get past the file')
    if (session.queue.length >= maxQueuedPerFetch) return orphan(peerId, 'more swarm gets than the window allows')
    if (session.held.store && !session.held.store.servable(i as number))
      return orphan(peerId, 'a swarm get for a chunk this member did not announce')
    session.queue.push(i as number)
    void serveLoop(session)
  }

  // ---- partial sources: members part-way through a download serve what they verified ----

  /** What each peer said it holds part of: content hash → its announced chunk ranges (untrusted). */
  const partials = new Map<PeerId, Map<string, unknown>>()
  /** How often a download tells the room which chunks it can serve, at most. */
  const partEveryMs = 250

  /** A download of `hash` under way here that can serve some chunks. */
  const partOf = (hash: string): Served | undefined => {
    for (const fetch of fetches.values())
      if (fetch.hash === hash && fetch.manifest && fetch.sink && !fetch.finished)
        return {manifest: fetch.manifest, hash, store: fetch.sink, fetch}
    return undefined
  }

  /** Tells the room (soon, at most every `partEveryMs`) which chunks this download can serve. */
  const announcePart = (fetch: Fetch) => {
    if (fetch.announcing || !fetch.sink || fetch.finished) return
    fetch.announcing = setTimeout(() => {
      fetch.announcing = undefined
      if (fetch.finished || !fetch.sink || !fetch.manifest) return
      const {name, size} = fetch.manifest
      const message = {t: 'part', hash: fetch.hash, name, size, ranges: fetch.sink.ranges()}
      for (const peerId of peers()) void say(peerId, message)
    }, partEveryMs)
  }

  /** A download that stopped here: withdraw its announcement and stop serving its chunks. */
  const endPart = (fetch: Fetch) => {
    clearTimeout(fetch.announcing)
    fetch.announcing = undefined
    if (fetch.manifest && fetch.sink) {
      const message = {t: 'part', hash: fetch.hash, name: fetch.manifest.name, size: fetch.manifest.size, ranges: []}
      for (const peerId of peers()) void say(peerId, message)
    }
    for (const session of [...serving.values()])
      if (session.held.fetch === fetch) {
        void say(session.peerId, {t: 'no', q: session.q, code: 'declined', reason: 'its own download stopped'})
        endServing(session)
      }
  }

  /** A peer's 'part': remember it, and let downloads of that hash use (or add) it as a source. */
  const onPart = (peerId: PeerId, message: Record<string, unknown>) => {
    const {hash, ranges} = message
    if (!isHash(hash) || !Array.isArray(ranges)) return orphan(peerId, 'a malformed swarm part')
    const mine = partials.get(peerId) ?? new Map<string, unknown>()
    partials.set(peerId, mine)
    if (!ranges.length) mine.delete(hash)
    else {
      mine.delete(hash)
      mine.set(hash, ranges)
      while (mine.size > maxAnnounced) mine.delete(mine.keys().next().value!)
    }
    for (const fetch of fetches.values()) {
      if (fetch.hash !== hash || fetch.finished) continue
      const source = fetch.sources.get(peerId)
      if (!source) {
        if (!ranges.length) continue
        // A member that started the same download: ask it too.
        const added: Source = {peerId, state: 'asking', bytes: 0, inflight: new Map(), lastHeard: Date.now(), since: 0}
        fetch.sources.set(peerId, added)
        void say(peerId, {t: 'want', q: fetch.q, hash})
        report(fetch)
        continue
      }
      if (source.state === 'serving' && source.partial) {
        const bits = readRanges(ranges, fetch.count)
        if (!bits) return dropSource(fetch, source, 'malformed', 'announced chunk ranges outside the file')
        source.partial = bits
        pump(fetch)
      }
    }
  }

  // ---- fetching ------------------------------------------------------------------------

  const report = (fetch: Fetch) => {
    if (fetch.options.onSources) {
      const list = sourcesOf(fetch)
      callSafely(() => fetch.options.onSources!(list))
    }
  }
  const sourcesOf = (fetch: Fetch): SwarmSource[] =>
    [...fetch.sources.values()].map(({peerId, state, bytes, reason, code}) => ({peerId, state, bytes, reason, code}))

  const fail = (fetch: Fetch, error: P2PError) => {
    if (fetch.finished) return
    fetch.finished = true
    fetches.delete(fetch.q)
    for (const source of fetch.sources.values())
      if (source.state === 'serving' || source.state === 'asking') void say(source.peerId, {t: 'stop', q: fetch.q})
    endPart(fetch)
    fetch.sink?.abort()
    fetch.streamParts?.fail(error)
    fetch.early.clear()
    fetch.settle(error)
  }

  const dropSource = (fetch: Fetch, source: Source, code: P2PErrorCode, reason: string, tell = true) => {
    if (source.state === 'dropped' || source.state === 'done') return
    const wasServing = source.state === 'serving' || source.state === 'asking'
    source.state = 'dropped'
    source.code = code
    source.reason = reason
    for (const i of source.inflight.keys())
      if (!fetch.have[i] && !inflightElsewhere(fetch, i, source)) giveBack(fetch, i)
    source.inflight.clear()
    if (tell && wasServing) void say(source.peerId, {t: 'stop', q: fetch.q})
    if (code === 'integrity' || code === 'malformed')
      problem(new P2PError(code, `swarm source ${source.peerId} dropped: ${reason}`, source.peerId))
    report(fetch)
    pump(fetch)
  }

  const inflightElsewhere = (fetch: Fetch, i: number, except: Source) => {
    for (const s of fetch.sources.values()) if (s !== except && s.inflight.has(i)) return true
    return false
  }
  const giveBack = (fetch: Fetch, i: number) => {
    fetch.asked[i] = 0
    if (!fetch.returned.includes(i)) fetch.returned.push(i)
    fetch.returned.sort((a, b) => a - b)
  }

  const windowChunks = (fetch: Fetch) => Math.max(2, Math.floor(windowBytes / fetch.manifest!.chunk))

  /**
   * The next chunk to ask `source` for, within the window; undefined if none. A source holding the
   * file whole gets the lowest chunk no partial source holds (those can come from them), else the
   * lowest; a partial source gets the lowest it announced.
   */
  const nextChunk = (fetch: Fetch, source: Source, partials: Source[]): number | undefined => {
    const limit = Math.min(fetch.count, fetch.options.sequential ? fetch.delivered + windowChunks(fetch) : fetch.count)
    const wanted = (i: number) => !fetch.have[i] && !fetch.asked[i] && (!source.partial || source.partial[i] === 1)
    while (fetch.returned.length && fetch.have[fetch.returned[0]!]) fetch.returned.shift()
    while (fetch.cursor < fetch.count && (fetch.have[fetch.cursor] || fetch.asked[fetch.cursor])) fetch.cursor++
    const elsewhere = (i: number) => partials.some(p => p !== source && p.partial![i] === 1)
    let fallback: number | undefined
    for (const i of fetch.returned) {
      if (i >= limit || !wanted(i)) continue
      if (source.partial || !elsewhere(i)) return take(fetch, i)
      fallback ??= i
    }
    // With partial sources about (other members part-way through the same file), a whole source is
    // asked for a random missing chunk none of them holds (rarest first): members fetching at once
    // then take different chunks from it, and can fill each other in. Else lowest first.
    const span = limit - fetch.cursor
    // (A random group of 16 chunks, then on from its start: few groups are open at once, swarm-store.ts.)
    const offset =
      !source.partial && partials.length && !fetch.options.sequential && span > 0
        ? Math.min(span - 1, randomIndex(Math.ceil(span / groupChunks)) * groupChunks)
        : 0
    for (let k = 0; k < span; k++) {
      const i = fetch.cursor + ((offset + k) % span)
      if (!wanted(i)) continue
      if (source.partial || !elsewhere(i)) return take(fetch, i)
      fallback ??= i
    }
    return fallback === undefined ? undefined : take(fetch, fallback)
  }
  const randomIndex = (n: number) => crypto.getRandomValues(new Uint32Array(1))[0]! % n
  const take = (fetch: Fetch, i: number) => {
    const at = fetch.returned.indexOf(i)
    if (at >= 0) fetch.returned.splice(at, 1)
    return i
  }

  const inflightTotal = (fetch: Fetch) => {
    let n = 0
    for (const s of fetch.sources.values()) n += s.inflight.size
    return n
  }

  const request = (fetch: Fetch, source: Source, i: number) => {
    source.inflight.set(i, performance.now())
    fetch.asked[i] = 1
    void say(source.peerId, {t: 'get', q: fetch.q, i})
  }

  /**
   * Chunks a source may have outstanding: what it delivered in the last second at the rate it
   * has shown, plus one (at least 3), within its share of the window. A new or slow source gets
   * little at once, so chunks are spread over the sources by how fast each really is.
   */
  const depth = (fetch: Fetch, source: Source, share: number) => {
    const seconds = (performance.now() - source.since) / 1000
    const rate = seconds > 0.05 ? source.bytes / seconds : 0
    return Math.max(3, Math.min(share, Math.ceil(rate / fetch.manifest!.chunk) + 1))
  }

  /** Hands out chunks, lowest first, to the source with the most room for them. */
  const pump = (fetch: Fetch) => {
    if (fetch.finished || !fetch.manifest) return checkSources(fetch)
    const active = [...fetch.sources.values()].filter(s => s.state === 'serving')
    if (active.length) {
      const share = Math.max(2, Math.ceil(windowChunks(fetch) / active.length))
      const partialSources = active.filter(s => s.partial)
      // Sources with nothing left to give this round (a partial one lacks every missing chunk).
      const empty = new Set<Source>()
      for (;;) {
        if (inflightTotal(fetch) >= windowChunks(fetch) + active.length) break
        let best: Source | undefined
        let room = 0
        for (const s of active) {
          if (empty.has(s)) continue
          const free = depth(fetch, s, share) - s.inflight.size
          if (free > room) (best = s), (room = free)
        }
        if (!best) break
        const i = nextChunk(fetch, best, partialSources)
        if (i === undefined) {
          empty.add(best)
          continue
        }
        request(fetch, best, i)
      }
      // Sequential: the reader waits on the head chunk; an idle source also asks for it.
      if (fetch.options.sequential && fetch.delivered < fetch.count && !fetch.have[fetch.delivered]) {
        const head = fetch.delivered
        const holders = active.filter(s => s.inflight.has(head))
        const idle = active.find(s => !s.inflight.size && (!s.partial || s.partial[head] === 1))
        if (holders.length === 1 && idle && performance.now() - holders[0]!.inflight.get(head)! > 500)
          request(fetch, idle, head)
      }
    }
    checkSources(fetch)
  }

  const checkSources = (fetch: Fetch) => {
    if (fetch.finished) return
    const live = [...fetch.sources.values()].some(s => s.state === 'serving' || s.state === 'asking')
    if (live || (fetch.manifest && fetch.verified === fetch.count)) return
    const why = [...fetch.sources.values()].map(s => `${s.peerId}: ${s.reason ?? s.state}`).join('; ')
    fail(
      fetch,
      new P2PError(
        'no-sources',
        fetch.sources.size
          ? `no source left for ${fetch.hash} with ${fetch.count - fetch.verified} chunks missing (${why})`
          : `no member to fetch ${fetch.hash} from`,
      ),
    )
  }

  const onManifest = async (peerId: PeerId, meta: Record<string, unknown>, digests: ArrayBuffer) => {
    const fetch = typeof meta.q === 'string' ? fetches.get(meta.q) : undefined
    const source = fetch?.sources.get(peerId)
    if (!fetch || !source || source.state !== 'asking') return orphan(peerId, 'a swarm manifest for no fetch')
    const {size, chunk, whole, name, type} = meta
    const bad = (reason: string) => dropSource(fetch, source, 'integrity', reason)
    if (!Number.isSafeInteger(size) || (size as number) < 0 || (size as number) > maxSize || !isHash(whole))
      return bad('a malformed manifest')
    if (chunk !== chunkSizeFor(size as number)) return bad('a manifest with the wrong chunk size')
    if (digests.byteLength !== Math.ceil((size as number) / (chunk as number)) * 32)
      return bad('a manifest with the wrong number of chunks')
    const manifest: Manifest = {
      size: size as number,
      chunk: chunk as number,
      whole,
      digests: new Uint8Array(digests),
      name: safeFileName(name),
      type: typeof type === 'string' ? type.slice(0, 255) : '',
    }
    if ((await contentHash(manifest)) !== fetch.hash)
      return bad('a forged manifest (it does not hash to the content hash)')
    if (fetch.finished || source.state !== 'asking') return
    // The first good manifest sets up where the bytes go; later sources wait for that.
    fetch.ready ??= (async () => {
      fetch.count = Math.ceil(manifest.size / manifest.chunk)
      fetch.have = new Uint8Array(fetch.count)
      fetch.asked = new Uint8Array(fetch.count)
      await startSink(fetch, manifest)
      fetch.manifest = manifest
      fetch.manifestReady(manifest)
    })()
    try {
      await fetch.ready
    } catch (error) {
      return fail(fetch, error instanceof P2PError ? error : new P2PError('unreadable', errorMessage(error)))
    }
    if (fetch.finished || source.state !== 'asking') return
    if (meta.partial === true) {
      // A member part-way through: it serves the chunks it announced (none yet: it waits for a 'part').
      source.partial =
        readRanges(partials.get(peerId)?.get(fetch.hash) ?? [], fetch.count) ?? new Uint8Array(fetch.count)
    }
    source.state = 'serving'
    source.lastHeard = Date.now()
    source.since = performance.now()
    report(fetch)
    if (fetch.count === 0) return void finish(fetch)
    pump(fetch)
  }
  const startSink = async (fetch: Fetch, manifest: Manifest) => {
    if (fetch.options.sequential) return
    // Readable while it runs (swarm-store.ts), so this member serves the chunks it verified.
    fetch.sink = await openSwarmStore(manifest, limits.maxMemoryBytes)
  }

  const progress = (fetch: Fetch) => {
    const now = performance.now()
    fetch.speed.push([now, fetch.bytes])
    while (fetch.speed.length > 2 && now - fetch.speed[0]![0] > 3000) fetch.speed.shift()
    const [t0, b0] = fetch.speed[0]!
    const bytesPerSecond = now > t0 ? ((fetch.bytes - b0) * 1000) / (now - t0) : 0
    const size = fetch.manifest!.size
    const p: FileProgress = {
      bytes: fetch.bytes,
      size,
      fraction: size ? fetch.bytes / size : 1,
      bytesPerSecond,
      secondsLeft: bytesPerSecond > 0 ? (size - fetch.bytes) / bytesPerSecond : undefined,
    }
    if (fetch.options.onProgress) callSafely(() => fetch.options.onProgress!(p))
  }

  const onChunk = async (peerId: PeerId, meta: Record<string, unknown>, buffer: ArrayBuffer) => {
    const fetch = typeof meta.q === 'string' ? fetches.get(meta.q) : undefined
    const source = fetch?.sources.get(peerId)
    if (!fetch || !source) return orphan(peerId, 'a swarm chunk for no fetch')
    if (source.state !== 'serving') return
    const i = meta.i as number
    if (!source.inflight.has(i))
      return dropSource(fetch, source, 'malformed', `chunk ${String(meta.i)} that was not asked of it`)
    const bytes = new Uint8Array(buffer)
    const digest = await sha(bytes)
    const want = fetch.manifest!.digests.subarray(i * 32, i * 32 + 32)
    if (fetch.finished || source.state !== 'serving') return
    if (!digest.every((b, k) => b === want[k]))
      return dropSource(fetch, source, 'integrity', `chunk ${i} did not match its SHA-256 in the manifest`)
    source.inflight.delete(i)
    source.lastHeard = Date.now()
    if (fetch.have[i]) return pump(fetch) // a second copy of a head chunk
    fetch.have[i] = 1
    source.bytes += bytes.byteLength
    // A second copy asked of another source (sequential head) stays in its inflight: it will come, and is ignored.
    if (fetch.options.sequential) {
      fetch.early.set(i, bytes)
      deliver(fetch)
    } else {
      fetch.writing = fetch.writing.then(async () => {
        if (fetch.finished) return
        try {
          await fetch.sink!.write(i, bytes)
        } catch (error) {
          return fail(fetch, new P2PError('unreadable', `could not store the file: ${errorMessage(error)}`))
        }
        taken(fetch, bytes.byteLength)
        if (fetch.sink!.servable(i)) announcePart(fetch)
      })
    }
    pump(fetch)
  }

  const taken = (fetch: Fetch, n: number) => {
    fetch.verified++
    fetch.bytes += n
    progress(fetch)
    if (fetch.verified === fetch.count) void finish(fetch)
    else pump(fetch)
  }

  /** Sequential: hands verified chunks to the reader in order; each counts once the reader took it. */
  const deliver = async (fetch: Fetch) => {
    if (fetch.deliverBusy) return
    fetch.deliverBusy = true
    try {
      for (;;) {
        const bytes = fetch.early.get(fetch.deliverIndex)
        if (!bytes || fetch.finished) return
        fetch.early.delete(fetch.deliverIndex)
        fetch.deliverIndex++
        await fetch.streamParts!.push(bytes)
        fetch.delivered++
        taken(fetch, bytes.byteLength)
      }
    } finally {
      fetch.deliverBusy = false
    }
  }

  const finish = async (fetch: Fetch) => {
    if (fetch.finished) return
    await fetch.writing
    if (fetch.finished) return
    fetch.finished = true
    fetches.delete(fetch.q)
    clearTimeout(fetch.announcing)
    for (const source of fetch.sources.values())
      if (source.state === 'serving' || source.state === 'asking') {
        void say(source.peerId, {t: 'stop', q: fetch.q})
        source.state = 'done'
      }
    report(fetch)
    let file: File | undefined
    if (fetch.streamParts) fetch.streamParts.end()
    else
      try {
        file = await fetch.sink?.close()
      } catch (error) {
        fetch.finished = false
        return fail(fetch, new P2PError('unreadable', `could not store the file: ${errorMessage(error)}`))
      }
    if (file) void hold(file, fetch.manifest!.name, fetch.manifest!.type, fetch.manifest)
    fetch.settle(undefined, file)
  }

  const fetchFile = (hash: string, options: FetchFileOptions = {}): SwarmDownload => {
    if (!isHash(hash)) throw invalidConfig('fetchFile takes a content hash: 64 lowercase hex characters')
    const q = randomId(16)
    let settle!: Fetch['settle']
    const result = new Promise<File | undefined>((resolve, reject) => {
      settle = (error, file) => (error ? reject(error) : resolve(file))
    })
    result.catch(() => {})
    let manifestReady!: (manifest: Manifest) => void
    const manifest = new Promise<Manifest>((resolve, reject) => {
      manifestReady = resolve
      result.catch(reject)
    })
    manifest.catch(() => {})
    const fetch: Fetch = {
      q,
      hash,
      sources: new Map(),
      count: 0,
      have: new Uint8Array(0),
      asked: new Uint8Array(0),
      cursor: 0,
      returned: [],
      early: new Map(),
      delivered: 0,
      verified: 0,
      bytes: 0,
      deliverIndex: 0,
      deliverBusy: false,
      writing: Promise.resolve(),
      options,
      manifestReady: m => manifestReady(m),
      speed: [],
      settle: (error, file) => settle(error, file),
      finished: false,
    }
    let stream: ReadableStream<Uint8Array> | undefined
    if (options.sequential) {
      const queue: Uint8Array[] = []
      const takenBy: (() => void)[] = []
      let wake: (() => void) | undefined
      let ended = false
      let failed: P2PError | undefined
      fetch.streamParts = {
        push: bytes =>
          new Promise<void>(resolve => {
            queue.push(bytes)
            takenBy.push(resolve)
            wake?.()
          }),
        end: () => ((ended = true), wake?.()),
        fail: error => ((failed = error), wake?.()),
      }
      stream = new ReadableStream<Uint8Array>(
        {
          pull: async controller => {
            while (!queue.length && !ended && !failed) await new Promise<void>(resolve => (wake = resolve))
            wake = undefined
            if (failed) return controller.error(failed)
            if (queue.length) {
              controller.enqueue(queue.shift()!)
              takenBy.shift()!()
              return
            }
            controller.close()
          },
          cancel: reason => download.cancel(`the reader cancelled: ${errorMessage(reason)}`),
        },
        {highWaterMark: 0},
      )
    }
    const download: SwarmDownload = {
      hash,
      manifest,
      stream: () => {
        if (!stream) throw invalidConfig('stream() is for sequential fetches: fetchFile(hash, {sequential: true})')
        return stream
      },
      file: () => {
        if (stream) return Promise.reject(invalidConfig('a sequential fetch is read from stream()'))
        return result.then(file => file!)
      },
      sources: () => sourcesOf(fetch),
      cancel: reason =>
        fail(fetch, new P2PError('cancelled', `the download was cancelled: ${reason ?? 'no reason given'}`)),
      done: result.then(() => {}),
      verifiedRanges: () => {
        const out: [number, number][] = []
        const chunk = fetch.manifest?.chunk ?? 0
        const size = fetch.manifest?.size ?? 0
        for (let i = 0; i < fetch.count; i++) {
          if (!fetch.have[i]) continue
          const start = i
          while (i < fetch.count && fetch.have[i]) i++
          out.push([start * chunk, Math.min(size, i * chunk)])
        }
        return out
      },
    }
    download.done.catch(() => {})
    if (options.signal?.aborted) {
      fail(fetch, new P2PError('cancelled', 'the download was cancelled'))
      return download
    }
    options.signal?.addEventListener('abort', () => download.cancel('aborted'), {once: true})
    fetches.set(q, fetch)
    const members = peers()
    const holders = members.filter(id => announced.get(id)?.has(hash) || partials.get(id)?.has(hash))
    const candidates = options.sources ?? (holders.length ? holders : members)
    for (const peerId of new Set(candidates)) {
      const source: Source = {peerId, state: 'asking', bytes: 0, inflight: new Map(), lastHeard: Date.now(), since: 0}
      fetch.sources.set(peerId, source)
      if (!members.includes(peerId)) dropSource(fetch, source, 'unknown-peer', 'not in the room', false)
      else void say(peerId, {t: 'want', q, hash})
    }
    report(fetch)
    queueMicrotask(() => checkSources(fetch))
    return download
  }

  // ---- wiring --------------------------------------------------------------------------

  action.onMessage((value: unknown, peerId: PeerId, meta?: Metadata) => {
    if ((junk.get(peerId)?.total ?? 0) > junkLimit) return
    if (value instanceof ArrayBuffer) {
      const m = (meta ?? {}) as Record<string, unknown>
      if (m.t === 'c') return void onChunk(peerId, m, value)
      if (m.t === 'manifest') return void onManifest(peerId, m, value)
      return orphan(peerId, 'a swarm message of unknown kind')
    }
    if (!value || typeof value !== 'object') return orphan(peerId, 'a malformed swarm message')
    const message = value as Record<string, unknown>
    const q = typeof message.q === 'string' && message.q.length <= 32 ? message.q : undefined
    switch (message.t) {
      case 'have': {
        if (!Array.isArray(message.files)) return orphan(peerId, 'a malformed swarm have')
        const files = new Map<string, {name: string; size: number}>()
        for (const file of message.files.slice(0, maxAnnounced) as Record<string, unknown>[])
          if (isHash(file?.hash) && Number.isSafeInteger(file.size) && (file.size as number) >= 0)
            files.set(file.hash, {name: safeFileName(file.name), size: file.size as number})
        announced.set(peerId, files)
        // A partial source that finished its download serves every chunk now.
        for (const fetch of fetches.values()) {
          const source = fetch.sources.get(peerId)
          if (source?.partial && files.has(fetch.hash)) (source.partial = undefined), pump(fetch)
        }
        return filesChanged()
      }
      case 'part':
        return onPart(peerId, message)
      case 'want':
        return q ? void onWant(peerId, q, message.hash) : orphan(peerId, 'a swarm want without id')
      case 'get':
        return q ? onGet(peerId, q, message.i) : orphan(peerId, 'a swarm get without id')
      case 'stop': {
        const session = q && serving.get(skey(peerId, q))
        if (session) endServing(session)
        return
      }
      case 'no': {
        const fetch = q ? fetches.get(q) : undefined
        const source = fetch?.sources.get(peerId)
        if (!fetch || !source) return orphan(peerId, 'a swarm refusal for no fetch')
        const code = (['declined', 'busy', 'unreadable'] as P2PErrorCode[]).includes(message.code as P2PErrorCode)
          ? (message.code as P2PErrorCode)
          : 'rejected'
        const reason = typeof message.reason === 'string' ? message.reason.slice(0, 200) : 'no reason given'
        return dropSource(fetch, source, code, reason, false)
      }
      default:
        return orphan(peerId, 'a swarm message of unknown kind')
    }
  })

  const idleTimer = setInterval(() => {
    const now = Date.now()
    for (const fetch of [...fetches.values()])
      for (const source of fetch.sources.values())
        if (
          (source.state === 'asking' || (source.state === 'serving' && source.inflight.size)) &&
          now - source.lastHeard > limits.idleMs
        )
          dropSource(fetch, source, 'timeout', `sent nothing for ${limits.idleMs} ms`)
    // A download left with partial sources only, none of which holds a chunk it lacks, for idleMs: no source has them.
    for (const fetch of [...fetches.values()]) {
      if (!fetch.manifest || fetch.finished) continue
      const live = [...fetch.sources.values()].filter(s => s.state === 'serving' || s.state === 'asking')
      const waiting = live.length && live.every(s => s.partial && s.state === 'serving' && !s.inflight.size)
      if (!waiting) fetch.stuckSince = undefined
      else if ((fetch.stuckSince ??= now) && now - fetch.stuckSince > limits.idleMs)
        fail(
          fetch,
          new P2PError(
            'no-sources',
            `no source left holds the ${fetch.count - fetch.verified} chunks of ${fetch.hash} still missing (only members part-way through it remain)`,
          ),
        )
    }
  }, 1000)
  ;(idleTimer as {unref?: () => void}).unref?.()

  return {
    fetchFile,
    /** Serves a Blob to the room's swarm until the room is left (or unseedFile); resolves with its content hash. */
    seedFile: (blob: Blob, options: {name?: string; type?: string} = {}): Promise<string> => {
      if (!isBlob(blob)) return Promise.reject(invalidConfig('seedFile takes a File or a Blob'))
      return hold(blob, options.name, options.type)
    },
    unseedFile: (hash: string) => {
      if (!held.delete(hash)) return
      // (announce() below tells the room and calls onSwarmFiles)
      for (const session of [...serving.values()])
        if (session.held.hash === hash) {
          void say(session.peerId, {t: 'no', q: session.q, code: 'declined', reason: 'the source stopped serving it'})
          endServing(session)
        }
      announce()
    },
    /** Content hashes this member serves, newest last. */
    /** Content hashes this member serves, oldest first. */
    heldFiles: () => [...held.keys()],
    /** Members that announced they serve `hash`. */
    holdersOf: (hash: string) => [...announced].filter(([, files]) => files.has(hash)).map(([id]) => id),
    /** Every file the room's members (this one too) announced, with who serves it. */
    swarmFiles,
    /** Called whenever swarmFiles() changes (latest callback wins). */
    onSwarmFiles: (callback: ((files: SwarmFile[]) => void) | undefined) => void (onFilesChange = callback),
    onServe: (callback: ServeHandler | undefined) => void (serveHandler = callback),
    /** files/index.ts calls this with every File/Blob it sent or assembled whole (if serveTransferred). */
    transferred: (blob: Blob, name: string, type: string, hashes?: TransferHashes) => {
      if (!limits.serveTransferred || closed || seen.has(blob)) return
      seen.add(blob) // a Blob sent to several peers is hashed once
      // The transfer's own chunk hashes when they follow the swarm's chunking; else hash it here.
      const count = Math.ceil(blob.size / chunkSizeFor(blob.size))
      const manifest =
        hashes && hashes.chunk === chunkSizeFor(blob.size) && hashes.digests.length === count
          ? {
              size: blob.size,
              chunk: hashes.chunk,
              whole: hashes.whole,
              digests: fromHex(hashes.digests),
              name: safeFileName(name),
              type: type.slice(0, 255),
            }
          : undefined
      void hold(blob, name, type, manifest).catch(() => {})
    },
    peerJoined: (peerId: PeerId) => held.size && announce(peerId),
    dropPeer: (peerId: PeerId, error: P2PError) => {
      if (announced.delete(peerId)) filesChanged()
      partials.delete(peerId)
      junk.delete(peerId)
      for (const session of [...serving.values()]) if (session.peerId === peerId) endServing(session)
      for (const fetch of [...fetches.values()]) {
        const source = fetch.sources.get(peerId)
        if (source) dropSource(fetch, source, error.code, `left: ${error.message}`, false)
      }
    },
    close: () => {
      closed = true
      clearInterval(idleTimer)
      for (const fetch of [...fetches.values()]) fail(fetch, new P2PError('room-left', 'left the room'))
      for (const session of [...serving.values()]) endServing(session)
      held.clear()
    },
  }
}

export type Swarm = ReturnType<typeof createSwarm>
