/**
 * The messages waiting to go out on one link, each an iterator of its frames, and the order
 * they go in: frame by frame round robin, so concurrent messages all progress, except that
 * small messages (a chat line, an overlay heartbeat or credit) go first, in the order they
 * came: round robin would make each wait a frame of every bulk message. The pacing is the
 * caller's (a data channel's buffer: ./outbox.ts; a stream's window: ./mesh/stream.ts).
 */
export type FrameQueue = {
  /** Queues a message's frames, pulled lazily one at a time; `small`: ahead of the bulk. */
  add: (frames: Iterator<Uint8Array>, small?: boolean) => void
  /** The next frame to send; undefined when no message has one left. */
  next: () => Uint8Array | undefined
  /** Stops sending a message. */
  remove: (frames: Iterator<Uint8Array>) => void
  clear: () => void
  readonly size: number
}

export const createFrameQueue = (): FrameQueue => {
  const smalls: Iterator<Uint8Array>[] = []
  const bulk: Iterator<Uint8Array>[] = []
  return {
    add: (frames, small = false) => void (small ? smalls : bulk).push(frames),
    next: () => {
      while (smalls.length || bulk.length) {
        const lane = smalls.length ? smalls : bulk
        const frames = lane.shift()!
        const item = frames.next()
        if (item.done) continue
        // A small message keeps its place at the front; a bulk one goes to the back.
        if (lane === smalls) smalls.unshift(frames)
        else bulk.push(frames)
        return item.value
      }
      return undefined
    },
    remove: frames => {
      for (const lane of [smalls, bulk]) {
        const at = lane.indexOf(frames)
        if (at >= 0) lane.splice(at, 1)
      }
    },
    clear: () => void ((smalls.length = 0), (bulk.length = 0)),
    get size() {
      return smalls.length + bulk.length
    },
  }
}
