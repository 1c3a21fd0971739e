import type {OverlayNode} from '../overlay/node.js'
import {maxEnvelopeLength, type SignalTransport} from '../signaling.js'
import type {PeerId} from '../types.js'

/**
 * Signaling through the overlay (issue 11 part 5): the signed envelopes of signaling.ts,
 * carried to one member as an OverlayNode sealed frame (ECDH + AES-GCM between the two
 * identities, relayed hop by hop) instead of the public relay's peer topic.
 *
 * The overlay's seal already says who sent a frame and that no relaying member read or
 * changed it; the envelope inside is still checked whole by signaling.ts (its signature, the
 * room seal, `to`, the clock and duplicates, sessions), and the overlay's authenticated
 * sender must be the envelope's `from`. So a member that relays, drops, replays, re-addresses
 * or forges a frame changes nothing but whether it arrives.
 *
 * A sealed payload is signaling when it starts with `signalPrefix`; anything else is the
 * wiring's own (actions, PeerRelay's messages): `receive` says which it was.
 */
export const signalPrefix = 'p2p-signal\n'

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const prefixBytes = encoder.encode(signalPrefix)

export type OverlaySignal = SignalTransport & {
  /** For the node's `message` callback: true when `data` was signaling (then it is delivered here). */
  receive: (from: PeerId, data: Uint8Array) => boolean
  /** Frames sent and received through the overlay, for tests and benches. */
  counts: {sent: number; received: number}
}

export const isSignalFrame = (data: Uint8Array) =>
  data.length >= prefixBytes.length && prefixBytes.every((byte, i) => data[i] === byte)

export const createOverlaySignal = (node: Pick<OverlayNode, 'sendTo' | 'isMember'>): OverlaySignal => {
  const listeners = new Set<(text: string, from: PeerId) => void>()
  const counts = {sent: 0, received: 0}
  return {
    counts,
    send: async (peerId, text) => {
      if (!node.isMember(peerId)) return false
      const taken = await node.sendTo(peerId, encoder.encode(signalPrefix + text))
      if (taken) counts.sent++
      return taken
    },
    subscribe: onMessage => {
      listeners.add(onMessage)
      return () => void listeners.delete(onMessage)
    },
    receive: (from, data) => {
      if (!isSignalFrame(data)) return false
      if (data.length > prefixBytes.length + maxEnvelopeLength * 3) return true
      counts.received++
      const text = decoder.decode(data.subarray(prefixBytes.length))
      for (const listener of [...listeners]) listener(text, from)
      return true
    },
  }
}
