/**
 * Request/response actions: `makeAction(id, {kind: 'request'})` gives `request(data, peerId)`,
 * which resolves with what the peer's `onRequest` handler returns, and `requestMany`.
 *
 * On the wire they are ordinary action messages (framed, chunked, acknowledged and size
 * capped like any other) on two library actions, so binary data and metadata work as for
 * `send`, and a request action never meets a message action of the same name:
 *
 *   \0request  data: the request's payload   metadata {a: action id, r: request id (u32), m?: app metadata}
 *              a cancel (the asker stopped waiting): data undefined, metadata {a, r, x: 1}
 *   \0reply    data: the reply's payload     metadata {r, e?: error message, c?: 'busy' | 'no-handler'}
 *
 * Request ids are a per-room counter. A reply is taken only from the peer that was asked, only
 * while its request is pending, and only once: anything else (unknown ids, another peer's
 * replies, duplicates, metadata that does not parse) is dropped without a trace. Each peer
 * may have at most `maxIncomingRequests` of its requests pending here (running, or waiting
 * for a handler) at once; beyond that it is told we are busy (code 'rejected') at once.
 */
import {checkActionId} from './actions.js'
import {callSafely} from './call.js'
import {P2PError, errorMessage, invalidConfig} from './errors.js'
import type {
  Action,
  DataPayload,
  Metadata,
  PeerId,
  PeerResult,
  ProgressCallback,
  RequestAction,
  RequestActionConfig,
  RequestHandler,
  RequestManyOptions,
  RequestOptions,
  TargetPeers,
} from './types.js'

/** The library actions requests and replies travel on; room.makeAction keeps NUL ids for the library. */
export const requestActionId = '\u0000request'
export const replyActionId = '\u0000reply'

/** Requests of one peer that may be pending here at once: enough for any app's fan-out, not a flood of handlers. */
export const maxIncomingRequests = 32
/** How long a request for an action with no handler (yet) waits for one before the asker is told there is none. */
export const handlerWaitMs = 1_000
/** How long a request waits for its reply once the peer holds it, unless `timeoutMs` says otherwise. */
export const defaultRequestTimeoutMs = 30_000
/** Characters of a remote error message kept: the peer's text is shown, never trusted. */
export const maxRemoteMessageChars = 1_024

export type RequestMeta = {a: string; r: number; m?: Metadata; x?: 1}
export type ReplyMeta = {r: number; e?: string; c?: 'busy' | 'no-handler'}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const isRequestId = (value: unknown): value is number =>
  Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 0xffff_ffff
const validActionId = (value: unknown): value is string => {
  try {
    checkActionId(value)
    return true
  } catch {
    return false
  }
}

/** A request's metadata as a peer sent it, or undefined when it is not one. */
export const parseRequestMeta = (meta: unknown): RequestMeta | undefined => {
  if (!isRecord(meta) || !isRequestId(meta.r) || !validActionId(meta.a)) return undefined
  if (meta.x !== undefined && meta.x !== 1) return undefined
  return {a: meta.a, r: meta.r, ...(meta.x === 1 ? {x: 1} : {}), ...('m' in meta ? {m: meta.m} : {})}
}

/** A reply's metadata as a peer sent it, or undefined when it is not one. */
export const parseReplyMeta = (meta: unknown): ReplyMeta | undefined => {
  if (!isRecord(meta) || !isRequestId(meta.r)) return undefined
  if (meta.e !== undefined && typeof meta.e !== 'string') return undefined
  if (meta.c !== undefined && meta.c !== 'busy' && meta.c !== 'no-handler') return undefined
  if (meta.c !== undefined && meta.e === undefined) return undefined
  return {
    r: meta.r,
    ...(meta.e === undefined ? {} : {e: meta.e.slice(0, maxRemoteMessageChars)}),
    ...(meta.c ? {c: meta.c} : {}),
  }
}

/** The error a requester sees for an error reply. */
export const replyError = (reply: ReplyMeta & {e: string}, peerId: PeerId): P2PError =>
  new P2PError(reply.c === 'busy' ? 'rejected' : 'remote-error', reply.e, peerId)

/** A requestMany status for an error: Trystero 0.25's four. */
export const statusOf = (error: P2PError): Exclude<PeerResult['status'], 'fulfilled'> =>
  error.code === 'timeout'
    ? 'timeout'
    : error.code === 'peer-left' || error.code === 'room-left' || error.code === 'unknown-peer'
      ? 'disconnected'
      : 'rejected'

/** The timeout a request uses, or a config error for one that is not a duration. */
export const timeoutOf = (timeoutMs: unknown): number => {
  if (timeoutMs === undefined) return defaultRequestTimeoutMs
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0)
    throw invalidConfig(`timeoutMs must be a number of milliseconds >= 0 (or Infinity), not ${String(timeoutMs)}`)
  return timeoutMs
}

/** A local failure that is not a P2PError (metadata JSON.stringify cannot encode) is the caller's argument. */
const asP2PError = (error: unknown): P2PError =>
  error instanceof P2PError ? error : invalidConfig(`request: ${errorMessage(error)}`)

// biome-ignore lint/suspicious/noExplicitAny: the library actions carry payloads of every type
type AnyAction = Action<any>

export type RequestHooks = {
  /** The library action requests travel on (made by the room before any user action). */
  requests: AnyAction
  /** The one replies travel on. */
  replies: AnyAction
  /** Joined peers, for a requestMany without targets. */
  peerIds: () => PeerId[]
  /** This room's id, for messages. */
  roomId: string
}

type Pending = {peerId: PeerId; settle: (error?: P2PError, value?: unknown) => void}
type Job = {
  actionId: string
  data: unknown
  meta: Metadata
  controller: AbortController
  timer?: ReturnType<typeof setTimeout>
  running: boolean
}
type Entry = {
  id: string
  action: RequestAction
  handler?: RequestHandler
  onProgress?: ProgressCallback
}

export const createRequests = ({requests, replies, peerIds, roomId}: RequestHooks) => {
  let lastId = 0
  const pending = new Map<number, Pending>()
  /** Requests peers asked of us, by peer and request id. */
  const incoming = new Map<PeerId, Map<number, Job>>()
  const entries = new Map<string, Entry>()
  /** Action ids made as message actions: an id has one kind. */
  const messageIds = new Set<string>()

  const noop = () => {}
  const reply = (peerId: PeerId, r: number, data: unknown, error?: {e: string; c?: ReplyMeta['c']}) =>
    replies.send(data as DataPayload, peerId, {r, ...error})

  const finish = (peerId: PeerId, r: number, job: Job, error?: {e: string; c?: ReplyMeta['c']}, value?: unknown) => {
    const jobs = incoming.get(peerId)
    if (jobs?.get(r) !== job) return // the peer left meanwhile
    jobs.delete(r)
    clearTimeout(job.timer)
    if (job.controller.signal.aborted) return // the asker stopped waiting
    reply(peerId, r, error ? undefined : value, error).catch((failure: unknown) => {
      // A reply that could not go (not encodable, refused as too large): the asker still hears why.
      const gone = failure instanceof P2PError && (failure.code === 'peer-left' || failure.code === 'room-left')
      if (!error && !gone)
        reply(peerId, r, undefined, {
          e: `the reply could not be sent: ${errorMessage(failure)}`.slice(0, maxRemoteMessageChars),
        }).catch(noop)
    })
  }

  const run = (peerId: PeerId, r: number, job: Job, handler: RequestHandler) => {
    clearTimeout(job.timer)
    job.running = true
    const context = {peerId, metadata: job.meta, signal: job.controller.signal}
    Promise.resolve()
      .then(() => handler(job.data as never, peerId, job.meta, context))
      .then(
        value => finish(peerId, r, job, undefined, value),
        (error: unknown) => finish(peerId, r, job, {e: errorMessage(error).slice(0, maxRemoteMessageChars)}),
      )
  }

  /** Runs the requests that waited for this action's handler. */
  const runWaiting = (actionId: string, handler: RequestHandler) => {
    for (const [peerId, jobs] of incoming)
      for (const [r, job] of jobs) if (job.actionId === actionId && !job.running) run(peerId, r, job, handler)
  }

  requests.onMessage((data: unknown, peerId: PeerId, meta: Metadata) => {
    const request = parseRequestMeta(meta)
    if (!request) return
    let jobs = incoming.get(peerId)
    if (request.x) {
      const job = jobs?.get(request.r)
      job?.controller.abort()
      // One still waiting for a handler goes at once; a running one keeps its slot until it settles.
      if (job && !job.running) clearTimeout(job.timer), jobs!.delete(request.r)
      return
    }
    if (jobs?.has(request.r)) return // a duplicate of one still pending
    if (!jobs) incoming.set(peerId, (jobs = new Map()))
    if (jobs.size >= maxIncomingRequests) {
      reply(peerId, request.r, undefined, {
        e: `peer is busy: ${maxIncomingRequests} requests from you are already pending there; retry when one is answered`,
        c: 'busy',
      }).catch(noop)
      return
    }
    const job: Job = {actionId: request.a, data, meta: request.m, controller: new AbortController(), running: false}
    jobs.set(request.r, job)
    const handler = entries.get(request.a)?.handler
    if (handler) return run(peerId, request.r, job, handler)
    job.timer = setTimeout(
      () =>
        finish(peerId, request.r, job, {
          e: `no handler for request action "${request.a.slice(0, 64)}" on that peer (it has not called onRequest for it)`,
          c: 'no-handler',
        }),
      handlerWaitMs,
    )
  })

  requests.onReceiveProgress((fraction: number, peerId: PeerId, meta: Metadata) => {
    const request = parseRequestMeta(meta)
    const onProgress = request && !request.x ? entries.get(request.a)?.onProgress : undefined
    if (onProgress) callSafely(() => onProgress(fraction, peerId, request!.m))
  })

  replies.onMessage((data: unknown, peerId: PeerId, meta: Metadata) => {
    const parsed = parseReplyMeta(meta)
    const waiting = parsed && pending.get(parsed.r)
    if (!parsed || !waiting || waiting.peerId !== peerId) return
    if (parsed.e === undefined) waiting.settle(undefined, data)
    else waiting.settle(replyError(parsed as ReplyMeta & {e: string}, peerId))
  })

  const ask = (actionId: string, data: DataPayload, peerId: PeerId, options: RequestOptions = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const {signal, metadata, onProgress} = options
      const timeoutMs = timeoutOf(options.timeoutMs)
      if (typeof peerId !== 'string')
        throw invalidConfig(`request "${actionId}" needs the peer id to ask, e.g. request(data, peerId)`)
      const aborted = () =>
        new P2PError('aborted', `request "${actionId}" to peer ${peerId} was aborted before its reply`, peerId)
      if (signal?.aborted) return reject(aborted())
      const r = (lastId = (lastId + 1) >>> 0)
      let timer: ReturnType<typeof setTimeout> | undefined
      const cancel = () => requests.send(undefined, peerId, {a: actionId, r, x: 1}).catch(noop)
      const onAbort = () => (cancel(), settle(aborted()))
      const settle = (error?: P2PError, value?: unknown) => {
        if (pending.get(r)?.settle !== settle) return
        pending.delete(r)
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        if (error) reject(error)
        else resolve(value)
      }
      pending.set(r, {peerId, settle})
      signal?.addEventListener('abort', onAbort, {once: true})
      const meta: RequestMeta = metadata === undefined ? {a: actionId, r} : {a: actionId, r, m: metadata}
      requests.send(data, peerId, meta, onProgress).then(
        () => {
          if (!pending.has(r) || timeoutMs === Number.POSITIVE_INFINITY) return
          timer = setTimeout(() => {
            cancel()
            settle(
              new P2PError(
                'timeout',
                `peer ${peerId} did not answer request "${actionId}" within ${timeoutMs} ms`,
                peerId,
              ),
            )
          }, timeoutMs)
        },
        (error: unknown) => settle(asP2PError(error)),
      )
    })

  const askMany = async (
    actionId: string,
    data: DataPayload,
    targets: TargetPeers,
    options: RequestManyOptions = {},
  ): Promise<PeerResult[]> => {
    timeoutOf(options.timeoutMs)
    if (options.signal?.aborted)
      throw new P2PError('aborted', `requestMany "${actionId}" was aborted before it was sent`)
    const ids = targets == null ? peerIds() : typeof targets === 'string' ? [targets] : [...new Set(targets)]
    return Promise.all(
      ids.map(async (peerId): Promise<PeerResult> => {
        let result: PeerResult
        try {
          result = {peerId, status: 'fulfilled', value: await ask(actionId, data, peerId, options)}
        } catch (failure) {
          const error = asP2PError(failure)
          if (error.code === 'aborted' || error.code === 'invalid-config') throw error
          result = {peerId, status: statusOf(error), error}
        }
        const {onResult} = options
        if (onResult) callSafely(() => onResult(result))
        return result
      }),
    )
  }

  const makeRequestAction = (actionId: string, config: RequestActionConfig): RequestAction => {
    checkActionId(actionId)
    if (messageIds.has(actionId))
      throw new P2PError(
        'action-id',
        `action "${actionId}" is already a message action in room "${roomId}"; an id has one kind: use another id for requests`,
      )
    const existing = entries.get(actionId)
    if (existing) {
      if (config.onRequest) setHandler(existing, config.onRequest)
      if (config.onReceiveProgress) existing.onProgress = config.onReceiveProgress
      return existing.action
    }
    const entry = {id: actionId, onProgress: config.onReceiveProgress} as Entry
    const request = (data: DataPayload, target: unknown, options?: RequestOptions) => {
      if (isRecord(target)) {
        const {target: peerId, ...rest} = target as RequestOptions & {target: PeerId}
        return ask(actionId, data, peerId, rest)
      }
      return ask(actionId, data, target as PeerId, options)
    }
    const requestMany = async (data: DataPayload, targets?: unknown, options?: RequestManyOptions) => {
      if (isRecord(targets)) {
        const {targets: ids, ...rest} = targets as RequestManyOptions & {targets?: readonly PeerId[]}
        return askMany(actionId, data, ids, rest)
      }
      const results = await askMany(actionId, data, targets as TargetPeers, options)
      return new Map(results.map(result => [result.peerId, result]))
    }
    const onRequest = (handler: RequestHandler | null | undefined) => setHandler(entry, handler)
    const onReceiveProgress = (callback: ProgressCallback) => void (entry.onProgress = callback)
    const action = [request, onRequest, onReceiveProgress]
    Object.defineProperties(action, {
      request: {value: request},
      requestMany: {value: requestMany},
      onReceiveProgress: {value: onReceiveProgress},
      onRequest: {get: () => onRequest, set: onRequest},
    })
    entry.action = action as unknown as RequestAction
    entries.set(actionId, entry)
    if (config.onRequest) setHandler(entry, config.onRequest)
    return entry.action
  }

  const setHandler = (entry: Entry, handler: RequestHandler | null | undefined) => {
    if (handler != null && typeof handler !== 'function')
      throw invalidConfig(
        'onRequest needs a function (data, peerId, metadata, {signal}) => reply, or null to remove it',
      )
    entry.handler = handler ?? undefined
    if (entry.handler) runWaiting(entry.id, entry.handler)
  }

  return {
    makeRequestAction,

    /** A message action is being made: its id may not be a request action's. */
    claimMessageId(actionId: string) {
      if (entries.has(actionId))
        throw new P2PError(
          'action-id',
          `action "${actionId}" is already a request action in room "${roomId}"; pass {kind: 'request'} to get it again`,
        )
      messageIds.add(actionId)
    },

    /** A peer left (or we did): its pending requests reject with `error`, its requests to us stop. */
    dropPeer(peerId: PeerId, error: P2PError) {
      for (const waiting of [...pending.values()]) if (waiting.peerId === peerId) waiting.settle(error)
      const jobs = incoming.get(peerId)
      incoming.delete(peerId)
      for (const job of jobs?.values() ?? []) {
        clearTimeout(job.timer)
        job.controller.abort()
      }
    },

    /** Requests pending in each direction, for tests and diagnostics. */
    counts: () => ({
      outgoing: pending.size,
      incoming: [...incoming.values()].reduce((sum, jobs) => sum + jobs.size, 0),
    }),
  }
}
