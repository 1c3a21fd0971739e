import {answerSettleMs, gathered, gatheringNeeds, type GatheringNeeds} from './ice-gathering.js'
import type {PreparedOffer} from './offer-ahead.js'
import {createOutbox, type Outbox} from './outbox.js'
import {
  FrameType,
  MalformedFrame,
  decodeFrame,
  encodeControl,
  encodeKeepalive,
  type ControlMessage,
  type Frame,
} from './frame.js'
import type {PeerId} from './types.js'

/** The data channel every peer connection has: negotiated on both sides with a fixed id. */
export const channelLabel = 'p2p-elements'
export const channelInit: RTCDataChannelInit = {negotiated: true, id: 0}

/** Largest frame we write: 64 KiB did best in our throughput runs and fits every browser's SCTP limit. */
export const maxFrameSize = 64 * 1024

export type PeerEvents = {
  open: (peer: Peer) => void
  close: (peer: Peer, reason: string) => void
  frame: (peer: Peer, frame: Frame) => void
  track: (peer: Peer, event: RTCTrackEvent) => void
  control: (peer: Peer, message: ControlMessage) => void
  problem: (peer: Peer, message: string) => void
  /**
   * An ICE-restart offer (with its candidates) for a peer whose path is down, so the data
   * channel cannot carry it: send it through signaling. False if that was not possible.
   */
  restart?: (peer: Peer, offer: RTCSessionDescriptionInit) => boolean
  /** Offers and answers were exchanged, but ICE never found a path between the two. */
  iceFailed?: (peer: Peer) => void
}

/** A `disconnected` connection often recovers by itself within a second or two; after this we restart ICE. */
export const disconnectedGraceMs = 2_000
/** An ICE restart that has not reconnected by then is tried again (new credentials, fresh candidates). */
export const restartRetryMs = 5_000
/** How long a restart offer or answer sent through signaling waits for its candidates. */
export const restartGatheringMs = 2_000

const pathUp = (state: RTCIceConnectionState) => state === 'connected' || state === 'completed'

/**
 * One remote peer: its RTCPeerConnection and the single data channel all actions share.
 *
 * The first offer and answer travel through the signaling strategy (sealed, with their ICE
 * candidates, ./ice-gathering.ts, so a handshake costs two relay messages). Once the channel is
 * open, renegotiation for media runs over the channel itself with "perfect negotiation":
 * the peer with the smaller id is polite and yields on glare. Relays are then no longer
 * needed; peers stay connected if every relay goes down.
 */
/** Close reason of a peer whose far side said goodbye: it left the room, nothing it had under way comes back. */
export const goodbyeReason = 'it left the room'

export class Peer {
  readonly connection: RTCPeerConnection
  readonly channel: RTCDataChannel
  readonly outbox: Outbox
  isOpen = false
  /** Set by the room once the channel opened: only such peers are announced as leaving. */
  everOpened = false
  isClosed = false
  lastHeard = Date.now()
  lastSent = Date.now()
  /** Payload bytes per chunk frame for this connection. */
  frameSize = maxFrameSize

  /** ICE reached `connected` at least once (so a later failure is a broken path, not a missing one). */
  everConnected = false
  /** ICE restarts started since the path went down; 0 while it is up. */
  restarts = 0

  private expiry: ReturnType<typeof setTimeout> | undefined
  private recovery: ReturnType<typeof setTimeout> | undefined
  private makingOffer = false
  private ignoreOffer = false
  private controlChain = Promise.resolve()
  private readonly needs: GatheringNeeds
  /** A connection whose offer was made ahead (./offer-ahead.ts): `createOffer` sends it. */
  private prepared: PreparedOffer | undefined

  constructor(
    readonly id: PeerId,
    readonly polite: boolean,
    RTC: typeof RTCPeerConnection,
    config: RTCConfiguration,
    private readonly events: PeerEvents,
    prepared?: PreparedOffer,
  ) {
    this.prepared = prepared
    this.connection = prepared?.connection ?? new RTC(config)
    this.needs = gatheringNeeds(config)
    // Negotiated on both sides with a fixed id: no in-band open handshake, no second round trip.
    this.channel = prepared?.channel ?? this.connection.createDataChannel(channelLabel, channelInit)
    this.channel.binaryType = 'arraybuffer'
    this.outbox = createOutbox(this.channel, () => (this.lastSent = Date.now()))

    this.channel.addEventListener('open', () => {
      if (this.isClosed) return
      clearTimeout(this.expiry)
      this.isOpen = true
      const limit = (this.connection as {sctp?: {maxMessageSize?: number} | null}).sctp?.maxMessageSize
      if (limit && limit > 0) this.frameSize = Math.min(maxFrameSize, limit)
      events.open(this)
    })
    this.channel.addEventListener('close', () => this.close('its data channel closed'))
    this.channel.addEventListener('message', event => this.receive(event.data))
    this.connection.addEventListener('iceconnectionstatechange', () => this.onPathChange())
    this.connection.addEventListener('connectionstatechange', () => {
      const state = this.connection.connectionState
      if (state === 'closed') this.close('its connection closed')
      else if (state === 'failed' && !this.everConnected) this.failedToConnect()
      else this.onPathChange()
    })
    this.connection.addEventListener('track', event => events.track(this, event as RTCTrackEvent))
    this.connection.addEventListener('negotiationneeded', () => void this.renegotiate())
    this.connection.addEventListener('icecandidate', event => {
      const candidate = (event as RTCPeerConnectionIceEvent).candidate
      if (this.isOpen && candidate) this.sendControl({t: 'ice', candidate: candidate.toJSON()})
    })
  }

  /** Closes this peer unless its channel opens within `ms` (a handshake that went nowhere). */
  expireUnlessOpen(ms: number): void {
    this.expiry = setTimeout(() => {
      if (this.exchanged() && !this.everConnected) this.failedToConnect()
      else this.close(`no connection within ${ms} ms`)
    }, ms)
  }

  /**
   * Restarts ICE now (after a network change the app knows of; the peer also does this by
   * itself when its path goes down). The peer, its channel, pending sends and streams stay.
   */
  restartIce(): void {
    if (this.isClosed || !this.isOpen) return
    this.restarts++
    clearTimeout(this.recovery)
    // Not reconnected in time: try again, with fresh credentials and candidates.
    this.recovery = setTimeout(() => this.recover(), restartRetryMs)
    // Only the impolite side offers restarts through signaling, so two never cross; over a
    // working channel either may (perfect negotiation settles a crossing there).
    if (!this.polite || pathUp(this.connection.iceConnectionState)) void this.restartNow()
  }

  /** Responder side of a restart offer that came through signaling: the answer, with candidates. */
  acceptRestart(
    offer: RTCSessionDescriptionInit,
    gatherMs = restartGatheringMs,
  ): Promise<RTCSessionDescriptionInit | undefined> {
    const answer = this.controlChain.then(async () => {
      if (this.isClosed || offer.type !== 'offer') return undefined
      try {
        await this.connection.setRemoteDescription(offer) // rolls back a crossing offer of ours
        await this.connection.setLocalDescription()
        await gathered(this.connection, this.needs, gatherMs, true)
        return this.localDescription()
      } catch (error) {
        this.events.problem(this, `its ICE restart offer did not apply: ${error}`)
        return undefined
      }
    })
    this.controlChain = answer.then(() => {})
    return answer
  }

  /** Initiator side: the answer to our restart offer, through signaling. */
  acceptRestartAnswer(answer: RTCSessionDescriptionInit): void {
    this.controlChain = this.controlChain.then(async () => {
      if (this.isClosed || answer.type !== 'answer' || this.connection.signalingState !== 'have-local-offer') return
      try {
        await this.connection.setRemoteDescription(answer)
      } catch (error) {
        this.events.problem(this, `its ICE restart answer did not apply: ${error}`)
      }
    })
  }

  /** Offers and answers went both ways (ICE had everything it needed to try). */
  private exchanged(): boolean {
    return !!this.connection.remoteDescription && !!this.connection.localDescription
  }

  private failedToConnect(): void {
    if (this.isClosed) return
    this.events.iceFailed?.(this)
    this.close('no network path was found (ICE failed)')
  }

  /** ICE state changed: note a path that is up, and recover one that went down on an open peer. */
  private onPathChange(): void {
    if (this.isClosed) return
    const state = this.connection.iceConnectionState
    if (pathUp(state)) {
      this.everConnected = true
      this.restarts = 0
      clearTimeout(this.recovery)
      this.recovery = undefined
      return
    }
    if (!this.isOpen || this.recovery) return
    if (state === 'failed') this.recover()
    else if (state === 'disconnected') this.recovery = setTimeout(() => this.recover(), disconnectedGraceMs)
  }

  private recover(): void {
    this.recovery = undefined
    if (this.isClosed || pathUp(this.connection.iceConnectionState)) return
    this.restartIce()
  }

  /** Rolls back a restart offer still waiting for its answer, then asks for a fresh one. */
  private async restartNow(): Promise<void> {
    try {
      if (this.connection.signalingState === 'have-local-offer')
        await this.connection.setLocalDescription({type: 'rollback'})
      // negotiationneeded follows: renegotiate() sends the offer by the way that still works.
      this.connection.restartIce()
    } catch (error) {
      this.events.problem(this, `could not restart ICE: ${error}`)
    }
  }

  /** Initiator: an offer carrying its candidates (./ice-gathering.ts), within `gatherMs` at most. */
  async createOffer(gatherMs: number): Promise<RTCSessionDescriptionInit> {
    const prepared = this.prepared
    this.prepared = undefined
    if (prepared) {
      await prepared.ready
      return this.localDescription()
    }
    await this.connection.setLocalDescription(await this.connection.createOffer())
    await gathered(this.connection, this.needs, gatherMs)
    return this.localDescription()
  }

  /** Responder: take the offer, return an answer carrying its candidates. */
  async acceptOffer(offer: RTCSessionDescriptionInit, gatherMs: number): Promise<RTCSessionDescriptionInit> {
    await this.connection.setRemoteDescription(offer)
    await this.connection.setLocalDescription(await this.connection.createAnswer())
    await gathered(this.connection, this.needs, gatherMs, false, answerSettleMs)
    return this.localDescription()
  }

  async acceptAnswer(answer: RTCSessionDescriptionInit): Promise<void> {
    if (this.connection.signalingState !== 'have-local-offer') return
    await this.connection.setRemoteDescription(answer)
  }

  /** Writes a frame now, ahead of queued chunks (acks, pings, control are small and urgent). */
  send(frame: Uint8Array): boolean {
    if (!this.isOpen || this.channel.readyState !== 'open') return false
    try {
      this.channel.send(frame as Uint8Array<ArrayBuffer>)
      this.lastSent = Date.now()
      return true
    } catch {
      return false
    }
  }

  sendControl(message: ControlMessage): boolean {
    return this.send(encodeControl(message))
  }

  keepalive(): void {
    this.send(encodeKeepalive())
  }

  close(reason: string): void {
    if (this.isClosed) return
    this.isClosed = true
    this.isOpen = false
    clearTimeout(this.expiry)
    clearTimeout(this.recovery)
    this.outbox.clear()
    try {
      this.channel.close()
      this.connection.close()
    } catch {
      // already torn down by the browser
    }
    this.events.close(this, reason)
  }

  private localDescription(): RTCSessionDescriptionInit {
    const {type, sdp} = this.connection.localDescription!
    return {type, sdp}
  }

  private receive(data: unknown): void {
    this.lastHeard = Date.now()
    if (!(data instanceof ArrayBuffer) && Object.prototype.toString.call(data) !== '[object ArrayBuffer]') {
      this.events.problem(this, 'sent a text frame; this library only sends binary frames')
      return
    }
    let frame: Frame
    try {
      frame = decodeFrame(data as ArrayBuffer)
    } catch (error) {
      this.events.problem(this, error instanceof MalformedFrame ? error.message : String(error))
      return
    }
    if (frame.type === FrameType.Keepalive) return
    if (frame.type !== FrameType.Control) {
      this.events.frame(this, frame)
      return
    }
    const message = frame.message
    if (message.t === 'leave') {
      this.close(goodbyeReason)
      return
    }
    if (message.t === 'sdp' || message.t === 'ice') {
      // Negotiation steps must apply in order, each after the previous finished.
      this.controlChain = this.controlChain.then(() => this.negotiate(message))
      return
    }
    this.events.control(this, message)
  }

  private async renegotiate(): Promise<void> {
    if (!this.isOpen) return // the first negotiation goes through the strategy
    try {
      this.makingOffer = true
      await this.connection.setLocalDescription()
      // While the path is down the channel carries nothing: restart offers go through signaling.
      if (this.restarts && !pathUp(this.connection.iceConnectionState) && this.events.restart) {
        await gathered(this.connection, this.needs, restartGatheringMs, true)
        if (this.connection.signalingState === 'have-local-offer' && this.events.restart(this, this.localDescription()))
          return
      }
      const {type, sdp} = this.connection.localDescription!
      this.sendControl({t: 'sdp', description: {type, sdp}})
    } catch (error) {
      this.events.problem(this, `renegotiation failed: ${error}`)
    } finally {
      this.makingOffer = false
    }
  }

  private async negotiate(message: Extract<ControlMessage, {t: 'sdp' | 'ice'}>): Promise<void> {
    try {
      if (message.t === 'ice') {
        // A candidate of an ICE generation a restart replaced fails to add: nothing is wrong.
        await this.connection.addIceCandidate(message.candidate).catch(() => {})
        return
      }
      const description = message.description
      const collision =
        description.type === 'offer' && (this.makingOffer || this.connection.signalingState !== 'stable')
      this.ignoreOffer = !this.polite && collision
      if (this.ignoreOffer) return
      await this.connection.setRemoteDescription(description)
      if (description.type === 'offer') {
        await this.connection.setLocalDescription()
        const {type, sdp} = this.connection.localDescription!
        this.sendControl({t: 'sdp', description: {type, sdp}})
      }
    } catch (error) {
      if (!this.ignoreOffer) this.events.problem(this, `negotiation failed: ${error}`)
    }
  }
}
