import {gathered, gatheringNeeds} from './ice-gathering.js'
import {channelInit, channelLabel} from './peer.js'

/**
 * An offer made before anyone asks for it (issue 10, "join fast"). Whoever hears an
 * announce makes the offer; making one costs a peer connection (the page's first also
 * starts the browser's WebRTC machinery: tens to 150 ms of main thread on a busy machine),
 * `createOffer`, `setLocalDescription` and the ICE candidates (./ice-gathering.ts). All of
 * it depends on nothing the announce says, so signaling keeps one such connection ready,
 * made while the relay socket opens, and an announce is answered with it at once.
 *
 * What a prepared offer is not: signed or sealed. It is only an RTCPeerConnection with
 * its local description; signaling signs and seals it for its receiver when it takes it
 * (from, to, both sessions, ts), exactly as an offer made on the spot, and hands it to one
 * peer only: taking it empties the slot, and a new one is made for the next.
 */

/** A prepared connection older than this is not used: made afresh (its candidates may be stale). */
export const preparedMaxAgeMs = 30_000

export type PreparedOffer = {
  connection: RTCPeerConnection
  channel: RTCDataChannel
  /** The local offer is set and holds its candidates (or gathering timed out). */
  ready: Promise<void>
  /** When it was made (Date.now()). */
  at: number
  /**
   * Whether an old one may be replaced in the background: not with a TURN server, where each
   * replacement would cost the server an allocation nobody may use.
   */
  renewable: boolean
}

/** A connection with the room's data channel and a local offer gathering its candidates. */
export const prepareOffer = (
  RTC: typeof RTCPeerConnection,
  config: RTCConfiguration,
  gatherMs: number,
): PreparedOffer => {
  const connection = new RTC(config)
  const channel = connection.createDataChannel(channelLabel, channelInit)
  const needs = gatheringNeeds(config)
  const ready = (async () => {
    await connection.setLocalDescription(await connection.createOffer())
    await gathered(connection, needs, gatherMs)
  })()
  ready.catch(() => {}) // the peer that takes it reports the failure
  return {connection, channel, ready, at: Date.now(), renewable: !needs.relay}
}

/**
 * The one slot of prepared offers of a room's signaling. `take` hands out the prepared
 * connection (or undefined: make one on the spot) and never the same one twice; `tend`
 * prepares one while `wanted()` says so and drops it when not; an unused one is renewed
 * (or, with TURN, dropped) when it grows old.
 */
export const createOfferSlot = (prepare: (() => PreparedOffer) | undefined, wanted: () => boolean) => {
  let prepared: PreparedOffer | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false
  const drop = () => {
    clearTimeout(timer)
    const old = prepared
    prepared = undefined
    try {
      old?.connection.close()
    } catch {
      // already closed
    }
  }
  const tend = () => {
    if (stopped || !prepare || !wanted()) return drop()
    if (prepared) return
    try {
      prepared = prepare()
    } catch {
      return // no peer connection can be made here: offers are made on the spot, and fail there
    }
    const renewable = prepared.renewable
    timer = setTimeout(() => (drop(), renewable && tend()), preparedMaxAgeMs)
  }
  return {
    tend,
    take(): PreparedOffer | undefined {
      const taken = prepared
      clearTimeout(timer)
      prepared = undefined
      if (taken && Date.now() - taken.at <= preparedMaxAgeMs) return taken
      try {
        taken?.connection.close()
      } catch {}
      return undefined
    },
    stop() {
      stopped = true
      drop()
    },
  }
}

/**
 * A page's first RTCPeerConnection starts the browser's WebRTC machinery (threads, network
 * list, the first certificate): measured 17-100 ms of blocked main thread for the first
 * connection and first offer under load, against 2-9 ms for the next ones. A room's first
 * offer or answer would pay it on the join's critical path, so once the page is idle after
 * this module loads, one connection is made, asked for an offer (no local description is
 * set: nothing is gathered, nothing goes on the network) and closed. A joinRoom that comes
 * first pays it itself, as before. Only in browsers (a document and a global
 * RTCPeerConnection); Node polyfills have no such start-up cost.
 */
const warmWebRtc = () => {
  const RTC = (globalThis as {RTCPeerConnection?: typeof RTCPeerConnection}).RTCPeerConnection
  if (!RTC) return
  try {
    const connection = new RTC({iceServers: []})
    connection.createDataChannel(channelLabel, channelInit)
    void connection
      .createOffer()
      .catch(() => {})
      .finally(() => connection.close())
  } catch {
    // no WebRTC here after all: rooms say so when they need it
  }
}
const {requestIdleCallback: whenIdle, document: page} = globalThis as {
  requestIdleCallback?: (run: () => void) => number
  document?: unknown
}
if (whenIdle && page) whenIdle(warmWebRtc)
