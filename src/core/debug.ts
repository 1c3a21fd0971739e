/**
 * The debug log (`config.debug`): one line per join and signaling step, with the time since
 * `joinRoom`, so "why does it not connect" has an answer in the console.
 *
 * Off (the default) it costs nothing: the room's `debug` is `undefined`, and call sites are
 * optional calls, `debug?.('offer sent', peerId)`, whose arguments JavaScript does not even
 * evaluate then (no string is built).
 */
import type {PeerId} from './types.js'

/** One step of the log, as a function sink receives it. */
export type DebugEntry = {
  /** Milliseconds since `joinRoom` was called, rounded to 0.1 ms. */
  ms: number
  /** The step, e.g. `strategy connect`, `announce sent`, `offer received`, `ice connected`. */
  step: string
  /** The peer the step concerns, if any. */
  peerId?: PeerId
  /** More about it (a state, a reason), if any. */
  detail?: string
  /** The room's id. */
  roomId: string
  /** The line as `config.debug: true` prints it. */
  line: string
}

/** `true` prints each step with `console.debug`; a function receives each step instead. */
export type DebugOption = boolean | ((entry: DebugEntry) => void)

/** Logs one step; built only when the log is on (call it with `?.`). */
export type DebugLog = (step: string, peerId?: PeerId, detail?: string) => void

const short = (peerId: PeerId) => peerId.slice(0, 8)

/** The room's log, or `undefined` when `option` is off (so call sites skip it entirely). */
export const createDebugLog = (option: DebugOption | undefined, roomId: string): DebugLog | undefined => {
  if (!option) return undefined
  const start = performance.now()
  const sink = typeof option === 'function' ? option : (entry: DebugEntry) => console.debug(entry.line)
  return (step, peerId, detail) => {
    const ms = Math.round((performance.now() - start) * 10) / 10
    const who = peerId ? ` ${short(peerId)}` : ''
    const line = `p2p-elements [${roomId}] +${ms.toFixed(1)} ms ${step}${who}${detail ? `: ${detail}` : ''}`
    try {
      sink({ms, step, peerId, detail, roomId, line})
    } catch {
      // a sink that throws must not break the room
    }
  }
}
