import type {Peer} from './peer.js'
import type {DataPayload, HandshakePayload, Metadata, PeerHandshake, PeerId} from './types.js'

/**
 * The app's handshake (`room.onPeerHandshake`), run over a peer's data channel once it
 * opens and before the peer counts as joined, with Trystero's names and semantics:
 * each side runs the callback with `send`, `receive` and `isInitiator`; when it resolves,
 * that side tells the other it is ready; the peer joins when both sides are. A rejection
 * or `handshakeTimeoutMs` without both sides ready closes the peer with a join error.
 * Without a callback a side is ready at once (one message each way on the open channel).
 */

/** The internal action handshake payloads travel on; app action ids cannot start with NUL. */
export const handshakeActionId = '\u0000handshake'

type State = {
  queue: HandshakePayload[]
  waiters: {resolve: (payload: HandshakePayload) => void; reject: (error: Error) => void}[]
  local: boolean
  remote: boolean
  timer: ReturnType<typeof setTimeout>
}

/** Payloads a peer may queue before the app's `receive()` takes them. */
const queueLimit = 64

export type HandshakeEvents = {
  selfId: () => PeerId
  callback: () => PeerHandshake | undefined
  timeoutMs: number
  send: (peer: Peer, data: DataPayload, metadata?: Metadata) => Promise<void>
  ready: (peer: Peer) => void
  join: (peer: Peer) => void
  fail: (peer: Peer, message: string) => void
}

export const createHandshakes = (events: HandshakeEvents) => {
  const states = new Map<Peer, State>()

  const finish = (peer: Peer) => {
    const state = states.get(peer)
    if (!state?.local || !state.remote) return
    clearTimeout(state.timer)
    states.delete(peer)
    events.join(peer)
  }

  const fail = (peer: Peer, message: string) => {
    if (!states.has(peer)) return
    drop(peer, message)
    events.fail(peer, message)
  }

  const drop = (peer: Peer, reason: string) => {
    const state = states.get(peer)
    if (!state) return
    clearTimeout(state.timer)
    states.delete(peer)
    for (const waiter of state.waiters.splice(0)) waiter.reject(new Error(reason))
  }

  return {
    /** The peer's channel opened: run the app's handshake. */
    start(peer: Peer) {
      const state: State = {
        queue: [],
        waiters: [],
        local: false,
        remote: false,
        timer: setTimeout(() => fail(peer, `handshake timed out after ${events.timeoutMs} ms`), events.timeoutMs),
      }
      states.set(peer, state)
      const send = async (data: DataPayload, metadata?: Metadata) => {
        if (states.get(peer) !== state) throw new Error(`peer ${peer.id} is no longer handshaking`)
        await events.send(peer, data, metadata)
      }
      const receive = () =>
        new Promise<HandshakePayload>((resolve, reject) => {
          if (states.get(peer) !== state) return reject(new Error(`peer ${peer.id} is no longer handshaking`))
          const next = state.queue.shift()
          if (next) resolve(next)
          else state.waiters.push({resolve, reject})
        })
      const callback = events.callback()
      void Promise.resolve()
        .then(() => callback?.(peer.id, send, receive, events.selfId() < peer.id))
        .then(
          () => {
            if (states.get(peer) !== state) return
            state.local = true
            events.ready(peer)
            finish(peer)
          },
          error =>
            fail(
              peer,
              `handshake rejected: ${error instanceof Error ? error.message : String(error ?? 'no reason given')}`,
            ),
        )
    },
    /** A handshake payload from a peer still handshaking (dropped otherwise, as in Trystero). */
    receive(peer: Peer, data: unknown, metadata: Metadata) {
      const state = states.get(peer)
      if (!state) return
      const payload: HandshakePayload = metadata === undefined ? {data} : {data, metadata}
      const waiter = state.waiters.shift()
      if (waiter) waiter.resolve(payload)
      else if (state.queue.length < queueLimit) state.queue.push(payload)
    },
    /** The other side's handshake resolved. */
    remoteReady(peer: Peer) {
      const state = states.get(peer)
      if (!state) return
      state.remote = true
      finish(peer)
    },
    isPending: (peer: Peer) => states.has(peer),
    /** The peer closed mid-handshake. */
    drop,
  }
}
