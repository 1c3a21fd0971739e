/**
 * Presence: a small JSON object each peer says about itself (a name, a colour, an avatar URL,
 * whatever the app adds), sent to every peer when it connects and again on every change.
 *
 * It travels on one internal action (`presenceActionId`), so it is framed, chunked and
 * encrypted like any message. Everything a peer says here is untrusted display data: it is
 * checked for shape and size before anyone sees it, a flood of updates is coalesced to at
 * most one callback per `presenceMinIntervalMs` per peer (the latest state wins, memory stays
 * one state per peer), and nothing in the room trusts it for more than showing a label.
 *
 * Signing: every outgoing update is built by `seal` and every incoming one read by `open`,
 * nothing else touches the wire form. When verified identities land (src/core/identity*),
 * `seal` adds `sig` (the peer's signature over the canonical JSON of `state`) and `open`
 * checks it against the sender's verified key before returning the state: one place each.
 */
import {callSafely} from './call.js'
import {P2PError} from './errors.js'
import type {Action, PeerId} from './types.js'

/** What a peer says about itself. Well-known fields are optional; apps may add their own. */
export type Presence = {
  /** The name to show. Not unique, not verified: shown escaped, with a fingerprint where two collide. */
  name?: string
  /** A CSS colour for the peer's tiles, dots and cursor, as `#rgb` or `#rrggbb`. */
  color?: string
  /** An image URL (https:) for the peer's camera-off tile. */
  avatar?: string
  /** Up to 3 letters shown when there is no avatar; derived from `name` when absent. */
  initials?: string
  [key: string]: unknown
}

/** The internal action presence travels on; room.makeAction keeps ids starting with NUL for the library. */
export const presenceActionId = '\u0000presence'
/** Largest presence state, in bytes of its JSON: plenty for a name, a colour and a URL. */
export const maxPresenceBytes = 1024
/** Per peer, at most one presence callback this often; updates in between are coalesced into the latest. */
export const presenceMinIntervalMs = 100
/** Wire version of a presence update, so a later release (signed updates) can tell old ones apart. */
const presenceVersion = 1

type Wire = {v: number; state: Presence}

const utf8 = new TextEncoder()
const jsonBytes = (value: unknown) => utf8.encode(JSON.stringify(value)).byteLength

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  !ArrayBuffer.isView(value) &&
  !(value instanceof ArrayBuffer)

/** The checked copy of a state, or a reason it is refused. */
const check = (state: unknown): Presence | string => {
  if (!isPlainObject(state)) return 'presence must be a plain object, e.g. {name: "Ada", color: "#2563eb"}'
  let bytes: number
  try {
    bytes = jsonBytes(state)
  } catch {
    return 'presence must be JSON (no cycles, no BigInt)'
  }
  if (bytes > maxPresenceBytes) return `presence is ${bytes} bytes of JSON; at most ${maxPresenceBytes} are sent`
  return JSON.parse(JSON.stringify(state)) as Presence
}

/** The wire form of our state. The one place a signature will be added. */
const seal = (state: Presence): Wire => ({v: presenceVersion, state})

/** The state in a peer's update, or undefined when it is not one. The one place a signature will be checked. */
const open = (data: unknown): Presence | undefined => {
  if (!isPlainObject(data) || data.v !== presenceVersion) return undefined
  const state = check(data.state)
  return typeof state === 'string' ? undefined : state
}

export type PresenceHooks = {
  /** The internal action (made by the room before any user action). */
  action: Action<Wire>
  /** Problems worth a report: a peer sending updates that are not presence. */
  problem: (error: P2PError) => void
}

export const createPresence = ({action, problem}: PresenceHooks) => {
  let own: Presence | undefined
  let onPresence: ((state: Presence, peerId: PeerId) => void) | undefined
  const states = new Map<PeerId, Presence>()
  /** Per peer: when its last callback ran, and the coalesced update waiting for its turn. */
  const pacing = new Map<PeerId, {last: number; timer?: ReturnType<typeof setTimeout>; pending?: Presence}>()
  const complained = new Set<PeerId>()

  const send = (targets?: PeerId) => {
    if (!own) return
    action.send(seal(own), targets).catch(() => {}) // a peer that left meanwhile is no error
  }

  const apply = (peerId: PeerId, state: Presence) => {
    states.set(peerId, state)
    if (onPresence) callSafely(() => onPresence!(state, peerId))
  }

  action.onMessage((data, peerId) => {
    const state = open(data)
    if (!state) {
      // Reported once per peer: a flood of junk must not become a flood of reports.
      if (!complained.has(peerId)) {
        complained.add(peerId)
        problem(new P2PError('malformed', `peer ${peerId} sent a presence update that is not one; ignored it`, peerId))
      }
      return
    }
    const now = performance.now()
    const pace = pacing.get(peerId) ?? {last: -Infinity}
    pacing.set(peerId, pace)
    if (now - pace.last >= presenceMinIntervalMs && !pace.timer) {
      pace.last = now
      return apply(peerId, state)
    }
    pace.pending = state
    pace.timer ??= setTimeout(
      () => {
        pace.timer = undefined
        pace.last = performance.now()
        const pending = pace.pending
        pace.pending = undefined
        if (pending && pacing.get(peerId) === pace) apply(peerId, pending)
      },
      Math.max(0, pace.last + presenceMinIntervalMs - now),
    )
  })

  return {
    /** A peer's channel opened: it hears our state at once. */
    peerJoin: (peerId: PeerId) => send(peerId),
    /** A peer left: forget what it said. */
    dropPeer: (peerId: PeerId) => {
      clearTimeout(pacing.get(peerId)?.timer)
      pacing.delete(peerId)
      states.delete(peerId)
      complained.delete(peerId)
    },
    stop: () => {
      for (const pace of pacing.values()) clearTimeout(pace.timer)
      pacing.clear()
    },
    setPresence: (state: Presence) => {
      const checked = check(state)
      if (typeof checked === 'string')
        throw new P2PError(checked.includes('bytes') ? 'too-large' : 'invalid-config', `setPresence: ${checked}`)
      own = checked
      send()
    },
    onPresence: (callback: (state: Presence, peerId: PeerId) => void) => void (onPresence = callback),
    getPresence: (peerId: PeerId, selfId: PeerId): Presence | undefined =>
      peerId === selfId ? own : states.get(peerId),
  }
}
