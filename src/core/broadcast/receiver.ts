import {P2PError, errorMessage} from '../errors.js'
import {type Bus, type BusMessage, busFor} from './bus.js'
import {
  checkCommon,
  createDecoder,
  defaultConnectionTimeout,
  defaultPingAttempts,
  defaultPingInterval,
  encodeMessage,
  fire,
  iceServersOf,
  isState,
  namespaces,
  newId,
  roomOf,
  rtcOf,
} from './common.js'
import {type Bitrate, Link, applyBitrate} from './link.js'
import {
  type BroadcastState,
  type ReceiverEventMap,
  type ReceiverOptions,
  type ReceiverStartOptions,
  TypedEventTarget,
} from './types.js'

/** What a viewer knows of one broadcaster it watches. */
type Watched = {
  /** The link feeding us (from the broadcaster, or from a relaying viewer). */
  up?: Link
  state: BroadcastState
  session: string
  dataChannel: boolean
  /** The broadcast carries media (else data only: a relay can serve as soon as its link opens). */
  media: boolean
  bitrate: Bitrate
  /** Relay role: links to the viewers we forward to. */
  children: Map<string, Link>
  /** Viewers the broadcaster asked us to serve before our own stream arrived. */
  pending: Set<string>
}

const number = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined)

/**
 * Listens for Senders in a room, answers their offers and exposes their streams, state and
 * messages, as the `p2p` library's Receiver does. With a sender's `fanout`, a receiver also
 * relays the stream (and messages and state) to the viewers the sender places under it.
 */
export class Receiver extends TypedEventTarget<ReceiverEventMap> {
  readonly options: Readonly<ReceiverOptions>
  #id = ''
  #room = 'default'
  #credentials: unknown
  #bus?: Promise<Bus>
  #watched = new Map<string, Watched>()
  #rejected = new Set<string>()
  #attempts = 0
  #pingTimer?: ReturnType<typeof setInterval>
  #started = false

  constructor(options: ReceiverOptions) {
    super()
    checkCommon(options, 'Receiver')
    this.options = {...options}
  }

  /** This receiver's id while started ('' before), random per start. */
  get id(): string {
    return this.#id
  }

  get started(): boolean {
    return this.#started
  }

  /** Every open connection of this receiver (to whoever feeds it, and to viewers it relays to), by peer id. */
  get peers(): Map<string, RTCPeerConnection> {
    const peers = new Map<string, RTCPeerConnection>()
    for (const watched of this.#watched.values()) {
      if (watched.up?.isOpen) peers.set(watched.up.peer, watched.up.connection)
      for (const [id, link] of watched.children) if (link.isOpen) peers.set(id, link.connection)
    }
    return peers
  }

  /** The latest state of each broadcaster being watched. */
  get states(): Map<string, BroadcastState> {
    return new Map([...this.#watched].map(([id, watched]) => [id, {...watched.state}]))
  }

  /** Viewers this receiver relays each broadcaster to (with the sender's `fanout`). */
  get children(): Map<string, string[]> {
    return new Map([...this.#watched].map(([id, watched]) => [id, [...watched.children.keys()]]))
  }

  start(options: ReceiverStartOptions = {}): void {
    if (this.#started) this.stop()
    const room = roomOf(options.room)
    rtcOf(this.options)
    this.#started = true
    this.#id = newId()
    this.#room = room
    this.#credentials = options.credentials
    this.#attempts = 0
    this.#rejected.clear()
    const id = this.#id
    const bus = busFor(this.options, room, id, message => this.#error(id, new P2PError('strategy', message)))
    this.#bus = bus
    bus.then(
      bus => {
        if (this.#bus === undefined || this.#id !== id) return bus.close()
        bus.on(namespaces.receivers(room), message => this.#onMessage(message))
        bus.on(namespaces.receiver(room, id), message => this.#onMessage(message))
        this.#ping()
      },
      error => this.#error(id, error instanceof P2PError ? error : new P2PError('strategy', errorMessage(error))),
    )
    const every = (this.options.pingInterval ?? defaultPingInterval) * 1000
    this.#pingTimer = setInterval(() => {
      if ([...this.#watched.values()].some(watched => watched.up && !watched.up.isClosed)) return
      if (this.#attempts >= (this.options.pingAttempts ?? defaultPingAttempts)) return
      this.#attempts++
      this.#ping()
    }, every)
    globalThis.addEventListener?.('pagehide', this.#onPageHide)
  }

  stop(): void {
    if (!this.#started) return
    this.#started = false
    clearInterval(this.#pingTimer)
    globalThis.removeEventListener?.('pagehide', this.#onPageHide)
    const bus = this.#bus
    this.#bus = undefined
    const room = this.#room
    const from = this.#id
    const origins = [...this.#watched.keys()]
    void bus?.then(bus =>
      Promise.all(origins.map(origin => bus.emit(namespaces.sender(room, origin), {type: 'dispose', from}))).finally(
        () => bus.close(),
      ),
    )
    for (const origin of origins) this.#forget(origin, true)
  }

  #onPageHide = () => this.stop()

  #error(id: string, error: Error) {
    fire<ReceiverEventMap, 'error'>(this, 'error', {id, error})
  }

  #emit(namespace: string[], message: Omit<BusMessage, 'from'>) {
    const from = this.#id
    void this.#bus?.then(bus => bus.emit(namespace, {...message, from} as BusMessage))
  }

  /** Invites every sender of the room to offer. */
  #ping() {
    this.#emit(namespaces.senders(this.#room), {type: 'invoke', credentials: this.#credentials, fresh: true})
  }

  /** Closes everything of one broadcaster; says bye downstream when we go. */
  #forget(origin: string, bye: boolean) {
    const watched = this.#watched.get(origin)
    if (!watched) return
    this.#watched.delete(origin)
    for (const link of [watched.up, ...watched.children.values()]) {
      if (!link) continue
      if (bye) link.sendControl({t: 'bye'})
      link.close()
    }
  }

  #watch(origin: string): Watched {
    let watched = this.#watched.get(origin)
    if (!watched) {
      watched = {
        state: {},
        session: '',
        dataChannel: false,
        media: false,
        bitrate: {},
        children: new Map(),
        pending: new Set(),
      }
      this.#watched.set(origin, watched)
    }
    return watched
  }

  #onMessage(message: BusMessage) {
    if (!this.#started) return
    const from = message.from
    const origin = typeof message.origin === 'string' ? message.origin : from
    switch (message.type) {
      case 'invoke': // a sender started: ask it to offer unless it already feeds us
        if (this.#rejected.has(from) || this.#watched.get(from)?.up?.isClosed === false) return
        this.#emit(namespaces.sender(this.#room, from), {
          type: 'invoke',
          to: from,
          credentials: this.#credentials,
          fresh: true,
        })
        return
      case 'offer':
        if (typeof message.sdp === 'string' && typeof message.session === 'string' && !this.#rejected.has(origin))
          void this.#answer(from, origin, message)
        return
      case 'reject': // said once: our invites may cross the sender's and be refused twice
        if (this.#rejected.has(from)) return
        this.#rejected.add(from)
        this.#error(from, new P2PError('rejected', `sender ${from} refused this receiver (its verify said no)`, from))
        return
      case 'adopt':
      case 'drop': {
        // Tree orders come from the broadcaster itself, for its own broadcast only.
        const child = message.child
        if (origin !== from || typeof child !== 'string' || child === this.#id) return
        // An adoption can overtake the broadcaster's own offer to us: keep it until we are fed.
        const watched = message.type === 'adopt' ? this.#watch(origin) : this.#watched.get(origin)
        if (!watched) return
        if (message.type === 'drop') {
          watched.pending.delete(child)
          const link = watched.children.get(child)
          watched.children.delete(child)
          link?.sendControl({t: 'bye'})
          link?.close()
        } else if (this.#canServe(watched)) void this.#serve(origin, child)
        else watched.pending.add(child)
        return
      }
      case 'answer': {
        const link = this.#watched.get(origin)?.children.get(from)
        if (!link || typeof message.sdp !== 'string') return
        link.accept({type: 'answer', sdp: message.sdp}).then(
          () => applyBitrate(link.connection, this.#watched.get(origin)?.bitrate ?? {}).catch(() => {}),
          error => link.close(new Error(`its answer did not apply: ${errorMessage(error)}`)),
        )
        return
      }
      case 'dispose': {
        // The broadcaster stopped. A dispose of an earlier session (a replay) changes nothing.
        const watched = this.#watched.get(from)
        if (!watched || message.session !== watched.session) return
        this.#forget(from, false)
        this.#attempts = 0
      }
    }
  }

  async #answer(from: string, origin: string, message: BusMessage) {
    const watched = this.#watch(origin)
    const previous = watched.up
    const state = isState(message.state) ? {...message.state} : {}
    const bitrate = isState(message.bitrate) ? message.bitrate : {}
    watched.state = state
    watched.session = message.session as string
    watched.dataChannel = message.dataChannel === true
    watched.media = message.media !== false
    watched.bitrate = {audio: number(bitrate.audio), video: number(bitrate.video)}
    const decode = createDecoder()
    const link: Link = new Link({
      peer: from,
      origin,
      RTC: rtcOf(this.options),
      iceServers: iceServersOf(this.options),
      connectionTimeout: this.options.connectionTimeout ?? defaultConnectionTimeout,
      events: {
        open: link => {
          this.#attempts = 0
          if (!watched.media) this.#servePending(origin, watched)
          fire<ReceiverEventMap, 'connect'>(this, 'connect', {
            id: origin,
            peer: link.connection,
            state: {...watched.state},
            from,
          })
        },
        stream: (_link, stream) => {
          fire<ReceiverEventMap, 'stream'>(this, 'stream', {id: origin, stream, state: {...watched.state}, from})
          this.#servePending(origin, watched)
          for (const child of watched.children.values()) void child.replaceTracks(stream.getTracks())
        },
        channel: (_link, channel) =>
          fire<ReceiverEventMap, 'channel'>(this, 'channel', {id: origin, channel, state: {...watched.state}}),
        message: (_link, frame) => {
          const routed = decode(frame)
          if (!routed) return
          const {data, to} = routed
          if (!to) {
            for (const child of watched.children.values()) for (const out of encodeMessage(data)) child.send(out)
          } else if (to.length) {
            const next = watched.children.get(to[0]!)
            if (next) for (const out of encodeMessage(data, to.slice(1))) next.send(out)
            return
          }
          fire<ReceiverEventMap, 'message'>(this, 'message', {id: origin, message: data, state: {...watched.state}})
        },
        control: (link, control) => {
          if (control.t === 'bye') return link.close()
          if (control.t !== 'sync' || !isState(control.state)) return
          watched.state = {...control.state}
          fire<ReceiverEventMap, 'sync'>(this, 'sync', {id: origin, state: {...watched.state}})
          for (const child of watched.children.values()) child.sendControl({t: 'sync', state: watched.state})
        },
        close: (link, error) => {
          fire<ReceiverEventMap, 'dispose'>(this, 'dispose', {
            id: origin,
            peer: link.connection,
            state: {...watched.state},
            ...(error ? {error: new P2PError('peer-left', error.message, origin)} : {}),
          })
          if (!this.#started || watched.up !== link || this.#watched.get(origin) !== watched) return
          watched.up = undefined
          // Fed by a relaying viewer that went away: ask the broadcaster for a new place at once.
          // Fed by the broadcaster itself: ask it again (pings keep asking if it is gone).
          this.#emit(namespaces.sender(this.#room, origin), {
            type: 'invoke',
            to: origin,
            credentials: this.#credentials,
            fresh: true,
            ...(from !== origin ? {lost: from} : {}),
          })
        },
      },
    })
    link.session = watched.session
    watched.up = link
    if (previous && previous !== link) previous.close()
    try {
      const answer = await link.answer({type: 'offer', sdp: message.sdp as string})
      if (link.isClosed || !this.#started) return
      const to = from === origin ? namespaces.sender(this.#room, from) : namespaces.receiver(this.#room, from)
      this.#emit(to, {type: 'answer', to: from, origin, session: watched.session, sdp: answer.sdp})
    } catch (error) {
      link.close(new Error(`could not answer its offer: ${errorMessage(error)}`))
    }
  }

  /** A relay serves once it has what it forwards: the media, or for a data broadcast an open link. */
  #canServe(watched: Watched) {
    return watched.media ? !!watched.up?.stream : !!watched.up?.isOpen
  }

  #servePending(origin: string, watched: Watched) {
    for (const child of watched.pending) void this.#serve(origin, child)
    watched.pending.clear()
  }

  /** Relay role: offers the broadcaster's stream (as we receive it) and channels to `child`. */
  async #serve(origin: string, child: string) {
    const watched = this.#watched.get(origin)
    if (!watched || !this.#canServe(watched) || !this.#started) return
    const stream = watched.up?.stream
    watched.children.get(child)?.close()
    const link: Link = new Link({
      peer: child,
      origin,
      RTC: rtcOf(this.options),
      iceServers: iceServersOf(this.options),
      connectionTimeout: this.options.connectionTimeout ?? defaultConnectionTimeout,
      events: {
        open: () => {},
        stream: () => {},
        channel: () => {},
        message: () => {},
        control: (link, control) => control.t === 'bye' && link.close(),
        close: link => {
          if (watched.children.get(child) !== link) return
          watched.children.delete(child)
          if (this.#started && this.#watched.get(origin) === watched)
            this.#emit(namespaces.sender(this.#room, origin), {type: 'lost', to: origin, child})
        },
      },
    })
    link.session = watched.session
    watched.children.set(child, link)
    try {
      const offer = await link.offer(stream?.getTracks() ?? [], stream, watched.dataChannel)
      if (link.isClosed || !this.#started) return
      this.#emit(namespaces.receiver(this.#room, child), {
        type: 'offer',
        to: child,
        origin,
        session: watched.session,
        sdp: offer.sdp,
        state: watched.state,
        dataChannel: watched.dataChannel,
        media: watched.media,
        bitrate: watched.bitrate,
      })
    } catch (error) {
      link.close(new Error(`could not make an offer: ${errorMessage(error)}`))
    }
  }
}
