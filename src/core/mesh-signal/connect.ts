import {P2PError} from '../errors.js'
import type {PeerId} from '../types.js'

/**
 * `room.connect(id)`: a direct WebRTC connection to a member on demand, negotiated through a
 * direct signaling transport (the overlay) rather than the public relay. Resolves once the
 * peer has joined (channel open, handshake done); rejects with `unknown-peer` when no
 * transport reaches it, `timeout` when it did not join within the room's connectTimeoutMs,
 * `room-left` when the room was left first.
 */
export type ConnectOptions = {
  roomId: string
  timeoutMs: number
  ready: Promise<unknown>
  isJoined: (peerId: PeerId) => boolean
  isLeft: () => boolean
  /** Signaling's `connect`: true when a transport took our announce for `peerId`. */
  ask: (peerId: PeerId) => Promise<boolean> | undefined
}

/** While a connect waits, our announce is sent again this often if no handshake is under way. */
export const retryMs = 4_000

export const createConnector = (options: ConnectOptions) => {
  const waits = new Map<PeerId, Set<(error?: P2PError) => void>>()
  /** One connect per id at a time: asking again while one is under way waits for the same. */
  const pending = new Map<PeerId, Promise<void>>()
  const settle = (peerId: PeerId, error?: P2PError) => {
    const list = waits.get(peerId)
    waits.delete(peerId)
    for (const done of list ?? []) done(error)
  }
  return {
    /** The room's join callback: a waiting connect(peerId) resolves. */
    joined: (peerId: PeerId) => settle(peerId),
    /** The room was left: everything waiting rejects. */
    left: () => {
      for (const peerId of [...waits.keys()])
        settle(peerId, new P2PError('room-left', `left room "${options.roomId}" before connect(${peerId}) finished`))
    },
    connect: (peerId: PeerId): Promise<void> => {
      if (typeof peerId !== 'string' || !peerId)
        return Promise.reject(new P2PError('unknown-peer', 'connect: a peer id (a string) is needed'))
      if (options.isJoined(peerId)) return Promise.resolve()
      const current = pending.get(peerId)
      if (current) return current
      const attempt = connectOnce(peerId).finally(() => pending.delete(peerId))
      pending.set(peerId, attempt)
      return attempt
    },
  }

  async function connectOnce(peerId: PeerId): Promise<void> {
    await options.ready
    if (options.isLeft()) throw new P2PError('room-left', `left room "${options.roomId}" before connect(${peerId})`)
    const joined = new Promise<void>((resolve, reject) => {
      let list = waits.get(peerId)
      if (!list) waits.set(peerId, (list = new Set()))
      const timer = setTimeout(() => {
        list!.delete(done)
        reject(
          new P2PError(
            'timeout',
            `connect(${peerId}): no direct connection within ${options.timeoutMs} ms in room "${options.roomId}"`,
            peerId,
          ),
        )
      }, options.timeoutMs)
      const done = (error?: P2PError) => (clearTimeout(timer), error ? reject(error) : resolve())
      list.add(done)
    })
    joined.catch(() => {})
    if (options.isJoined(peerId)) return settle(peerId)
    // Relayed frames may be lost (a relaying member leaving): ask again while nothing is under
    // way (signaling's connect sends nothing while a handshake with the peer is live).
    const retry = setInterval(() => void options.ask(peerId)?.catch(() => {}), retryMs)
    void joined.then(
      () => clearInterval(retry),
      () => clearInterval(retry),
    )
    if (!(await options.ask(peerId))) {
      settle(
        peerId,
        new P2PError(
          'unknown-peer',
          `connect(${peerId}): no route to it through the room's overlay in room "${options.roomId}" (not a known member)`,
          peerId,
        ),
      )
    }
    return joined
  }
}
