/**
 * Bitrate that follows the tile: each page tells every peer how large it shows that peer's
 * video (device pixels), and each page sends every peer its camera scaled down to that size
 * (`scaleResolutionDownBy`) with a bitrate to match (`maxBitrate`), per peer, through
 * RTCRtpSender.setParameters. A 3×3 grid of small tiles then receives nine small streams,
 * not nine HD ones, and a peer shown full screen still gets full resolution.
 *
 * `<p2p-video-grid>` drives it with two calls (see its `updated`); the sizing rule is the
 * pure `tileEncoding`, unit-tested in Node.
 */
import type {PeerId, Room} from '../core/types.js'

/** Bits per pixel per second of the sent picture: ~0.1 bit per pixel at 30 fps, 640×480 → ~920 kbps. */
export const bitsPerPixelSecond = 3
/** No stream is capped below this (kbps): under it, motion turns to mush. */
export const minKbps = 60
/** Nor above this (kbps): more buys nothing visible in a tile. */
export const maxKbps = 2500
/** A tile must change by this fraction before peers are told again. */
const resizeThreshold = 0.15
/** Tiles settle (layout, fullscreen) before the size goes out. */
const resizeDebounceMs = 250
/** The action carrying tile sizes; one frame of a few bytes per resize. */
export const tileSizeAction = '@p2p/tile-size'

export type Size = {width: number; height: number}

/**
 * The encoding for a track of `track` size shown in a tile of `tile` size (device pixels):
 * scaled down until one side fits the tile (never up), and the bitrate of that many pixels.
 */
export const tileEncoding = (track: Size, tile: Size): {scaleResolutionDownBy: number; maxBitrate: number} => {
  const fit = Math.min(track.width / Math.max(1, tile.width), track.height / Math.max(1, tile.height))
  const scale = Number.isFinite(fit) && fit > 1 ? Math.round(fit * 100) / 100 : 1
  const pixels = (track.width / scale) * (track.height / scale)
  const kbps = Math.round((pixels * bitsPerPixelSecond) / 1000)
  return {scaleResolutionDownBy: scale, maxBitrate: Math.min(maxKbps, Math.max(minKbps, kbps)) * 1000}
}

type Host = {renderRoot: ParentNode; isConnected: boolean}

export class TileBitrate {
  /** Tile sizes peers reported for our video, by peer. */
  readonly requested = new Map<PeerId, Size>()
  #sent = new Map<PeerId, Size>()
  #observer?: ResizeObserver
  #observed = new WeakSet<Element>()
  #timer?: ReturnType<typeof setTimeout>
  #send?: (size: Size, peer: PeerId) => Promise<void>
  #room?: Room
  #local?: MediaStream

  constructor(private readonly host: Host) {}

  /** Call after each render: binds the room's action once, observes new tiles, re-applies on a new local stream. */
  update(room: Room | undefined, local: MediaStream | undefined) {
    if (room && room !== this.#room) {
      this.#room = room
      this.requested.clear()
      this.#sent.clear()
      const [send, onReceive] = room.makeAction<{width: number; height: number}>(tileSizeAction)
      this.#send = (size, peer) => send(size, peer)
      onReceive((size, peer) => {
        const width = Number(size?.width)
        const height = Number(size?.height)
        if (!(width > 0 && height > 0 && width < 100_000 && height < 100_000)) return // untrusted input
        this.requested.set(peer, {width, height})
        void this.#apply(peer)
      })
    }
    if (local !== this.#local) {
      this.#local = local
      for (const peer of this.requested.keys()) void this.#apply(peer)
    }
    if (typeof ResizeObserver === 'undefined') return
    this.#observer ??= new ResizeObserver(() => this.#schedule())
    for (const video of this.host.renderRoot.querySelectorAll<HTMLVideoElement>(
      'figure[data-peer]:not([part~="self"]) video',
    ))
      if (!this.#observed.has(video)) {
        this.#observed.add(video)
        this.#observer.observe(video)
      }
    this.#schedule()
  }

  disconnect() {
    this.#observer?.disconnect()
    this.#observer = undefined
    this.#observed = new WeakSet()
    clearTimeout(this.#timer)
  }

  #schedule() {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => this.#report(), resizeDebounceMs)
  }

  /** Tells each peer the size of the largest tile showing its video, when it changed enough. */
  #report() {
    if (!this.host.isConnected || !this.#send) return
    const ratio = globalThis.devicePixelRatio || 1
    const largest = new Map<PeerId, Size>()
    for (const figure of this.host.renderRoot.querySelectorAll<HTMLElement>('figure[data-peer]:not([part~="self"])')) {
      const video = figure.querySelector('video')
      const peer = figure.dataset.peer
      if (!video || !peer) continue
      const width = Math.round(video.clientWidth * ratio)
      const height = Math.round(video.clientHeight * ratio)
      const known = largest.get(peer)
      if (width && height && (!known || width * height > known.width * known.height)) largest.set(peer, {width, height})
    }
    for (const [peer, size] of largest) {
      const last = this.#sent.get(peer)
      if (last && Math.abs(size.width - last.width) / last.width < resizeThreshold) continue
      this.#sent.set(peer, size)
      this.#send(size, peer).catch(() => this.#sent.delete(peer)) // a peer that left: ask again if it returns
    }
  }

  /** Applies a peer's tile size to our video senders of its connection; retried while tracks negotiate. */
  async #apply(peer: PeerId, attempt = 0): Promise<void> {
    const tile = this.requested.get(peer)
    const connection = this.#room?.getPeers()[peer]
    if (!tile || !connection) return
    const senders = connection.getSenders().filter(sender => sender.track?.kind === 'video')
    if (!senders.length) {
      if (attempt < 10) setTimeout(() => void this.#apply(peer, attempt + 1), 500)
      return
    }
    for (const sender of senders) {
      const settings = sender.track!.getSettings()
      if (!settings.width || !settings.height) continue
      const {scaleResolutionDownBy, maxBitrate} = tileEncoding({width: settings.width, height: settings.height}, tile)
      const parameters = sender.getParameters()
      if (!parameters.encodings?.length) parameters.encodings = [{}]
      for (const encoding of parameters.encodings) {
        encoding.scaleResolutionDownBy = scaleResolutionDownBy
        encoding.maxBitrate = maxBitrate
      }
      await sender.setParameters(parameters).catch(() => {})
    }
  }
}
