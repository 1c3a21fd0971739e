import type {Strategy} from '../strategy.js'
import type {SeedDriver} from './bus.js'

/** Arbitrary JSON state a broadcaster shares with its viewers (e.g. `{audio: true, video: false}`). */
export type BroadcastState = Record<string, unknown>

/** Options both sides take. Either `driver` (a seed-style driver) or `strategy` (one of ours). */
export type CommonOptions = {
  /** A signaling driver with on(namespace[], handler), off(namespace[], handler), emit(namespace[], message), as in the `p2p` library. */
  driver?: SeedDriver
  /** Or one of our strategies (`import {strategy} from 'p2p-elements/mqtt'`); see `createBroadcast`. */
  strategy?: Strategy
  /** Strategy config: relayUrls, supabaseKey, a firebase app, `driver` for the driver strategy, ... */
  config?: Record<string, unknown>
  /** Seals signaling together with the room name; default 'p2p-elements-broadcast'. */
  appId?: string
  /** Shared secret sealing signaling; peers with another password never connect. */
  password?: string
  /** RTCPeerConnection `iceServers` (default: public STUN servers). */
  iceServers?: RTCIceServer[]
  /** Seconds to wait for a peer connection to open (30 by default). */
  connectionTimeout?: number
  /** An RTCPeerConnection-compatible constructor (Node: node-datachannel/polyfill). */
  rtcPolyfill?: typeof RTCPeerConnection
}

export type SenderOptions = CommonOptions & {
  /** Decides who may watch, before any media flows: `true` accepts, `false` refuses. */
  verify?: (id: string, credentials: unknown) => boolean | Promise<boolean>
  /** Messages kept while no channel is open (10 by default); the oldest go first. */
  queueSize?: number
  /** Target audio bitrate, kbps. */
  audioBitrate?: number
  /** Target video bitrate, kbps. */
  videoBitrate?: number
  /** Preferred codecs by mime type, e.g. ['video/VP8']: a hint, applied where supported. */
  codecs?: string[]
  /**
   * Viewer relay tree: each viewer forwards the stream to at most this many others, so the
   * sender uploads at most `fanout` copies. Unset: a star, every viewer served directly.
   */
  fanout?: number
}

export type ReceiverOptions = CommonOptions & {
  /** Seconds between pings (invites to senders) while no sender is connected (30 by default). */
  pingInterval?: number
  /** Pings sent after the last sender is gone, before giving up (10 by default). */
  pingAttempts?: number
}

export type SenderStartOptions = {
  stream?: MediaStream
  /** 'default' if omitted. */
  room?: string
  state?: BroadcastState
  /** Per-viewer data channels (also when there is no stream). */
  dataChannel?: boolean
}

export type ReceiverStartOptions = {
  /** 'default' if omitted. */
  room?: string
  /** Passed to the sender's `verify`. */
  credentials?: unknown
}

/** `id` is always the broadcaster's; `from` the node that feeds this viewer (a relaying viewer in a tree). */
export type SenderEventMap = {
  connect: {id: string; peer: RTCPeerConnection}
  dispose: {id: string; peer: RTCPeerConnection; error?: Error}
  error: {id: string; error: Error}
  /** Extension: the number of viewers changed (the whole tree's with `fanout`). */
  viewers: {count: number; ids: string[]}
}

export type ReceiverEventMap = {
  stream: {id: string; stream: MediaStream; state: BroadcastState; from: string}
  message: {id: string; message: unknown; state: BroadcastState}
  channel: {id: string; channel: RTCDataChannel; state: BroadcastState}
  sync: {id: string; state: BroadcastState}
  connect: {id: string; peer: RTCPeerConnection; state: BroadcastState; from: string}
  dispose: {id: string; peer: RTCPeerConnection; state: BroadcastState; error?: Error}
  error: {id: string; error: Error}
}

type Listener<M, K extends keyof M> = (event: CustomEvent<M[K]>) => void

/** EventTarget with typed CustomEvents: `sender.addEventListener('connect', e => e.detail.id)`. */
export interface TypedEvents<M> {
  addEventListener<K extends keyof M & string>(
    type: K,
    listener: Listener<M, K> | null,
    options?: boolean | AddEventListenerOptions,
  ): void
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void
  removeEventListener<K extends keyof M & string>(
    type: K,
    listener: Listener<M, K> | null,
    options?: boolean | EventListenerOptions,
  ): void
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void
}

/** EventTarget, typed by an event map; the base of Sender and Receiver. */
export const TypedEventTarget = EventTarget as unknown as new <M>() => Omit<
  EventTarget,
  'addEventListener' | 'removeEventListener'
> &
  TypedEvents<M>
