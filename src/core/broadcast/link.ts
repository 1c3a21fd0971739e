/**
 * One media link of a broadcast: an RTCPeerConnection from an upstream node (the
 * broadcaster, or a viewer relaying it) to one downstream viewer. Media flows one way;
 * two data channels ride along:
 *
 * - `control` (negotiated, id 0): our messages: state `sync`, `bye`, and nothing of the app's;
 * - the app's channel (label = the viewer's id), only when the broadcast has `dataChannel`:
 *   `send()` messages travel on it, and the `channel` event hands it to the app.
 *
 * Offers and answers carry their ICE candidates (no trickle), sent once the kinds the config can
 * produce are in, as rooms do (../ice-gathering.ts), so a handshake costs two signaling messages.
 */
import {type GatheringNeeds, gathered, gatheringNeeds} from '../ice-gathering.js'

/** Bytes a link holds for its app channel before that channel opens. */
export const pendingLimit = 4 * 1024 * 1024

/** How long to gather ICE candidates before sending an offer or answer without the rest. */
export const iceGatheringTimeoutMs = 3000

export type Bitrate = {
  /** kbps for audio senders. */
  audio?: number
  /** kbps for video senders. */
  video?: number
  /** Video resolution divisor (1 = full size), e.g. from the size a viewer shows it at. */
  scaleResolutionDownBy?: number
}

/**
 * Applies bitrate caps (and a resolution divisor) to the senders of a connection with
 * RTCRtpSender.setParameters. Chromium enforces `maxBitrate` and reports the resulting
 * `targetBitrate` in getStats' outbound-rtp entries.
 */
export const applyBitrate = async (connection: RTCPeerConnection, bitrate: Bitrate): Promise<void> => {
  if (bitrate.audio === undefined && bitrate.video === undefined && bitrate.scaleResolutionDownBy === undefined) return
  await Promise.all(
    connection.getSenders().map(async sender => {
      const kind = sender.track?.kind
      const kbps = kind === 'audio' ? bitrate.audio : kind === 'video' ? bitrate.video : undefined
      const scale = kind === 'video' ? bitrate.scaleResolutionDownBy : undefined
      if (kbps === undefined && scale === undefined) return
      const parameters = sender.getParameters()
      if (!parameters.encodings?.length) parameters.encodings = [{}]
      for (const encoding of parameters.encodings) {
        if (kbps !== undefined) encoding.maxBitrate = Math.round(kbps * 1000)
        if (scale !== undefined) encoding.scaleResolutionDownBy = Math.max(1, scale)
      }
      await sender.setParameters(parameters)
    }),
  )
}

/** Puts the given codecs (mime types, e.g. 'video/VP8') first where the browser lets us. */
const preferCodecs = (transceiver: RTCRtpTransceiver, kind: string, codecs: readonly string[] | undefined) => {
  const capabilities = globalThis.RTCRtpSender?.getCapabilities?.(kind)?.codecs
  if (!codecs?.length || !capabilities || typeof transceiver.setCodecPreferences !== 'function') return
  const wanted = codecs.map(codec => codec.toLowerCase())
  const rank = (codec: RTCRtpCodec) => {
    const index = wanted.indexOf(codec.mimeType.toLowerCase())
    return index < 0 ? wanted.length : index
  }
  try {
    transceiver.setCodecPreferences([...capabilities].sort((a, b) => rank(a) - rank(b)))
  } catch {
    // a hint, as in the seed: browsers may refuse it
  }
}

export type LinkEvents = {
  /** The control channel opened: media and messages can flow. */
  open: (link: Link) => void
  /** The link ended (closed here, by the far side, or failed). */
  close: (link: Link, error?: Error) => void
  /** A text or binary message on the app's channel. */
  message: (link: Link, data: string | ArrayBuffer) => void
  /** A message on the control channel. */
  control: (link: Link, message: Record<string, unknown>) => void
  /** Downstream: the app's channel arrived. */
  channel: (link: Link, channel: RTCDataChannel) => void
  /** Downstream: the media arrived (all tracks negotiated together). */
  stream: (link: Link, stream: MediaStream) => void
}

export type LinkOptions = {
  /** The node at the far end. */
  peer: string
  /** The broadcaster this link carries. */
  origin: string
  RTC: typeof RTCPeerConnection
  iceServers: RTCIceServer[]
  /** Seconds to wait for the link to open. */
  connectionTimeout: number
  events: LinkEvents
}

export class Link {
  readonly connection: RTCPeerConnection
  readonly control: RTCDataChannel
  channel?: RTCDataChannel
  stream?: MediaStream
  isOpen = false
  isClosed = false
  readonly created = Date.now()
  readonly peer: string
  readonly origin: string
  /** Broadcaster session the link belongs to (a restarted broadcaster has a new one). */
  session = ''
  private readonly timer: ReturnType<typeof setTimeout>
  /** Which candidates an offer or answer waits for (the same rule as rooms, ../ice-gathering.ts). */
  private readonly needs: GatheringNeeds
  /**
   * What was sent before a channel opened: the far side may hear `open` first and the app send
   * at once, so these go out, in order, when ours opens instead of being lost.
   */
  private pendingControl: string[] = []
  private pendingData: (string | ArrayBuffer | ArrayBufferView)[] = []
  private pendingBytes = 0

  constructor(private readonly options: LinkOptions) {
    this.peer = options.peer
    this.origin = options.origin
    this.connection = new options.RTC({iceServers: options.iceServers})
    this.needs = gatheringNeeds({iceServers: options.iceServers})
    this.control = this.connection.createDataChannel('p2p-broadcast', {negotiated: true, id: 0})
    this.control.binaryType = 'arraybuffer'
    const {events} = options
    this.control.addEventListener('open', () => {
      if (this.isClosed) return
      clearTimeout(this.timer)
      this.isOpen = true
      for (const text of this.pendingControl.splice(0)) this.write(this.control, text)
      events.open(this)
    })
    this.control.addEventListener('close', () => this.close())
    this.control.addEventListener('message', event => {
      if (typeof event.data !== 'string' || event.data.length > 1_000_000) return
      try {
        const message = JSON.parse(event.data)
        if (message && typeof message === 'object') events.control(this, message)
      } catch {
        // not ours: ignore
      }
    })
    this.connection.addEventListener('connectionstatechange', () => {
      const state = this.connection.connectionState
      if (state === 'failed' || state === 'closed') this.close(new Error(`connection ${state}`))
    })
    this.connection.addEventListener('datachannel', event => this.adoptChannel(event.channel))
    this.connection.addEventListener('track', event => {
      const stream = event.streams[0] ?? this.stream ?? new MediaStream()
      if (!event.streams[0]) stream.addTrack(event.track)
      const first = !this.stream
      this.stream = stream
      // Tracks negotiated together arrive in consecutive `track` events: announce once, whole.
      if (first) setTimeout(() => !this.isClosed && events.stream(this, stream))
    })
    const seconds = options.connectionTimeout
    this.timer = setTimeout(
      () => this.close(new Error(`no connection within ${seconds} s`)),
      Math.max(0, seconds) * 1000,
    )
  }

  private adoptChannel(channel: RTCDataChannel) {
    channel.binaryType = 'arraybuffer'
    this.channel = channel
    channel.addEventListener('message', event => {
      if (typeof event.data === 'string' || event.data instanceof ArrayBuffer)
        this.options.events.message(this, event.data)
    })
    const announce = () => {
      if (this.isClosed) return
      for (const data of this.pendingData.splice(0)) this.write(channel, data)
      this.pendingBytes = 0
      this.options.events.channel(this, channel)
    }
    if (channel.readyState === 'open') announce()
    else channel.addEventListener('open', announce, {once: true})
  }

  /** Upstream: an offer sending `tracks` (and the app's channel if asked). */
  async offer(
    tracks: readonly MediaStreamTrack[],
    stream: MediaStream | undefined,
    dataChannel: boolean,
    codecs?: readonly string[],
  ): Promise<RTCSessionDescriptionInit> {
    for (const track of tracks) {
      const transceiver = this.connection.addTransceiver(track, {
        direction: 'sendonly',
        streams: stream ? [stream] : [],
      })
      preferCodecs(transceiver, track.kind, codecs)
    }
    if (dataChannel) this.adoptChannel(this.connection.createDataChannel(this.peer))
    await this.connection.setLocalDescription(await this.connection.createOffer())
    await gathered(this.connection, this.needs, iceGatheringTimeoutMs)
    return this.description()
  }

  /** Downstream: the answer to an upstream offer. */
  async answer(offer: RTCSessionDescriptionInit): Promise<RTCSessionDescriptionInit> {
    await this.connection.setRemoteDescription(offer)
    await this.connection.setLocalDescription(await this.connection.createAnswer())
    await gathered(this.connection, this.needs, iceGatheringTimeoutMs)
    return this.description()
  }

  async accept(answer: RTCSessionDescriptionInit): Promise<void> {
    if (this.connection.signalingState !== 'have-local-offer') return
    await this.connection.setRemoteDescription(answer)
  }

  /** Swaps the media a relay forwards (its own upstream changed), without renegotiating. */
  async replaceTracks(tracks: readonly MediaStreamTrack[]): Promise<void> {
    await Promise.all(
      this.connection.getTransceivers().map(transceiver => {
        const track = tracks.find(t => t.kind === transceiver.receiver.track.kind)
        return track && transceiver.sender.track !== track ? transceiver.sender.replaceTrack(track) : undefined
      }),
    )
  }

  /** Sends one of our messages; before the control channel opens it waits (false once closed). */
  sendControl(message: Record<string, unknown>): boolean {
    if (this.isClosed) return false
    const text = JSON.stringify(message)
    if (this.control.readyState === 'connecting') return (this.pendingControl.push(text), true)
    return this.write(this.control, text)
  }

  /**
   * Sends on the app's channel; before it opens the data waits (up to `pendingLimit` bytes).
   * False if it was not sent and will not be: closed, or too much waiting.
   */
  send(data: string | ArrayBuffer | ArrayBufferView): boolean {
    if (this.isClosed) return false
    const channel = this.channel
    if (channel && channel.readyState !== 'connecting') return this.write(channel, data)
    const size = typeof data === 'string' ? data.length * 3 : data.byteLength
    if (this.pendingBytes + size > pendingLimit) return false
    this.pendingBytes += size
    this.pendingData.push(data)
    return true
  }

  private write(channel: RTCDataChannel, data: string | ArrayBuffer | ArrayBufferView): boolean {
    if (channel.readyState !== 'open') return false
    try {
      channel.send(data as string)
      return true
    } catch {
      return false
    }
  }

  close(error?: Error) {
    if (this.isClosed) return
    this.isClosed = true
    this.isOpen = false
    clearTimeout(this.timer)
    this.pendingControl = []
    this.pendingData = []
    try {
      this.connection.close()
    } catch {
      // already closed
    }
    this.options.events.close(this, error)
  }

  private description(): RTCSessionDescriptionInit {
    const {type, sdp} = this.connection.localDescription!
    return {type, sdp}
  }
}
