/**
 * When an offer or answer may go out. Descriptions travel with their candidates (no trickle
 * through the relay), so the question is how long to gather first.
 *
 * Waiting for `iceGatheringState === 'complete'` costs a fixed ~120 ms on every offer in
 * Chromium even with `iceServers: []`: the allocator gathers UDP first and TCP host
 * candidates (which almost never win) one 50 ms step later, and only then completes. So a
 * description is ready as soon as it holds the kinds of candidate the configuration can
 * produce (host; server-reflexive when a STUN or TURN server is set; relayed when a TURN
 * server is set), plus a short quiet period for their siblings (other interfaces, IPv6).
 * What is found after that is not signaled before the channel opens (in practice the TCP
 * host candidates); `iceGatheringTimeoutMs` still bounds a STUN or TURN server that never
 * answers, as before.
 */

/** Quiet time after the last useful candidate before sending: siblings come within a few ms. */
export const candidateSettleMs = 30
/**
 * The same for an answer, which is on the join's critical path (an offer is made ahead):
 * the answerer checks every candidate of the offer itself, and the offerer learns the
 * answerer's addresses from those checks (peer-reflexive), so siblings missing from the
 * answer cost nothing; a few ms still let the ones of the same gathering step in.
 */
export const answerSettleMs = 5

/** The candidate kinds worth waiting for, from the configuration. */
export type GatheringNeeds = {srflx: boolean; relay: boolean; relayOnly: boolean}

export const gatheringNeeds = (config: RTCConfiguration): GatheringNeeds => {
  const urls = (config.iceServers ?? []).flatMap(server => server.urls ?? []).map(url => String(url).toLowerCase())
  const relay = urls.some(url => url.startsWith('turn:') || url.startsWith('turns:'))
  return {
    srflx: relay || urls.some(url => url.startsWith('stun:') || url.startsWith('stuns:')),
    relay,
    relayOnly: config.iceTransportPolicy === 'relay',
  }
}

const typeOf = (candidate: RTCIceCandidate): string | undefined =>
  candidate.type ?? / typ (\w+)/.exec(candidate.candidate)?.[1]

/**
 * Resolves once the local description holds enough candidates (see above), once gathering
 * completes, or after `timeoutMs`. `fresh`: a gathering that is only starting (after an ICE
 * restart the state still says `complete` from the last one).
 */
export const gathered = (
  connection: RTCPeerConnection,
  needs: GatheringNeeds,
  timeoutMs: number,
  fresh = false,
  settleMs = candidateSettleMs,
) =>
  new Promise<void>(resolve => {
    if (!fresh && connection.iceGatheringState === 'complete') return resolve()
    const has = new Set<string>()
    let settle: ReturnType<typeof setTimeout> | undefined
    const enough = () =>
      (needs.relayOnly ? has.has('relay') : has.size > 0) &&
      (!needs.srflx || has.has('srflx') || has.has('relay')) &&
      (!needs.relay || has.has('relay'))
    const done = () => {
      clearTimeout(timer)
      clearTimeout(settle)
      connection.removeEventListener('icegatheringstatechange', onState)
      connection.removeEventListener('icecandidate', onCandidate)
      resolve()
    }
    const onState = () => connection.iceGatheringState === 'complete' && done()
    const onCandidate = (event: RTCPeerConnectionIceEvent) => {
      if (!event.candidate) return done()
      const type = typeOf(event.candidate)
      // TCP host candidates come a step after UDP and almost never win: they do not delay an offer.
      const tcp = (event.candidate.protocol ?? / tcp /i.exec(event.candidate.candidate)?.[0].trim()) === 'tcp'
      if (!type || (type === 'host' && tcp)) return
      has.add(type)
      if (!enough()) return
      clearTimeout(settle)
      settle = setTimeout(done, settleMs)
    }
    const timer = setTimeout(done, timeoutMs)
    connection.addEventListener('icegatheringstatechange', onState)
    connection.addEventListener('icecandidate', onCandidate)
  })
