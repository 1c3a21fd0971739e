import {createActions} from './actions.js'
import {callSafely} from './call.js'
import {encodeValue} from './codec.js'
import {deriveKey, topicOf} from './crypto.js'
import {createDebugLog} from './debug.js'
import {P2PError, errorMessage, invalidConfig} from './errors.js'
import {FrameType, encodeControl, encodePing, type Frame} from './frame.js'
import {createHandshakes, handshakeActionId} from './handshake.js'
import {isIdentity, matches, type Identity} from './identity.js'
import {takeIdentity} from './ids.js'
import {createMedia} from './media.js'
import {goodbyeReason, Peer} from './peer.js'
import {iceGatheringTimeoutMs, maxCredentialsLength, startSignaling} from './signaling.js'
import {prepareOffer, type PreparedOffer} from './offer-ahead.js'
import {createConnector} from './mesh-signal/connect.js'
import {createMeshSignal} from './mesh-signal/mesh-seam.js'
import {createPresence, presenceActionId} from './presence.js'
import {createRequests, replyActionId, requestActionId} from './request.js'
import {createGetPeerStats, createStatsReader} from './stats.js'
import {createStreamKinds} from './stream-kinds.js'
import {createTransfers} from './transfers.js'
import {createDatagrams, isUnreliable} from './unreliable.js'
import {createFiles, fileActionId} from './files/index.js'
import {maxConnectionsOf} from './mesh/choose.js'
import {createMesh, meshActionId} from './mesh/index.js'
import {ValueKind} from './codec.js'
import {createSwarm, swarmActionId} from './files/swarm.js'
import type {Signaling, Strategy} from './strategy.js'
import type {
  ActionOptions,
  BaseRoomConfig,
  JoinError,
  JoinRoom,
  JoinRoomCallbacks,
  PeerHandshake,
  PeerId,
  RequestActionConfig,
  Room,
  TargetPeers,
} from './types.js'

/** Defaults for the tunables of BaseRoomConfig; each is documented there. */
export const defaults = {
  maxMessageSize: 128 * 1024 * 1024,
  announceIntervalMs: 2_000,
  announceMaxIntervalMs: 60_000,
  connectTimeoutMs: 20_000,
  peerTimeoutMs: 20_000,
  handshakeTimeoutMs: 10_000,
}

/** Public STUN servers used unless rtcConfig.iceServers says otherwise. */
export const defaultIceServers: RTCIceServer[] = [
  {urls: ['stun:stun.l.google.com:19302', 'stun:stun.cloudflare.com:3478']},
]

/** Identities passed as `config.identity` that were checked already: rejoins skip the check. */
const checkedIdentities = new WeakSet<Identity>()

/** How long leave() lets goodbye frames drain before closing connections. */
const goodbyeDrainMs = 250

/** The room topic relays see for (appId, roomId); strategies that list occupants need it. */
export const roomTopicOf = (appId: string, roomId: string) => topicOf(appId, roomId)
const peerTopicOf = (appId: string, roomId: string, peerId: PeerId) => topicOf(appId, roomId, peerId)

const validate = (config: BaseRoomConfig, roomId: string, onJoinError: unknown) => {
  if (!config || typeof config !== 'object')
    throw invalidConfig('joinRoom(config, roomId) needs a config object, e.g. {appId: "my-chat-app"}')
  if (typeof config.appId !== 'string' || !config.appId.trim())
    throw invalidConfig(
      'config.appId is required: a non-empty string unique to your app, e.g. joinRoom({appId: "my-chat-app"}, "lobby")',
    )
  if (typeof roomId !== 'string' || !roomId)
    throw invalidConfig('joinRoom needs a room id, a non-empty string, e.g. joinRoom(config, "lobby")')
  const size = config.maxMessageSize
  if (size !== undefined && !(Number.isFinite(size) && size > 0))
    throw invalidConfig(`config.maxMessageSize must be a positive number of bytes, not ${size}`)
  if (
    onJoinError !== undefined &&
    typeof onJoinError !== 'function' &&
    (typeof onJoinError !== 'object' || onJoinError === null)
  )
    throw invalidConfig(
      'the third argument of joinRoom must be onJoinError (a function) or {onJoinError, onPeerHandshake, handshakeTimeoutMs}',
    )
  try {
    maxConnectionsOf(config.maxConnections)
  } catch (error) {
    throw invalidConfig(errorMessage(error))
  }
  if (config.identity !== undefined && !isIdentity(config.identity))
    throw invalidConfig('config.identity must be an identity from createIdentity() or importIdentity()')
  if (config.verify !== undefined && typeof config.verify !== 'function')
    throw invalidConfig('config.verify must be a function (peerId, credentials) => boolean | Promise<boolean>')
  if (config.passive !== undefined && typeof config.passive !== 'boolean')
    throw invalidConfig(`config.passive must be true or false, not ${JSON.stringify(config.passive)}`)
  const timeout = config.handshakeTimeoutMs
  if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0))
    throw invalidConfig(`config.handshakeTimeoutMs must be a positive number of milliseconds, not ${timeout}`)
  if (config.credentials !== undefined) {
    let json: string | undefined
    try {
      json = JSON.stringify(config.credentials)
    } catch {}
    if (json === undefined || json.length > maxCredentialsLength)
      throw invalidConfig(`config.credentials must be JSON of at most ${maxCredentialsLength} characters`)
  }
}

const toList = (targets: TargetPeers): PeerId[] | undefined =>
  targets == null ? undefined : typeof targets === 'string' ? [targets] : [...targets]

/** Builds a strategy's `joinRoom`: same (appId, roomId) gives the same room until it is left. */
export const createJoinRoom = <C extends BaseRoomConfig>(strategy: Strategy<C>): JoinRoom<C> => {
  const rooms = new Map<string, Room>()

  return (config, roomId, onJoinError) => {
    validate(config, roomId, onJoinError)
    strategy.validate?.(config)
    const key = JSON.stringify([config.appId, roomId])
    const existing = rooms.get(key)
    if (existing) return existing
    // Relay sockets start opening now, while the identity, topics and key are made.
    strategy.preconnect?.(config)
    const room = createRoom(strategy, config, roomId, onJoinError, () => rooms.delete(key))
    rooms.set(key, room)
    return room
  }
}

const createRoom = <C extends BaseRoomConfig>(
  strategy: Strategy<C>,
  config: C,
  roomId: string,
  callbacks: ((details: JoinError) => void) | JoinRoomCallbacks | undefined,
  forget: () => void,
): Room => {
  const {appId} = config
  const debug = createDebugLog(config.debug, roomId)
  debug?.('join', undefined, `app "${appId}", strategy ${strategy.name}`)
  const {onJoinError, onPeerHandshake, handshakeTimeoutMs}: JoinRoomCallbacks =
    typeof callbacks === 'function' ? {onJoinError: callbacks} : (callbacks ?? {})
  const settings = {
    ...defaults,
    ...Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)),
    ...(handshakeTimeoutMs === undefined ? {} : {handshakeTimeoutMs}),
  }
  const RTC = config.rtcPolyfill ?? (globalThis as {RTCPeerConnection?: typeof RTCPeerConnection}).RTCPeerConnection
  if (!RTC)
    throw new P2PError(
      'no-webrtc',
      'p2p-elements: this runtime has no RTCPeerConnection; pass one as config.rtcPolyfill (in Node: `import {RTCPeerConnection} from "node-datachannel/polyfill"`)',
    )
  const rtcConfig: RTCConfiguration = {
    ...config.rtcConfig,
    iceServers: config.rtcConfig?.iceServers ?? [...defaultIceServers, ...(config.turnConfig ?? [])],
  }

  // This room's identity: pinned by config, else the page's default one while no other room
  // holds it, else a fresh one (then rooms open at once cannot be linked by their ids).
  const taken = config.identity ? {identity: config.identity, release: () => {}} : takeIdentity()
  let identity: Identity | undefined = taken.identity instanceof Promise ? undefined : taken.identity
  const identityReady = Promise.resolve(taken.identity).then(value => (identity = value))
  const selfId = () => identity?.id ?? ''
  // Key derivation starts now and runs while the strategy connects: it is not on the critical path.
  const key = deriveKey(appId, roomId, config.password)
  key.catch(() => {})

  const peers = new Map<PeerId, Peer>()
  let signaling: Signaling | undefined
  const stats = createStatsReader({strategy: strategy.name, signaling: () => signaling, rtcConfig})
  /** Peers whose handshake resolved on both sides: the ones the app sees. */
  const joined = new Set<Peer>()
  const pings = new Map<
    number,
    {peerId: PeerId; start: number; resolve: (ms: number) => void; reject: (e: P2PError) => void}
  >()
  let lastPing = 0
  let left = false

  const noop = () => {}
  const on = {
    peerJoin: noop as (peerId: PeerId) => void,
    peerLeave: noop as (peerId: PeerId) => void,
    peerStream: noop as Parameters<Room['onPeerStream']>[0],
    peerTrack: noop as Parameters<Room['onPeerTrack']>[0],
    error: undefined as ((error: P2PError) => void) | undefined,
    handshake: onPeerHandshake as PeerHandshake | undefined,
  }

  const report = (error: P2PError) => {
    if (on.error) callSafely(() => on.error!(error))
    else console.warn(`p2p-elements (room "${roomId}"): ${error.message}`)
  }

  const openPeers = () => [...peers.values()].filter(peer => peer.isOpen && joined.has(peer))
  const joinError = (peerId: PeerId, error: string, code: JoinError['code']) =>
    onJoinError && callSafely(() => onJoinError({appId, roomId, peerId, error, code}))

  const handshakes = createHandshakes({
    selfId,
    callback: () => on.handshake,
    timeoutMs: settings.handshakeTimeoutMs,
    send: async (peer, data, metadata) => {
      const {kind, bytes} = await encodeValue(data)
      await transfers.send(peer, handshakeActionId, kind, bytes, metadata)
    },
    ready: peer => void peer.sendControl({t: 'ready'}),
    join: peer => {
      if (peer.isClosed || left) return
      debug?.('handshake verified', peer.id)
      joined.add(peer)
      peer.everOpened = true
      presence.peerJoin(peer.id)
      datagrams.peerJoined(peer)
      swarm.peerJoined(peer.id)
      files.peerJoined(peer.id) // stream sends parked when its link dropped go on
      if (mesh.directJoined(peer.id)) callSafely(() => on.peerJoin(peer.id))
      connector.joined(peer.id) // mesh-signal: a pending room.connect(id) resolves
    },
    fail: (peer, message) => {
      debug?.('handshake refused', peer.id, message)
      peer.close(message)
      joinError(peer.id, `peer ${peer.id}: ${message}`, 'handshake')
    },
  })

  /** Open peers for `targets`; explicit ids that are not in the room are an error. */
  const resolveTargets = (targets: TargetPeers): Peer[] => {
    const ids = toList(targets)
    if (!ids) return openPeers()
    return ids.map(id => {
      const peer = peers.get(id)?.isOpen ? peers.get(id) : mesh.peer(id)
      if (!peer?.isOpen)
        throw new P2PError(
          'unknown-peer',
          `peer ${id} is not connected in room "${roomId}" (it left, or never joined)`,
          id,
        )
      return peer
    })
  }
  /** Media calls skip targets that are gone rather than throw mid-way. */
  const mediaTargets = (targets: TargetPeers) => {
    const ids = toList(targets)
    return ids ? openPeers().filter(peer => ids.includes(peer.id)) : openPeers()
  }

  /** App data only from joined peers; handshake payloads only from peers still handshaking. */
  const isJoined = (peerId: PeerId) => {
    const peer = peers.get(peerId)
    return (!!peer && joined.has(peer)) || mesh.has(peerId)
  }
  const transfers = createTransfers(settings.maxMessageSize, {
    deliver: (peerId, actionId, value, meta) => {
      const peer = peers.get(peerId)
      if (actionId === handshakeActionId) return peer && handshakes.receive(peer, value, meta)
      if (actionId === meshActionId) return peer && joined.has(peer) && mesh.receiveDirect(peerId, value)
      if (isJoined(peerId)) actions.deliver(peerId, actionId, value, meta)
    },
    progress: (peerId, actionId, fraction, meta) =>
      isJoined(peerId) && actionId !== handshakeActionId && actions.progress(peerId, actionId, fraction, meta),
    elsewhere: peerId => mesh.peer(peerId),
    problem: report,
    // Files carry their own acknowledgements and take chunks as views of direct peers' frames.
    bulk: actionId => actionId === fileActionId,
    views: (peer, actionId) => actionId === fileActionId && peers.get(peer.id) === peer,
  })
  // The room's members past a full mesh (README "Big rooms"); dormant while the room is one.
  let roomTopicText = ''
  const meshSignal = createMeshSignal() // mesh-signal: the overlay as a signaling transport
  const mesh = createMesh({
    identity: () => identity!,
    scope: () => roomTopicText,
    maxConnections: maxConnectionsOf(config.maxConnections),
    roomId,
    direct: () => openPeers(),
    directCount: () => [...peers.values()].filter(peer => !peer.isClosed).length,
    sendDirect: (peer, bytes) => transfers.send(peer, meshActionId, ValueKind.Text, bytes, undefined),
    frame: (peer, frame) => onFrame(peer, frame),
    join: peerId => {
      presence.peerJoin(peerId)
      callSafely(() => on.peerJoin(peerId))
    },
    leave: peerId => !left && callSafely(() => on.peerLeave(peerId)),
    drop: (peerId, error) => {
      // no-route: our stream to a member that is still one broke; what it sends us goes on.
      if (error.code === 'no-route') transfers.failOutgoing(peerId, error)
      else transfers.dropPeer(peerId, error), presence.dropPeer(peerId)
      files.dropPeer(peerId, error)
      requests.dropPeer(peerId, error)
      for (const [id, ping] of pings) if (ping.peerId === peerId) pings.delete(id), ping.reject(error)
    },
    broadcast: (peerId, actionId, value, meta) => {
      if (actionId === handshakeActionId || actionId === meshActionId) return
      actions.progress(peerId, actionId, 1, meta)
      actions.deliver(peerId, actionId, value, meta)
    },
    // mesh-signal: a member in the overlay is dialed through it (no relay); else the relay's way.
    dial: (peerId, relay) => (!relay && meshSignal.dial(peerId)) || (signalingApi?.dial(peerId) ?? false),
    signal: (from, data) => meshSignal.receive(from, data),
    awake: node => signalingApi && meshSignal.attach(node, signalingApi),
    problem: report,
    debug,
  })
  const actions = createActions(transfers, resolveTargets, mesh.broadcast)
  const datagrams = createDatagrams({resolveTargets, isJoined: peer => joined.has(peer), problem: report})
  /** Ids made reliable through makeAction: one id cannot be both (see makeAction). */
  const reliableIds = new Set<string>()
  const kinds = createStreamKinds(() => self)
  const presence = createPresence({action: actions.makeAction(presenceActionId), problem: report})
  const requests = createRequests({
    requests: actions.makeAction(requestActionId),
    replies: actions.makeAction(replyActionId),
    peerIds: () => [...openPeers().map(peer => peer.id), ...mesh.relayedIds()],
    roomId,
  })
  // Swarm download (files/swarm.ts): members serve files they hold; fetchFile takes ranges from several.
  const swarm = createSwarm({
    action: actions.makeAction(swarmActionId),
    problem: report,
    peers: () => openPeers().map(peer => peer.id),
    disconnect: (peerId, reason) => peers.get(peerId)?.close(reason),
    limits: config.swarmLimits,
  })
  const files = createFiles({
    transferred: swarm.transferred,
    action: actions.makeAction(fileActionId),
    problem: report,
    isOpen: peerId => isJoined(peerId) && (!!peers.get(peerId)?.isOpen || !!mesh.peer(peerId)),
    disconnect: (peerId, reason) => peers.get(peerId)?.close(reason),
    limits: config.fileLimits,
    selfId,
  })
  const media = createMedia({
    stream: (stream, peerId, meta) =>
      kinds.deliver(stream, peerId, meta) || callSafely(() => on.peerStream(stream, peerId, meta)),
    track: (track, stream, peerId, meta) => callSafely(() => on.peerTrack(track, stream, peerId, meta)),
  })

  const onFrame = (peer: Peer, frame: Frame) => {
    switch (frame.type) {
      case FrameType.Ping:
        peer.send(encodePing(FrameType.Pong, frame.id))
        return
      case FrameType.Pong: {
        const ping = pings.get(frame.id)
        if (!ping || ping.peerId !== peer.id) return
        pings.delete(frame.id)
        ping.resolve(performance.now() - ping.start)
        return
      }
      case FrameType.Chunk:
      case FrameType.Ack:
      case FrameType.Acks:
      case FrameType.Refuse:
        transfers.receive(peer, frame)
    }
  }

  const onClose = (peer: Peer, reason: string) => {
    if (peers.get(peer.id) === peer) peers.delete(peer.id)
    stats.forget(peer.id)
    handshakes.drop(peer, `peer ${peer.id} closed during the handshake: ${reason}`)
    if (!joined.delete(peer)) return
    // Past a full mesh a member whose link closed may still be one, relayed now (mesh/index.ts).
    const gone = left || mesh.directClosed(peer.id, reason)
    const error = new P2PError(
      left ? 'room-left' : gone ? 'peer-left' : 'no-route',
      left
        ? `left room "${roomId}" before the operation finished`
        : gone
          ? `peer ${peer.id} left room "${roomId}": ${reason}`
          : `the direct link to peer ${peer.id} closed (${reason}); it is still a member, reached through the overlay now: send again`,
      peer.id,
    )
    swarm.dropPeer(peer.id, error) // swarm sources are direct links only
    // Sends and pings under way to a member that is relayed now go on through the overlay.
    const far = gone ? undefined : mesh.peer(peer.id)
    if (far) transfers.reroute(peer.id, far, error)
    else transfers.dropPeer(peer.id, error), files.dropPeer(peer.id, error, reason === goodbyeReason)
    media.dropPeer(peer.id)
    if (gone) presence.dropPeer(peer.id), requests.dropPeer(peer.id, error)
    for (const [id, ping] of pings)
      if (ping.peerId !== peer.id) continue
      else if (far) far.send(encodePing(FrameType.Ping, id))
      else pings.delete(id), ping.reject(error)
    if (gone && !left) callSafely(() => on.peerLeave(peer.id))
  }

  const createPeer = (peerId: PeerId, prepared?: PreparedOffer) => {
    const peer = new Peer(
      peerId,
      selfId() < peerId,
      RTC,
      rtcConfig,
      {
        open: peer => (debug?.('data channel open', peer.id), handshakes.start(peer)),
        close: onClose,
        frame: onFrame,
        control: (peer, message) =>
          message.t === 'ready' ? handshakes.remoteReady(peer) : joined.has(peer) && media.control(peer, message),
        track: (peer, event) => joined.has(peer) && media.track(peer, event),
        problem: (peer, message) =>
          report(new P2PError('malformed', `peer ${peer.id} ${message}; ignored it`, peer.id)),
        restart: (peer, offer) => signalingApi?.restart(peer.id, offer) ?? false,
        iceFailed: peer => {
          stats.failed(peer)
          joinError(
            peer.id,
            `could not connect to peer ${peer.id}: offers and answers were exchanged but no network path was found (ICE failed). ` +
              'The two networks cannot reach each other directly: add a TURN server with config.turnConfig ' +
              '(e.g. [{urls: "turn:turn.example.com:3478", username, credential}])',
            'ice-failed',
          )
        },
      },
      prepared,
    )
    peers.set(peerId, peer)
    const pc = peer.connection
    if (debug) pc.addEventListener('iceconnectionstatechange', () => debug(`ice ${pc.iceConnectionState}`, peerId))
    return peer
  }

  // Keepalives make a vanished peer visible: anything heard counts as alive, and a peer
  // silent for peerTimeoutMs is dropped. Sent only when the channel is otherwise idle.
  const keepaliveEvery = settings.peerTimeoutMs / 4
  const keepaliveTimer = setInterval(() => {
    const now = Date.now()
    for (const peer of peers.values()) {
      if (!peer.isOpen) continue
      if (now - peer.lastHeard > settings.peerTimeoutMs)
        peer.close(`it went silent for more than ${settings.peerTimeoutMs} ms`)
      else if (now - peer.lastSent >= keepaliveEvery) peer.keepalive()
    }
  }, keepaliveEvery)

  let signalingApi: ReturnType<typeof startSignaling> | undefined
  const ready = (async () => {
    await identityReady
    const self = identity!
    // A pinned identity is checked (once per identity and page) alongside the topic hashes.
    const [valid, roomTopic, selfTopic] = await Promise.all([
      !config.identity || checkedIdentities.has(self) || matches(self),
      roomTopicOf(appId, roomId),
      peerTopicOf(appId, roomId, self.id),
    ])
    if (!valid)
      throw invalidConfig(`config.identity is not a valid identity: its id ${self.id} is not its public key's`)
    checkedIdentities.add(self)
    roomTopicText = roomTopic
    if (left) return
    const peerTopic = (peerId: PeerId) => peerTopicOf(appId, roomId, peerId)
    debug?.('strategy connect', undefined, strategy.name)
    signaling = strategy.connect(config, {
      appId,
      roomId,
      selfId: self.id,
      roomTopic,
      selfTopic,
      peerTopic,
      identity: self, // mesh-signal: the bootstrap strategy joins its overlay under the room's id
      onError: error =>
        report(error instanceof P2PError ? error : new P2PError('strategy', `${strategy.name}: ${error}`)),
    })
    signalingApi = startSignaling({
      signaling,
      identity: self,
      key,
      roomTopic,
      selfTopic,
      peerTopic,
      announceIntervalMs: settings.announceIntervalMs,
      announceMaxIntervalMs: settings.announceMaxIntervalMs,
      connectTimeoutMs: settings.connectTimeoutMs,
      credentials: config.credentials,
      verify: config.verify,
      verifyTimeoutMs: settings.handshakeTimeoutMs,
      passive: config.passive === true,
      debug,
      wants: Number.isFinite(maxConnectionsOf(config.maxConnections)) ? mesh.wantsDial : undefined,
      peer: peerId => peers.get(peerId),
      createPeer,
      prepareOffer: () => prepareOffer(RTC, rtcConfig, iceGatheringTimeoutMs),
      joinError,
      restartOffer: (peerId, offer) => peers.get(peerId)?.acceptRestart(offer) ?? Promise.resolve(undefined),
      restartAnswer: (peerId, answer) => peers.get(peerId)?.acceptRestartAnswer(answer),
      otherVersion: version =>
        report(
          new P2PError(
            'malformed',
            `a peer in room "${roomId}" speaks signaling protocol version ${version}, this page version 2 (PROTOCOL.md): they cannot connect until both run the same release`,
          ),
        ),
    })
  })().catch(error =>
    report(
      error instanceof P2PError && (error.code === 'invalid-config' || error.code === 'no-webrtc')
        ? error
        : new P2PError('strategy', `could not join room "${roomId}": ${errorMessage(error)}`),
    ),
  )

  // mesh-signal: room.connect(id), negotiated through signaling's direct transports (the overlay).
  // It resolves on a direct join only (past a full mesh a relayed member is joined, not connected).
  const connector = createConnector({
    roomId,
    timeoutMs: settings.connectTimeoutMs,
    ready,
    isJoined: peerId => {
      const peer = peers.get(peerId)
      return !!peer && joined.has(peer)
    },
    isLeft: () => left,
    ask: peerId => signalingApi?.connect(peerId),
  })

  const leave = async (hiding = false) => {
    if (left) return
    // Past a full mesh the signed overlay goodbye goes first (it is async); on pagehide, not waited for.
    const farewell = mesh.active ? mesh.stop() : undefined
    if (farewell && !hiding) await Promise.race([farewell, new Promise(resolve => setTimeout(resolve, 200))])
    else void mesh.stop()
    if (left) return
    left = true
    connector.left()
    forget()
    taken.release()
    clearInterval(keepaliveTimer)
    files.close()
    swarm.close()
    transfers.close()
    presence.stop()
    removeEventListener?.('pagehide', onPageHide)
    // Goodbyes go out synchronously: on pagehide nothing after the first await may run.
    const open = openPeers()
    for (const peer of open) peer.send(encodeControl({t: 'leave'}))
    await ready
    signalingApi?.stop()
    if (open.length) {
      const deadline = Date.now() + goodbyeDrainMs
      while (Date.now() < deadline && open.some(peer => peer.channel.bufferedAmount > 0))
        await new Promise(resolve => setTimeout(resolve, 10))
    }
    for (const peer of [...peers.values()]) peer.close('this peer left the room')
    for (const ping of pings.values())
      ping.reject(new P2PError('room-left', `left room "${roomId}" before the ping returned`))
    pings.clear()
    try {
      signaling?.close()
    } catch {
      // a strategy that fails to close must not keep us in the room
    }
  }

  // A closing tab says goodbye so others see it leave at once, not after peerTimeoutMs.
  const onPageHide = () => void leave(true)
  const {addEventListener, removeEventListener} = globalThis as unknown as Partial<Window>
  addEventListener?.('pagehide', onPageHide)

  const self: Room = {
    get selfId() {
      return selfId()
    },
    getPeerKey: peerId => {
      const peer = peers.get(peerId)
      return peer && joined.has(peer) ? signalingApi?.keyOf(peerId) : undefined
    },
    onPeerHandshake: callback => void (on.handshake = callback),
    makeAction: ((actionId: string, config?: ActionOptions & {kind?: string}) => {
      if (typeof actionId === 'string' && actionId.startsWith('\u0000'))
        throw new P2PError('action-id', 'action ids starting with NUL are reserved for the library')
      if (config?.kind === 'request') return requests.makeRequestAction(actionId, config as RequestActionConfig)
      if (config?.kind !== undefined && config.kind !== 'message')
        throw invalidConfig(`makeAction: kind is 'message' (the default) or 'request', not ${String(config.kind)}`)
      // An id's delivery is fixed when first made; made again without options, it stays so.
      const unreliable = isUnreliable(config)
      if (unreliable ? reliableIds.has(actionId) : config?.reliable === true && datagrams.has(actionId))
        throw invalidConfig(
          `action "${actionId}" was already made ${unreliable ? 'reliable' : 'unreliable'} in this room`,
        )
      requests.claimMessageId(actionId)
      if (unreliable || (config?.reliable === undefined && datagrams.has(actionId)))
        return datagrams.makeAction(actionId)
      const action = actions.makeAction(actionId)
      reliableIds.add(actionId)
      return action
    }) as Room['makeAction'],
    makeAudio: kinds.makeAudio,
    makeVideo: kinds.makeVideo,
    ping: peerId => {
      const peer = peers.get(peerId)?.isOpen ? peers.get(peerId) : mesh.peer(peerId)
      if (!peer?.isOpen)
        return Promise.reject(
          new P2PError('unknown-peer', `cannot ping ${peerId}: not connected in room "${roomId}"`, peerId),
        )
      return new Promise((resolve, reject) => {
        const id = (lastPing = (lastPing + 1) >>> 0)
        pings.set(id, {peerId, start: performance.now(), resolve, reject})
        peer.send(encodePing(FrameType.Ping, id))
      })
    },
    getPeerStats: createGetPeerStats(stats, () => peers, roomId),
    connect: connector.connect,
    leave: () => leave(),
    getPeers: () => ({
      ...Object.fromEntries(mesh.relayedIds().map(id => [id, null as unknown as RTCPeerConnection])),
      ...Object.fromEntries(openPeers().map(peer => [peer.id, peer.connection])),
    }),
    peerInfo: peerId => mesh.info(peerId) ?? (isJoined(peerId) ? {route: 'direct', hops: 1} : undefined),
    addStream: (stream, targets, meta) => media.addStream(mediaTargets(targets), stream, meta),
    removeStream: (stream, targets) => media.removeStream(mediaTargets(targets), stream),
    addTrack: (track, stream, targets, meta) => media.addTrack(mediaTargets(targets), track, stream, meta),
    removeTrack: (track, targets) => media.removeTrack(mediaTargets(targets), track),
    replaceTrack: (oldTrack, newTrack, targets, meta) =>
      media.replaceTrack(mediaTargets(targets), oldTrack, newTrack, meta),
    onPeerJoin: callback => void (on.peerJoin = callback),
    onPeerLeave: callback => void (on.peerLeave = callback),
    onPeerStream: callback => void (on.peerStream = callback),
    onPeerTrack: callback => void (on.peerTrack = callback),
    onError: callback => void (on.error = callback),
    setPresence: presence.setPresence,
    onPresence: presence.onPresence,
    getPresence: peerId => presence.getPresence(peerId, selfId()),
    sendFile: files.sendFile,
    onFile: files.onFile,
    fetchFile: swarm.fetchFile,
    seedFile: swarm.seedFile,
    unseedFile: swarm.unseedFile,
    heldFiles: swarm.heldFiles,
    holdersOf: swarm.holdersOf,
    onServe: swarm.onServe,
    swarmFiles: swarm.swarmFiles,
    onSwarmFiles: swarm.onSwarmFiles,
  }
  return self
}
