// The yardstick every throughput bench compares against: a bare RTCDataChannel between two
// pages, signaled over a BroadcastChannel, with the library's own channel settings, read from
// its build so the two cannot drift apart: reliable and ordered, `maxFrameSize` (64 KiB)
// messages, writes while bufferedAmount is at most the outbox's high-water mark (1 MiB) and
// otherwise waits for bufferedamountlow (threshold: the outbox's low-water mark, 256 KiB).
// Used by bench/page.html and bench/files-page.html, so both benches measure the same raw channel.
import {highWaterMark, lowWaterMark} from '/dist/lib/core/outbox.js'
import {maxFrameSize} from '/dist/lib/core/peer.js'

const frame = maxFrameSize
const highWater = highWaterMark

/** What the yardstick does, for the bench output. */
export const rawSettings = {frame, highWater, lowWater: lowWaterMark, blobRead: 16 * frame}

const gathered = pc =>
  new Promise(resolve => {
    if (pc.iceGatheringState === 'complete') return resolve()
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve())
  })

/** A raw channel yardstick signaled on the BroadcastChannel `name`. */
export const rawChannel = (name, rtcConfig = {iceServers: []}) => {
  const signal = new BroadcastChannel(name)
  return {
    /** Waits for an offer, answers it and resolves with the byte count once `total` arrived. */
    receive: total =>
      new Promise(resolve => {
        signal.onmessage = async ({data}) => {
          if (data.type !== 'offer') return
          const pc = new RTCPeerConnection(rtcConfig)
          pc.ondatachannel = ({channel}) => {
            let received = 0
            channel.binaryType = 'arraybuffer'
            channel.onmessage = ({data}) => {
              received += data.byteLength
              if (received === total) channel.send('done'), resolve(received)
            }
          }
          await pc.setRemoteDescription(data)
          await pc.setLocalDescription()
          await gathered(pc)
          signal.postMessage({type: 'answer', sdp: pc.localDescription.sdp})
        }
      }),
    /**
     * Sends `total` bytes and resolves with the ms from the first byte to the receiver's "done".
     * `source`: a Blob, read by 1 MiB slices as a file sender must; without one, a zeroed buffer.
     */
    send: async (total, source) => {
      const pc = new RTCPeerConnection(rtcConfig)
      const channel = pc.createDataChannel('raw')
      channel.binaryType = 'arraybuffer'
      channel.bufferedAmountLowThreshold = lowWaterMark
      const answered = new Promise(resolve => (signal.onmessage = ({data}) => data.type === 'answer' && resolve(data)))
      await pc.setLocalDescription()
      await gathered(pc)
      signal.postMessage({type: 'offer', sdp: pc.localDescription.sdp})
      await pc.setRemoteDescription(await answered)
      await new Promise(resolve => (channel.onopen = resolve))
      const payload = source ? undefined : new Uint8Array(Math.min(total, 16 * frame))
      const done = new Promise(resolve => (channel.onmessage = resolve))
      const start = performance.now()
      for (let offset = 0; offset < total; offset += 16 * frame) {
        const slice = source
          ? new Uint8Array(await source.slice(offset, offset + 16 * frame).arrayBuffer())
          : payload.subarray(0, Math.min(16 * frame, total - offset))
        for (let at = 0; at < slice.byteLength; at += frame) {
          if (channel.bufferedAmount > highWater)
            await new Promise(resolve => channel.addEventListener('bufferedamountlow', resolve, {once: true}))
          channel.send(slice.subarray(at, at + frame))
        }
      }
      await done
      const ms = performance.now() - start
      pc.close()
      return ms
    },
  }
}
