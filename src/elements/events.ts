/**
 * The `detail` of every event the elements fire, in one place, and the global event-map
 * augmentation that makes `el.addEventListener('p2p-data', e => e.detail.peerId)` type-check.
 * Every event is a `CustomEvent` that bubbles and crosses shadow roots (`composed`).
 */
import {errorMessage} from '../core/errors.js'
import type {JoinError, Metadata, PeerId, Presence, Room} from '../core/types.js'
import type {PeerLabel} from './format.js'

export type {PeerLabel} from './format.js'
import type {EventName} from './names.js'

export type JoinDetail = {appId: string; roomId: string; strategy: string; selfId: PeerId; room: Room}
export type LeaveDetail = {appId: string; roomId: string; strategy: string}
/** `from` is the peer as the elements show it (name, colour, "(you)"); see `P2PRoom.describe`. */
export type PeerDetail = {peerId: PeerId; from: PeerLabel}
export type StreamDetail = {stream: MediaStream; peerId: PeerId; metadata?: Metadata}
export type TrackDetail = {track: MediaStreamTrack; stream: MediaStream; peerId: PeerId; metadata?: Metadata}
export type JoinErrorDetail = JoinError
/** `code` is the P2PError code when there is one ('strategy', 'too-large', 'peer-left', ...). */
export type ErrorDetail = {error: Error; message: string; code?: string; peerId?: PeerId}
export type DataDetail<T = unknown> = {data: T; peerId: PeerId; metadata?: Metadata; from: PeerLabel}
export type ProgressDetail = {
  fraction: number
  peerId: PeerId
  metadata?: Metadata
  direction: 'send' | 'receive'
  from: PeerLabel
}
/** A peer's presence (or this page's own, `from.self`): what it said, and how it is shown now. */
export type PresenceDetail = {peerId: PeerId; presence: Presence; previous?: Presence; from: PeerLabel}
/** What a file transfer carries besides its bytes. */
export type FileMeta = {id: string; name: string; type: string; size: number; lastModified: number}
export type FileProgressDetail = {
  file: FileMeta
  peerId: PeerId
  fraction: number
  direction: 'send' | 'receive'
  /** Bytes the receiver verified and acknowledged. */
  bytes?: number
  bytesPerSecond?: number
  secondsLeft?: number
}
export type FileReceivedDetail = {file: File; peerId: PeerId}
export type FileErrorDetail = {file?: FileMeta; peerId?: PeerId; error: Error; message: string; code?: string}
export type MediaErrorDetail = {error: Error; message: string; name: string}

export type P2PEventMap = {
  'p2p-join': CustomEvent<JoinDetail>
  'p2p-leave': CustomEvent<LeaveDetail>
  'p2p-peer-join': CustomEvent<PeerDetail>
  'p2p-peer-leave': CustomEvent<PeerDetail>
  'p2p-stream': CustomEvent<StreamDetail>
  'p2p-track': CustomEvent<TrackDetail>
  'p2p-join-error': CustomEvent<JoinErrorDetail>
  'p2p-error': CustomEvent<ErrorDetail>
  'p2p-data': CustomEvent<DataDetail>
  'p2p-progress': CustomEvent<ProgressDetail>
  'p2p-file-progress': CustomEvent<FileProgressDetail>
  'p2p-file-received': CustomEvent<FileReceivedDetail>
  'p2p-file-error': CustomEvent<FileErrorDetail>
  'p2p-media-error': CustomEvent<MediaErrorDetail>
  'p2p-presence': CustomEvent<PresenceDetail>
}

// Every event name in names.ts has a detail type here, and nothing else does.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never
const everyEventTyped: Same<keyof P2PEventMap, EventName> = true
void everyEventTyped

/** Dispatches a typed p2p event that bubbles out of shadow roots; returns the event. */
export const fire = <K extends keyof P2PEventMap>(
  target: EventTarget,
  name: K,
  detail: P2PEventMap[K] extends CustomEvent<infer D> ? D : never,
) => {
  const event = new CustomEvent(name, {detail, bubbles: true, composed: true})
  target.dispatchEvent(event)
  return event
}

/** The error detail for anything thrown: P2PErrors keep their code and peer. */
export const errorDetail = (error: unknown): ErrorDetail => {
  const err = error instanceof Error ? error : new Error(errorMessage(error))
  const {code, peerId} = err as Error & {code?: unknown; peerId?: unknown}
  return {
    error: err,
    message: err.message,
    ...(typeof code === 'string' ? {code} : {}),
    ...(typeof peerId === 'string' ? {peerId} : {}),
  }
}

declare global {
  interface GlobalEventHandlersEventMap extends P2PEventMap {}
}
