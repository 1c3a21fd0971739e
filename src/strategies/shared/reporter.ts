/**
 * De-duplication of the problems a strategy reports to `room.onError`: a relay that refuses
 * every event says so once, not once per announce, and a hostile relay cannot flood the app.
 */
import type {P2PError} from '../../core/errors.js'

/** Distinct problems reported per room; later ones are dropped. */
export const reportLimit = 20

/** Wraps `onError` so each distinct message reaches it once, and at most `limit` in all. */
export const createReporter = (onError: (error: string | P2PError) => void, limit = reportLimit) => {
  const reported = new Set<string>()
  return (error: string | P2PError) => {
    const key = typeof error === 'string' ? error : `${error.code}: ${error.message}`
    if (reported.has(key) || reported.size >= limit) return
    reported.add(key)
    onError(error)
  }
}
