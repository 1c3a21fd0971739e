import {LitElement, css, html, nothing} from 'lit'
import {property, state} from 'lit/decorators.js'
import {repeat} from 'lit/directives/repeat.js'
import type {PeerId} from '../core/types.js'
import {fire} from './events.js'
import {shortId} from './format.js'
import {attributes, events} from './names.js'
import type {P2PRoom} from './p2p-room.js'
import {RoomLink} from './room-link.js'
import {TileBitrate} from './tile-bitrate.js'

type Tile = {key: string; stream: MediaStream; peerId: PeerId; self: boolean}

/** What a failed getUserMedia means for the user, and what to do about it. */
const mediaMessage = (error: Error, what: string) =>
  error.name === 'NotAllowedError' || error.name === 'SecurityError'
    ? `Permission to use the ${what} was denied. Allow it in the browser's site settings, then reload.`
    : error.name === 'NotFoundError' || error.name === 'OverconstrainedError'
      ? `No ${what} was found. Connect one, then reload.`
      : error.name === 'NotReadableError'
        ? `The ${what} is in use by another application.`
        : `Could not start the ${what}: ${error.message}`

/**
 * A grid of video tiles: this page's camera (with `show-self`) and every stream the peers
 * of the room send, each labelled. With `video` and/or `audio` it asks for the camera and
 * microphone when the room joins and sends them to every peer, including later arrivals;
 * or give it a stream you already have in the `stream` property. Tiles come when a stream
 * arrives and go when its peer leaves or the stream ends. Remote audio plays; this page's
 * own audio never does.
 *
 * @summary Video call tiles for every peer in a room, with microphone and camera controls.
 *
 * @fires {CustomEvent<MediaErrorDetail>} p2p-media-error - The camera or microphone could not be used (denied, missing, busy): `{error, message, name}`.
 * @fires {CustomEvent<ErrorDetail>} p2p-error - No room was found for it.
 *
 * @csspart grid - The grid of tiles.
 * @csspart tile - One tile (a `<figure>`); this page's has part `tile self`.
 * @csspart self - This page's own tile.
 * @csspart video - The `<video>` of a tile.
 * @csspart label - The name under a tile.
 * @csspart unmute - The button shown on a tile whose sound the browser blocked until a click.
 * @csspart controls - The bar holding the microphone and camera buttons.
 * @csspart mic - The microphone on/off button (`aria-pressed` is true while it is on).
 * @csspart camera - The camera on/off button (`aria-pressed` is true while it is on).
 * @csspart message - A problem with the camera or microphone (role="alert").
 * @csspart empty - The text shown while there is nothing to show.
 *
 * @cssprop [--p2p-font=inherit] - Font of every p2p element.
 * @cssprop [--p2p-tile-min=220px] - Narrowest a tile gets before the grid wraps.
 * @cssprop [--p2p-tile-aspect=4 / 3] - Aspect ratio of the tiles.
 * @cssprop [--p2p-tile-radius=var(--p2p-radius, 8px)] - Corner radius of the tiles.
 * @cssprop [--p2p-tile-background=#111827] - Tile background (seen while video loads or when a peer sends audio only).
 * @cssprop [--p2p-tile-fit=cover] - `object-fit` of the videos (`contain` shows the whole frame).
 * @cssprop [--p2p-label-background=rgb(0 0 0 / 55%)] - Background of a tile's name.
 * @cssprop [--p2p-label-text=#fff] - Color of a tile's name.
 * @cssprop [--p2p-accent=#2563eb] - Focus rings.
 * @cssprop [--p2p-error=#dc2626] - Color of problem messages and of controls that are off.
 * @cssprop [--p2p-gap=0.5rem] - Space between tiles.
 */
export class P2PVideoGrid extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font: var(--p2p-font, inherit);
    }
    [part~='grid'] {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(min(100%, var(--p2p-tile-min, 220px)), 1fr));
      gap: var(--p2p-gap, 0.5rem);
    }
    [part~='tile'] {
      position: relative;
      margin: 0;
      aspect-ratio: var(--p2p-tile-aspect, 4 / 3);
      border-radius: var(--p2p-tile-radius, var(--p2p-radius, 8px));
      background: var(--p2p-tile-background, #111827);
      overflow: hidden;
    }
    video {
      width: 100%;
      height: 100%;
      object-fit: var(--p2p-tile-fit, cover);
      display: block;
    }
    .mirror video {
      transform: scaleX(-1);
    }
    [part~='label'] {
      position: absolute;
      left: var(--p2p-gap, 0.5rem);
      bottom: var(--p2p-gap, 0.5rem);
      max-width: calc(100% - 2 * var(--p2p-gap, 0.5rem));
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
      padding: 0.1em 0.5em;
      border-radius: 4px;
      font-size: 0.85em;
      background: var(--p2p-label-background, rgb(0 0 0 / 55%));
      color: var(--p2p-label-text, #fff);
    }
    [part~='unmute'] {
      position: absolute;
      top: var(--p2p-gap, 0.5rem);
      right: var(--p2p-gap, 0.5rem);
    }
    [part~='controls'] {
      display: flex;
      gap: var(--p2p-gap, 0.5rem);
      margin-top: var(--p2p-gap, 0.5rem);
    }
    button {
      font: inherit;
      padding: 0.35em 0.8em;
      border-radius: var(--p2p-radius, 8px);
      border: 1px solid currentColor;
      background: transparent;
      color: inherit;
      cursor: pointer;
    }
    button[aria-pressed='false'] {
      color: var(--p2p-error, #dc2626);
      text-decoration: line-through;
    }
    [part~='unmute'] {
      background: var(--p2p-label-background, rgb(0 0 0 / 55%));
      color: var(--p2p-label-text, #fff);
      border: 0;
    }
    button:focus-visible {
      outline: 2px solid var(--p2p-accent, #2563eb);
      outline-offset: 2px;
    }
    [part~='message'] {
      color: var(--p2p-error, #dc2626);
    }
    [part~='empty'] {
      opacity: 0.7;
    }
  `

  /** Ask for the microphone when the room joins, and send it. */
  @property({attribute: attributes.audio, type: Boolean}) audio = false
  /** Ask for the camera when the room joins, and send it. */
  @property({attribute: attributes.video, type: Boolean}) video = false
  /** Show this page's own camera as a tile too. */
  @property({attribute: attributes.showSelf, type: Boolean}) showSelf = false
  /** Show this page's own tile mirrored, as people expect to see themselves. */
  @property({attribute: attributes.mirrorSelf, type: Boolean}) mirrorSelf = false
  /** The id of the `<p2p-room>` to use when this element is not inside it. */
  @property({attribute: attributes.room, reflect: true}) room?: string
  /** A stream the page already has (camera, screen, canvas) to send instead of asking for one. */
  @property({attribute: false}) stream?: MediaStream
  /** Display names by peer id, shown on the tiles. Property only. */
  @property({attribute: false}) names: Record<PeerId, string> = {}

  @state() private message = ''
  /** Tiles whose sound the browser blocked until the user interacts. */
  @state() private blocked = new Set<string>()

  #link = new RoomLink(this, (room, previous) => this.#watch(room, previous))
  /** The stream this page sends, and whether we opened it (then we also stop it). */
  #local?: MediaStream
  #ownsLocal = false
  #acquiring = false
  #watched = new WeakSet<MediaStream>()
  #refresh = () => this.requestUpdate()
  /** Asks each peer for video sized to our tile of it, and sizes ours to theirs. */
  #tileBitrate = new TileBitrate(this)

  /** The stream this page sends, once there is one. Read-only. */
  get localStream(): MediaStream | undefined {
    return this.#local
  }

  override disconnectedCallback() {
    super.disconnectedCallback()
    this.#setLocal(undefined)
    this.#tileBitrate.disconnect()
  }

  protected override updated(changed: Map<PropertyKey, unknown>) {
    if (changed.has('room')) this.#link.relink()
    if (changed.has('stream') && (this.stream || changed.get('stream'))) this.#setLocal(this.stream, false)
    else if ((changed.has('audio') || changed.has('video')) && !this.stream) void this.#acquire()
    this.#playAll()
    this.#tileBitrate.update(this.#link.room?.instance, this.#local)
  }

  #watch(room: P2PRoom | undefined, previous: P2PRoom | undefined) {
    const handlers: [string, EventListener][] = [
      [events.join, this.#onJoin],
      [events.peerJoin, this.#onPeerJoin],
      [events.peerLeave, this.#refresh],
      [events.stream, this.#refresh],
      [events.leave, this.#refresh],
    ]
    for (const [name, handler] of handlers) {
      previous?.removeEventListener(name, handler)
      room?.addEventListener(name, handler)
    }
    if (room?.joined) this.#onJoin()
  }

  #onJoin = () => {
    if (this.#local) this.#share()
    else void this.#acquire()
  }

  #onPeerJoin = (event: Event) => {
    const {peerId} = (event as CustomEvent<{peerId: PeerId}>).detail
    if (this.#local) this.#share(peerId)
    this.requestUpdate()
  }

  /** Sends our stream to one peer, or to all peers now in the room. */
  #share(peerId?: PeerId) {
    const room = this.#link.room?.instance
    if (!room || !this.#local) return
    for (const sent of room.addStream(this.#local, peerId)) sent.catch(() => {}) // a peer that left is no error
  }

  async #acquire() {
    if (this.#local || this.#acquiring || this.stream || !(this.audio || this.video) || !this.#link.room?.joined) return
    const what = this.audio && this.video ? 'camera and microphone' : this.video ? 'camera' : 'microphone'
    if (!navigator.mediaDevices?.getUserMedia) {
      const error = Object.assign(new Error('this page cannot use media devices (it needs https or localhost)'), {
        name: 'NotSupportedError',
      })
      return this.#mediaError(
        error,
        `This page cannot use the ${what}: it must be served over https (or from localhost).`,
      )
    }
    this.#acquiring = true
    try {
      const stream = await navigator.mediaDevices.getUserMedia({audio: this.audio, video: this.video})
      if (!this.isConnected || this.stream) {
        for (const track of stream.getTracks()) track.stop()
        return
      }
      this.message = ''
      this.#setLocal(stream, true)
    } catch (error) {
      this.#mediaError(error as Error, mediaMessage(error as Error, what))
    } finally {
      this.#acquiring = false
    }
  }

  #mediaError(error: Error, message: string) {
    this.message = message
    fire(this, events.mediaError, {error, message, name: error.name})
  }

  #setLocal(stream: MediaStream | undefined, owned = false) {
    const old = this.#local
    if (old === stream) return
    const room = this.#link.room?.instance
    if (old) {
      room?.removeStream(old)
      if (this.#ownsLocal) for (const track of old.getTracks()) track.stop()
    }
    this.#local = stream
    this.#ownsLocal = owned
    if (stream) this.#share()
    this.requestUpdate()
  }

  #tiles(): Tile[] {
    const room = this.#link.room
    const tiles: Tile[] = []
    if (this.showSelf && this.#local && room)
      tiles.push({key: 'self', stream: this.#local, peerId: room.selfId, self: true})
    for (const [peerId, streams] of room?.streams ?? [])
      for (const stream of streams) {
        if (!this.#watched.has(stream)) {
          this.#watched.add(stream)
          stream.addEventListener('removetrack', this.#refresh)
          stream.addEventListener('addtrack', this.#refresh)
        }
        if (stream.getTracks().length) tiles.push({key: `${peerId}/${stream.id}`, stream, peerId, self: false})
      }
    return tiles
  }

  /** Starts every video; where the browser blocks sound until a click, plays muted and offers a button. */
  #playAll() {
    for (const video of this.renderRoot.querySelectorAll('video')) {
      if (!video.paused) continue
      video.play().catch((error: Error) => {
        if (error.name !== 'NotAllowedError' || video.muted) return
        video.muted = true
        this.blocked = new Set(this.blocked).add(video.dataset.key!)
        void video.play().catch(() => {})
      })
    }
  }

  #unmute(key: string) {
    const video = this.renderRoot.querySelector<HTMLVideoElement>(`video[data-key="${CSS.escape(key)}"]`)
    if (video) (video.muted = false), void video.play().catch(() => {})
    const blocked = new Set(this.blocked)
    blocked.delete(key)
    this.blocked = blocked
  }

  #toggle(kind: 'audio' | 'video') {
    const tracks = this.#local?.getTracks().filter(track => track.kind === kind) ?? []
    const on = !tracks.some(track => track.enabled)
    for (const track of tracks) track.enabled = on
    this.requestUpdate()
  }

  #label(peerId: PeerId, self: boolean) {
    const name = this.names[peerId] ?? (self ? 'You' : shortId(peerId))
    return self && this.names[peerId] ? `${name} (you)` : name
  }

  override render() {
    const tiles = this.#tiles()
    const audio = this.#local?.getAudioTracks() ?? []
    const video = this.#local?.getVideoTracks() ?? []
    const micOn = audio.some(track => track.enabled)
    const cameraOn = video.some(track => track.enabled)
    const room = this.#link.room
    return html`
      ${this.message ? html`<p part="message" role="alert">${this.message}</p>` : nothing}
      <div part="grid" role="group" aria-label="video">
        ${repeat(
          tiles,
          tile => tile.key,
          tile => html`<figure
            part=${tile.self ? 'tile self' : 'tile'}
            class=${tile.self && this.mirrorSelf ? 'mirror' : ''}
            data-peer=${tile.peerId}
          >
            <video
              part="video"
              data-key=${tile.key}
              autoplay
              playsinline
              .muted=${tile.self}
              .srcObject=${tile.stream}
            ></video>
            <figcaption part="label">${this.#label(tile.peerId, tile.self)}</figcaption>
            ${
              this.blocked.has(tile.key)
                ? html`<button part="unmute" type="button" @click=${() => this.#unmute(tile.key)}>🔇 Unmute</button>`
                : nothing
            }
          </figure>`,
        )}
      </div>
      ${
        tiles.length || this.message
          ? nothing
          : html`<p part="empty">${room?.joined ? 'Waiting for video from the others…' : 'Joining…'}</p>`
      }
      ${
        audio.length || video.length
          ? html`<div part="controls">
            ${
              audio.length
                ? html`<button part="mic" type="button" aria-pressed=${String(micOn)} @click=${() => this.#toggle('audio')}>
                  Microphone
                </button>`
                : nothing
            }
            ${
              video.length
                ? html`<button part="camera" type="button" aria-pressed=${String(cameraOn)} @click=${() => this.#toggle('video')}>
                  Camera
                </button>`
                : nothing
            }
          </div>`
          : nothing
      }
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'p2p-video-grid': P2PVideoGrid
  }
}
