/**
 * Connection diagnostics: `room.getPeerStats(peerId)` (and `room.getPeerStats()` for every
 * peer), read from `RTCPeerConnection.getStats()` and the signaling strategy, with a
 * plain-language hint for people ("this peer reaches you only through TURN").
 *
 * `readStats` and `peerHint` are pure (stats objects in, facts and words out), so they are
 * unit-tested on captured stats; `createStatsReader` keeps the previous sample per peer to
 * turn byte counters into bytes per second, and remembers recent failures, whose connection
 * is gone by the time anyone asks.
 */
import {P2PError} from './errors.js'
import type {RelayState, Signaling} from './strategy.js'
import type {PeerId} from './types.js'

/** host: the device's own address; srflx / prflx: its address as seen through NAT; relay: a TURN server's. */
export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay'

/** One end of the selected candidate pair. */
export type CandidateStats = {
  type: CandidateType | undefined
  /** `udp` or `tcp`. */
  protocol: string | undefined
  address: string | undefined
  port: number | undefined
  /** For a local relay candidate: how this page reaches the TURN server (`udp`, `tcp`, `tls`). */
  relayProtocol?: string
  /** For a local relay candidate: the TURN server's URL. */
  url?: string
}

/** What the connection is doing: still setting up, up, down and recovering, or failed (gone). */
export type PeerConnectionState = 'connecting' | 'connected' | 'disconnected' | 'failed'

/** Inbound media, summed over the peer's received audio and video tracks. */
export type MediaLossStats = {
  packetsReceived: number
  packetsLost: number
  /** packetsLost / (packetsReceived + packetsLost), 0..1. */
  lossFraction: number
}

/** Facts about one peer's connection; `getPeerStats` adds the hint. */
export type PeerFacts = {
  peerId: PeerId
  state: PeerConnectionState
  /** The RTCPeerConnection's ICE state (`closed` for a failed peer whose connection is gone). */
  iceState: RTCIceConnectionState
  /** The selected candidate pair, once ICE picked one. */
  local?: CandidateStats
  remote?: CandidateStats
  /** Round-trip time on the selected pair (STUN consent checks), in milliseconds. */
  rttMs?: number
  /** Bytes sent / received on the connection so far. */
  bytesSent: number
  bytesReceived: number
  /** Bytes per second each way since the previous `getPeerStats` call (undefined on the first). */
  sendBytesPerSecond?: number
  receiveBytesPerSecond?: number
  /** Inbound media packet loss, when the peer sends audio or video. */
  media?: MediaLossStats
  /** Candidate types each side offered (from the SDP): what ICE had to choose from. */
  localCandidateTypes: CandidateType[]
  remoteCandidateTypes: CandidateType[]
  /** A TURN server is among this room's ICE servers. */
  turnConfigured: boolean
  /** `rtcConfig.iceTransportPolicy` is `relay`: only TURN paths are allowed. */
  relayOnly: boolean
}

/** What the hint says, for programs: one of these, with words for people in `hint`. */
export type HintKind =
  | 'connecting'
  | 'direct-local' // host to host: the same network (or one without NAT)
  | 'direct-nat' // through NAT, still peer to peer (server-reflexive or peer-reflexive)
  | 'turn' // through a TURN relay
  | 'reconnecting' // the path went down: ICE is restarting
  | 'failed-no-turn' // the connection failed and no TURN server is configured
  | 'failed-turn-unreachable' // it failed and the TURN server gave no relay address
  | 'failed' // it failed though TURN was configured and answered

export type PeerStats = PeerFacts & {
  /** When this sample was taken (`performance.now()` of the page). */
  at: number
  /** The signaling strategy of the room, and how each of its relays is doing. */
  signaling: {strategy: string; relays: RelayState[]}
  hintKind: HintKind
  /** One plain sentence for people, e.g. "this peer reaches you only through TURN (relay 127.0.0.1)". */
  hint: string
}

/** Loss above this share of packets is worth a word in the hint. */
export const lossWorthNoting = 0.05
/** A round trip above this is worth a word in the hint. */
export const slowRttMs = 300
/** A failed peer is listed by `getPeerStats()` this long after it failed. */
export const failureMemoryMs = 60_000

const candidateTypes: readonly CandidateType[] = ['host', 'srflx', 'prflx', 'relay']
const asType = (value: unknown): CandidateType | undefined =>
  candidateTypes.includes(value as CandidateType) ? (value as CandidateType) : undefined

/** The distinct candidate types an SDP lists (`a=candidate:... typ relay`), in the order above. */
export const candidateTypesOf = (sdp: string | undefined): CandidateType[] => {
  const found = new Set<string>()
  for (const match of (sdp ?? '').matchAll(/^a=candidate:.* typ (\S+)/gm)) found.add(match[1]!)
  return candidateTypes.filter(type => found.has(type))
}

/** A stats report as `getStats()` gives it (a Map-like), or any iterable of stats objects. */
type StatsLike = {forEach: (callback: (value: Record<string, unknown>) => void) => void} | Iterable<unknown>
type Entry = Record<string, unknown> & {id?: string; type?: string}

const entriesOf = (report: StatsLike): Entry[] => {
  const list: Entry[] = []
  if ('forEach' in report && typeof report.forEach === 'function')
    report.forEach(value => void list.push(value as Entry))
  else for (const value of report as Iterable<unknown>) list.push(value as Entry)
  return list
}
const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)

const candidate = (entry: Entry | undefined): CandidateStats | undefined => {
  if (!entry) return undefined
  const result: CandidateStats = {
    type: asType(entry.candidateType),
    protocol: str(entry.protocol),
    address: str(entry.address) ?? str(entry.ip),
    port: num(entry.port),
  }
  if (str(entry.relayProtocol)) result.relayProtocol = str(entry.relayProtocol)
  if (str(entry.url)) result.url = str(entry.url)
  return result
}

/** What one stats report says: the selected pair, RTT, byte counters, inbound media loss. Pure. */
export const readStats = (report: StatsLike) => {
  const entries = entriesOf(report)
  const byId = new Map(entries.filter(entry => typeof entry.id === 'string').map(entry => [entry.id!, entry]))
  const transports = entries.filter(entry => entry.type === 'transport')
  const pairs = entries.filter(entry => entry.type === 'candidate-pair')
  const selectedId = transports.map(transport => str(transport.selectedCandidatePairId)).find(Boolean)
  // Chromium names the pair on the transport; Firefox marks it `selected`; else the nominated one that works.
  const pair =
    (selectedId ? byId.get(selectedId) : undefined) ??
    pairs.find(entry => entry.selected === true) ??
    pairs.find(entry => entry.nominated === true && entry.state === 'succeeded')
  const rttSeconds =
    num(pair?.currentRoundTripTime) ??
    (num(pair?.totalRoundTripTime) !== undefined && num(pair?.responsesReceived)
      ? num(pair!.totalRoundTripTime)! / num(pair!.responsesReceived)!
      : undefined)
  const sum = (list: Entry[], field: string) => list.reduce((total, entry) => total + (num(entry[field]) ?? 0), 0)
  // The transport counts every byte of the connection (across ICE restarts); the pair only its own.
  const counters = transports.length ? transports : pair ? [pair] : []
  const inbound = entries.filter(entry => entry.type === 'inbound-rtp')
  const packetsReceived = sum(inbound, 'packetsReceived')
  const packetsLost = Math.max(0, sum(inbound, 'packetsLost'))
  const media: MediaLossStats | undefined = inbound.length
    ? {
        packetsReceived,
        packetsLost,
        lossFraction: packetsReceived + packetsLost ? packetsLost / (packetsReceived + packetsLost) : 0,
      }
    : undefined
  return {
    local: candidate(pair ? byId.get(str(pair.localCandidateId) ?? '') : undefined),
    remote: candidate(pair ? byId.get(str(pair.remoteCandidateId) ?? '') : undefined),
    rttMs: rttSeconds === undefined ? undefined : rttSeconds * 1000,
    bytesSent: sum(counters, 'bytesSent'),
    bytesReceived: sum(counters, 'bytesReceived'),
    media,
  }
}

const isPrivate = (address: string | undefined) =>
  !!address &&
  (/^(10\.|127\.|192\.168\.|169\.254\.|172\.(1[6-9]|2\d|3[01])\.)/.test(address) ||
    /^(::1$|f[cd]|fe80:)/i.test(address) ||
    address.endsWith('.local'))

/** Two IPv4 addresses in one /24, or two IPv6 ones in one /64: the same subnet. */
const sameSubnet = (a: string | undefined, b: string | undefined) => {
  if (!a || !b) return false
  if (/^\d+\.\d+\.\d+\.\d+$/.test(a)) return a.split('.').slice(0, 3).join() === b.split('.').slice(0, 3).join()
  return a.includes(':') && a.split(':').slice(0, 4).join() === b.split(':').slice(0, 4).join()
}

const percent = (fraction: number) => `${Math.round(fraction * 1000) / 10}%`

/**
 * The plain-language hint for one peer's facts. Pure: the same facts always give the same
 * words. The first sentence says how the peer is reached (or why it is not); a second one
 * notes media loss or a slow round trip when there is one.
 */
export const peerHint = (facts: PeerFacts): {kind: HintKind; hint: string} => {
  const {state, local, remote, turnConfigured, relayOnly} = facts
  if (state === 'failed') {
    if (!turnConfigured)
      return {
        kind: 'failed-no-turn',
        hint: 'No TURN configured and the connection failed: your two networks cannot reach each other directly. Add a TURN server (config.turnConfig) to relay the traffic.',
      }
    if (!facts.localCandidateTypes.includes('relay'))
      return {
        kind: 'failed-turn-unreachable',
        hint: 'The connection failed and the TURN server gave this page no relay address: check its URL, username and credential, and that it is reachable from here.',
      }
    return {
      kind: 'failed',
      hint: relayOnly
        ? 'The connection failed even through TURN: the other peer may not reach a TURN server (is one configured on its side?).'
        : 'The connection failed even with TURN configured: a firewall may block both direct and relayed traffic.',
    }
  }
  if (state === 'connecting')
    return {
      kind: 'connecting',
      hint:
        relayOnly && !turnConfigured
          ? 'Connecting… (only TURN paths are allowed here and no TURN server is configured: this will fail)'
          : 'Connecting…',
    }
  if (state === 'disconnected')
    return {
      kind: 'reconnecting',
      hint: 'The network path dropped; reconnecting (ICE restart) without leaving the room.',
    }

  let kind: HintKind
  let first: string
  if (local?.type === 'relay' || remote?.type === 'relay') {
    kind = 'turn'
    const side =
      local?.type === 'relay' && remote?.type === 'relay'
        ? 'both sides use a TURN server'
        : local?.type === 'relay'
          ? `through your TURN server${local.url ? ` (${local.url})` : ''}`
          : 'through its TURN server'
    first = `This peer reaches you only through TURN (${side}): every byte is relayed, which adds latency and costs the TURN server bandwidth.`
    if (relayOnly) first += ' This page allows relayed paths only (iceTransportPolicy: "relay").'
  } else if (local?.type === 'host' && remote?.type === 'host') {
    kind = 'direct-local'
    first =
      isPrivate(local.address) || isPrivate(remote.address) || sameSubnet(local.address, remote.address)
        ? 'Connected directly on your local network.'
        : 'Connected directly (neither side is behind NAT).'
  } else if (local?.type || remote?.type) {
    kind = 'direct-nat'
    first = 'Connected directly, peer to peer through NAT (no relay in between).'
  } else {
    kind = 'direct-nat'
    first = 'Connected (the browser has not reported which path yet).'
  }
  const notes: string[] = []
  if (facts.media && facts.media.lossFraction > lossWorthNoting)
    notes.push(`Media is losing ${percent(facts.media.lossFraction)} of its packets: expect choppy audio or video.`)
  if (facts.rttMs !== undefined && facts.rttMs > slowRttMs)
    notes.push(`The round trip is slow (${Math.round(facts.rttMs)} ms).`)
  return {kind, hint: [first, ...notes].join(' ')}
}

/** `turn:` or `turns:` among the ICE servers. */
export const hasTurn = (config: RTCConfiguration): boolean =>
  (config.iceServers ?? []).some(server =>
    (Array.isArray(server.urls) ? server.urls : [server.urls]).some(url => /^turns?:/i.test(String(url))),
  )

/** What the reader needs of a room's peer (src/core/peer.ts's Peer has all of it). */
export type StatsPeer = {
  id: PeerId
  connection: RTCPeerConnection
  isClosed: boolean
}

type Sample = {at: number; bytesSent: number; bytesReceived: number}
type Failure = {at: number; facts: PeerFacts}

const stateOf = (connection: RTCPeerConnection): PeerConnectionState => {
  const ice = connection.iceConnectionState
  if (ice === 'connected' || ice === 'completed') return 'connected'
  if (ice === 'disconnected' || (ice === 'failed' && connection.connectionState !== 'failed')) return 'disconnected'
  if (ice === 'failed') return 'failed'
  return 'connecting'
}

/** One room's stats reader: samples per peer (for rates) and recent failures. */
export const createStatsReader = (options: {
  strategy: string
  signaling: () => Signaling | undefined
  rtcConfig: RTCConfiguration
}) => {
  const samples = new Map<PeerId, Sample>()
  const failures = new Map<PeerId, Failure>()
  const turnConfigured = hasTurn(options.rtcConfig)
  const relayOnly = options.rtcConfig.iceTransportPolicy === 'relay'

  const signalingState = () => {
    let relays: RelayState[] = []
    try {
      relays = options.signaling()?.relays?.() ?? []
    } catch {
      // a strategy that fails to say must not break diagnostics
    }
    return {strategy: options.strategy, relays}
  }
  const finish = (facts: PeerFacts, at: number): PeerStats => {
    const {kind, hint} = peerHint(facts)
    return {...facts, at, signaling: signalingState(), hintKind: kind, hint}
  }
  const base = (peer: StatsPeer): Omit<PeerFacts, 'state' | 'iceState' | 'bytesSent' | 'bytesReceived'> => ({
    peerId: peer.id,
    localCandidateTypes: candidateTypesOf(peer.connection.localDescription?.sdp),
    remoteCandidateTypes: candidateTypesOf(peer.connection.remoteDescription?.sdp),
    turnConfigured,
    relayOnly,
  })

  return {
    /** A peer whose connection failed: remembered (its connection closes right after this). */
    failed(peer: StatsPeer) {
      samples.delete(peer.id)
      failures.set(peer.id, {
        at: performance.now(),
        facts: {...base(peer), state: 'failed', iceState: 'failed', bytesSent: 0, bytesReceived: 0},
      })
    },
    /** The peer is gone for good (it left): forget its sample. */
    forget(peerId: PeerId) {
      samples.delete(peerId)
    },
    /** A failure within `failureMemoryMs`, unless the peer came back since. */
    failure(peerId: PeerId): PeerStats | undefined {
      const failure = failures.get(peerId)
      if (!failure) return undefined
      if (performance.now() - failure.at > failureMemoryMs) return void failures.delete(peerId)
      return finish(failure.facts, failure.at)
    },
    failedPeers(): PeerId[] {
      return [...failures.keys()].filter(peerId => this.failure(peerId))
    },
    /** Reads one live peer's stats now. */
    async read(peer: StatsPeer): Promise<PeerStats> {
      failures.delete(peer.id)
      const report = await peer.connection.getStats()
      const at = performance.now()
      const read = readStats(report as unknown as StatsLike)
      const previous = samples.get(peer.id)
      samples.set(peer.id, {at, bytesSent: read.bytesSent, bytesReceived: read.bytesReceived})
      const seconds = previous ? (at - previous.at) / 1000 : 0
      const rate = (now: number, before: number) => (seconds > 0 ? Math.max(0, now - before) / seconds : undefined)
      const facts: PeerFacts = {
        ...base(peer),
        state: peer.isClosed ? 'failed' : stateOf(peer.connection),
        iceState: peer.connection.iceConnectionState,
        local: read.local,
        remote: read.remote,
        rttMs: read.rttMs,
        bytesSent: read.bytesSent,
        bytesReceived: read.bytesReceived,
        sendBytesPerSecond: previous ? rate(read.bytesSent, previous.bytesSent) : undefined,
        receiveBytesPerSecond: previous ? rate(read.bytesReceived, previous.bytesReceived) : undefined,
        media: read.media,
      }
      for (const key of ['local', 'remote', 'rttMs', 'sendBytesPerSecond', 'receiveBytesPerSecond', 'media'] as const)
        if (facts[key] === undefined) delete facts[key]
      return finish(facts, at)
    },
  }
}

export type StatsReader = ReturnType<typeof createStatsReader>

/**
 * `room.getPeerStats`: one peer's stats (rejects with `unknown-peer` for an id that is neither
 * connected, connecting nor recently failed), or, without an id, every such peer's by id.
 */
export const createGetPeerStats = (
  reader: StatsReader,
  peers: () => ReadonlyMap<PeerId, StatsPeer>,
  roomId: string,
): GetPeerStats => {
  const one = async (peerId: PeerId): Promise<PeerStats> => {
    const peer = peers().get(peerId)
    if (peer && !peer.isClosed) return reader.read(peer)
    const failure = reader.failure(peerId)
    if (failure) return failure
    throw new P2PError('unknown-peer', `no stats for peer ${peerId}: it is not in room "${roomId}"`, peerId)
  }
  const all = async (): Promise<Record<PeerId, PeerStats>> => {
    const live = [...peers().values()].filter(peer => !peer.isClosed)
    const read = await Promise.all(live.map(peer => reader.read(peer).catch(() => undefined)))
    const result: Record<PeerId, PeerStats> = {}
    for (const peerId of reader.failedPeers()) result[peerId] = reader.failure(peerId)!
    for (const stats of read) if (stats) result[stats.peerId] = stats
    return result
  }
  return ((peerId?: PeerId) => (peerId === undefined ? all() : one(peerId))) as GetPeerStats
}

/** `getPeerStats(peerId)` for one peer, `getPeerStats()` for every peer by id. */
export type GetPeerStats = {
  (peerId: PeerId): Promise<PeerStats>
  (): Promise<Record<PeerId, PeerStats>>
}
