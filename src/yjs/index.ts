/**
 * `p2p-elements/yjs`: a Yjs provider over any of our rooms. It syncs a `Y.Doc` and its
 * awareness (cursors, names, presence) with every peer of the room, peer to peer and end-to-end
 * encrypted like every room message; no signaling server of its own, any strategy finds peers.
 *
 *   const provider = new P2PProvider(doc, {appId: 'my-editor', roomId: 'doc-42', strategy: 'mqtt'})
 *   const provider = new P2PProvider(doc, room)   // a room you joined, or a <p2p-room>'s coreRoom
 *
 * Protocol (src/yjs/wire.ts): y-protocols' sync and awareness messages on one binary action.
 * On meeting a peer each side sends sync step 1 (its state vector) and its awareness; the
 * answer is step 2 (what the other lacks); after that every local update goes to every peer.
 * Rooms are a full mesh, so nothing is forwarded. A peer's awareness entries are accepted only
 * for client ids that peer claimed first, never our own, and they are removed when it leaves.
 * Anything malformed is dropped and reported on `error`, never thrown into the room.
 *
 * This module and yjs/y-protocols are imported only by apps that import `p2p-elements/yjs`.
 */
import * as Y from 'yjs'
import {Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates} from 'y-protocols/awareness'
import {P2PError, errorMessage, invalidConfig} from '../core/errors.js'
import type {Action, BaseRoomConfig, JoinRoom, PeerId, Room} from '../core/types.js'
import {observeRoom} from '../elements/fan-out.js'
import {loadStrategy, type StrategyName} from '../elements/strategies.js'
import {
  type AwarenessEntry,
  encodeAwareness,
  encodeAwarenessEntries,
  encodeSync,
  messageAwareness,
  messageYjsSyncStep1,
  messageYjsSyncStep2,
  messageYjsUpdate,
  readMessage,
} from './wire.js'

export {Awareness}

/** Joins a room for the provider: `strategy` is a strategy's name or its `joinRoom`. */
export type P2PProviderConfig = BaseRoomConfig & {
  roomId: string
  /** Default `'nostr'` (public relays), as `<p2p-room>`. */
  strategy?: StrategyName | JoinRoom
  [field: string]: unknown
}

export type P2PProviderOptions = {
  /** Use this awareness instead of a new one on `doc`. */
  awareness?: Awareness
  /** The action the provider talks on; give each doc shared in one room its own. Default `'yjs'`. */
  name?: string
  /** Start connected (default true); else call `connect()`. */
  connect?: boolean
}

type Events = {
  /** `synced: true` once every connected peer has answered our state vector; false when a new one joins. */
  synced: (event: {synced: boolean}) => void
  /** `connected: true` while the provider is in its room and syncing. */
  status: (event: {connected: boolean}) => void
  /** Peers met and lost, as y-webrtc's `peers` event (`webrtcPeers` is every peer synced with now). */
  peers: (event: {added: PeerId[]; removed: PeerId[]; webrtcPeers: PeerId[]}) => void
  /** A message a peer sent that was dropped (malformed), or a room that could not be joined. */
  error: (error: P2PError) => void
}

/** Client ids one peer may speak for in awareness (a doc changes its id only on a rare clash). */
const maxClientsPerPeer = 4
/** The largest awareness message accepted: cursors and names, not documents. */
const maxAwarenessBytes = 64 * 1024

/** Action names in use per room, so two providers never take each other's messages. */
const inUse = new WeakMap<Room, Set<string>>()

const isRoom = (value: unknown): value is Room =>
  !!value && typeof (value as Room).makeAction === 'function' && typeof (value as Room).getPeers === 'function'

export class P2PProvider {
  readonly doc: Y.Doc
  readonly awareness: Awareness
  /** The room synced over: the one passed in, or the one joined from the config (once joined). */
  room: Room | undefined
  /** True once every connected peer has sent what we lacked (false while alone). */
  synced = false
  /** True between connect() and disconnect(). */
  connected = false

  readonly #name: string
  readonly #config: P2PProviderConfig | undefined
  readonly #ownsAwareness: boolean
  #listeners = new Map<keyof Events, Set<(event: never) => void>>()
  /** Peers met since connecting, and whether each has answered our step 1. */
  #peers = new Map<PeerId, {synced: boolean}>()
  /** Awareness client ids each peer speaks for. */
  #clients = new Map<PeerId, Set<number>>()
  #send: Action<Uint8Array>['send'] | undefined
  #unobserve: (() => void) | undefined
  #joining: Promise<void> | undefined
  #savedState: unknown = null
  #destroyed = false

  constructor(doc: Y.Doc, roomOrConfig: Room | P2PProviderConfig, options: P2PProviderOptions = {}) {
    if (!(doc instanceof Y.Doc)) throw invalidConfig('new P2PProvider(doc, room) needs a Y.Doc as its first argument')
    this.doc = doc
    this.#name = options.name ?? 'yjs'
    if (isRoom(roomOrConfig)) this.room = roomOrConfig
    else if (roomOrConfig && typeof roomOrConfig === 'object') {
      if (typeof roomOrConfig.roomId !== 'string' || !roomOrConfig.roomId)
        throw invalidConfig('P2PProvider config needs a roomId, e.g. {appId: "my-editor", roomId: "doc-42"}')
      this.#config = roomOrConfig
    } else throw invalidConfig('new P2PProvider(doc, room) needs a joined Room or a config {appId, roomId, strategy?}')
    this.#ownsAwareness = !options.awareness
    this.awareness = options.awareness ?? new Awareness(doc)
    doc.on('update', this.#onDocUpdate)
    this.awareness.on('update', this.#onAwarenessUpdate)
    doc.on('destroy', this.#onDocDestroy)
    if (options.connect !== false) this.connect()
  }

  on<E extends keyof Events>(event: E, listener: Events[E]): void {
    let set = this.#listeners.get(event)
    if (!set) this.#listeners.set(event, (set = new Set()))
    set.add(listener as (event: never) => void)
  }
  off<E extends keyof Events>(event: E, listener: Events[E]): void {
    this.#listeners.get(event)?.delete(listener as (event: never) => void)
  }
  once<E extends keyof Events>(event: E, listener: Events[E]): void {
    const wrapper = ((value: never) => {
      this.off(event, wrapper)
      ;(listener as (event: never) => void)(value)
    }) as Events[E]
    this.on(event, wrapper)
  }
  #emit<E extends keyof Events>(event: E, value: Parameters<Events[E]>[0]) {
    const set = this.#listeners.get(event)
    if (event === 'error' && !set?.size) console.warn(`p2p-elements/yjs: ${(value as P2PError).message}`)
    for (const listener of [...(set ?? [])]) {
      try {
        ;(listener as (event: typeof value) => void)(value)
      } catch (error) {
        setTimeout(() => {
          throw error
        })
      }
    }
  }

  /** The peers this provider has met in its room and not lost since (synced or still syncing). */
  get peers(): PeerId[] {
    return [...this.#peers.keys()]
  }

  /** Starts syncing: joins the configured room, or listens on the given one, and greets every peer in it. */
  connect(): void {
    if (this.#destroyed || this.connected) return
    this.connected = true
    if (this.#savedState !== null && this.awareness.getLocalState() === null)
      this.awareness.setLocalState(this.#savedState as Record<string, unknown>)
    this.#savedState = null
    this.#emit('status', {connected: true})
    if (this.#config) {
      const joining = (this.#joining = this.#join(this.#config).then(room => {
        if (this.#joining !== joining || !room) return
        this.room = room
        this.#attach(room)
      }))
    } else if (this.room) this.#attach(this.room)
  }

  /**
   * Stops syncing: leaves the room it joined from a config (a room passed in stays joined) and
   * tells the peers to drop our awareness. Edits made meanwhile sync on the next connect().
   */
  disconnect(): void {
    if (!this.connected) return
    this.connected = false
    this.#joining = undefined
    const local = this.awareness.getLocalState()
    if (local !== null) {
      this.#savedState = local
      // Sent to the peers by #onAwarenessUpdate while still attached, so they forget us at once.
      removeAwarenessStates(this.awareness, [this.awareness.clientID], 'local')
    }
    const room = this.room
    this.#detach()
    if (this.#config && room) {
      this.room = undefined
      void room.leave()
    }
    this.#emit('status', {connected: false})
  }

  /** Disconnects for good and removes every listener it put on the doc, awareness and room. */
  destroy(): void {
    if (this.#destroyed) return
    this.disconnect()
    this.#destroyed = true
    this.doc.off('update', this.#onDocUpdate)
    this.doc.off('destroy', this.#onDocDestroy)
    this.awareness.off('update', this.#onAwarenessUpdate)
    if (this.#ownsAwareness) this.awareness.destroy()
    this.#listeners.clear()
  }

  async #join(config: P2PProviderConfig): Promise<Room | undefined> {
    const {roomId, strategy = 'nostr', ...rest} = config
    try {
      const joinRoom = typeof strategy === 'function' ? strategy : (await loadStrategy(strategy)).joinRoom
      if (!this.connected) return undefined
      return joinRoom(rest as BaseRoomConfig, roomId, details =>
        this.#emit('error', new P2PError(details.code, details.error, details.peerId)),
      )
    } catch (error) {
      this.#emit(
        'error',
        error instanceof P2PError ? error : new P2PError('strategy', `p2p-elements/yjs: ${errorMessage(error)}`),
      )
      return undefined
    }
  }

  #attach(room: Room) {
    let names = inUse.get(room)
    if (!names) inUse.set(room, (names = new Set()))
    if (names.has(this.#name)) {
      this.#emit(
        'error',
        invalidConfig(
          `another P2PProvider already syncs on action "${this.#name}" in this room: give each doc its own options.name`,
        ),
      )
      return
    }
    names.add(this.#name)
    const [send, onMessage] = room.makeAction<Uint8Array>(this.#name)
    this.#send = send
    onMessage((data, peerId) => this.#receive(data, peerId))
    this.#unobserve = observeRoom(room, {
      peerJoin: peerId => this.#meet(peerId),
      peerLeave: peerId => this.#lose(peerId),
    })
    for (const peerId of Object.keys(room.getPeers())) this.#meet(peerId)
  }

  #detach() {
    const room = this.room
    if (room && this.#send) {
      inUse.get(room)?.delete(this.#name)
      // Messages that still arrive on the action are ignored (#send is cleared below).
      room.makeAction<Uint8Array>(this.#name)[1](() => {})
    }
    this.#unobserve?.()
    this.#unobserve = undefined
    this.#send = undefined
    const removed = [...this.#peers.keys()]
    for (const peerId of removed) this.#forgetAwareness(peerId)
    this.#peers.clear()
    if (removed.length) this.#emit('peers', {added: [], removed, webrtcPeers: []})
    this.#setSynced(false)
  }

  #post(message: Uint8Array, peerId?: PeerId) {
    if (!this.#send) return
    const targets = peerId ?? [...this.#peers.keys()]
    if (!targets.length) return
    // A peer that leaves mid-send rejects here; its leave is handled by #lose.
    this.#send(message, targets).catch(() => {})
  }

  #meet(peerId: PeerId) {
    if (!this.#send || this.#peers.has(peerId)) return
    this.#peers.set(peerId, {synced: false})
    this.#setSynced(false)
    this.#emit('peers', {added: [peerId], removed: [], webrtcPeers: this.peers})
    this.#post(encodeSync(messageYjsSyncStep1, Y.encodeStateVector(this.doc)), peerId)
    // A new clock, so our state wins over whatever the peer remembers of an earlier visit of ours.
    const local = this.awareness.getLocalState()
    if (local !== null) this.awareness.setLocalState(local)
  }

  #lose(peerId: PeerId) {
    if (!this.#peers.delete(peerId)) return
    this.#forgetAwareness(peerId)
    this.#emit('peers', {added: [], removed: [peerId], webrtcPeers: this.peers})
    this.#updateSynced()
  }

  #forgetAwareness(peerId: PeerId) {
    const ids = [...(this.#clients.get(peerId) ?? [])]
    this.#clients.delete(peerId)
    if (!ids.length) return
    removeAwarenessStates(this.awareness, ids, this)
    // Forget their clocks too: if the same client comes back, its first state is new again.
    for (const id of ids) this.awareness.meta.delete(id)
  }

  #setSynced(synced: boolean) {
    if (this.synced === synced) return
    this.synced = synced
    this.#emit('synced', {synced})
  }

  #updateSynced() {
    const all = [...this.#peers.values()]
    this.#setSynced(all.length > 0 && all.every(peer => peer.synced))
  }

  #drop(peerId: PeerId, what: string) {
    this.#emit('error', new P2PError('malformed', `p2p-elements/yjs: peer ${peerId} sent ${what}; ignored it`, peerId))
  }

  #receive(data: unknown, peerId: PeerId) {
    if (!this.#send) return
    if (!this.#peers.has(peerId)) {
      // A message decoded after its sender left (the leave is seen first): nothing to do with it.
      if (!this.room || !Object.hasOwn(this.room.getPeers(), peerId)) return
      this.#meet(peerId)
    }
    if (!(data instanceof ArrayBuffer)) return this.#drop(peerId, 'a message that is not binary')
    // Awareness is carets and names: refuse a big one before parsing it (its first byte says awareness).
    if (data.byteLength > maxAwarenessBytes && new Uint8Array(data, 0, 1)[0] === messageAwareness)
      return this.#drop(peerId, `an awareness message of ${data.byteLength} bytes (at most ${maxAwarenessBytes})`)
    const message = readMessage(new Uint8Array(data))
    if (!message) return this.#drop(peerId, 'a message that is not a y-protocols sync or awareness message')
    if (message.kind === 'awareness') return this.#applyAwareness(message.entries, peerId)
    const {step, payload} = message
    try {
      if (step === messageYjsSyncStep1) {
        const stateVector = Y.decodeStateVector(payload)
        if ([...stateVector.keys()].some(id => !Number.isSafeInteger(id))) throw new Error('bad client id')
        this.#post(encodeSync(messageYjsSyncStep2, Y.encodeStateAsUpdate(this.doc, payload)), peerId)
        return
      }
      // Parse the whole update before the doc sees it: a bad one must not half-apply.
      Y.decodeUpdate(payload)
    } catch {
      return this.#drop(peerId, step === messageYjsSyncStep1 ? 'an unreadable state vector' : 'an unreadable update')
    }
    try {
      Y.applyUpdate(this.doc, payload, this)
    } catch (error) {
      return this.#drop(peerId, `an update the doc refused (${errorMessage(error)})`)
    }
    if (step === messageYjsSyncStep2 || step === messageYjsUpdate) {
      const peer = this.#peers.get(peerId)
      if (peer && step === messageYjsSyncStep2 && !peer.synced) {
        peer.synced = true
        this.#updateSynced()
      }
    }
  }

  #applyAwareness(entries: AwarenessEntry[], peerId: PeerId) {
    let owned = this.#clients.get(peerId)
    const accepted = entries.filter(({clientID}) => {
      if (clientID === this.awareness.clientID) return false
      if (owned?.has(clientID)) return true
      for (const ids of this.#clients.values()) if (ids.has(clientID)) return false
      if ((owned?.size ?? 0) >= maxClientsPerPeer) return false
      if (!owned) this.#clients.set(peerId, (owned = new Set()))
      owned.add(clientID)
      return true
    })
    if (accepted.length < entries.length) this.#drop(peerId, 'awareness for a client that is not its own')
    if (accepted.length) applyAwarenessUpdate(this.awareness, encodeAwarenessEntries(accepted), this)
  }

  #onDocUpdate = (update: Uint8Array, origin: unknown) => {
    if (origin !== this) this.#post(encodeSync(messageYjsUpdate, update))
  }

  #onAwarenessUpdate = (
    {added, updated, removed}: {added: number[]; updated: number[]; removed: number[]},
    origin: unknown,
  ) => {
    if (origin === this) return
    const own = this.awareness.clientID
    if ([...added, ...updated, ...removed].includes(own))
      this.#post(encodeAwareness(encodeAwarenessUpdate(this.awareness, [own])))
  }

  #onDocDestroy = () => this.destroy()
}
