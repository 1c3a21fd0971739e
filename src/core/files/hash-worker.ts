/**
 * The whole-file SHA-256 of a transfer, computed in a Worker so it runs beside the wire
 * instead of on the page's main thread (a CPU profile of a 32 MiB transfer showed the JS
 * hash as the largest self time on the receiver and the second on the sender).
 *
 * The Worker is made from a Blob of source text: makeSha256's own text (one implementation,
 * see sha256.ts) plus a small message loop, so there is no separate file to serve. Where a
 * Worker cannot start (Node, a Content-Security-Policy without `worker-src blob:`), the same
 * hash runs on the main thread behind the same interface.
 *
 * The Worker does both hashes: `chunks(bytes, size)` moves (transfers, no copy) a block of
 * chunks to it, which digests each chunk (crypto.subtle) and feeds the whole-file hash, and
 * moves the block back with the chunk hashes. The sender passes each block it read before
 * sending it, the receiver each chunk as it arrives (in order, several in flight), and takes
 * it once it is back. `blob(source, from, to)` feeds the
 * whole hash from a Blob the Worker reads itself (a sender resuming: the bytes the receiver
 * already holds). Requests are handled strictly in order, so the whole hash follows the
 * order of the calls.
 */
import {sha256Wasm} from './sha256-wasm.js'
import {Sha256, type Sha256State, makeSha256} from './sha256.js'

/** A block back from the hasher: its bytes, each chunk's hash, and the whole hash's state after it. */
export type Checked = {bytes: Uint8Array; hashes: string[]; state: Sha256State}

export type WholeHash = {
  /**
   * Hashes each `size`-byte piece of `bytes` (the last may be shorter) and feeds them all to
   * the whole hash. `bytes` is moved to the Worker and back: use the returned view, not the old one.
   * `whole`: the caller owns all of `bytes.buffer` (e.g. a received frame with its header in
   * front), so the buffer moves as it is; otherwise a view into a larger buffer is copied first.
   */
  chunks(bytes: Uint8Array, size: number, whole?: boolean): Promise<Checked>
  /** Feeds bytes [from, to) of a Blob to the whole hash, read by the hasher itself. */
  blob(source: Blob, from: number, to: number): Promise<void>
  /** The state after everything handed over so far (see Sha256.state). */
  state(): Promise<Sha256State>
  /** The digest of everything handed over, as hex; the hash is finished afterwards. */
  hex(): Promise<string>
  /** Stops the Worker (idempotent); pending requests reject. */
  close(): void
}

type Request =
  | {t: 'init'; n: number; state?: Sha256State}
  | {t: 'chunks'; n: number; bytes: Uint8Array; size: number}
  | {t: 'batch'; n: number; items: {bytes: Uint8Array; size: number}[]}
  | {t: 'blob'; n: number; blob: Blob; from: number; to: number}
  | {t: 'state'; n: number}
  | {t: 'hex'; n: number}

type Reply = {n: number; value?: unknown; error?: string}

/**
 * One request's work, the same in the Worker and on the main thread. Self-contained (the
 * Worker runs its source text): it sees only its arguments and globals.
 */
async function hashStep(
  hash: InstanceType<ReturnType<typeof makeSha256>>,
  data: Exclude<Request, {t: 'init'} | {t: 'batch'}>,
): Promise<unknown> {
  const hex = (buffer: ArrayBuffer) => {
    let out = ''
    for (const byte of new Uint8Array(buffer)) out += (byte < 16 ? '0' : '') + byte.toString(16)
    return out
  }
  if (data.t === 'chunks') {
    const {bytes, size} = data
    const hashes: Promise<ArrayBuffer>[] = []
    for (let at = 0; at < bytes.byteLength || (at === 0 && !bytes.byteLength); at += size) {
      const piece = bytes.subarray(at, at + size)
      hashes.push(crypto.subtle.digest('SHA-256', piece as Uint8Array<ArrayBuffer>))
      hash.update(piece)
      if (!bytes.byteLength) break
    }
    return {bytes, hashes: (await Promise.all(hashes)).map(hex), state: hash.state()}
  }
  if (data.t === 'blob') {
    const slice = 4 * 1024 * 1024
    for (let at = data.from; at < data.to; at += slice)
      hash.update(new Uint8Array(await data.blob.slice(at, Math.min(data.to, at + slice)).arrayBuffer()))
    return undefined
  }
  return data.t === 'state' ? hash.state() : hash.hex()
}

/** The Worker's body, run as text. */
function hashWorkerMain(Sha256: ReturnType<typeof makeSha256>, step: typeof hashStep) {
  const scope = self as unknown as {
    onmessage: unknown
    postMessage: (message: Reply, transfer?: Transferable[]) => void
  }
  let hash = new Sha256()
  let queue: Promise<unknown> = Promise.resolve()
  scope.onmessage = ({data}: {data: Request}) => {
    queue = queue.then(async () => {
      try {
        if (data.t === 'init') {
          hash = data.state ? Sha256.fromState(data.state) : new Sha256()
          return scope.postMessage({n: data.n})
        }
        if (data.t === 'batch') {
          // Several \`chunks\` requests in one message (each its own reply), in order.
          const values: {bytes: Uint8Array}[] = []
          for (const item of data.items)
            values.push((await step(hash, {t: 'chunks', n: data.n, ...item})) as {bytes: Uint8Array})
          const moved = [...new Set(values.map(value => value.bytes.buffer as ArrayBuffer))]
          return scope.postMessage({n: data.n, value: values}, moved)
        }
        const value = await step(hash, data)
        const moved = (value as {bytes?: Uint8Array} | undefined)?.bytes?.buffer
        scope.postMessage({n: data.n, value}, moved ? [moved as ArrayBuffer] : [])
      } catch (error) {
        scope.postMessage({n: data.n, error: String(error)})
      }
    })
  }
}

/** Batches of \`chunks\` requests out at the Worker at once; later ones wait and go together. */
const maxBatchesOut = 2

let workerUrl: string | undefined
let workerFails = false
const startWorker = (): Worker | undefined => {
  if (workerFails) return undefined
  try {
    if (typeof Worker !== 'function' || typeof URL.createObjectURL !== 'function') return undefined
    workerUrl ??= URL.createObjectURL(
      new Blob(
        [
          `(${hashWorkerMain.toString()})((${makeSha256.toString()})(${JSON.stringify(sha256Wasm)}), ${hashStep.toString()})`,
        ],
        {
          type: 'text/javascript',
        },
      ),
    )
    return new Worker(workerUrl)
  } catch {
    workerFails = true
    return undefined
  }
}

/** The same work on the main thread, where no Worker starts. */
const inThread = (state?: Sha256State): WholeHash => {
  // The module's class: its WebAssembly is compiled once, and serves every hash in turn.
  const hash = state ? Sha256.fromState(state) : new Sha256()
  let queue: Promise<unknown> = Promise.resolve()
  const run = <T>(data: Exclude<Request, {t: 'init'} | {t: 'batch'}>) => {
    const next = queue.then(() => hashStep(hash, data)) as Promise<T>
    queue = next.catch(() => {})
    return next
  }
  return {
    chunks: (bytes, size) => run({t: 'chunks', n: 0, bytes, size}),
    blob: (blob, from, to) => run({t: 'blob', n: 0, blob, from, to}),
    state: () => run({t: 'state', n: 0}),
    hex: () => run({t: 'hex', n: 0}),
    close: () => {},
  }
}

/** A whole-file hash (and per-chunk hashes), in a Worker where one starts, optionally resumed. */
export const wholeHash = (state?: Sha256State): WholeHash => {
  const worker = startWorker()
  if (!worker) return inThread(state)
  const replies = new Map<number, {resolve: (value: never) => void; reject: (error: Error) => void}>()
  let next = 0
  let closed: Error | undefined
  const fail = (error: Error) => {
    closed ??= error
    for (const reply of replies.values()) reply.reject(error)
    replies.clear()
  }
  worker.onmessage = ({data}: {data: Reply}) => {
    const reply = replies.get(data.n)
    replies.delete(data.n)
    if (data.error !== undefined) reply?.reject(new Error(data.error))
    else reply?.resolve(data.value as never)
  }
  worker.onerror = event => {
    event.preventDefault()
    fail(new Error(`the hashing worker failed: ${event.message}`))
    worker.terminate()
  }
  const ask = <T>(message: Request, transfer: Transferable[] = []) =>
    new Promise<T>((resolve, reject) => {
      if (closed) return reject(closed)
      replies.set(message.n, {resolve: resolve as (value: never) => void, reject})
      worker.postMessage(message, transfer)
    })
  void ask({t: 'init', n: next++, state}).catch(() => {})
  // A message to the Worker costs about as much as hashing a chunk on a busy machine, so
  // `chunks` requests made while `maxBatchesOut` batches are out wait and go together in one.
  type Pending = {bytes: Uint8Array; size: number; resolve: (value: Checked) => void; reject: (error: Error) => void}
  let waiting: Pending[] = []
  let out = 0
  const post = (force = false) => {
    if (!waiting.length || (out >= maxBatchesOut && !force)) return
    const items = waiting
    waiting = []
    out++
    const buffers = [...new Set(items.map(item => item.bytes.buffer as ArrayBuffer))]
    ask<Checked[]>({t: 'batch', n: next++, items: items.map(({bytes, size}) => ({bytes, size}))}, buffers).then(
      values => {
        out--
        for (const [k, item] of items.entries()) item.resolve(values[k]!)
        post()
      },
      error => {
        out--
        for (const item of items) item.reject(error)
        post()
      },
    )
  }
  /** Any other request goes after the chunks asked for before it (the whole hash follows call order). */
  const inOrder = <T>(message: Request) => {
    post(true)
    return ask<T>(message)
  }
  return {
    chunks: (bytes, size, whole) => {
      // Only a buffer the caller owns moves: a view into a larger one is copied out first.
      const own =
        whole || (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) ? bytes : bytes.slice()
      return new Promise<Checked>((resolve, reject) => {
        if (closed) return reject(closed)
        waiting.push({bytes: own, size, resolve, reject})
        post()
      })
    },
    blob: (blob, from, to) => inOrder({t: 'blob', n: next++, blob, from, to}),
    state: () => inOrder({t: 'state', n: next++}),
    hex: () => inOrder({t: 'hex', n: next++}),
    close: () => {
      if (closed) return
      fail(new Error('the hash was closed'))
      for (const item of waiting.splice(0)) item.reject(closed!)
      worker.terminate()
    },
  }
}
