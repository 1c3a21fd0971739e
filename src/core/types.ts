import type {P2PError, P2PErrorCode} from './errors.js'
import type {Presence} from './presence.js'
import type {FileHandler, FileLimits, SendFileOptions} from './files/index.js'
import type {Swarm, SwarmLimits} from './files/swarm.js'

export type {Presence} from './presence.js'
import type {Identity} from './identity.js'

export type {Identity, IdentityAlgorithm, IdentityJSON} from './identity.js'
import type {MediaChannel} from './stream-kinds.js'
import type {DebugOption} from './debug.js'
import type {GetPeerStats} from './stats.js'

export type PeerId = string

/** One peer id, several, or `null`/`undefined` for every peer in the room. */
export type TargetPeers = PeerId | readonly PeerId[] | null | undefined

/** Anything JSON can carry: sent alongside data and media so receivers know what it is. */
export type Metadata = unknown

/** What an action can send. Binary (`ArrayBuffer`, any `ArrayBufferView`, `Blob`) arrives as `ArrayBuffer`. */
export type DataPayload =
  | string
  | number
  | boolean
  | null
  | undefined
  | ArrayBuffer
  | ArrayBufferView
  | Blob
  | readonly unknown[]
  | {[key: string]: unknown}

/** The receiving side's view of a sent type: binary always arrives as an `ArrayBuffer`. */
export type Received<T> = T extends ArrayBuffer | ArrayBufferView | Blob ? ArrayBuffer : T

export type ProgressCallback = (fraction: number, peerId: PeerId, metadata?: Metadata) => void

export type ActionSender<T extends DataPayload = DataPayload> = (
  data: T,
  targetPeers?: TargetPeers,
  metadata?: Metadata,
  onProgress?: (fraction: number, peerId: PeerId) => void,
) => Promise<void>

export type ActionReceiver<T extends DataPayload = DataPayload> = (
  callback: (data: Received<T>, peerId: PeerId, metadata?: Metadata) => void,
) => void

export type ActionProgress = (callback: ProgressCallback) => void

/**
 * `[send, onReceive, onProgress]`, also reachable by name (`send`, `onMessage`,
 * `onReceiveProgress`) for code written against newer Trystero releases.
 */
export type Action<T extends DataPayload = DataPayload> = [ActionSender<T>, ActionReceiver<T>, ActionProgress] & {
  send: ActionSender<T>
  onMessage: ActionReceiver<T>
  onReceiveProgress: ActionProgress
}

/** Options of one request. `timeoutMs` counts from the moment the peer holds the whole request. */
export type RequestOptions = {
  /** How long to wait for the reply once the peer has the request; default 30 000 ms, `Infinity` waits until it leaves. */
  timeoutMs?: number
  /** Aborting it rejects the request with code 'aborted' and tells the peer to stop (its handler's `signal`). */
  signal?: AbortSignal
  /** Sent with the request; the handler gets it as its third argument. */
  metadata?: Metadata
  /** Progress of the request's upload, as for `send`. */
  onProgress?: (fraction: number, peerId: PeerId) => void
}

/** One peer's outcome in `requestMany`: its reply, or why there is none (with the P2PError). */
export type PeerResult<R = unknown> =
  | {peerId: PeerId; status: 'fulfilled'; value: R}
  | {peerId: PeerId; status: 'rejected' | 'timeout' | 'disconnected'; error: P2PError}

export type RequestManyOptions<R = unknown> = RequestOptions & {
  /** Called with each peer's result as it settles. */
  onResult?: (result: PeerResult<R>) => void
}

/** What a request handler gets besides the data: `signal` aborts when the asker stops waiting or leaves. */
export type RequestContext = {peerId: PeerId; metadata?: Metadata; signal: AbortSignal}

/** Answers one request: its return value (or what its promise resolves to) is the reply; a throw becomes 'remote-error'. */
export type RequestHandler<T extends DataPayload = DataPayload, R extends DataPayload = DataPayload> = (
  data: Received<T>,
  peerId: PeerId,
  metadata: Metadata | undefined,
  context: RequestContext,
) => R | Promise<R>

export type RequestSender<T extends DataPayload = DataPayload, R extends DataPayload = DataPayload> = {
  (data: T, peerId: PeerId, options?: RequestOptions): Promise<Received<R>>
  /** Trystero 0.25's form. */
  (data: T, options: RequestOptions & {target: PeerId}): Promise<Received<R>>
}

export type RequestManySender<T extends DataPayload = DataPayload, R extends DataPayload = DataPayload> = {
  /** Every peer (or `targets`); resolves with a Map of each peer's result. Rejects only on abort. */
  (
    data: T,
    targets?: TargetPeers,
    options?: RequestManyOptions<Received<R>>,
  ): Promise<Map<PeerId, PeerResult<Received<R>>>>
  /** Trystero 0.25's form: resolves with the results as an array, in `targets` order. */
  (
    data: T,
    options: RequestManyOptions<Received<R>> & {targets?: readonly PeerId[]},
  ): Promise<PeerResult<Received<R>>[]>
}

export type RequestRegistrar<T extends DataPayload = DataPayload, R extends DataPayload = DataPayload> = (
  handler: RequestHandler<T, R> | null | undefined,
) => void

/**
 * A request/response action, from `makeAction(id, {kind: 'request'})`: `[request, onRequest,
 * onReceiveProgress]`, also by name, with `requestMany`. `onRequest(handler)` sets the
 * handler (the latest wins); `action.onRequest = handler` does the same, as in Trystero 0.25.
 */
export type RequestAction<T extends DataPayload = DataPayload, R extends DataPayload = DataPayload> = [
  RequestSender<T, R>,
  RequestRegistrar<T, R>,
  ActionProgress,
] & {
  request: RequestSender<T, R>
  requestMany: RequestManySender<T, R>
  get onRequest(): RequestRegistrar<T, R>
  set onRequest(handler: RequestHandler<T, R> | null | undefined)
  onReceiveProgress: ActionProgress
}

/** The second argument of `makeAction` for a request action. */
export type RequestActionConfig<T extends DataPayload = DataPayload, R extends DataPayload = DataPayload> = {
  kind: 'request'
  onRequest?: RequestHandler<T, R>
  onReceiveProgress?: ProgressCallback
}

/** How an action's messages travel; see "Unreliable actions" in the README. */
export type ActionOptions = {
  /**
   * `false`: each message is one datagram (at most 1150 bytes with its header) on a second,
   * unordered data channel with no retransmits; latest wins, lost or late ones are dropped.
   * Default `true`: every message arrives, in order, whole, of any size.
   */
  reliable?: boolean
}

/** Why a peer could not join: `error` is the message for people (as in Trystero), `code` for programs. */
export type JoinError = {
  appId: string
  roomId: string
  peerId: PeerId
  error: string
  code: P2PErrorCode
}

/** Config every strategy accepts. Strategies add their own fields (relayUrls, supabaseKey, ...). */
export type BaseRoomConfig = {
  /** A string unique to your app; peers only meet peers with the same appId. Required. */
  appId: string
  /** Shared secret for signaling encryption; peers with different passwords never connect. */
  password?: string
  /** Full RTCConfiguration for every peer connection (its iceServers replace the defaults). */
  rtcConfig?: RTCConfiguration
  /** TURN servers, added to the default STUN servers. */
  turnConfig?: RTCIceServer[]
  /** An RTCPeerConnection-compatible constructor, for Node/Deno/Bun (e.g. node-datachannel/polyfill). */
  rtcPolyfill?: typeof RTCPeerConnection
  /** Largest incoming action message, in bytes; bigger ones are refused and reported. Default 128 MiB. */
  maxMessageSize?: number
  /** Limits on incoming files (room.onFile): size, memory fallback, per-peer concurrency, idle time. */
  fileLimits?: FileLimits
  /** Swarm download (room.fetchFile): serving caps, upload rate, which files are served. */
  swarmLimits?: SwarmLimits
  /** First re-announce delay while looking for peers; doubles each time. Default 2000 ms. */
  announceIntervalMs?: number
  /** Ceiling of the re-announce delay: the steady-state rate is one announce per this interval. Default 60000 ms. */
  announceMaxIntervalMs?: number
  /** A handshake that has not opened a channel by then is abandoned (and retried on the next announce). Default 20000 ms. */
  connectTimeoutMs?: number
  /** A connected peer we hear nothing from for this long is dropped. Default 20000 ms. */
  peerTimeoutMs?: number
  /**
   * The identity (key pair and peer id) this room uses, from `createIdentity()`: pin one
   * to keep the same peer id across reloads and rooms. Default: the page's `selfId`
   * identity, or a fresh one while another room of the page holds that.
   */
  identity?: Identity
  /** Sent sealed to each peer during the handshake, for its `verify` gate. JSON, at most 4 KiB. */
  credentials?: unknown
  /** The gate: called with each peer's id and credentials before it may connect; truthy admits it. */
  verify?: (peerId: PeerId, credentials: unknown) => boolean | Promise<boolean>
  /** How long the app's handshake (and `verify`) may take before the peer is refused. Default 10000 ms. */
  handshakeTimeoutMs?: number
  /**
   * A passive member (Trystero's `passive`): it never announces itself nor starts a
   * connection; it connects only to peers that announce (offering to each announce it
   * hears). Two passive members never meet. For always-on server and backup peers: a room
   * holding only passive members is silent on the relay. README "Passive peers".
   */
  passive?: boolean
  /**
   * The debug log: `true` prints each join and signaling step (strategy connect, announces,
   * offers and answers, verify gate, ICE states, data channel open) with `console.debug` and
   * the milliseconds since joinRoom; a function receives each step as a `DebugEntry` instead.
   */
  debug?: DebugOption
  /**
   * Direct connections each peer keeps at most (README "Big rooms"). Below it the room is a
   * full mesh; past it the members form an overlay and reach the rest through relaying
   * members, end-to-end sealed. Default 10; `Infinity` keeps a full mesh at any size.
   */
  maxConnections?: number
}

/** How a member is reached: its own connection (1 hop), or relayed through other members. */
export type PeerInfo = {
  route: 'direct' | 'relayed'
  hops: number
  /**
   * The members the last message from this peer passed, it first and this page last, as the
   * relaying members listed themselves (for display: they could lie). Absent until one arrived.
   */
  path?: PeerId[]
}

/** One message of an app's handshake, as `receive()` resolves it. */
export type HandshakePayload = {data: unknown; metadata?: Metadata}
export type HandshakeSender = (data: DataPayload, metadata?: Metadata) => Promise<void>
export type HandshakeReceiver = () => Promise<HandshakePayload>
/**
 * Runs on both sides once a peer's connection opens, before it joins: resolve to accept
 * the peer, throw or reject to refuse it. `isInitiator` is true on exactly one side.
 */
export type PeerHandshake = (
  peerId: PeerId,
  send: HandshakeSender,
  receive: HandshakeReceiver,
  isInitiator: boolean,
) => Promise<void>

/** The third argument of joinRoom: `onJoinError` alone, or Trystero 0.23's callbacks object. */
export type JoinRoomCallbacks = {
  onJoinError?: (details: JoinError) => void
  onPeerHandshake?: PeerHandshake
  handshakeTimeoutMs?: number
}

export type Room = {
  /** The peer id this room's peers see (see `config.identity`). */
  readonly selfId: PeerId
  /** The verified public key of a peer in the room (its id is this key's hash), else undefined. */
  getPeerKey: (peerId: PeerId) => CryptoKey | undefined
  /** The app's handshake with each peer before it joins (Trystero 0.23+). Set it right after joinRoom. */
  onPeerHandshake: (callback: PeerHandshake | undefined) => void
  /**
   * A message action (`[send, onReceive, onProgress]`; `{reliable: false}` makes it latest-wins
   * datagrams, fixed the first time an id is made), or with `{kind: 'request'}` a request action.
   */
  makeAction: {
    <T extends DataPayload = DataPayload>(actionId: string, config?: ActionOptions & {kind?: 'message'}): Action<T>
    <T extends DataPayload = DataPayload, R extends DataPayload = DataPayload>(
      actionId: string,
      config: RequestActionConfig<T, R>,
    ): RequestAction<T, R>
  }
  /** `[send(stream, targets?, meta?), onReceive((stream, peerId, meta) => ...)]` for audio tracks only. */
  makeAudio: () => MediaChannel
  /** The same for video tracks only; the two kinds never reach each other's receiver, nor onPeerStream. */
  makeVideo: () => MediaChannel
  ping: (peerId: PeerId) => Promise<number>
  /**
   * A direct connection to member `peerId` on demand, negotiated through the room's overlay
   * (signed, sealed offer and answer relayed by members), not the public relay. Resolves once
   * it has joined; rejects `unknown-peer` (no route), `timeout` (connectTimeoutMs), `room-left`.
   */
  connect: (peerId: PeerId) => Promise<void>
  /**
   * Connection diagnostics from `getStats()`: the selected candidate pair (host, srflx, prflx,
   * relay), RTT, bytes and bytes per second each way, media loss, the strategy and its relays'
   * states, and a plain-language `hint`. `getPeerStats()` gives every peer's (with recently
   * failed ones), by id.
   */
  getPeerStats: GetPeerStats
  leave: () => Promise<void>
  /** Every member: direct ones map to their connection, relayed ones (README "Big rooms") to null. */
  getPeers: () => Record<PeerId, RTCPeerConnection>
  /** How a member is reached; undefined if `peerId` is not a member. */
  peerInfo: (peerId: PeerId) => PeerInfo | undefined
  addStream: (stream: MediaStream, targetPeers?: TargetPeers, metadata?: Metadata) => Promise<void>[]
  removeStream: (stream: MediaStream, targetPeers?: TargetPeers) => void
  addTrack: (
    track: MediaStreamTrack,
    stream: MediaStream,
    targetPeers?: TargetPeers,
    metadata?: Metadata,
  ) => Promise<void>[]
  removeTrack: (track: MediaStreamTrack, targetPeers?: TargetPeers) => void
  replaceTrack: (
    oldTrack: MediaStreamTrack,
    newTrack: MediaStreamTrack,
    targetPeers?: TargetPeers,
    metadata?: Metadata,
  ) => Promise<void>[]
  onPeerJoin: (callback: (peerId: PeerId) => void) => void
  onPeerLeave: (callback: (peerId: PeerId) => void) => void
  onPeerStream: (callback: (stream: MediaStream, peerId: PeerId, metadata?: Metadata) => void) => void
  onPeerTrack: (
    callback: (track: MediaStreamTrack, stream: MediaStream, peerId: PeerId, metadata?: Metadata) => void,
  ) => void
  /** Problems that do not end the room: malformed or oversized messages from a peer, relay failures. */
  onError: (callback: (error: P2PError) => void) => void
  /**
   * Says who this peer is, for display: a small JSON object (at most 1 KiB), e.g.
   * `{name: 'Ada', color: '#2563eb'}`, sent to every peer now and to each newcomer. Throws a
   * P2PError ('too-large', 'invalid-config') for state it cannot send. Replaces the previous state.
   */
  setPresence: (state: Presence) => void
  /** A peer's presence arrived or changed (latest callback wins). Untrusted: show it, never trust it. */
  onPresence: (callback: (state: Presence, peerId: PeerId) => void) => void
  /** What a peer (or this page, given `selfId`) last said about itself, if anything. */
  getPresence: (peerId: PeerId) => Presence | undefined
  /**
   * Streams a File, Blob or ReadableStream<Uint8Array> to a peer (or several; a stream: one),
   * with memory bounded by a 4 MiB window. The receiver's onFile sees `{peerId, name, size,
   * metadata}` first and accepts or declines. Resolves once the receiver verified every byte
   * (SHA-256); rejects with a P2PError ('declined', 'busy', 'too-large', 'cancelled', 'timeout',
   * 'integrity', 'peer-left', 'unreadable').
   */
  sendFile: (
    source: Blob | ReadableStream<Uint8Array>,
    peerId: PeerId | PeerId[],
    options?: SendFileOptions,
  ) => Promise<void>
  /** Decides on every incoming file: return false (or throw) to decline; take `file.stream()` or `file.file()`. */
  onFile: (callback: FileHandler | undefined) => void
  /**
   * Swarm download (src/core/files/swarm.ts; README "Swarm download"): fetchFile(contentHash,
   * {sources, sequential, onProgress, onSources, signal}) takes chunks from every member that
   * serves the file at once, each verified; seedFile(blob) serves a Blob and resolves with its
   * content hash; files sent or received whole are served too; onServe decides on requests.
   */
  fetchFile: Swarm['fetchFile']
  seedFile: Swarm['seedFile']
  unseedFile: Swarm['unseedFile']
  heldFiles: Swarm['heldFiles']
  holdersOf: Swarm['holdersOf']
  onServe: Swarm['onServe']
  swarmFiles: Swarm['swarmFiles']
  onSwarmFiles: Swarm['onSwarmFiles']
}

export type JoinRoom<C extends BaseRoomConfig = BaseRoomConfig> = (
  config: C,
  roomId: string,
  onJoinError?: ((details: JoinError) => void) | JoinRoomCallbacks,
) => Room
