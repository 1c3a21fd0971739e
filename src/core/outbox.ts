import {releaseFrame} from './frame.js'

/**
 * Sends the chunk frames of many messages over one data channel, interleaved frame by frame
 * so concurrent messages all progress, and paced by the channel's own buffer: it writes
 * while `bufferedAmount` is under the high-water mark and otherwise waits for
 * `bufferedamountlow`. No timers. Each peer has its own outbox, so a slow peer only
 * slows itself. Small messages (a chat line, an overlay heartbeat or credit) go first, in
 * the order they came: round robin would make each wait a frame of every bulk message.
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
  const queue: Iterator<Uint8Array>[] = []
  const smalls: Iterator<Uint8Array>[] = []
  let pumping = false
  channel.bufferedAmountLowThreshold = lowWaterMark

  const pump = async () => {
    if (pumping) return
    pumping = true
    try {
      while ((smalls.length || queue.length) && channel.readyState === 'open') {
        if (channel.bufferedAmount > highWaterMark) {
          await drained(channel)
          continue
        }
        const small = smalls.length > 0
        const frames = small ? smalls.shift()! : queue.shift()!
        const next = frames.next()
        if (next.done) continue
        channel.send(next.value as Uint8Array<ArrayBuffer>)
        // send() copied it: a pooled frame buffer can take the next frame (frame.ts).
        releaseFrame(next.value)
        onSent()
        if (small) smalls.unshift(frames)
        else queue.push(frames)
      }
    } catch {
      // send() throws only when the channel is closing; the peer's close handler fails the messages.
    } finally {
      pumping = false
    }
  }

  return {
    add: (frames, small = false) => {
      ;(small ? smalls : queue).push(frames)
      void pump()
    },
    remove: frames => {
      for (const list of [smalls, queue]) {
        const index = list.indexOf(frames)
        if (index >= 0) list.splice(index, 1)
      }
    },
    clear: () => {
      queue.length = 0
      smalls.length = 0
    },
  }
}
