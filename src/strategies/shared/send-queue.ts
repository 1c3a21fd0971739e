/**
 * The one outgoing-queue policy of every strategy: what happens to a message published
 * while it cannot be sent yet (the relay is down, the SDK is still loading, a channel is
 * still joining, no pubsub peer is in the topic yet).
 *
 * - A queue keeps at most `sendQueueLimit` messages; past that the oldest is dropped.
 * - A message older than `sendQueueMaxAgeMs` is dropped rather than sent late.
 * - Queued messages go out in the order they were published, as soon as they can.
 *
 * Dropping is safe: signaling is soft state, and the core announces again on its own
 * schedule, so a lost announce costs a few seconds, never a connection. Sending stale
 * offers after a long outage would only make peers answer handshakes nobody waits for.
 * Each room has its own queue per relay, so one room cannot push out another's messages.
 */

/** Messages one room keeps per relay while they cannot be sent; more means the relay is down. */
export const sendQueueLimit = 20
/** Queued messages older than this are dropped: signaling this old is stale. */
export const sendQueueMaxAgeMs = 30_000

export type Queued<T> = {item: T; at: number}

export const createSendQueue = <T>({limit = sendQueueLimit, maxAgeMs = sendQueueMaxAgeMs} = {}) => {
  let queue: Queued<T>[] = []
  return {
    /** Queues `item`; drops the oldest one past the limit. */
    push(item: T, now = Date.now()) {
      queue.push({item, at: now})
      if (queue.length > limit) queue.shift()
    },
    /**
     * Offers each queued item, oldest first, to `send` (with how long it waited); keeps
     * those it returns false for, drops those past the age limit.
     */
    drain(send: (item: T, waitedMs: number) => boolean, now = Date.now()) {
      const pending = queue
      queue = []
      for (const entry of pending) {
        const waited = now - entry.at
        if (waited > maxAgeMs) continue
        if (!send(entry.item, waited)) queue.push(entry)
      }
    },
    get size() {
      return queue.length
    },
    clear() {
      queue = []
    },
  }
}
