import {LitElement, css, html} from 'lit'
import {P2PError, type P2PErrorCode, errorMessage} from '../core/errors.js'
import {selfId as pageId} from '../core/ids.js'
import type {BaseRoomConfig, DataPayload, Metadata, PeerId, Presence, Room, TargetPeers} from '../core/types.js'
import {errorDetail, fire} from './events.js'
import {type RoomListener, type Subscription, joinShared} from './fan-out.js'
import {type PeerLabel, describePeer} from './format.js'
import {events} from './names.js'
import {property} from './property.js'
import {loadStrategies, parseStrategyNames} from '../multi/index.js'
import {type StrategyModule, defaultStrategy, isStrategyName, loadStrategy} from './strategies.js'

/** What a child element (`<p2p-action>`, `<p2p-file-send>`) hears of one named action. */
export type ActionListener = {
  data?: (data: unknown, peerId: PeerId, metadata?: Metadata) => void
  progress?: (fraction: number, peerId: PeerId, metadata?: Metadata) => void
}

/** `p2p-peer-verify`'s detail: a peer asking to join, and the credentials it sent. Cancel the event to refuse it. */
export type PeerVerifyDetail = {peerId: PeerId; credentials: unknown}
declare global {
  interface HTMLElementEventMap {
    'p2p-peer-verify': CustomEvent<PeerVerifyDetail>
  }
}

type Joined = {
  key: string
  config: object | undefined
  subscription: Subscription
  appId: string
  roomId: string
  strategy: string
}
type Waiter = {resolve: (room: Room) => void; reject: (error: Error) => void}

/** The properties whose change leaves the room and joins again. */
const joinKeys: PropertyKey[] = [
  'appId',
  'room',
  'strategy',
  'password',
  'relayUrls',
  'relayRedundancy',
  'supabaseKey',
  'rootPath',
  'maxMessageSize',
  'maxConnections',
  'passive',
  'debug',
  'config',
]

/**
 * A peer-to-peer room: joins when it is in the page with an `app-id` and a `room`, leaves
 * when removed, and rejoins when its attributes change. Child elements use it by ancestry,
 * or from anywhere with `for="id-of-this-element"`.
 *
 * Several `<p2p-room>`s with the same app-id and room in one page share one connection
 * (the first one's config wins); each gets every event, and the last to go leaves.
 *
 * @summary A peer-to-peer room over a signaling strategy; the parent of the other p2p elements.
 * @tag p2p-room
 *
 * @slot - Anything: typically `<p2p-action>`, `<p2p-file-send>`, `<p2p-video-grid>`, `<p2p-peer-list>` and your own UI.
 *
 * @fires {CustomEvent<JoinDetail>} p2p-join - This page joined: `{appId, roomId, strategy, selfId, room}`.
 * @fires {CustomEvent<LeaveDetail>} p2p-leave - This page left the room: `{appId, roomId, strategy}`.
 * @fires {CustomEvent<PeerDetail>} p2p-peer-join - A peer connected: `{peerId}`.
 * @fires {CustomEvent<PeerDetail>} p2p-peer-leave - A peer left or went silent: `{peerId}`.
 * @fires {CustomEvent<StreamDetail>} p2p-stream - A peer sent a media stream: `{stream, peerId, metadata}`.
 * @fires {CustomEvent<TrackDetail>} p2p-track - A peer sent a media track: `{track, stream, peerId, metadata}`.
 * @fires {CustomEvent<JoinErrorDetail>} p2p-join-error - A peer could not be joined (e.g. wrong password): `{appId, roomId, peerId, error}`.
 * @fires {CustomEvent<PresenceDetail>} p2p-presence - A peer's presence arrived or changed, or this page's own did: `{peerId, presence, previous?, from}`.
 * @fires {CustomEvent<PeerVerifyDetail>} p2p-peer-verify - A peer asks to join, before it connects: `{peerId, credentials}`; `preventDefault()` refuses it (it gets a `rejected` join error).
 * @fires {CustomEvent<ErrorDetail>} p2p-error - Unknown strategy, a strategy that failed to load, bad config, malformed or oversized messages: `{error, message, code?, peerId?}`.
 */
export class P2PRoom extends LitElement {
  static override styles = css`
    :host {
      display: contents;
    }
  `

  /** A string unique to your app; peers only meet peers with the same app id. Required to join. */
  @property({attribute: 'app-id', reflect: true}) appId?: string
  /** The room id. Required to join; changing it leaves the old room and joins the new one. */
  @property({attribute: 'room', reflect: true}) room?: string
  /**
   * Signaling network: nostr (default), mqtt, torrent, supabase, firebase, ipfs, bootstrap, local or driver;
   * several separated by spaces (`"nostr mqtt"`) join through all of them at once.
   */
  @property({attribute: 'strategy', reflect: true}) strategy: string = defaultStrategy
  /** Shared secret encrypting signaling; peers with another password never connect. */
  @property({attribute: 'password'}) password?: string
  /** Relay (or broker, tracker) URLs, space-separated; replaces the strategy's defaults. */
  @property({attribute: 'relay-urls'}) relayUrls?: string
  /** How many relays to use at once. */
  @property({attribute: 'relay-redundancy', type: Number}) relayRedundancy?: number
  /** The anon key of your Supabase project (strategy="supabase"). */
  @property({attribute: 'supabase-key'}) supabaseKey?: string
  /** The database path rooms live under (strategy="firebase"). */
  @property({attribute: 'root-path'}) rootPath?: string
  /** Largest incoming message in bytes; bigger ones are refused and reported with p2p-error. Default 128 MiB. */
  @property({attribute: 'max-message-size', type: Number}) maxMessageSize?: number
  /**
   * Direct connections each member keeps at most (`config.maxConnections`); past it the room
   * is an overlay and members reach the rest through relaying members (README "Big rooms").
   * Default 10.
   */
  @property({attribute: 'max-connections', type: Number}) maxConnections?: number
  /** Prints each join and signaling step with console.debug (`config.debug`); changing it rejoins. */
  @property({attribute: 'debug', type: Boolean}) debug = false
  /**
   * A passive member (`config.passive`): it never announces, and connects only to peers that
   * announce. For always-on and backup pages; two passive members never meet.
   */
  @property({attribute: 'passive', type: Boolean, reflect: true}) passive = false
  /**
   * Config that is not a string (rtcConfig, turnConfig, rtcPolyfill, driver, a firebase app...),
   * merged over the attributes. Setting a new object rejoins.
   */
  @property({attribute: false}) config?: Partial<BaseRoomConfig> & Record<string, unknown>

  /** Your name, shown to the others (sent as presence; not unique, not verified). */
  @property({attribute: 'name', reflect: true}) name?: string
  /** Your colour for tiles, dots and cursors, as `#rgb` or `#rrggbb` (sent as presence). */
  @property({attribute: 'color', reflect: true}) color?: string
  /** An https: image URL for your camera-off tile (sent as presence). */
  @property({attribute: 'avatar', reflect: true}) avatar?: string
  /**
   * Anything else about you the others may show (JSON, at most 1 KiB with the rest), sent to
   * every peer: the `name`, `color` and `avatar` attributes win over the same fields here.
   */
  @property({attribute: false}) presence: Presence = {}
  /**
   * The gate (`config.verify`): `(peerId, credentials) => boolean | Promise<boolean>`, asked
   * before each peer may connect; then `p2p-peer-verify` fires, and cancelling it refuses too.
   */
  @property({attribute: false}) verify?: (peerId: PeerId, credentials: unknown) => boolean | Promise<boolean>

  /** True while in a room. Read-only; reflected as an attribute for CSS (`p2p-room[joined]`). */
  @property({attribute: 'joined', type: Boolean, reflect: true}) joined = false
  /** Ids of the peers currently connected, kept current. Read-only. */
  @property({attribute: false}) peers: PeerId[] = []

  /** The core `Room` while joined (for makeAction, addStream, ping...), else undefined. Read-only. */
  get coreRoom(): Room | undefined {
    return this.#joined?.subscription.coreRoom
  }

  /** The same as `coreRoom`. Read-only. */
  get instance(): Room | undefined {
    return this.coreRoom
  }

  /** The peer id this room uses: the page's `selfId` unless another room holds it or `config.identity` pins one. */
  get selfId(): PeerId {
    return this.instance?.selfId ?? pageId
  }

  async #verify(peerId: PeerId, credentials: unknown): Promise<boolean> {
    if (this.verify && !(await this.verify(peerId, credentials))) return false
    const event = new CustomEvent('p2p-peer-verify', {
      detail: {peerId, credentials},
      cancelable: true,
      bubbles: true,
      composed: true,
    })
    return this.dispatchEvent(event)
  }

  /** Media streams peers are sending now, by peer id (kept so late-connecting children see them). */
  get streams(): ReadonlyMap<PeerId, readonly MediaStream[]> {
    return this.#streams
  }

  #joined?: Joined
  #generation = 0
  #syncQueued = false
  #waiters: Waiter[] = []
  #actions = new Map<string, Set<ActionListener>>()
  #streams = new Map<PeerId, MediaStream[]>()
  #presences = new Map<PeerId, Presence>()
  /** Presence fields the child elements add (e.g. the video grid's microphone and camera state). */
  #extra: Presence = {}
  #sentPresence = ''

  /** What each connected peer says about itself (name, colour...), by peer id. Untrusted: for display. Read-only. */
  get presences(): ReadonlyMap<PeerId, Presence> {
    return this.#presences
  }

  /** This page's presence as sent: `presence`, with `name`, `color`, `avatar` and the elements' fields. Read-only. */
  get ownPresence(): Presence {
    const fromAttributes = Object.fromEntries(
      Object.entries({name: this.name, color: this.color, avatar: this.avatar}).filter(([, v]) => v),
    )
    return {...this.presence, ...fromAttributes, ...this.#extra}
  }

  /**
   * How a peer (or this page) is shown, the same in every element: its name escaped and
   * capped, with a fingerprint where two peers share a name, "(you)" for this page, its
   * colour and initials. `name` overrides the name it gave (the elements' `names` property).
   */
  describe(peerId: PeerId, name?: string): PeerLabel {
    const selfId = this.selfId
    const self = peerId === selfId
    const presence = self ? this.ownPresence : this.#presences.get(peerId)
    const others: [PeerId, Presence | undefined][] = [...this.#presences, [selfId, this.ownPresence]]
    return describePeer(peerId, presence, self, others, name)
  }

  /** For the child elements: sets (or, with undefined, removes) one field of this page's presence. */
  setPresenceField(key: string, value: unknown) {
    const extra = {...this.#extra}
    if (value === undefined) delete extra[key]
    else extra[key] = value
    this.#extra = extra
    this.#sendPresence()
  }

  /** Sends this page's presence when it changed; an invalid one is reported as p2p-error. */
  #sendPresence() {
    const room = this.coreRoom
    const state = this.ownPresence
    const json = JSON.stringify(state)
    if (!room || json === this.#sentPresence) return
    const previous = this.#sentPresence ? (JSON.parse(this.#sentPresence) as Presence) : undefined
    try {
      room.setPresence(state)
    } catch (error) {
      return void fire(this, events.error, errorDetail(error))
    }
    this.#sentPresence = json
    fire(this, events.presence, {peerId: this.selfId, presence: state, previous, from: this.describe(this.selfId)})
  }

  override connectedCallback() {
    super.connectedCallback()
    this.#scheduleSync()
  }

  override disconnectedCallback() {
    super.disconnectedCallback()
    // Checked a task later, so moving the element within the page does not leave and rejoin.
    this.#scheduleSync()
  }

  protected override updated(changed: Map<PropertyKey, unknown>) {
    if (joinKeys.some(key => changed.has(key))) this.#scheduleSync()
    if (['name', 'color', 'avatar', 'presence'].some(key => changed.has(key))) this.#sendPresence()
  }

  override render() {
    return html`<slot></slot>`
  }

  /** Listens to one named action; the room owns the single core registration and fans out. */
  subscribeAction(name: string, listener: ActionListener): () => void {
    let listeners = this.#actions.get(name)
    if (!listeners) {
      this.#actions.set(name, (listeners = new Set()))
      this.#joined?.subscription.bindAction(name)
    }
    listeners.add(listener)
    return () => listeners.delete(listener)
  }

  /** Sends on a named action once the room is joined; resolves when every target has it. */
  async sendAction(
    name: string,
    data: DataPayload,
    targets?: TargetPeers,
    metadata?: Metadata,
    onProgress?: (fraction: number, peerId: PeerId) => void,
  ): Promise<void> {
    const room = await this.ready()
    return room.makeAction(name).send(data, targets, metadata, onProgress)
  }

  /** The core room once joined: resolves at once when joined, rejects if joining fails. */
  ready(): Promise<Room> {
    if (this.#joined) return Promise.resolve(this.#joined.subscription.coreRoom)
    if (!this.isConnected)
      return Promise.reject(
        new P2PError('room-left', 'p2p-room is not in the page: add it to the document to join its room'),
      )
    return new Promise((resolve, reject) => this.#waiters.push({resolve, reject}))
  }

  /** Round-trip time to a peer in milliseconds. */
  async ping(peerId: PeerId): Promise<number> {
    return (await this.ready()).ping(peerId)
  }

  #attributeConfig() {
    const fromAttributes = {
      appId: this.appId,
      password: this.password || undefined,
      relayUrls: this.relayUrls?.trim() ? this.relayUrls.trim().split(/\s+/) : undefined,
      relayRedundancy: this.relayRedundancy,
      supabaseKey: this.supabaseKey,
      rootPath: this.rootPath,
      maxMessageSize: this.maxMessageSize,
      maxConnections: this.maxConnections,
      passive: this.passive || undefined,
      debug: this.debug || undefined,
    }
    return Object.fromEntries(Object.entries(fromAttributes).filter(([, value]) => value != null))
  }

  #scheduleSync() {
    if (this.#syncQueued) return
    this.#syncQueued = true
    setTimeout(() => {
      this.#syncQueued = false
      this.#sync()
    })
  }

  /** Brings the joined room in line with the attributes: leave, join, or both. */
  #sync() {
    const fromAttributes = this.#attributeConfig()
    const config = {...fromAttributes, ...this.config} as BaseRoomConfig
    const roomId = this.room ?? ''
    const wanted = this.isConnected && config.appId && roomId
    // The config object may hold functions and circular objects: it is compared by identity.
    const key = JSON.stringify([this.#strategyName, roomId, fromAttributes])
    const current = this.#joined
    if (current && wanted && current.key === key && current.config === this.config) return
    if (!wanted) {
      const error = this.isConnected
        ? new P2PError('invalid-config', 'p2p-room did not join: it needs both app-id and room')
        : new P2PError('room-left', 'p2p-room did not join: it was removed from the page')
      for (const waiter of this.#waiters.splice(0)) waiter.reject(error)
    }
    if (!current && !wanted) return
    this.#generation++
    if (current) this.#leave(current)
    if (wanted) void this.#join(this.#generation, key, config, roomId)
  }

  /** An empty or removed `strategy` (frameworks set undefined for "no value") means the default. */
  get #strategyName(): string {
    return this.strategy?.trim().split(/\s+/).filter(Boolean).join(' ') || defaultStrategy
  }

  async #join(generation: number, key: string, config: BaseRoomConfig, roomId: string) {
    const strategy = this.#strategyName
    let module: StrategyModule
    try {
      const names = strategy.includes(' ') ? parseStrategyNames(strategy) : [strategy]
      module = names.length > 1 ? await loadStrategies(names) : await loadStrategy(strategy)
    } catch (error) {
      // An unknown name is a config mistake; a strategy that does not load is the network's.
      const known = strategy.split(' ').every(isStrategyName)
      return this.#joinFailed(generation, error, known ? 'strategy' : 'invalid-config')
    }
    if (generation !== this.#generation) return
    let subscription: Subscription
    try {
      const verify = (peerId: PeerId, credentials: unknown) => this.#verify(peerId, credentials)
      subscription = joinShared(module.joinRoom, {verify, ...config}, roomId, this.#listener)
    } catch (error) {
      // joinRoom throws only for what it was given (strategies report network trouble through onError).
      return this.#joinFailed(generation, error, 'invalid-config')
    }
    for (const name of this.#actions.keys()) subscription.bindAction(name)

    const {coreRoom} = subscription
    this.#joined = {key, config: this.config, subscription, appId: config.appId, roomId, strategy}
    this.peers = Object.keys(coreRoom.getPeers())
    for (const peerId of this.peers) {
      const state = coreRoom.getPresence(peerId)
      if (state) this.#presences.set(peerId, state)
    }
    this.joined = true
    this.#sentPresence = ''
    this.#sendPresence()
    fire(this, events.join, {appId: config.appId, roomId, strategy, selfId: coreRoom.selfId, room: coreRoom})
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(coreRoom)
  }

  /** Reports a join that failed (as a P2PError; `code` for errors that have none) and rejects the waiters. */
  #joinFailed(generation: number, error: unknown, code: P2PErrorCode) {
    if (generation !== this.#generation) return
    const failure = error instanceof P2PError ? error : new P2PError(code, errorMessage(error))
    fire(this, events.error, errorDetail(failure))
    for (const waiter of this.#waiters.splice(0)) waiter.reject(failure)
  }

  #leave(joined: Joined) {
    this.#joined = undefined
    this.peers = []
    this.joined = false
    this.#streams.clear()
    this.#presences.clear()
    if (joined.subscription.release())
      joined.subscription.coreRoom.leave().catch(error => fire(this, events.error, errorDetail(error)))
    const {appId, roomId, strategy} = joined
    fire(this, events.leave, {appId, roomId, strategy})
  }

  /** What this element hears of its core room (shared with other elements in the same room). */
  #listener: RoomListener = {
    peerJoin: peerId => {
      this.#updatePeers()
      fire(this, events.peerJoin, {peerId, from: this.describe(peerId)})
    },
    peerLeave: peerId => {
      const from = this.describe(peerId)
      this.#updatePeers()
      this.#streams.delete(peerId)
      this.#presences.delete(peerId)
      fire(this, events.peerLeave, {peerId, from})
    },
    presence: (presence, peerId) => {
      if (!this.peers.includes(peerId) && !this.coreRoom?.getPeers()[peerId]) return
      const previous = this.#presences.get(peerId)
      this.#presences.set(peerId, presence)
      fire(this, events.presence, {peerId, presence, previous, from: this.describe(peerId)})
    },
    stream: (stream, peerId, metadata) => {
      this.#addStream(stream, peerId)
      fire(this, events.stream, {stream, peerId, metadata})
    },
    track: (track, stream, peerId, metadata) => fire(this, events.track, {track, stream, peerId, metadata}),
    error: error => fire(this, events.error, errorDetail(error)),
    joinError: details => fire(this, events.joinError, details),
    data: (action, data, peerId, metadata) => {
      for (const listener of this.#actions.get(action) ?? []) listener.data?.(data, peerId, metadata)
    },
    progress: (action, fraction, peerId, metadata) => {
      for (const listener of this.#actions.get(action) ?? []) listener.progress?.(fraction, peerId, metadata)
    },
  }

  #updatePeers() {
    const room = this.coreRoom
    this.peers = room ? Object.keys(room.getPeers()) : []
  }

  #addStream(stream: MediaStream, peerId: PeerId) {
    const list = this.#streams.get(peerId) ?? []
    if (list.includes(stream)) return
    this.#streams.set(peerId, [...list, stream])
    // A stream whose last track is gone is over; it may be sent again later.
    stream.addEventListener('removetrack', () => {
      if (stream.getTracks().length) return
      const rest = (this.#streams.get(peerId) ?? []).filter(s => s !== stream)
      if (rest.length) this.#streams.set(peerId, rest)
      else this.#streams.delete(peerId)
    })
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'p2p-room': P2PRoom
  }
}
