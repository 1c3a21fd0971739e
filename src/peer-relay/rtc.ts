/**
 * WebRTC links for PeerRelay: one RTCPeerConnection with one data channel ('p2p-overlay') per
 * link, from whatever `wrtc` module the app passes (node-datachannel/polyfill, @roamhq/wrtc,
 * or a browser's globals). The offer and answer are not trickled: each side waits for its
 * ICE candidates (at most `gatherMs`) and sends one description, which PeerRelay seals for
 * the other peer and routes through the overlay. This module only wraps the connection.
 */

/** The WebRTC constructors PeerRelay needs from a `wrtc` option. */
export type WrtcModule = {RTCPeerConnection: typeof RTCPeerConnection}
export type Description = {type: 'offer' | 'answer'; sdp: string}

/** How long a side waits for its ICE candidates before sending what it has. */
const gatherMs = 3000
const channelLabel = 'p2p-overlay'

/** The constructors in `value` (a module namespace, its default export, or an object), or undefined. */
export const wrtcOf = (value: unknown): WrtcModule | undefined => {
  const candidates = [value, (value as {default?: unknown})?.default]
  for (const candidate of candidates) {
    const ctor = (candidate as {RTCPeerConnection?: unknown})?.RTCPeerConnection
    if (typeof ctor === 'function') return candidate as WrtcModule
  }
  return undefined
}

const gathered = (pc: RTCPeerConnection) =>
  new Promise<void>(resolve => {
    if (pc.iceGatheringState === 'complete') return resolve()
    const timer = setTimeout(resolve, gatherMs)
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') clearTimeout(timer), resolve()
    })
  })

const described = (pc: RTCPeerConnection): Description => {
  const local = pc.localDescription
  if (!local || (local.type !== 'offer' && local.type !== 'answer')) throw new Error('no local description')
  return {type: local.type, sdp: local.sdp}
}

/** An RTC attempt: its connection, and the channel once open. */
export type RtcAttempt = {
  pc: RTCPeerConnection
  offerer: boolean
  channel: Promise<RTCDataChannel>
  /** The offerer takes the answer. */
  answer: (description: Description) => Promise<void>
  close: () => void
}

const openChannel = (channel: RTCDataChannel) =>
  new Promise<RTCDataChannel>((resolve, reject) => {
    if (channel.readyState === 'open') return resolve(channel)
    channel.addEventListener('open', () => resolve(channel))
    channel.addEventListener('close', () => reject(new Error('data channel closed before it opened')))
  })

/** Starts an attempt as the offerer: resolves with it and the offer to send. */
export const offer = async (
  wrtc: WrtcModule,
  config: RTCConfiguration,
): Promise<{attempt: RtcAttempt; description: Description}> => {
  const pc = new wrtc.RTCPeerConnection(config)
  const channel = openChannel(pc.createDataChannel(channelLabel))
  channel.catch(() => {})
  await pc.setLocalDescription(await pc.createOffer())
  await gathered(pc)
  const attempt: RtcAttempt = {
    pc,
    offerer: true,
    channel,
    answer: description => pc.setRemoteDescription(description),
    close: () => pc.close(),
  }
  return {attempt, description: described(pc)}
}

/** Answers an offer: resolves with the attempt and the answer to send back. */
export const answer = async (
  wrtc: WrtcModule,
  config: RTCConfiguration,
  remote: Description,
): Promise<{attempt: RtcAttempt; description: Description}> => {
  const pc = new wrtc.RTCPeerConnection(config)
  const channel = new Promise<RTCDataChannel>((resolve, reject) => {
    pc.addEventListener('datachannel', event => {
      const {channel} = event as RTCDataChannelEvent
      if (channel.label === channelLabel) openChannel(channel).then(resolve, reject)
    })
  })
  channel.catch(() => {})
  try {
    await pc.setRemoteDescription(remote)
    await pc.setLocalDescription(await pc.createAnswer())
    await gathered(pc)
  } catch (error) {
    pc.close()
    throw error
  }
  const attempt: RtcAttempt = {pc, offerer: false, channel, answer: async () => {}, close: () => pc.close()}
  return {attempt, description: described(pc)}
}
