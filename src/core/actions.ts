import {callSafely} from './call.js'
import {P2PError} from './errors.js'
import {encodeValue} from './codec.js'
import {maxActionIdBytes, maxTotalBytes} from './frame.js'
import type {Peer} from './peer.js'
import type {Transfers} from './transfers.js'
import type {Action, DataPayload, Metadata, PeerId, ProgressCallback, TargetPeers} from './types.js'

/** Messages kept for an action nobody listens to yet, so a receiver registered a moment late still gets them. */
const backlogLimit = 100
/** Bytes (of binary and text values) those held messages may take per action; the oldest go first. */
export const backlogByteLimit = 16 * 1024 * 1024
const sizeOf = (value: unknown) =>
  value instanceof ArrayBuffer ? value.byteLength : typeof value === 'string' ? value.length * 2 : 64
/** Action ids a peer may make us hold messages for before anyone asked for them. */
const unknownActionLimit = 64

// biome-ignore lint/suspicious/noExplicitAny: one registry holds actions of every payload type
type Receiver = (data: any, peerId: PeerId, metadata?: Metadata) => void
type Entry = {
  // biome-ignore lint/suspicious/noExplicitAny: as above
  action: Action<any>
  onMessage?: Receiver
  onProgress?: ProgressCallback
  backlog: [unknown, PeerId, Metadata][]
  backlogBytes: number
}

const utf8 = new TextEncoder()

/** Throws an 'action-id' P2PError for an id the wire cannot carry. */
export const checkActionId = (actionId: unknown): void => {
  if (typeof actionId !== 'string' || !actionId)
    throw new P2PError('action-id', 'makeAction needs a non-empty string id, e.g. makeAction("chat")')
  const bytes = utf8.encode(actionId).byteLength
  if (bytes > maxActionIdBytes)
    throw new P2PError(
      'action-id',
      `action id "${actionId.slice(0, 32)}…" is ${bytes} bytes in UTF-8; the wire carries at most ${maxActionIdBytes}: use a shorter id`,
    )
}

export const createActions = (
  transfers: Transfers,
  resolveTargets: (targets: TargetPeers) => Peer[],
  /** A send to everyone another way (past a full mesh: the overlay's flood); undefined to send to each peer. */
  broadcast?: (actionId: string, kind: number, bytes: Uint8Array, meta: Metadata) => Promise<void> | undefined,
) => {
  const entries = new Map<string, Entry>()

  const entryFor = (actionId: string): Entry => {
    const existing = entries.get(actionId)
    if (existing) return existing
    const entry = {backlog: [], backlogBytes: 0} as unknown as Entry

    const send = async (
      data: DataPayload,
      targets?: TargetPeers,
      meta?: Metadata,
      onProgress?: (fraction: number, peerId: PeerId) => void,
    ) => {
      const peers = resolveTargets(targets)
      const {kind, bytes} = await encodeValue(data)
      if (bytes.byteLength > maxTotalBytes)
        throw new P2PError(
          'too-large',
          `action "${actionId}": ${bytes.byteLength} bytes is over the 4 GiB a message can carry`,
        )
      const flooded = targets == null ? broadcast?.(actionId, kind, bytes, meta) : undefined
      if (flooded) return flooded
      await Promise.all(peers.map(peer => transfers.send(peer, actionId, kind, bytes, meta, onProgress)))
    }
    const onMessage = (callback: Receiver) => {
      entry.onMessage = callback
      const backlog = entry.backlog.splice(0)
      entry.backlogBytes = 0
      for (const [data, peerId, meta] of backlog) callSafely(() => callback(data, peerId, meta))
    }
    const onReceiveProgress = (callback: ProgressCallback) => {
      entry.onProgress = callback
    }
    entry.action = Object.assign([send, onMessage, onReceiveProgress], {send, onMessage, onReceiveProgress}) as Action
    entries.set(actionId, entry)
    return entry
  }

  return {
    makeAction<T extends DataPayload>(actionId: string): Action<T> {
      checkActionId(actionId)
      return entryFor(actionId).action as Action<T>
    },

    deliver(peerId: PeerId, actionId: string, value: unknown, meta: Metadata) {
      if (!entries.has(actionId) && entries.size >= unknownActionLimit) return
      const entry = entryFor(actionId)
      if (entry.onMessage) return callSafely(() => entry.onMessage!(value, peerId, meta))
      entry.backlog.push([value, peerId, meta])
      entry.backlogBytes += sizeOf(value)
      while (entry.backlog.length > backlogLimit || (entry.backlogBytes > backlogByteLimit && entry.backlog.length > 1))
        entry.backlogBytes -= sizeOf(entry.backlog.shift()![0])
    },

    progress(peerId: PeerId, actionId: string, fraction: number, meta: Metadata) {
      const onProgress = entries.get(actionId)?.onProgress
      if (onProgress) callSafely(() => onProgress(fraction, peerId, meta))
    },
  }
}
