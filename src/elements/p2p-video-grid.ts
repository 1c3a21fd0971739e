import {css, html, nothing, svg} from 'lit'
import {state} from 'lit/decorators.js'
import {repeat} from 'lit/directives/repeat.js'
import {styleMap} from 'lit/directives/style-map.js'
import {errorMessage} from '../core/errors.js'
import type {PeerId} from '../core/types.js'
import {watchSpeaking} from './audio-level.js'
import {fire} from './events.js'
import {events} from './names.js'
import type {P2PRoom} from './p2p-room.js'
import {property} from './property.js'
import {type RoomEventHandlers, RoomView} from './room-member.js'
import {sharedStyles, tokens} from './styles.js'
import {type GridLayout, gridLayout, parseAspect} from './video-layout.js'
import {TileBitrate} from './tile-bitrate.js'

type Tile = {key: string; stream: MediaStream; peerId: PeerId; self: boolean}
/** What a peer says about the stream it sends, in its presence (`media`): the grid of each page writes it. */
type MediaState = {stream?: string; audio?: boolean; video?: boolean}

/** Share of the height a pinned tile takes; the other tiles share the rest. */
const pinnedShare = 0.72

/** What a failed getUserMedia means for the user, and what to do about it. */
const mediaMessage = (error: Error, what: string) =>
  error.name === 'NotAllowedError' || error.name === 'SecurityError'
    ? `Permission to use the ${what} was denied. Allow it in the browser's site settings, then reload.`
    : error.name === 'NotFoundError' || error.name === 'OverconstrainedError'
      ? `No ${what} was found. Connect one, then reload.`
      : error.name === 'NotReadableError'
        ? `The ${what} is in use by another application.`
        : `Could not start the ${what}: ${error.message}`

const icon = (path: ReturnType<typeof svg>) =>
  html`<svg viewBox="0 0 24 24" width="1em" height="1em" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">${path}</svg>`
const icons = {
  mic: icon(svg`<rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3"/>`),
  micOff: icon(
    svg`<path d="M3 3l18 18M9 9v2a3 3 0 0 0 5 2.2M15 10V6a3 3 0 0 0-5.7-1.3M5 11a7 7 0 0 0 11.5 5.4M19 11a7 7 0 0 1-.6 2.8M12 18v3"/>`,
  ),
  camera: icon(svg`<rect x="3" y="6" width="13" height="12" rx="2"/><path d="M16 10l5-3v10l-5-3z"/>`),
  cameraOff: icon(svg`<path d="M3 3l18 18M16 16H5a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h1M10 6h4a2 2 0 0 1 2 2v4l5-3v8"/>`),
  pin: icon(svg`<path d="M9 4h6l-1 6 3 3H7l3-3zM12 16v5"/>`),
  fullscreen: icon(svg`<path d="M4 9V4h5M15 4h5v5M20 15v5h-5M9 20H4v-5"/>`),
}

/**
 * A video call: this page's camera (with `show-self`) and every stream the peers of the room
 * send, as tiles named by each peer's presence. With `video` and/or `audio` it asks for the
 * camera and microphone when the room joins and sends them to every peer, including later
 * arrivals; or give it a stream you already have in the `stream` property.
 *
 * **Layout.** The tiles keep their aspect ratio (`--p2p-tile-aspect`) and are as large as the
 * grid's box allows: its width, and a height of `--p2p-grid-max-height` (75vh by default; the
 * whole screen in fullscreen). For each column count from 1 to the number of tiles, the tile
 * size is the largest that fits both; the column count with the largest tile wins (see
 * src/elements/video-layout.ts). A pinned tile takes 72% of the height and the others share
 * the rest. The controls sit under the grid, as wide as its tiles.
 *
 * **People.** A tile is labelled with the peer's name ("You" or "Ada (you)" for this page),
 * and shows the peer's initials (or avatar, with `avatars`) on its colour while its camera is
 * off. Each page tells the others whether its microphone and camera are on (in its presence),
 * so muted and camera-off badges are the same everywhere. A tile whose audio is above about
 * -34 dBFS (a Web Audio AnalyserNode) has the `speaking` attribute and part for 400 ms after.
 *
 * @summary Video call tiles for every peer in a room, with names, speaking, pin, fullscreen and controls.
 * @tag p2p-video-grid
 *
 * @fires {CustomEvent<MediaErrorDetail>} p2p-media-error - The camera or microphone could not be used (denied, missing, busy): `{error, message, name}`.
 * @fires {CustomEvent<ErrorDetail>} p2p-error - No room was found for it (code `no-room`).
 *
 * @csspart grid - The box of tiles.
 * @csspart tile - One tile (a `<figure>` with `data-peer`); also has `self`, `speaking`, `pinned`, `camera-off` parts when they apply.
 * @csspart self - This page's own tile.
 * @csspart speaking - A tile whose audio is loud right now (the figure also has the `data-speaking` attribute).
 * @csspart pinned - The pinned (enlarged) tile.
 * @csspart camera-off - A tile whose camera is off or that has no video.
 * @csspart video - The `<video>` of a tile.
 * @csspart placeholder - What a camera-off tile shows: the peer's colour with its initials or avatar.
 * @csspart initials - The initials in a placeholder.
 * @csspart avatar - The avatar image in a placeholder (with the `avatars` attribute).
 * @csspart label - The name on a tile.
 * @csspart badges - The corner holding a tile's badges.
 * @csspart badge - One badge (also `muted-badge` or `camera-off-badge`).
 * @csspart muted-badge - Shown while the peer's microphone is off.
 * @csspart camera-off-badge - Shown while the peer's camera is off.
 * @csspart pin - The pin/unpin button of a tile (`aria-pressed`).
 * @csspart unmute - The button shown on a tile whose sound the browser blocked until a click.
 * @csspart controls - The bar under the grid holding the buttons.
 * @csspart mic - The microphone on/off button (`aria-pressed` is true while it is on).
 * @csspart camera - The camera on/off button (`aria-pressed` is true while it is on).
 * @csspart fullscreen - The fullscreen button.
 * @csspart message - A problem with the camera or microphone (role="alert").
 * @csspart empty - The text shown while there is nothing to show.
 *
 * @cssprop [--p2p-tile-aspect=16 / 9] - Aspect ratio of the tiles (`4 / 3`, `1`...).
 * @cssprop [--p2p-grid-max-height=75vh] - Height the tiles may take (the width is the element's).
 * @cssprop [--p2p-tile-radius=var(--p2p-radius, 8px)] - Corner radius of the tiles.
 * @cssprop [--p2p-tile-background=#111827] - Tile background (while video loads).
 * @cssprop [--p2p-tile-fit=cover] - `object-fit` of the videos (`contain` shows the whole frame).
 * @cssprop [--p2p-label-background=rgb(0 0 0 / 62%)] - Background of a tile's name and badges.
 * @cssprop [--p2p-label-text=#fff] - Color of a tile's name and badges.
 * @cssprop [--p2p-speaking-color=#22c55e] - The ring around a speaking tile.
 * @cssprop [--p2p-accent=light-dark(#2454d6, #7aa7ff)] - Buttons that are on, and focus rings.
 * @cssprop [--p2p-accent-text=light-dark(#fff, #0b1220)] - Text on those buttons.
 * @cssprop [--p2p-border=light-dark(#d1d5db, #3b4656)] - Outline of buttons that are off.
 * @cssprop [--p2p-error=light-dark(#b91c1c, #fca5a5)] - Color of problem messages and of controls that are off.
 * @cssprop [--p2p-gap=0.5rem] - Space between tiles.
 * @cssprop [--p2p-font=inherit] - Font of every p2p element.
 */
export class P2PVideoGrid extends RoomView {
  static override styles = [
    sharedStyles,
    css`
    :host {
      position: relative;
      --p2p-tile-aspect: 16 / 9;
    }
    :host(:fullscreen) {
      background: ${tokens.background};
      padding: ${tokens.gap};
      box-sizing: border-box;
    }
    .probe {
      position: absolute;
      top: 0;
      width: 0;
      visibility: hidden;
      pointer-events: none;
      height: var(--p2p-grid-max-height, 75vh);
    }
    [part~='grid'] {
      display: flex;
      flex-wrap: wrap;
      justify-content: center;
      align-content: flex-start;
      gap: ${tokens.gap};
      width: 100%;
    }
    .break {
      flex-basis: 100%;
      height: 0;
    }
    [part~='tile'] {
      position: relative;
      margin: 0;
      aspect-ratio: var(--p2p-tile-aspect);
      width: 100%;
      box-sizing: border-box;
      border-radius: var(--p2p-tile-radius, ${tokens.radius});
      background: var(--p2p-tile-background, #111827);
      overflow: hidden;
      transition: box-shadow 120ms ease-out;
    }
    [part~='tile'][data-speaking] {
      box-shadow:
        0 0 0 3px var(--p2p-speaking-color, #22c55e),
        0 0 12px 2px color-mix(in srgb, var(--p2p-speaking-color, #22c55e) 55%, transparent);
    }
    video {
      width: 100%;
      height: 100%;
      object-fit: var(--p2p-tile-fit, cover);
      display: block;
    }
    [part~='camera-off'] video {
      visibility: hidden;
    }
    .mirror video {
      transform: scaleX(-1);
    }
    [part~='placeholder'] {
      position: absolute;
      inset: 0;
      display: grid;
      place-items: center;
      background: var(--peer-color);
    }
    [part~='initials'] {
      display: grid;
      place-items: center;
      width: min(40%, 9rem);
      aspect-ratio: 1;
      border-radius: 50%;
      background: rgb(0 0 0 / 22%);
      color: var(--peer-ink, #fff);
      font-size: clamp(1rem, 6cqi, 3rem);
      font-weight: 600;
      letter-spacing: 0.02em;
    }
    [part~='tile'] {
      container-type: inline-size;
    }
    [part~='avatar'] {
      width: min(40%, 9rem);
      aspect-ratio: 1;
      border-radius: 50%;
      object-fit: cover;
    }
    [part~='label'],
    [part~='badge'],
    [part~='pin'],
    [part~='unmute'] {
      background: var(--p2p-label-background, rgb(0 0 0 / 62%));
      color: var(--p2p-label-text, #fff);
      border-radius: 6px;
      font-size: 0.85em;
      line-height: 1.5;
    }
    [part~='label'] {
      position: absolute;
      left: ${tokens.gap};
      bottom: ${tokens.gap};
      max-width: calc(100% - 5.5em);
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
      padding: 0.1em 0.55em;
    }
    [part~='label']::before {
      content: '';
      display: inline-block;
      width: 0.6em;
      height: 0.6em;
      margin-right: 0.4em;
      border-radius: 50%;
      background: var(--peer-color);
      box-shadow: 0 0 0 1px rgb(255 255 255 / 70%);
    }
    [part~='badges'] {
      position: absolute;
      right: ${tokens.gap};
      bottom: ${tokens.gap};
      display: flex;
      gap: 0.25em;
    }
    [part~='badge'] {
      display: grid;
      place-items: center;
      padding: 0.25em;
    }
    [part~='pin'] {
      position: absolute;
      top: ${tokens.gap};
      right: ${tokens.gap};
      border: 0;
      padding: 0.3em;
      display: grid;
      place-items: center;
      opacity: 0;
      transition: opacity 120ms;
    }
    [part~='tile']:hover [part~='pin'],
    [part~='pin']:focus-visible,
    [part~='pin'][aria-pressed='true'] {
      opacity: 1;
    }
    [part~='unmute'] {
      position: absolute;
      top: ${tokens.gap};
      left: ${tokens.gap};
      border: 0;
      padding: 0.2em 0.6em;
    }
    [part~='controls'] {
      display: flex;
      flex-wrap: wrap;
      min-width: fit-content;
      box-sizing: border-box;
      justify-content: center;
      gap: ${tokens.gap};
      margin: calc(${tokens.gap} * 1.5) auto 0;
      max-width: 100%;
    }
    [part~='controls'] button {
      display: inline-flex;
      align-items: center;
      gap: 0.45em;
      padding: 0.45em 1em;
      border: 0;
      border-radius: 999px;
      background: ${tokens.accent};
      color: ${tokens.accentText};
    }
    [part~='controls'] button[aria-pressed='false'] {
      background: transparent;
      color: ${tokens.error};
      box-shadow: inset 0 0 0 1.5px currentColor;
    }
    [part~='fullscreen'] {
      margin-left: auto;
    }
    [part~='controls'] [part~='fullscreen'] {
      background: transparent;
      color: ${tokens.text};
      box-shadow: inset 0 0 0 1px ${tokens.border};
    }
    [part~='empty'] {
      color: ${tokens.muted};
      text-align: center;
    }
    .sr-only {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip-path: inset(50%);
      white-space: nowrap;
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
  /** The peer id whose tile is enlarged (this page's own id for its tile); click a tile's pin button to set it. */
  @property({attribute: 'pinned', reflect: true}) pinned?: string
  /**
   * Show a peer's `avatar` (an https: URL from its presence) on its camera-off tile. Off by
   * default: loading a URL a peer chose tells that server this page's address.
   */
  @property({attribute: 'avatars', type: Boolean}) avatars = false
  /** A stream the page already has (camera, screen, canvas) to send instead of asking for one. */
  @property({attribute: false}) stream?: MediaStream

  @state() private message = ''
  /** Tiles whose sound the browser blocked until the user interacts. */
  @state() private blocked = new Set<string>()
  /** Tiles speaking now, by tile key. */
  @state() private speaking = new Set<string>()
  /** The box the tiles may fill, as last measured. */
  @state() private box = {width: 0, height: 0, gap: 8, aspect: 16 / 9}

  /** The stream this page sends, and whether we opened it (then we also stop it). */
  #local?: MediaStream
  #ownsLocal = false
  #acquiring = false
  #refresh = () => this.requestUpdate()
  #levels = new Map<string, {stream: MediaStream; stop: () => void}>()
  #resize?: ResizeObserver
  /** Asks each peer for video sized to our tile of it, and sizes ours to theirs. */
  #tileBitrate = new TileBitrate(this)

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

  /** The current layout of the tiles (columns, rows, tile size in CSS pixels). Read-only. */
  get layout(): GridLayout {
    return this.#layout(this.#tiles().length, undefined)
  }

  override connectedCallback() {
    super.connectedCallback()
    document.addEventListener('fullscreenchange', this.#refresh)
  }

  override disconnectedCallback() {
    super.disconnectedCallback()
    document.removeEventListener('fullscreenchange', this.#refresh)
    this.#resize?.disconnect()
    this.#resize = undefined
    for (const {stop} of this.#levels.values()) stop()
    this.#levels.clear()
    this.#setLocal(undefined)
    this.#tileBitrate.disconnect()
  }

  protected override firstUpdated() {
    this.#resize = new ResizeObserver(() => this.#measure())
    for (const target of [this, this.renderRoot.querySelector('.probe')!]) this.#resize.observe(target)
  }

  protected override updated(changed: Map<PropertyKey, unknown>) {
    super.updated(changed)
    if (changed.has('stream') && (this.stream || changed.get('stream'))) this.#setLocal(this.stream, false)
    else if ((changed.has('audio') || changed.has('video')) && !this.stream) void this.#acquire()
    this.#playAll()
    this.#watchLevels()
    if (!this.#resize && this.isConnected) this.firstUpdated()
    this.#tileBitrate.update(this.roomElement?.coreRoom, this.#local)
  }

  protected override roomChanged(room: P2PRoom | undefined, previous: P2PRoom | undefined) {
    previous?.setPresenceField('media', undefined)
    for (const streams of room?.streams.values() ?? []) for (const stream of streams) this.#watchTracks(stream)
    if (room?.joined) this.#onJoin()
    this.#publishMedia()
  }

  /** Reads the box the tiles may fill: the element's width, and the probe's height (or the screen in fullscreen). */
  #measure() {
    const probe = this.renderRoot.querySelector<HTMLElement>('.probe')
    const controls = this.renderRoot.querySelector<HTMLElement>('[part~=controls]')
    const style = getComputedStyle(this)
    const gap = Number.parseFloat(getComputedStyle(this.renderRoot.querySelector('[part~=grid]')!).columnGap) || 0
    const fullscreen = document.fullscreenElement === this
    const inner =
      this.clientWidth - (Number.parseFloat(style.paddingLeft) || 0) - (Number.parseFloat(style.paddingRight) || 0)
    const height = fullscreen
      ? this.clientHeight - (controls?.offsetHeight ?? 0) - 3 * gap - (Number.parseFloat(style.paddingTop) || 0) * 2
      : (probe?.offsetHeight ?? 0)
    const box = {width: inner, height, gap, aspect: parseAspect(style.getPropertyValue('--p2p-tile-aspect'), 16 / 9)}
    const old = this.box
    if (old.width !== box.width || old.height !== box.height || old.gap !== box.gap || old.aspect !== box.aspect)
      this.box = box
  }

  /** The layout for `count` tiles; with a pinned tile, `pinned` asks for the pinned tile's own and `false` for the others'. */
  #layout(count: number, pinned: boolean | undefined): GridLayout {
    const {width, height, gap, aspect} = this.box
    if (pinned === undefined) return gridLayout(count, width, height, aspect, gap)
    const big = gridLayout(1, width, height * pinnedShare, aspect, gap)
    if (pinned) return big
    return gridLayout(count, width, Math.max(0, height - big.tileHeight - gap), aspect, gap)
  }

  /** A peer's stream re-renders the grid when it gains or loses a track (a tile shows while it has one). */
  #watchTracks(stream: MediaStream) {
    // The same listener added twice is kept once: no bookkeeping of which streams are watched.
    stream.addEventListener('removetrack', this.#refresh)
    stream.addEventListener('addtrack', this.#refresh)
  }

  /** One audio-level watcher per tile with audio; gone with its tile. */
  #watchLevels() {
    const tiles = new Map(this.#tiles().map(tile => [tile.key, tile]))
    for (const [key, watcher] of this.#levels) {
      const tile = tiles.get(key)
      if (tile && tile.stream === watcher.stream && tile.stream.getAudioTracks().length) continue
      watcher.stop()
      this.#levels.delete(key)
      if (this.speaking.has(key)) this.#setSpeaking(key, false)
    }
    for (const [key, tile] of tiles) {
      if (this.#levels.has(key) || !tile.stream.getAudioTracks().length) continue
      this.#levels.set(key, {stream: tile.stream, stop: watchSpeaking(tile.stream, on => this.#setSpeaking(key, on))})
    }
  }

  #setSpeaking(key: string, on: boolean) {
    const speaking = new Set(this.speaking)
    if (on) speaking.add(key)
    else speaking.delete(key)
    this.speaking = speaking
  }

  #onJoin() {
    if (this.#local) this.#share()
    else void this.#acquire()
    this.#publishMedia()
  }

  /** Sends our stream to one peer, or to all peers now in the room. */
  #share(peerId?: PeerId) {
    const coreRoom = this.coreRoom
    if (!coreRoom || !this.#local) return
    for (const sent of coreRoom.addStream(this.#local, peerId)) sent.catch(() => {}) // a peer that left is no error
  }

  /** Tells the others (in our presence) whether our microphone and camera are on, so their badges match. */
  #publishMedia() {
    const local = this.#local
    const media: MediaState | undefined = local && {
      stream: local.id,
      audio: local.getAudioTracks().some(track => track.enabled),
      video: local.getVideoTracks().some(track => track.enabled),
    }
    this.roomElement?.setPresenceField('media', media)
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
    this.#publishMedia()
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

  /** Whether a tile's microphone and camera are on: our own tracks for our tile, the peer's word (presence) for theirs. */
  #mediaOf(tile: Tile): {audio: boolean; video: boolean} {
    const hasVideo = tile.stream.getVideoTracks().length > 0
    if (tile.self)
      return {
        audio: tile.stream.getAudioTracks().some(track => track.enabled),
        video: tile.stream.getVideoTracks().some(track => track.enabled),
      }
    const said = this.roomElement?.presences.get(tile.peerId)?.media as MediaState | undefined
    const about = said && typeof said === 'object' && said.stream === tile.stream.id ? said : undefined
    return {audio: about?.audio !== false, video: hasVideo && about?.video !== false}
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
    this.#publishMedia()
    this.requestUpdate()
  }

  #togglePin(peerId: PeerId) {
    this.pinned = this.pinned === peerId ? undefined : peerId
  }

  #toggleFullscreen() {
    if (document.fullscreenElement === this) void document.exitFullscreen().catch(() => {})
    else void this.requestFullscreen?.().catch(() => {})
  }

  #tile(tile: Tile, size: GridLayout | undefined, pinned: boolean) {
    const who = this.describe(tile.peerId)
    const media = this.#mediaOf(tile)
    const speaking = this.speaking.has(tile.key)
    const parts = [
      'tile',
      tile.self && 'self',
      speaking && 'speaking',
      pinned && 'pinned',
      !media.video && 'camera-off',
    ]
    const style = {
      '--peer-color': who.color,
      '--peer-ink': who.ink,
      ...(size?.tileWidth ? {width: `${size.tileWidth}px`} : {}),
    }
    const avatar = this.avatars ? who.avatar : undefined
    return html`<figure
      part=${parts.filter(Boolean).join(' ')}
      class=${tile.self && this.mirrorSelf ? 'mirror' : ''}
      data-peer=${tile.peerId}
      data-key=${tile.key}
      ?data-speaking=${speaking}
      ?data-pinned=${pinned}
      style=${styleMap(style)}
      @dblclick=${() => this.#togglePin(tile.peerId)}
    >
      <video part="video" data-key=${tile.key} autoplay playsinline .muted=${tile.self} .srcObject=${tile.stream}></video>
      ${
        media.video
          ? nothing
          : html`<div part="placeholder">
            ${
              avatar
                ? html`<img part="avatar" src=${avatar} alt="" referrerpolicy="no-referrer" />`
                : html`<span part="initials" aria-hidden="true">${who.initials}</span>`
            }
          </div>`
      }
      <figcaption part="label">${who.display}</figcaption>
      <span part="badges">
        ${media.audio ? nothing : html`<span part="badge muted-badge" role="img" aria-label="microphone off" title="Microphone off">${icons.micOff}</span>`}
        ${media.video ? nothing : html`<span part="badge camera-off-badge" role="img" aria-label="camera off" title="Camera off">${icons.cameraOff}</span>`}
      </span>
      <button
        part="pin"
        type="button"
        aria-pressed=${String(pinned)}
        aria-label=${`${pinned ? 'Unpin' : 'Pin'} ${who.display}`}
        title=${pinned ? 'Unpin' : 'Pin (enlarge)'}
        @click=${() => this.#togglePin(tile.peerId)}
      >${icons.pin}</button>
      ${
        this.blocked.has(tile.key)
          ? html`<button part="unmute" type="button" @click=${() => this.#unmute(tile.key)}>Unmute</button>`
          : nothing
      }
    </figure>`
  }

  override render() {
    const tiles = this.#tiles()
    const audio = this.#local?.getAudioTracks() ?? []
    const video = this.#local?.getVideoTracks() ?? []
    const micOn = audio.some(track => track.enabled)
    const cameraOn = video.some(track => track.enabled)
    const room = this.roomElement
    const pinnedTile = this.pinned ? tiles.find(tile => tile.peerId === this.pinned) : undefined
    const rest = pinnedTile ? tiles.filter(tile => tile !== pinnedTile) : tiles
    const big = pinnedTile ? this.#layout(1, true) : undefined
    const layout = this.box.width ? this.#layout(rest.length, pinnedTile ? false : undefined) : undefined
    const rowWidth = layout?.tileWidth
      ? Math.max(
          big?.tileWidth ?? 0,
          Math.min(rest.length, layout.columns) * layout.tileWidth +
            (Math.min(rest.length, layout.columns) - 1) * this.box.gap,
        )
      : undefined
    return html`
      <div class="probe" aria-hidden="true"></div>
      ${this.message ? html`<p part="message" role="alert">${this.message}</p>` : nothing}
      <div part="grid" role="group" aria-label="video" data-columns=${layout?.columns ?? 0}>
        ${pinnedTile ? html`${this.#tile(pinnedTile, big, true)}<div class="break"></div>` : nothing}
        ${repeat(
          rest,
          tile => tile.key,
          tile => this.#tile(tile, layout, false),
        )}
      </div>
      ${
        tiles.length || this.message
          ? nothing
          : html`<p part="empty">${room?.joined ? 'Waiting for video from the others…' : 'Joining…'}</p>`
      }
      ${
        audio.length || video.length || tiles.length
          ? html`<div part="controls" role="toolbar" aria-label="call controls" style=${styleMap(rowWidth ? {width: `${rowWidth}px`} : {})}>
            ${
              audio.length
                ? html`<button part="mic" type="button" aria-pressed=${String(micOn)} @click=${() => this.#toggle('audio')}>
                  ${micOn ? icons.mic : icons.micOff} Microphone
                </button>`
                : nothing
            }
            ${
              video.length
                ? html`<button part="camera" type="button" aria-pressed=${String(cameraOn)} @click=${() => this.#toggle('video')}>
                  ${cameraOn ? icons.camera : icons.cameraOff} Camera
                </button>`
                : nothing
            }
            ${
              tiles.length && document.fullscreenEnabled
                ? html`<button part="fullscreen" type="button" @click=${() => this.#toggleFullscreen()}>
                  ${icons.fullscreen} ${document.fullscreenElement === this ? 'Exit full screen' : 'Full screen'}
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
