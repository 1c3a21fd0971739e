import {P2PError, errorMessage} from '../errors.js'
import {randomId} from '../ids.js'
import {type Bus, type BusMessage, busFor} from './bus.js'
import {
  checkCommon,
  defaultConnectionTimeout,
  defaultQueueSize,
  encodeMessage,
  fire,
  iceServersOf,
  isState,
  namespaces,
  newId,
  roomOf,
  rtcOf,
} from './common.js'
import {Link, applyBitrate} from './link.js'
import {ROOT, type Instruction, type TreeState, createTree, pathTo, step, viewers} from './tree.js'
import {
  type BroadcastState,
  type SenderEventMap,
  type SenderOptions,
  type SenderStartOptions,
  TypedEventTarget,
} from './types.js'

/** A viewer placed this recently is still connecting: a second invite from it is the same one. */
const settleMs = 5_000

/**
 * Publishes a MediaStream (and optional per-viewer data channels) to every Receiver in a
 * room, as the `p2p` library's Sender does. Receivers never connect to each other; with
 * `fanout` they relay to each other instead, in a tree (see tree.ts).
 */
export class Sender extends TypedEventTarget<SenderEventMap> {
  readonly options: Readonly<SenderOptions>
  #id = ''
  #room = 'default'
  #session = ''
  #stream?: MediaStream
  #state: BroadcastState = {}
  #dataChannel = false
  #bus?: Promise<Bus>
  #links = new Map<string, Link>()
  #tree: TreeState
  #placedAt = new Map<string, number>()
  #queue: {data: unknown; id?: string}[] = []
  #started = false

  constructor(options: SenderOptions) {
    super()
    checkCommon(options, 'Sender')
    if (options.verify !== undefined && typeof options.verify !== 'function')
      throw new P2PError(
        'invalid-config',
        'p2p-elements: Sender verify must be a function (id, credentials) => boolean',
      )
    this.options = {...options}
    this.#tree = createTree(options.fanout || Number.POSITIVE_INFINITY)
  }

  /** This sender's id while started ('' before), random per start. */
  get id(): string {
    return this.#id
  }

  get started(): boolean {
    return this.#started
  }

  /** The state viewers get with their offer; change it with sync(). */
  get state(): BroadcastState {
    return {...this.#state}
  }

  /** Open connections to viewers this sender serves itself, by viewer id. */
  get peers(): Map<string, RTCPeerConnection> {
    return new Map([...this.#links].filter(([, link]) => link.isOpen).map(([id, link]) => [id, link.connection]))
  }

  /** Every viewer: connected ones in a star, every one placed in the tree with `fanout`. */
  get viewers(): string[] {
    return this.options.fanout ? viewers(this.#tree) : [...this.peers.keys()]
  }

  /** The relay tree with `fanout` (parent of each viewer, '' for this sender). */
  get tree(): ReadonlyMap<string, string> {
    return this.#tree.parent
  }

  /** Messages waiting for a channel to open. */
  get queued(): number {
    return this.#queue.length
  }

  start(options: SenderStartOptions = {}): void {
    if (this.#started) this.stop()
    const room = roomOf(options.room)
    rtcOf(this.options)
    this.#started = true
    this.#id = newId()
    this.#session = randomId(12)
    this.#room = room
    this.#stream = options.stream
    this.#state = isState(options.state) ? {...options.state} : {}
    this.#dataChannel = options.dataChannel === true || !options.stream
    this.#tree = createTree(this.options.fanout || Number.POSITIVE_INFINITY)
    const id = this.#id
    const bus = busFor(this.options, room, id, message => this.#error(id, new P2PError('strategy', message)))
    this.#bus = bus
    bus.then(
      bus => {
        if (this.#bus !== undefined && this.#id === id) {
          bus.on(namespaces.senders(room), message => this.#onMessage(message))
          bus.on(namespaces.sender(room, id), message => this.#onMessage(message))
          void bus.emit(namespaces.receivers(room), {type: 'invoke', from: id})
        } else bus.close()
      },
      error => this.#error(id, error instanceof P2PError ? error : new P2PError('strategy', errorMessage(error))),
    )
    globalThis.addEventListener?.('pagehide', this.#onPageHide)
  }

  stop(): void {
    if (!this.#started) return
    this.#started = false
    globalThis.removeEventListener?.('pagehide', this.#onPageHide)
    const bus = this.#bus
    const room = this.#room
    const from = this.#id
    this.#bus = undefined
    void bus?.then(bus =>
      bus.emit(namespaces.receivers(room), {type: 'dispose', from, session: this.#session}).finally(() => bus.close()),
    )
    for (const link of [...this.#links.values()]) {
      link.sendControl({t: 'bye'})
      link.close()
    }
    this.#links.clear()
    this.#placedAt.clear()
    this.#queue = []
    this.#tree = createTree(this.options.fanout || Number.POSITIVE_INFINITY)
    this.#viewersChanged()
  }

  /** Sends `data` to viewer `id`, or to every viewer; queued (up to queueSize) while no channel is open. */
  send(data: unknown, id?: string): void {
    if (!this.#started) return
    const isOpen = (link?: Link) => link?.channel?.readyState === 'open'
    // A viewer's 'connect' comes before its channel opens: a send to it then waits in the queue
    // (as it does while no channel is open at all) instead of being dropped on a closed channel.
    const first = id === undefined ? undefined : (pathTo(this.#tree, id) ?? [id])[0]
    const waiting = first !== undefined && this.#links.has(first) && !isOpen(this.#links.get(first))
    if (waiting || ![...this.#links.values()].some(isOpen)) {
      this.#queue.push({data, id})
      const limit = this.options.queueSize ?? defaultQueueSize
      while (this.#queue.length > limit) this.#queue.shift()
      return
    }
    this.#deliver(data, id)
  }

  #deliver(data: unknown, id?: string, quiet = false): boolean {
    const tree = !!this.options.fanout
    if (id === undefined) {
      let sent = false
      for (const link of this.#links.values()) for (const frame of encodeMessage(data)) sent = link.send(frame) || sent
      return sent
    }
    const path = pathTo(this.#tree, id) ?? (this.#links.has(id) ? [id] : undefined)
    const link = path && this.#links.get(path[0]!)
    if (!path || !link) {
      if (quiet) return false
      this.#error(id, new P2PError('unknown-peer', `viewer ${id} is not connected to this sender`, id))
      return false
    }
    let sent = true
    for (const frame of encodeMessage(data, tree ? path.slice(1) : undefined)) sent = link.send(frame) && sent
    return sent
  }

  /** Updates the state (merged into the current one if `merge`) and sends it to every viewer. */
  sync(state: BroadcastState, merge = false): void {
    if (!isState(state)) return
    this.#state = merge ? {...this.#state, ...state} : {...state}
    for (const link of this.#links.values()) link.sendControl({t: 'sync', state: this.#state})
  }

  #onPageHide = () => this.stop()

  #error(id: string, error: Error) {
    fire<SenderEventMap, 'error'>(this, 'error', {id, error})
  }

  #viewersChanged() {
    const ids = this.viewers
    fire<SenderEventMap, 'viewers'>(this, 'viewers', {count: ids.length, ids})
  }

  #emit(namespace: string[], message: Omit<BusMessage, 'from'>) {
    const from = this.#id
    void this.#bus?.then(bus => bus.emit(namespace, {...message, from} as BusMessage))
  }

  #apply(out: Instruction[]) {
    const room = this.#room
    for (const {type, parent, child} of out) {
      if (type === 'adopt') this.#placedAt.set(child, Date.now())
      if (parent === ROOT) {
        if (type === 'adopt') void this.#open(child)
        else this.#closeLink(child)
      } else
        this.#emit(namespaces.receiver(room, parent), {
          type,
          to: parent,
          child,
          origin: this.#id,
          session: this.#session,
        })
    }
    if (this.options.fanout) this.#viewersChanged()
  }

  #step(event: {type: 'join' | 'leave'; id: string}) {
    // A viewer out of the tree is not fed by us either (a relay reported lost asks again).
    if (event.type === 'leave' && this.#tree.parent.get(event.id) === ROOT) this.#closeLink(event.id)
    const {state, out} = step(this.#tree, event)
    this.#tree = state
    if (event.type === 'leave') this.#placedAt.delete(event.id)
    this.#apply(out)
  }

  #closeLink(id: string) {
    const link = this.#dropLink(id)
    if (!link) return
    link.sendControl({t: 'bye'})
    link.close()
  }

  /** Takes a viewer's link out of the map (its close is then ours, not the viewer leaving). */
  #dropLink(id: string): Link | undefined {
    const link = this.#links.get(id)
    this.#links.delete(id)
    return link
  }

  async #onMessage(message: BusMessage) {
    if (!this.#started) return
    const from = message.from
    switch (message.type) {
      case 'invoke': {
        if (typeof message.lost === 'string') this.#step({type: 'leave', id: message.lost})
        const link = this.#links.get(from)
        const placed = this.#placedAt.get(from)
        if (link?.isOpen && message.fresh !== true) return
        if (!link?.isOpen && placed !== undefined && Date.now() - placed < settleMs) return
        const session = this.#session
        let accepted = true
        if (this.options.verify) {
          try {
            accepted = (await this.options.verify(from, message.credentials)) === true
          } catch (error) {
            accepted = false
            this.#error(from, new P2PError('rejected', `verify threw: ${errorMessage(error)}`, from))
          }
        }
        if (!this.#started || session !== this.#session) return
        if (!accepted) {
          this.#emit(namespaces.receiver(this.#room, from), {type: 'reject', to: from})
          return
        }
        this.#step({type: 'join', id: from})
        return
      }
      case 'answer': {
        const link = this.#links.get(from)
        const sdp = message.sdp
        if (!link || typeof sdp !== 'string' || message.session !== this.#session) return
        try {
          await link.accept({type: 'answer', sdp})
        } catch (error) {
          return link.close(new Error(`its answer did not apply: ${errorMessage(error)}`))
        }
        // Bitrate targets are hints, as in the seed: a runtime without setParameters still connects.
        await applyBitrate(link.connection, {audio: this.options.audioBitrate, video: this.options.videoBitrate}).catch(
          error =>
            this.#error(from, new P2PError('invalid-config', `bitrate not applied: ${errorMessage(error)}`, from)),
        )
        return
      }
      case 'dispose':
        this.#closeLink(from)
        this.#step({type: 'leave', id: from})
        return
      case 'lost': {
        // A relaying viewer says its child's link closed: re-place that child's subtree.
        if (typeof message.child === 'string' && this.#tree.parent.get(message.child) === from)
          this.#step({type: 'leave', id: message.child})
      }
    }
  }

  async #open(viewer: string) {
    this.#dropLink(viewer)?.close()
    const origin = this.#id
    const session = this.#session
    const link = new Link({
      peer: viewer,
      origin,
      RTC: rtcOf(this.options),
      iceServers: iceServersOf(this.options),
      connectionTimeout: this.options.connectionTimeout ?? defaultConnectionTimeout,
      events: {
        open: link => {
          fire<SenderEventMap, 'connect'>(this, 'connect', {id: viewer, peer: link.connection})
          if (!this.options.fanout) this.#viewersChanged()
        },
        channel: () => this.#flush(),
        close: (link, error) => {
          // Links we close ourselves (replaced, or the viewer moved or left) are out of the map
          // first: only a link that ended on its own means the viewer went away.
          const current = this.#links.get(viewer) === link
          if (current) this.#links.delete(viewer)
          fire<SenderEventMap, 'dispose'>(this, 'dispose', {
            id: viewer,
            peer: link.connection,
            ...(error ? {error: new P2PError('peer-left', error.message, viewer)} : {}),
          })
          // A child of ours that went away leaves the tree; it asks again if it is still there.
          if (current && this.#started && session === this.#session && this.#tree.parent.get(viewer) === ROOT)
            this.#step({type: 'leave', id: viewer})
          if (!this.options.fanout) this.#viewersChanged()
        },
        control: (link, message) => message.t === 'bye' && link.close(),
        message: () => {},
        stream: () => {},
      },
    })
    link.session = session
    this.#links.set(viewer, link)
    try {
      const stream = this.#stream
      const sdp = (await link.offer(stream?.getTracks() ?? [], stream, this.#dataChannel, this.options.codecs)).sdp
      if (link.isClosed || session !== this.#session) return
      this.#emit(namespaces.receiver(this.#room, viewer), {
        type: 'offer',
        to: viewer,
        origin,
        session,
        sdp,
        state: this.#state,
        dataChannel: this.#dataChannel,
        media: !!stream?.getTracks().length,
        bitrate: {audio: this.options.audioBitrate, video: this.options.videoBitrate},
      })
    } catch (error) {
      link.close(new Error(`could not make an offer: ${errorMessage(error)}`))
    }
  }

  #flush() {
    const queue = this.#queue
    this.#queue = []
    for (const entry of queue) if (!this.#deliver(entry.data, entry.id, true)) this.#queue.push(entry)
  }
}
