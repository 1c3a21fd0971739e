import {LitElement, css, html, nothing} from 'lit'
import {property, state} from 'lit/decorators.js'
import type {Receiver} from '../core/broadcast/receiver.js'
import type {Sender} from '../core/broadcast/sender.js'
import type {BroadcastState, ReceiverEventMap, SenderEventMap} from '../core/broadcast/types.js'
import type {Strategy} from '../core/strategy.js'
import {defaultStrategy, loadStrategy} from './strategies.js'

export const broadcastTag = 'p2p-broadcast'

/** Every event `<p2p-broadcast>` fires: one per seed event, plus verify/start/stop/viewers. */
export const broadcastEvents = {
  connect: 'p2p-broadcast-connect',
  dispose: 'p2p-broadcast-dispose',
  error: 'p2p-broadcast-error',
  stream: 'p2p-broadcast-stream',
  message: 'p2p-broadcast-message',
  channel: 'p2p-broadcast-channel',
  sync: 'p2p-broadcast-sync',
  viewers: 'p2p-broadcast-viewers',
  verify: 'p2p-broadcast-verify',
  start: 'p2p-broadcast-start',
  stop: 'p2p-broadcast-stop',
} as const

export type BroadcastVerifyDetail = {id: string; credentials: unknown}
export type BroadcastStartDetail = {mode: 'send' | 'receive'; id: string; room: string}

export type P2PBroadcastEventMap = {
  'p2p-broadcast-connect': CustomEvent<SenderEventMap['connect'] | ReceiverEventMap['connect']>
  'p2p-broadcast-dispose': CustomEvent<SenderEventMap['dispose'] | ReceiverEventMap['dispose']>
  'p2p-broadcast-error': CustomEvent<{id: string; error: Error; message: string; code?: string}>
  'p2p-broadcast-stream': CustomEvent<ReceiverEventMap['stream']>
  'p2p-broadcast-message': CustomEvent<ReceiverEventMap['message']>
  'p2p-broadcast-channel': CustomEvent<ReceiverEventMap['channel']>
  'p2p-broadcast-sync': CustomEvent<ReceiverEventMap['sync']>
  'p2p-broadcast-viewers': CustomEvent<SenderEventMap['viewers']>
  'p2p-broadcast-verify': CustomEvent<BroadcastVerifyDetail>
  'p2p-broadcast-start': CustomEvent<BroadcastStartDetail>
  'p2p-broadcast-stop': CustomEvent<{mode: 'send' | 'receive'}>
}

/** Sender and Receiver load with the first start(), so pages that never broadcast do not pay for them. */
const loadBroadcast = () => import('../core/broadcast/index.js')

/** Seconds between a viewer's pings while it waits for a broadcaster (the seed's 30 is slow for a page). */
const defaultPingSeconds = 3

/**
 * One-to-many live media: `mode="send"` broadcasts a camera, a screen or any `stream` to
 * every viewer of the room; `mode="receive"` plays it, shows the broadcaster's state and
 * finds the broadcaster again when it restarts. Viewers never connect to each other; with
 * `fanout` they relay to a few others each, so the sender uploads at most `fanout` copies.
 * The room, strategy and relay attributes are `<p2p-room>`'s; no `<p2p-room>` is needed.
 *
 * A sender starts on `start()` (or at once with `autostart`); a receiver starts when it is
 * in the page with a `room`. `p2p-broadcast-verify` is cancelable: cancel it to refuse a
 * viewer before any media flows.
 *
 * @summary Broadcast a camera or screen to many viewers, or watch such a broadcast.
 * @tag p2p-broadcast
 *
 * @fires {CustomEvent} p2p-broadcast-start - Started sending or watching: `{mode, id, room}`.
 * @fires {CustomEvent} p2p-broadcast-stop - Stopped: `{mode}`.
 * @fires {CustomEvent} p2p-broadcast-verify - (send, cancelable) A viewer asks to watch: `{id, credentials}`; `preventDefault()` refuses it.
 * @fires {CustomEvent} p2p-broadcast-connect - A connection opened: `{id, peer}` (receive: `{id, peer, state, from}`).
 * @fires {CustomEvent} p2p-broadcast-dispose - A connection closed: `{id, peer, error?}`.
 * @fires {CustomEvent} p2p-broadcast-viewers - (send) The number of viewers changed: `{count, ids}`.
 * @fires {CustomEvent} p2p-broadcast-stream - (receive) The broadcast's media arrived: `{id, stream, state, from}`.
 * @fires {CustomEvent} p2p-broadcast-message - (receive) A message from the broadcaster: `{id, message, state}`.
 * @fires {CustomEvent} p2p-broadcast-channel - (receive) The data channel opened: `{id, channel, state}`.
 * @fires {CustomEvent} p2p-broadcast-sync - (receive) The broadcaster's state changed: `{id, state}`.
 * @fires {CustomEvent} p2p-broadcast-error - A problem that does not stop the broadcast (refused, camera denied, relay down): `{id, error, message, code?}`.
 *
 * @csspart video - The `<video>`: this page's preview (send) or the broadcast (receive).
 * @csspart status - The line saying live/offline and how many watch.
 * @csspart viewers - The viewer count (send).
 * @csspart state - The broadcaster's state as a list of key/value pairs (receive).
 * @csspart button - The start/stop button (send).
 * @csspart message - A problem, e.g. the camera was denied (role="alert").
 *
 * @cssprop [--p2p-font=inherit] - Font of every p2p element.
 * @cssprop [--p2p-tile-radius=var(--p2p-radius, 8px)] - Corner radius of the video.
 * @cssprop [--p2p-tile-background=#111827] - Video background.
 * @cssprop [--p2p-accent=#2563eb] - The button and focus rings.
 * @cssprop [--p2p-error=#dc2626] - Color of problems.
 */
export class P2PBroadcast extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font: var(--p2p-font, inherit);
    }
    video {
      display: block;
      width: 100%;
      aspect-ratio: 4 / 3;
      object-fit: contain;
      background: var(--p2p-tile-background, #111827);
      border-radius: var(--p2p-tile-radius, var(--p2p-radius, 8px));
    }
    [part='status'] {
      display: flex;
      gap: 0.75em;
      align-items: center;
      margin: 0.4em 0;
    }
    [part='button'] {
      font: inherit;
      padding: 0.3em 0.9em;
      border-radius: 999px;
      border: 1px solid var(--p2p-accent, #2563eb);
      background: var(--p2p-accent, #2563eb);
      color: #fff;
      cursor: pointer;
    }
    [part='button']:focus-visible {
      outline: 2px solid var(--p2p-accent, #2563eb);
      outline-offset: 2px;
    }
    [part='message'] {
      color: var(--p2p-error, #dc2626);
    }
    dl {
      display: grid;
      grid-template-columns: auto 1fr;
      gap: 0.1em 0.75em;
      margin: 0;
    }
    dt {
      font-weight: 600;
    }
    dd {
      margin: 0;
    }
  `

  /** `send` broadcasts; `receive` (the default) watches. */
  @property({reflect: true}) mode: 'send' | 'receive' = 'receive'
  /** What to send: `camera` (default) or `screen`; ignored when the `stream` property is set. */
  @property() source: 'camera' | 'screen' = 'camera'
  /** The room id; sender and viewers must use the same one. */
  @property({reflect: true}) room?: string
  /** A string unique to your app, sealing signaling with the room name. */
  @property({attribute: 'app-id'}) appId?: string
  /** Signaling network: nostr (default), mqtt, supabase, firebase, ipfs, local or driver (not torrent). */
  @property() strategy: string = defaultStrategy
  /** Shared secret sealing signaling; peers with another password never connect. */
  @property() password?: string
  /** Relay (broker) URLs, space-separated; replaces the strategy's defaults. */
  @property({attribute: 'relay-urls'}) relayUrls?: string
  /** How many relays to use at once. */
  @property({attribute: 'relay-redundancy', type: Number}) relayRedundancy?: number
  /** The anon key of your Supabase project (strategy="supabase"). */
  @property({attribute: 'supabase-key'}) supabaseKey?: string
  /** The database path rooms live under (strategy="firebase"). */
  @property({attribute: 'root-path'}) rootPath?: string
  /** (send) Target video bitrate, kbps. */
  @property({attribute: 'video-bitrate', type: Number}) videoBitrate?: number
  /** (send) Target audio bitrate, kbps. */
  @property({attribute: 'audio-bitrate', type: Number}) audioBitrate?: number
  /** (send) Viewer relay tree: each viewer forwards to at most this many others. */
  @property({type: Number}) fanout?: number
  /** (send) Start broadcasting as soon as the element is in the page. */
  @property({type: Boolean}) autostart = false
  /** (send) Also send the microphone (camera source) or the tab's audio (screen source). */
  @property({type: Boolean}) audio = false
  /** (receive) Seconds between pings while waiting for a broadcaster. Default 3. */
  @property({attribute: 'ping-interval', type: Number}) pingInterval?: number
  /** (receive) Credentials for the sender's verify; a string attribute, or any value as a property. */
  @property() credentials?: unknown
  /** (send) A stream to broadcast instead of the camera or screen. Property only. */
  @property({attribute: false}) stream?: MediaStream
  /** (send) The state viewers get with their offer; later changes go out with sync(). (receive) The broadcaster's latest state. */
  @property({attribute: false}) state: BroadcastState = {}
  /** Config that is not a string: a `driver`, rtcConfig/iceServers, rtcPolyfill, a firebase app... Property only. */
  @property({attribute: false}) config?: Record<string, unknown>
  /** True while sending or watching. Read-only; reflected for CSS. */
  @property({type: Boolean, reflect: true}) live = false

  /** (send) How many watch. Read-only. */
  @state() viewers = 0
  @state() private problem = ''
  @state() private media?: MediaStream

  #node?: Sender | Receiver
  #sender?: Sender
  #owned?: MediaStream
  #generation = 0

  /** The core Sender or Receiver while started. */
  get instance(): Sender | Receiver | undefined {
    return this.#node
  }

  override connectedCallback() {
    super.connectedCallback()
    if (this.mode === 'receive' || this.autostart) queueMicrotask(() => this.isConnected && void this.start())
  }

  override disconnectedCallback() {
    super.disconnectedCallback()
    this.stop()
  }

  protected override updated(changed: Map<PropertyKey, unknown>) {
    const keys = ['mode', 'room', 'appId', 'strategy', 'password', 'relayUrls', 'fanout', 'config', 'source']
    if (this.live && keys.some(key => changed.has(key) && changed.get(key) !== undefined)) {
      this.stop()
      void this.start()
    }
    if (changed.has('stream') && this.live && this.mode === 'send' && changed.get('stream') !== undefined) {
      this.stop()
      void this.start()
    }
  }

  /** Sends `data` to viewer `id`, or to all (send mode). */
  send(data: unknown, id?: string) {
    if (this.#sender) this.#sender.send(data, id)
  }

  /** Updates the state viewers see (send mode). */
  sync(state: BroadcastState, merge = false) {
    if (this.#sender) {
      this.#sender.sync(state, merge)
      this.state = this.#sender.state
    }
  }

  /** Starts sending (asks for the camera or screen) or watching. */
  async start(): Promise<void> {
    if (this.live || !this.room) return
    const generation = ++this.#generation
    this.problem = ''
    let strategy: Strategy | undefined
    let broadcast: Awaited<ReturnType<typeof loadBroadcast>>
    try {
      broadcast = await loadBroadcast()
      strategy = ((await loadStrategy(this.strategy)) as unknown as {strategy: Strategy}).strategy
    } catch (error) {
      return this.#fail('', error)
    }
    if (generation !== this.#generation) return
    const config: Record<string, unknown> = {
      ...(this.relayUrls ? {relayUrls: this.relayUrls.split(/\s+/).filter(Boolean)} : {}),
      ...(this.relayRedundancy ? {relayRedundancy: this.relayRedundancy} : {}),
      ...(this.supabaseKey ? {supabaseKey: this.supabaseKey} : {}),
      ...(this.rootPath ? {rootPath: this.rootPath} : {}),
      ...this.config,
    }
    const rtc = this.config?.rtcConfig as RTCConfiguration | undefined
    const common = {
      strategy,
      config,
      appId: this.appId,
      password: this.password,
      iceServers: (this.config?.iceServers as RTCIceServer[] | undefined) ?? rtc?.iceServers,
      rtcPolyfill: this.config?.rtcPolyfill as typeof RTCPeerConnection | undefined,
    }
    try {
      if (this.mode === 'send') {
        const stream = this.stream ?? (await this.#capture())
        if (generation !== this.#generation) return
        const sender = new broadcast.Sender({
          ...common,
          videoBitrate: this.videoBitrate,
          audioBitrate: this.audioBitrate,
          fanout: this.fanout,
          verify: (id, credentials) =>
            this.dispatchEvent(
              new CustomEvent(broadcastEvents.verify, {
                detail: {id, credentials},
                bubbles: true,
                composed: true,
                cancelable: true,
              }),
            ),
        })
        this.#forward(sender, ['connect', 'dispose', 'error', 'viewers'])
        sender.addEventListener('viewers', event => (this.viewers = event.detail.count))
        this.#node = sender
        this.#sender = sender
        this.media = stream
        sender.start({stream, room: this.room, state: this.state, dataChannel: true})
        this.#live(sender.id)
      } else {
        const receiver = new broadcast.Receiver({...common, pingInterval: this.pingInterval ?? defaultPingSeconds})
        this.#forward(receiver, ['connect', 'dispose', 'error', 'stream', 'message', 'channel', 'sync'])
        receiver.addEventListener('stream', event => {
          this.media = event.detail.stream
          this.state = event.detail.state
        })
        receiver.addEventListener('connect', event => (this.state = event.detail.state))
        receiver.addEventListener('sync', event => (this.state = event.detail.state))
        receiver.addEventListener('dispose', () => {
          if (!receiver.peers.size) this.media = undefined
        })
        this.#node = receiver
        receiver.start({room: this.room, credentials: this.credentials})
        this.#live(receiver.id)
      }
    } catch (error) {
      this.#fail('', error)
    }
  }

  /** Stops sending or watching; a camera or screen this element opened is released. */
  stop(): void {
    this.#generation++
    const node = this.#node
    this.#node = undefined
    this.#sender = undefined
    if (!node) return
    node.stop()
    for (const track of this.#owned?.getTracks() ?? []) track.stop()
    this.#owned = undefined
    this.media = undefined
    this.viewers = 0
    this.live = false
    this.dispatchEvent(
      new CustomEvent(broadcastEvents.stop, {detail: {mode: this.mode}, bubbles: true, composed: true}),
    )
  }

  #live(id: string) {
    this.live = true
    this.dispatchEvent(
      new CustomEvent(broadcastEvents.start, {
        detail: {mode: this.mode, id, room: this.room!},
        bubbles: true,
        composed: true,
      }),
    )
  }

  async #capture(): Promise<MediaStream> {
    const devices = navigator.mediaDevices
    const stream =
      this.source === 'screen'
        ? await devices.getDisplayMedia({video: true, audio: this.audio})
        : await devices.getUserMedia({video: true, audio: this.audio})
    this.#owned = stream
    return stream
  }

  #forward(node: EventTarget, names: (keyof typeof broadcastEvents)[]) {
    for (const name of names)
      node.addEventListener(name, event => {
        const detail = (event as CustomEvent).detail
        const error = detail?.error as (Error & {code?: string}) | undefined
        this.dispatchEvent(
          new CustomEvent(broadcastEvents[name], {
            detail: name === 'error' ? {...detail, message: error?.message, code: error?.code} : detail,
            bubbles: true,
            composed: true,
          }),
        )
      })
  }

  #fail(id: string, error: unknown) {
    const err = error instanceof Error ? error : new Error(String(error))
    this.problem =
      err.name === 'NotAllowedError'
        ? `Permission to use the ${this.source} was denied. Allow it in the browser's site settings, then try again.`
        : err.message
    this.dispatchEvent(
      new CustomEvent(broadcastEvents.error, {
        detail: {id, error: err, message: err.message, code: (err as {code?: string}).code},
        bubbles: true,
        composed: true,
      }),
    )
  }

  override render() {
    const sending = this.mode === 'send'
    const entries = Object.entries(this.state ?? {})
    return html`
      <video
        part="video"
        autoplay
        playsinline
        .muted=${sending}
        .srcObject=${this.media ?? null}
        aria-label=${sending ? 'Your broadcast' : 'The broadcast'}
      ></video>
      <div part="status" role="status">
        <span>${this.live ? (sending ? '● Live' : this.media ? '● Watching' : 'Waiting for the broadcast…') : 'Offline'}</span>
        ${sending ? html`<span part="viewers">${this.viewers} watching</span>` : nothing}
        ${
          sending
            ? html`<button part="button" type="button" @click=${() => (this.live ? this.stop() : void this.start())}>
              ${this.live ? 'Stop' : 'Go live'}
            </button>`
            : nothing
        }
      </div>
      ${
        !sending && entries.length
          ? html`<dl part="state">
            ${entries.map(([key, value]) => html`<dt>${key}</dt><dd>${typeof value === 'string' ? value : JSON.stringify(value)}</dd>`)}
          </dl>`
          : nothing
      }
      ${this.problem ? html`<p part="message" role="alert">${this.problem}</p>` : nothing}
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'p2p-broadcast': P2PBroadcast
  }
  interface GlobalEventHandlersEventMap extends P2PBroadcastEventMap {}
}
