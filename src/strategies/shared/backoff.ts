/**
 * Reconnect delays for every strategy that redials something (a relay socket, a broker, a
 * libp2p relay node): exponential, capped, with jitter, so peers that lost a relay together
 * do not all come back in the same instant.
 */

/** First reconnect delay; doubles per failed attempt. Short so a relay restart costs little. */
export const reconnectMinMs = 1_000
/** Reconnect delay ceiling, so a relay that is down for good costs one attempt a minute. */
export const reconnectMaxMs = 60_000

export type BackoffOptions = {
  minMs?: number
  maxMs?: number
  /** A number in [0, 1): Math.random by default; tests pass their own. */
  random?: () => number
}

/**
 * Delays for successive failed attempts: attempt n waits a random time in
 * [c/2, c] where c = min(maxMs, minMs * 2^n). `reset()` after a success.
 */
export const createBackoff = ({
  minMs = reconnectMinMs,
  maxMs = reconnectMaxMs,
  random = Math.random,
}: BackoffOptions = {}) => {
  let failures = 0
  return {
    /** The delay before the next attempt; counts one more failure. */
    next(): number {
      const ceiling = Math.min(maxMs, minMs * 2 ** failures)
      failures++
      return ceiling / 2 + (random() * ceiling) / 2
    },
    reset() {
      failures = 0
    },
  }
}
