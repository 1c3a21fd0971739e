import {encodeControl, encodeKeepalive, type ControlMessage} from '../frame.js'
import type {PeerId} from '../types.js'
import {createStreamReceiver, createStreamSender, type StreamOptions} from './stream.js'

/**
 * Payload bytes per chunk frame to a relayed member. A sealed route message carries its
 * frame base64-encoded in JSON (4/3 the size plus ~300 bytes), and one that fits a single
 * 64 KiB data-channel chunk on every hop moves in one piece: 16 KiB leaves room to spare.
 */
export const relayedFrameSize = 16 * 1024

/**
 * A member of the room reached through the overlay: to the frame and transfer layers
 * (transfers.ts, actions, requests, pings) it is a peer like a direct one, with the same
 * `send`, `outbox`, `frameSize`, `isOpen` and `close` they use; its "channel" is the
 * overlay. Frames go out on a reliable windowed stream (stream.ts), each sealed end to end
 * for this member alone by OverlayNode.sendTo; relaying peers see only ciphertext.
 * It carries no media and no negotiation: those need a direct connection.
 */
export class RelayedPeer {
  readonly relayed = true
  /** Relayed members have no RTCPeerConnection of their own. */
  readonly connection = null
  isOpen = true
  isClosed = false
  everOpened = true
  lastHeard = Date.now()
  lastSent = Date.now()
  frameSize = relayedFrameSize
  readonly sender: ReturnType<typeof createStreamSender>
  readonly receiver: ReturnType<typeof createStreamReceiver>

  constructor(
    readonly id: PeerId,
    transmit: (bytes: Uint8Array<ArrayBuffer>) => void,
    events: {
      frame: (peer: RelayedPeer, bytes: Uint8Array) => void
      failed: (peer: RelayedPeer, reason: string) => void
    },
    options: StreamOptions = {},
  ) {
    const out = (bytes: Uint8Array<ArrayBuffer>) => {
      this.lastSent = Date.now()
      transmit(bytes)
    }
    this.sender = createStreamSender(out, {failed: reason => events.failed(this, reason)}, options)
    this.receiver = createStreamReceiver(
      bytes => {
        this.lastHeard = Date.now()
        events.frame(this, bytes)
      },
      out,
      options,
    )
  }

  get outbox() {
    return this.sender.outbox
  }

  /** A small frame (ack, ping, refusal), ahead of queued chunks. */
  send(frame: Uint8Array): boolean {
    if (this.isClosed) return false
    this.sender.send(frame)
    return true
  }

  sendControl(message: ControlMessage): boolean {
    return this.send(encodeControl(message))
  }

  keepalive(): void {
    this.send(encodeKeepalive())
  }

  close(_reason?: string): void {
    if (this.isClosed) return
    this.isClosed = true
    this.isOpen = false
    this.sender.close()
    this.receiver.close()
  }
}
