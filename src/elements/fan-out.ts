/**
 * Many listeners on one core room. The core's `on*` registrars keep Trystero's contract (the
 * latest callback wins), and `joinRoom` gives one core room per app id and room id in a page,
 * which several `<p2p-room>` elements may share. So the elements register each core callback
 * once per core room, here, and hand every call to each listener of that room; an action's
 * callbacks are registered once per name, the same way.
 */
import type {BaseRoomConfig, JoinError, JoinRoom, Metadata, PeerId, Presence, Room} from '../core/types.js'

/** What one listener hears of a core room. Every callback is optional. */
export type RoomListener = {
  peerJoin?: (peerId: PeerId) => void
  peerLeave?: (peerId: PeerId) => void
  stream?: (stream: MediaStream, peerId: PeerId, metadata?: Metadata) => void
  track?: (track: MediaStreamTrack, stream: MediaStream, peerId: PeerId, metadata?: Metadata) => void
  /** A problem the core room reports, or an action name it refused. */
  error?: (error: unknown) => void
  joinError?: (details: JoinError) => void
  /** A peer's presence arrived or changed. */
  presence?: (state: Presence, peerId: PeerId) => void
  /** A message on an action bound with `bindAction`. */
  data?: (action: string, data: unknown, peerId: PeerId, metadata?: Metadata) => void
  /** Progress of a message arriving on an action bound with `bindAction`. */
  progress?: (action: string, fraction: number, peerId: PeerId, metadata?: Metadata) => void
}

/** One listener's hold on a shared core room. */
export type Subscription = {
  /** The core room, the same for every listener with the same app id and room id. */
  readonly coreRoom: Room
  /** Registers the action's core callbacks, once per core room; its messages then reach every listener. */
  bindAction: (name: string) => void
  /** Removes the listener; true when it was the last one, and the caller should then leave the core room. */
  release: () => boolean
}

/** `observers` hear the room like listeners but never hold it: releasing the last listener still leaves. */
type FanOut = {listeners: Set<RoomListener>; observers: Set<RoomListener>; actions: Set<string>}

/** The fan-out of each core room that has listeners; a room's entry goes with its last listener. */
const fanOuts = new Map<Room, FanOut>()

const each = (room: Room, call: (listener: RoomListener) => void) => {
  const fanOut = fanOuts.get(room)
  if (fanOut) for (const listener of [...fanOut.listeners, ...fanOut.observers]) call(listener)
}

const registerCallbacks = (room: Room) => {
  room.onPeerJoin(peerId => each(room, l => l.peerJoin?.(peerId)))
  room.onPeerLeave(peerId => each(room, l => l.peerLeave?.(peerId)))
  room.onPeerStream((stream, peerId, metadata) => each(room, l => l.stream?.(stream, peerId, metadata)))
  room.onPeerTrack((track, stream, peerId, metadata) => each(room, l => l.track?.(track, stream, peerId, metadata)))
  room.onError(error => each(room, l => l.error?.(error)))
  room.onPresence?.((state, peerId) => each(room, l => l.presence?.(state, peerId)))
}

const fanOutOf = (room: Room): FanOut => {
  let fanOut = fanOuts.get(room)
  if (!fanOut) {
    fanOuts.set(room, (fanOut = {listeners: new Set(), observers: new Set(), actions: new Set()}))
    registerCallbacks(room)
  }
  return fanOut
}

/**
 * Adds `listener` to a core room someone else joined (a `<p2p-room>`'s, or the app's own), for
 * code above the core that must hear peers come and go without taking the room's callbacks
 * from the elements (the Yjs provider). It never keeps the room joined. Returns the remover.
 */
export const observeRoom = (room: Room, listener: RoomListener): (() => void) => {
  const own = fanOutOf(room)
  own.observers.add(listener)
  return () => {
    own.observers.delete(listener)
    if (!own.listeners.size && !own.observers.size && fanOuts.get(room) === own) fanOuts.delete(room)
  }
}

/**
 * Joins with `joinRoom` (or gets the core room already joined for this app id and room id)
 * and adds `listener` to that room's listeners.
 */
export const joinShared = <C extends BaseRoomConfig>(
  joinRoom: JoinRoom<C>,
  config: C,
  roomId: string,
  listener: RoomListener,
): Subscription => {
  // Only the first join of a core room registers its onJoinError: it speaks for every listener.
  let coreRoom: Room
  coreRoom = joinRoom(config, roomId, details => each(coreRoom, l => l.joinError?.(details)))
  const own = fanOutOf(coreRoom)
  own.listeners.add(listener)
  return {
    coreRoom,
    bindAction(name) {
      if (own.actions.has(name)) return
      try {
        const [, onMessage, onProgress] = coreRoom.makeAction(name)
        onMessage((data, peerId, metadata) => each(coreRoom, l => l.data?.(name, data, peerId, metadata)))
        onProgress((fraction, peerId, metadata) => each(coreRoom, l => l.progress?.(name, fraction, peerId, metadata)))
        own.actions.add(name)
      } catch (error) {
        each(coreRoom, l => l.error?.(error))
      }
    },
    release() {
      own.listeners.delete(listener)
      if (own.listeners.size || fanOuts.get(coreRoom) !== own) return false
      fanOuts.delete(coreRoom)
      return true
    },
  }
}
