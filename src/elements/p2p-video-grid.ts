import {css, html, nothing} from 'lit'
import {state} from 'lit/decorators.js'
import {repeat} from 'lit/directives/repeat.js'
import {errorMessage} from '../core/errors.js'
import type {PeerId} from '../core/types.js'
import {fire} from './events.js'
import {events} from './names.js'
import type {P2PRoom} from './p2p-room.js'
import {property} from './property.js'
import {type RoomEventHandlers, RoomView} from './room-member.js'
import {sharedStyles, tokens} from './styles.js'

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
 * @tag p2p-video-grid
 *
 * @fires {CustomEvent<MediaErrorDetail>} p2p-media-error - The camera or microphone could not be used (denied, missing, busy): `{error, message, name}`.
 * @fires {CustomEvent<ErrorDetail>} p2p-error - No room was found for it (code `no-room`).
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
export class P2PVideoGrid extends RoomView {
  static override styles = [
    sharedStyles,
    css`
    [part~='grid'] {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(min(100%, var(--p2p-tile-min, 220px)), 1fr));
      gap: ${tokens.gap};
    }
    [part~='tile'] {
      position: relative;
      margin: 0;
      aspect-ratio: var(--p2p-tile-aspect, 4 / 3);
      border-radius: var(--p2p-tile-radius, ${tokens.radius});
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
      left: ${tokens.gap};
      bottom: ${tokens.gap};
      max-width: calc(100% - 2 * ${tokens.gap});
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
      top: ${tokens.gap};
      right: ${tokens.gap};
    }
    [part~='controls'] {
      display: flex;
      gap: ${tokens.gap};
      margin-top: ${tokens.gap};
    }
    button {
      font: inherit;
      padding: 0.35em 0.8em;
      border-radius: ${tokens.radius};
      border: 1px solid currentColor;
      background: transparent;
      color: inherit;
      cursor: pointer;
    }
    button[aria-pressed='false'] {
      color: ${tokens.error};
      text-decoration: line-through;
    }
    [part~='unmute'] {
      background: var(--p2p-label-background, rgb(0 0 0 / 55%));
      color: var(--p2p-label-text, #fff);
      border: 0;
    }
    [part~='empty'] {
      opacity: 0.7;
    }
  `,
  ]

  /** Ask for the microphone when the room joins, and send it. */
  @property({attribute: 'audio', type: Boolean}) audio = false
  /** Ask for the camera when the room joins, and send it. */
  @property({attribute: 'video', type: Boolean}) video = false
  /** Show this page's own camera as a tile too. */
  @property({attribute: 'show-self', type: Boolean}) showSelf = false
  /** Show this page's own tile mirrored, as people expect to see themselves. */
  @property({attribute: 'mirror-self', type: Boolean}) mirrorSelf = false
  /** A stream the page already has (camera, screen, canvas) to send instead of asking for one. */
  @property({attribute: false}) stream?: MediaStream

  @state() private message = ''
  /** Tiles whose sound the browser blocked until the user interacts. */
  @state() private blocked = new Set<string>()

  /** The stream this page sends, and whether we opened it (then we also stop it). */
  #local?: MediaStream
  #ownsLocal = false
  #acquiring = false
  #refresh = () => this.requestUpdate()

  protected override roomEvents: RoomEventHandlers = {
    'p2p-join': () => this.#onJoin(),
    'p2p-peer-join': ({detail: {peerId}}) => {
      if (this.#local) this.#share(peerId)
      this.requestUpdate()
    },
    'p2p-peer-leave': this.#refresh,
    'p2p-stream': ({detail: {stream}}) => {
      this.#watchTracks(stream)
      this.requestUpdate()
    },
    'p2p-leave': this.#refresh,
  }

  /** The stream this page sends, once there is one. Read-only. */
  get localStream(): MediaStream | undefined {
    return this.#local
  }

  override disconnectedCallback() {
    super.disconnectedCallback()
    this.#setLocal(undefined)
  }

  protected override updated(changed: Map<PropertyKey, unknown>) {
    super.updated(changed)
    if (changed.has('stream') && (this.stream || changed.get('stream'))) this.#setLocal(this.stream, false)
    else if ((changed.has('audio') || changed.has('video')) && !this.stream) void this.#acquire()
    this.#playAll()
  }

  protected override roomChanged(room: P2PRoom | undefined) {
    for (const streams of room?.streams.values() ?? []) for (const stream of streams) this.#watchTracks(stream)
    if (room?.joined) this.#onJoin()
  }

  /** A peer's stream re-renders the grid when it gains or loses a track (a tile shows while it has one). */
  #watchTracks(stream: MediaStream) {
    // The same listener added twice is kept once: no bookkeeping of which streams are watched.
    stream.addEventListener('removetrack', this.#refresh)
    stream.addEventListener('addtrack', this.#refresh)
  }

  #onJoin() {
    if (this.#local) this.#share()
    else void this.#acquire()
  }

  /** Sends our stream to one peer, or to all peers now in the room. */
  #share(peerId?: PeerId) {
    const coreRoom = this.coreRoom
    if (!coreRoom || !this.#local) return
    for (const sent of coreRoom.addStream(this.#local, peerId)) sent.catch(() => {}) // a peer that left is no error
  }

  async #acquire() {
    if (this.#local || this.#acquiring || this.stream || !(this.audio || this.video) || !this.roomElement?.joined)
      return
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
      const failure = error instanceof Error ? error : new Error(errorMessage(error))
      this.#mediaError(failure, mediaMessage(failure, what))
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
    const coreRoom = this.coreRoom
    if (old) {
      coreRoom?.removeStream(old)
      if (this.#ownsLocal) for (const track of old.getTracks()) track.stop()
    }
    this.#local = stream
    this.#ownsLocal = owned
    if (stream) this.#share()
    this.requestUpdate()
  }

  #tiles(): Tile[] {
    const room = this.roomElement
    const tiles: Tile[] = []
    if (this.showSelf && this.#local && room)
      tiles.push({key: 'self', stream: this.#local, peerId: room.selfId, self: true})
    for (const [peerId, streams] of room?.streams ?? [])
      for (const stream of streams)
        if (stream.getTracks().length) tiles.push({key: `${peerId}/${stream.id}`, stream, peerId, self: false})
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

  #tileLabel(peerId: PeerId, self: boolean) {
    if (!self) return this.label(peerId)
    const name = this.names[peerId]
    return name ? `${name} (you)` : 'You'
  }

  override render() {
    const tiles = this.#tiles()
    const audio = this.#local?.getAudioTracks() ?? []
    const video = this.#local?.getVideoTracks() ?? []
    const micOn = audio.some(track => track.enabled)
    const cameraOn = video.some(track => track.enabled)
    const room = this.roomElement
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
            <figcaption part="label">${this.#tileLabel(tile.peerId, tile.self)}</figcaption>
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
