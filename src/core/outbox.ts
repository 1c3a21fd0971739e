import {releaseFrame} from './frame.js'
import {createFrameQueue} from './frame-queue.js'

/**
 * Sends the chunk frames of many messages over one data channel, interleaved frame by frame
 * so concurrent messages all progress, and paced by the channel's own buffer: it writes
 * while `bufferedAmount` is under the high-water mark and otherwise waits for
 * `bufferedamountlow`. No timers. Each peer has its own outbox, so a slow peer only
 * slows itself. Small messages go first (./frame-queue.ts).
 */

/** Above this many buffered bytes we stop writing; 1 MiB kept Chromium's SCTP stack busiest in our runs. */
export const highWaterMark = 1024 * 1024
/** Writing resumes when the buffer drains below this. */
export const lowWaterMark = 256 * 1024

export type Outbox = {
  /** Queue a message's frames; they are pulled lazily, one at a time. `small`: ahead of the bulk. */
  add: (frames: Iterator<Uint8Array>, small?: boolean) => void
  /** Stop sending a message (the receiver refused it, or it was abandoned). */
  remove: (frames: Iterator<Uint8Array>) => void
  /** Drop everything queued (the channel closed). */
  clear: () => void
}

const drained = (channel: RTCDataChannel) =>
  new Promise<void>(resolve => {
    const done = () => {
      channel.removeEventListener('bufferedamountlow', done)
      channel.removeEventListener('close', done)
      resolve()
    }
    channel.addEventListener('bufferedamountlow', done)
    channel.addEventListener('close', done)
  })

export const createOutbox = (channel: RTCDataChannel, onSent: () => void): Outbox => {
  const queue = createFrameQueue()
  let pumping = false
  channel.bufferedAmountLowThreshold = lowWaterMark

  const pump = async () => {
    if (pumping) return
    pumping = true
    try {
      while (queue.size && channel.readyState === 'open') {
        if (channel.bufferedAmount > highWaterMark) {
          await drained(channel)
          continue
        }
        const frame = queue.next()
        if (!frame) break
        channel.send(frame as Uint8Array<ArrayBuffer>)
        // send() copied it: a pooled frame buffer can take the next frame (frame.ts).
        releaseFrame(frame)
        onSent()
      }
    } catch {
      // send() throws only when the channel is closing; the peer's close handler fails the messages.
    } finally {
      pumping = false
    }
  }

  return {
    add: (frames, small) => {
      queue.add(frames, small)
      void pump()
    },
    remove: queue.remove,
    clear: queue.clear,
  }
}
