import type {P2PError} from './errors.js'
import type {SignalTransport} from './signaling.js'
import type {Identity} from './identity.js'
import type {BaseRoomConfig, PeerId} from './types.js'

/**
 * The contract between the core and a signaling network.
 *
 * Nearly every network we use is publish/subscribe, so that is the whole contract:
 * subscribe to a topic, publish to a topic, close. The core owns everything else:
 * discovery, offers and answers, encryption, retries and timeouts. Topics are opaque
 * hex strings the core derives by hashing, so relays never see app or room names.
 *
 * Messages are short strings (JSON the core writes). An adapter may lose, duplicate or
 * reorder them; the core copes. It must never throw out of `publish`.
 *
 * The relay-style strategies of this package (nostr, mqtt, torrent, supabase, firebase,
 * ipfs) are built by src/strategies/shared/builder.ts, which implements this contract for
 * them (queue, topic listeners, error de-duplication, idempotent close); `local` and
 * `driver` implement it directly. The README's "The strategy contract" says the same.
 */
export type Signaling = {
  /** Start delivering messages published to `topic`; returns a function that stops it. */
  subscribe: (topic: string, onMessage: (message: string) => void) => () => void
  /** Send `message` to everyone subscribed to `topic` (the sender may hear its own echo). */
  publish: (topic: string, message: string) => void
  /** Release sockets and subscriptions. Called once, when the room is left. */
  close: () => void
  /** Optional, for diagnostics: how each relay (broker, tracker) this room uses is doing now. */
  relays?: () => RelayState[]
  /**
   * Optional (mesh-signal): a transport that reaches one peer without the pub/sub, e.g. the
   * `bootstrap` strategy's overlay. Signaling sends offers and answers through it when it
   * takes them, and checks what it delivers as it checks relay messages (signaling.ts).
   */
  direct?: SignalTransport
}

/** One relay of a room, as `Signaling.relays` reports it. */
export type RelayState = {url: string; state: 'open' | 'connecting' | 'down'}

/** What the core tells an adapter about the room it serves. */
export type StrategyContext = {
  appId: string
  roomId: string
  selfId: PeerId
  /** Topic every peer of the room subscribes to (announces). */
  roomTopic: string
  /** Topic only this peer subscribes to (messages addressed to it). */
  selfTopic: string
  /** The directed topic of any peer, for adapters that route by peer rather than topic (torrent). */
  peerTopic: (peerId: PeerId) => Promise<string>
  /**
   * Report a problem that does not end the room (a relay down, a bad message, a missing
   * SDK). A string becomes a `P2PError` with code `strategy` and the strategy's name in
   * front; a `P2PError` (e.g. `missing-dependency`) reaches `room.onError` as it is.
   */
  onError: (error: string | P2PError) => void
  /**
   * The room's identity (mesh-signal): a strategy that is itself a peer network (`bootstrap`)
   * joins it under the room's id, so other members can route to that id.
   */
  identity?: Identity
}

export type Strategy<C extends BaseRoomConfig = BaseRoomConfig> = {
  /** Short lowercase name, used in errors and by `<p2p-room strategy="...">`. */
  name: string
  /** Checks strategy-specific config when joinRoom is called; throw `invalidConfig(...)` saying what to fix. */
  validate?: (config: C) => void
  /**
   * Optional: called as joinRoom is called, before the room's identity, topics and key are
   * ready (`connect` comes once they are), to start what is slow and needs none of them:
   * opening relay sockets. Must not throw; `connect` must work whether it ran or not.
   */
  preconnect?: (config: C) => void
  /**
   * Connect for one room. May be called before the network is reachable: queue or drop,
   * never throw. A strategy that cannot run here (no BroadcastChannel, an SDK that is not
   * installed) returns a signaling that does nothing and says why through `onError`.
   */
  connect: (config: C, context: StrategyContext) => Signaling
}

export const defineStrategy = <C extends BaseRoomConfig>(strategy: Strategy<C>): Strategy<C> => strategy
