import {decodeValue} from '../codec.js'
import {P2PError} from '../errors.js'
import {MalformedFrame, decodeFrame, decodeMessageHeader, encodeMessageHeader, type Frame, FrameType} from '../frame.js'
import type {Identity} from '../identity.js'
import {overlayKey} from '../overlay/keys.js'
import {createOverlayNode, type OverlayMessage, type OverlayNode} from '../overlay/node.js'
import {goodbyeReason, type Peer} from '../peer.js'
import type {Metadata, PeerId} from '../types.js'
import {isBootstrapFor} from './choose.js'
import {RelayedPeer} from './relayed-peer.js'
import {decodeCredit, decodeCreditEpoch, decodeStreamFrame, type StreamOptions} from './stream.js'

/**
 * A room past a full mesh: wires one OverlayNode (src/core/overlay/node.ts) into a room.
 *
 * - Dormant until needed: while every member holds fewer than `maxConnections` direct links
 *   nothing here sends a byte, and the room is the full mesh it always was. It wakes when
 *   this peer has more direct members than the cap, or a neighbour's overlay speaks to it.
 * - Direct links carry the node's JSON messages as a reserved action (`meshActionId`) on
 *   the data channel they already have, each link's queue bounded by `hopQueueLimit`.
 * - Members reached only through the overlay are `RelayedPeer`s: the room's transfers,
 *   acks, pings and requests use them as they use a direct peer.
 * - The app sees members, not connections: a member whose direct link is pruned or lost
 *   stays joined (now relayed); it leaves when the overlay says it left (its signed leave,
 *   or silence past `expiryMs`), or at once when it said goodbye on a direct link.
 * - Broadcasts (a send with no targets) travel the overlay's flood, signed by the sender.
 */
export const meshActionId = '\u0000mesh'

/**
 * Bytes a link may have queued to one neighbour before relayed frames for it are dropped (the
 * streams resend). A frame dropped here is lost until its stream resends it or the node's
 * per-hop retry gives up on this neighbour (seconds, on a slow but acking link), so the bound
 * sits well above what healthy flows need (each stream holds at most a 1 MiB window).
 */
export const hopQueueLimit = 8 * 1024 * 1024
/**
 * Bytes of relayed frames a link's outbox holds at most (handed on, not yet acked); the rest
 * wait in the mesh's queue, so the link's small overlay messages pass ahead of bulk.
 */
export const handOffLimit = 512 * 1024
/** Overlay messages up to this size skip the relayed-data queue (a sealed credit or ack is ~0.5 KB). */
const smallFrame = 2048
/** How long a prune waits for the link's last messages (its "full" notice) to leave: 20 x 50 ms. */
const pruneWaitTries = 20
const pruneWaitStepMs = 50
/** Tag of a sealed "please offer to me" (stream.ts owns tags 0 and 1). */
const DialTag = 2
/** One dial per member per this long, whichever side asks. */
const dialEveryMs = 5_000
/**
 * Membership heartbeats and expiry in rooms: a member silent for almost 5 beats is gone (16 s,
 * 3 beats, dropped a live member whose heartbeats queued behind 60 MB relayed on a loaded CI).
 */
const heartbeatMs = 5_000
const expiryMs = 24_000
/** Offers from members that chose us are answered while we hold fewer than max + this. */
const answerSlack = 2

export type MeshHooks = {
  identity: () => Identity
  scope: () => string
  maxConnections: number
  /** Direct peers whose handshake completed and whose channel is open. */
  direct: () => Peer[]
  /** Direct peers held, open or still connecting (what counts against the cap). */
  directCount: () => number
  /** Sends one overlay message on a direct link (a reserved action: acked per message). */
  sendDirect: (peer: Peer, bytes: Uint8Array) => Promise<void>
  /** A frame from a relayed member: the room's onFrame. */
  frame: (peer: Peer, frame: Frame) => void
  join: (id: PeerId) => void
  leave: (id: PeerId) => void
  /** Fails whatever is pending with a member (it left, or its route broke). */
  drop: (id: PeerId, error: P2PError) => void
  broadcast: (from: PeerId, actionId: string, value: unknown, meta: Metadata) => void
  /**
   * THE SEAM for opening a direct connection the overlay chose. Today: through the public
   * relay (signaling.ts `dial`, an offer to a member whose announce we heard); false when
   * that cannot be done, and the member is then asked through the overlay to offer to us.
   * mesh-signal replaces this with offers and answers sealed and routed through the overlay;
   * `relay` asks for the public relay even so (the overlay may be split: see dialOnce).
   */
  dial: (id: PeerId, relay?: boolean) => boolean
  /** mesh-signal: sealed payloads that are signaling go here first (true: handled). */
  signal?: (from: PeerId, data: Uint8Array) => boolean
  /** mesh-signal: the overlay node exists (signaling gets it as a direct transport). */
  awake?: (node: OverlayNode) => void
  problem: (error: P2PError) => void
  roomId: string
  stream?: StreamOptions
  /** The room's debug log (config.debug): the overlay waking, links it dials and prunes. */
  debug?: (step: string, peerId?: PeerId, detail?: string) => void
}

export const createMesh = (hooks: MeshHooks) => {
  const max = hooks.maxConnections
  let node: OverlayNode | undefined
  let starting: Promise<OverlayNode> | undefined
  let stopped = false
  /** Members the app was told of (direct or relayed). */
  const known = new Set<PeerId>()
  const relayed = new Map<PeerId, RelayedPeer>()
  /** Members that said goodbye on a direct link: the overlay's late news of them is ignored. */
  const departed = new Map<PeerId, number>()
  const queued = new Map<PeerId, number>()
  /** The overlay's dials per member: when the last was and how many there were (bounded: 1024 members). */
  const dials = new Map<PeerId, {at: number; tries: number}>()
  const early: [PeerId, OverlayMessage][] = []
  const counters = {dropped: 0, hopDrops: 0, relayedFrames: 0, failed: 0}
  const encoder = new TextEncoder()

  const directPeer = (id: PeerId) => hooks.direct().find(peer => peer.id === id)

  /** Relayed frames (route, flood) waiting here for a link's outbox to have room, per neighbour. */
  const waiting = new Map<PeerId, Uint8Array[]>()
  /** Bytes of relayed frames handed to each link's outbox and not acked yet. */
  const handed = new Map<PeerId, number>()
  const pumpOverlay = (neighbour: PeerId) => {
    const list = waiting.get(neighbour)
    const peer = directPeer(neighbour)
    if (!list || !peer) return (void waiting.delete(neighbour), queued.delete(neighbour))
    while (list.length && (handed.get(neighbour) ?? 0) < handOffLimit) {
      const bytes = list.shift()!
      handed.set(neighbour, (handed.get(neighbour) ?? 0) + bytes.byteLength)
      const done = () => {
        handed.set(neighbour, Math.max(0, (handed.get(neighbour) ?? 0) - bytes.byteLength))
        queued.set(neighbour, Math.max(0, (queued.get(neighbour) ?? 0) - bytes.byteLength))
        pumpOverlay(neighbour)
      }
      hooks.sendDirect(peer, bytes).then(done, done)
    }
    if (!list.length) waiting.delete(neighbour)
  }

  const sendOverlay = (neighbour: PeerId, message: OverlayMessage | {k: 'hello'}) => {
    const peer = directPeer(neighbour)
    if (!peer) return
    const bytes = encoder.encode(JSON.stringify(message))
    if ((message.k !== 'route' && message.k !== 'flood') || bytes.byteLength <= smallFrame) {
      // Membership, per-hop acks, link choice and small sealed frames (stream credits, acks,
      // pings) go straight to the link: they must not wait behind megabytes of relayed data
      // (a heartbeat late past expiryMs is a member "gone"; a credit late stalls a stream).
      return void hooks.sendDirect(peer, bytes).catch(() => {})
    }
    const pending = queued.get(neighbour) ?? 0
    // Relayed traffic past the bound is dropped here, not buffered: its stream resends it.
    if (pending + bytes.byteLength > hopQueueLimit) return void counters.hopDrops++
    queued.set(neighbour, pending + bytes.byteLength)
    let list = waiting.get(neighbour)
    if (!list) waiting.set(neighbour, (list = []))
    list.push(bytes)
    pumpOverlay(neighbour)
  }

  const relayedPeerOf = (id: PeerId): RelayedPeer | undefined => {
    if (stopped || !node?.isMember(id)) return undefined
    let peer = relayed.get(id)
    if (peer && !peer.isClosed) return peer
    peer = new RelayedPeer(
      id,
      bytes => {
        counters.relayedFrames++
        void node?.sendTo(id, bytes)
      },
      {
        frame: (from, bytes) => {
          let frame: Frame
          try {
            frame = decodeFrame(bytes.slice().buffer)
          } catch (error) {
            return hooks.problem(
              new P2PError(
                'malformed',
                `relayed member ${from.id} ${error instanceof MalformedFrame ? error.message : error}; ignored it`,
                from.id,
              ),
            )
          }
          if (frame.type === FrameType.Keepalive || frame.type === FrameType.Control) return
          hooks.frame(from as unknown as Peer, frame)
        },
        failed: (from, reason) => {
          counters.failed++
          hooks.drop(
            from.id,
            new P2PError(
              'no-route',
              `member ${from.id} of room "${hooks.roomId}" is unreachable through the overlay (${reason}); pending sends to it were rejected`,
              from.id,
            ),
          )
        },
      },
      hooks.stream,
    )
    relayed.set(id, peer)
    return peer
  }

  const memberJoined = (id: PeerId) => {
    if (known.has(id) || departed.has(id)) return
    known.add(id)
    relayedPeerOf(id)
    hooks.join(id)
  }

  const memberLeft = (id: PeerId, reason: string) => {
    lastHops.delete(id)
    lastPath.delete(id)
    relayed.get(id)?.close()
    relayed.delete(id)
    if (!known.delete(id)) return false
    hooks.drop(id, new P2PError('peer-left', `peer ${id} left room "${hooks.roomId}": ${reason}`, id))
    return true
  }

  /** Hops the last sealed frame from each member took (what peerInfo reports). */
  const lastHops = new Map<PeerId, number>()
  /** The members the last sealed frame from each member passed (read-only, for display: examples/crowd). */
  const lastPath = new Map<PeerId, PeerId[]>()
  const onMessage = (from: PeerId, data: Uint8Array, hops: number, path: PeerId[] = []) => {
    if (hooks.signal?.(from, data)) return // mesh-signal: an offer/answer routed through the overlay
    const peer = relayedPeerOf(from)
    if (!peer) return void counters.dropped++
    lastHops.set(from, hops)
    if (path.length) lastPath.set(from, path.slice(-32))
    const frame = decodeStreamFrame(data)
    if (frame) return peer.receiver.receive(frame.seq, frame.base, frame.frame, frame.epoch)
    const credit = decodeCredit(data)
    if (credit !== undefined) return peer.sender.credit(credit, decodeCreditEpoch(data))
    if (data.byteLength === 1 && data[0] === DialTag) return void dialOnce(from, false)
    counters.dropped++
  }

  const onBroadcast = (from: PeerId, data: Uint8Array) => {
    if (!known.has(from)) return void counters.dropped++
    try {
      const {header, body} = decodeMessageHeader(data)
      if (header.total !== body.byteLength) throw new MalformedFrame('a broadcast of the wrong length')
      hooks.broadcast(from, header.actionId, decodeValue(header.kind, body), header.meta as Metadata)
    } catch (error) {
      hooks.problem(new P2PError('malformed', `member ${from} broadcast ${error}; ignored it`, from))
    }
  }

  /** Opens a link the overlay chose: the seam first, else ask the member (through the overlay) to offer. */
  const dialOnce = (id: PeerId, ask: boolean, split = false) => {
    const now = Date.now()
    const last = dials.get(id)
    if (stopped || directPeer(id) || now - (last?.at ?? 0) < dialEveryMs) return
    // Every other try to the same member goes through the public relay: signaling routed through
    // the overlay cannot cross a split (a relaying member left and the overlay fell in two), and
    // the link it would make is what heals the split.
    const tries = (last?.tries ?? 0) + 1
    dials.set(id, {at: now, tries})
    if (dials.size > 1024) dials.delete(dials.keys().next().value!)
    const dialed = hooks.dial(id, split || tries % 2 === 0)
    hooks.debug?.(dialed ? 'mesh dial' : ask ? 'mesh dial asked' : 'mesh dial not possible', id)
    if (!dialed && ask) void node?.sendTo(id, new Uint8Array([DialTag]))
  }

  const start = (): Promise<OverlayNode> => {
    if (starting) return starting
    starting = (async () => {
      const created = await createOverlayNode({
        identity: hooks.identity(),
        scope: `p2p-elements room ${hooks.scope()}`,
        maxConnections: max,
        heartbeatMs,
        expiryMs,
        firstSeq: Date.now(),
        send: sendOverlay,
        connect: (id, split) => dialOnce(id, true, split),
        disconnect: id => {
          const peer = directPeer(id)
          if (!peer) return
          // The node says "full" on the link just before it asks to prune it: let that (and any
          // small message) leave first, else the other side redials at once. A link still busy
          // after that (a send under way) is pruned on a later round, not mid-message.
          const prune = (tries: number) => {
            if (peer.isClosed || stopped) return
            if (peer.channel.bufferedAmount > 0)
              return void (tries < pruneWaitTries && setTimeout(() => prune(tries + 1), pruneWaitStepMs))
            hooks.debug?.('mesh prune', id)
            peer.close('the overlay pruned this link')
          }
          prune(0)
        },
        message: onMessage,
        broadcast: onBroadcast,
        join: memberJoined,
        leave: id => {
          if (!directPeer(id) && memberLeft(id, 'the overlay reports it gone')) hooks.leave(id)
        },
        dropped: () => void counters.dropped++,
      })
      if (stopped) return created
      hooks.debug?.('mesh awake', undefined, `${hooks.directCount()} direct links, cap ${max}`)
      node = created
      hooks.awake?.(created) // mesh-signal
      await created.start()
      for (const peer of hooks.direct()) await created.linkUp(peer.id)
      for (const [from, message] of early.splice(0)) await created.receive(from, message)
      return created
    })()
    return starting
  }

  const tick = setInterval(() => {
    for (const peer of relayed.values()) peer.sender.tick()
    const now = Date.now()
    for (const [id, at] of departed) if (now - at > expiryMs * 2) departed.delete(id)
  }, 500)
  ;(tick as {unref?: () => void}).unref?.()

  return {
    counters,
    get active() {
      return !!node
    },
    /** A direct peer's handshake completed: true if the app should hear it join. */
    directJoined: (id: PeerId): boolean => {
      departed.delete(id)
      if (node) void node.linkUp(id)
      else if (hooks.directCount() > max) void start()
      if (known.has(id)) return false
      known.add(id)
      return true
    },
    /** A direct link closed: true if the member is gone for the app (else it is relayed now). */
    directClosed: (id: PeerId, reason: string): boolean => {
      // Frames still waiting for this link are the node's to resend (they were never acked).
      waiting.delete(id), handed.delete(id), queued.delete(id)
      node?.linkDown(id)
      if (reason === goodbyeReason) {
        departed.set(id, Date.now())
        return memberLeft(id, reason)
      }
      if (node?.isMember(id) && !stopped) return !relayedPeerOf(id)
      return memberLeft(id, reason)
    },
    /** An overlay message on a direct link (untrusted: the node checks it). */
    receiveDirect: (from: PeerId, value: unknown) => {
      if (stopped || typeof value !== 'string') return
      let message: OverlayMessage
      try {
        message = JSON.parse(value)
      } catch {
        return void counters.dropped++
      }
      if (node) return void node.receive(from, message)
      if (early.length < 256) early.push([from, message])
      void start()
    },
    /** The relayed member `id`, for sends, pings and requests; undefined unless it is one. */
    peer: (id: PeerId): Peer | undefined =>
      known.has(id) && !directPeer(id) ? (relayedPeerOf(id) as unknown as Peer | undefined) : undefined,
    has: (id: PeerId) => known.has(id),
    /** Members the app knows that have no open direct link. */
    relayedIds: (): PeerId[] => [...known].filter(id => !directPeer(id)),
    info: (id: PeerId): {route: 'direct' | 'relayed'; hops: number; path?: PeerId[]} | undefined => {
      if (directPeer(id)) return {route: 'direct', hops: 1, path: [id, hooks.identity().id]}
      if (!known.has(id)) return undefined
      // Gossip tells only "not a neighbour"; a frame from the member tells the hops it took.
      const path = lastPath.get(id)
      return {
        route: 'relayed',
        hops: Math.max(2, lastHops.get(id) ?? node?.info(id)?.hops ?? 2),
        ...(path ? {path: [...path]} : {}),
      }
    },
    /** Signaling's gate on answering an announce: whether to offer to `id` (signaling.ts `wants`). */
    wantsDial: async (id: PeerId, step: 'announce' | 'offer' = 'announce'): Promise<boolean> => {
      if (max === Number.POSITIVE_INFINITY || hooks.directCount() < max) return true
      if (node?.wants(id)) return true
      // Others' choices are answered up to a little past the cap (in-degree is not ours to choose).
      if (step === 'offer' && (!node || hooks.directCount() < max + answerSlack)) return true
      if (node?.isMember(id) || known.has(id)) return false
      // A newcomer: the members closest to it take it in; the overlay then finds it its own links.
      const ids = node ? node.members() : hooks.direct().map(peer => peer.id)
      const [self, other, ...keys] = await Promise.all(
        [hooks.identity().id, id, ...ids.filter(m => m !== id)].map(overlayKey),
      )
      return isBootstrapFor(self!, keys, other!)
    },
    /** Sends to everyone over the overlay's flood; undefined when the room is a full mesh (send directly). */
    broadcast: (actionId: string, kind: number, bytes: Uint8Array, meta: Metadata): Promise<void> | undefined => {
      if (!node || !relayed.size || ![...known].some(id => !directPeer(id))) return undefined
      const header = encodeMessageHeader({total: bytes.byteLength, actionId, kind, meta})
      const payload = new Uint8Array(header.byteLength + bytes.byteLength)
      payload.set(header)
      payload.set(bytes, header.byteLength)
      return node.broadcast(payload)
    },
    /** Says goodbye on the overlay (a signed leave) and stops. */
    stop: async () => {
      if (stopped) return
      stopped = true
      clearInterval(tick)
      for (const peer of relayed.values()) peer.close()
      relayed.clear()
      await node?.stop()
    },
  }
}

export type Mesh = ReturnType<typeof createMesh>
