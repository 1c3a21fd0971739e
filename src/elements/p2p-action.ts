import {P2PError} from '../core/errors.js'
import type {
  DataPayload,
  Metadata,
  PeerId,
  PeerResult,
  RequestAction,
  RequestHandler,
  RequestManyOptions,
  RequestOptions,
  Room,
  TargetPeers,
} from '../core/types.js'
import {errorDetail, fire} from './events.js'
import {events} from './names.js'
import type {P2PRoom} from './p2p-room.js'
import {property} from './property.js'
import {type RoomEventHandlers, RoomMember} from './room-member.js'

/** Which element's handler answers each request action of a core room (the latest to bind wins). */
const answering = new WeakMap<Room, Map<string, P2PAction>>()

/**
 * One named channel of messages between the peers of a room: `send()` data of any kind
 * (text, JSON, binary, Blob), hear it as `p2p-data`. Invisible. Several `<p2p-action>`s
 * with the same name in one room all hear every message; messages that arrive before
 * anything listens are kept (up to 100 per action) and delivered when it does.
 *
 * With `mode="request"` it is a request/response action instead: set `handler` to answer
 * the peers' requests (`el.handler = async (data, peerId, metadata) => reply`), and ask one
 * peer with `request(data, peerId)` or several with `requestMany(data, targets?)`. The
 * handler's return value is the reply; a throw rejects the asker with code `remote-error`
 * and the thrown message. A page whose element has no handler answers `remote-error`
 * ("no handler") after a second. One core action id has one kind: the same name cannot be
 * a message action and a request action in one room.
 *
 * @summary Send and receive messages of one kind between the peers of a room, or ask and answer requests.
 * @tag p2p-action
 *
 * @fires {CustomEvent<DataDetail>} p2p-data - A message arrived: `{data, peerId, metadata, from}`; `from` is the sender as the elements show it (`from.display`, `from.color`). Binary arrives as an ArrayBuffer.
 * @fires {CustomEvent<ProgressDetail>} p2p-progress - Progress of a message in either direction: `{fraction, peerId, metadata, direction}` with direction 'send' or 'receive'.
 * @fires {CustomEvent<ErrorDetail>} p2p-error - No room was found for it (code `no-room`), or a send or request failed (its promise also rejects), or its handler could not be bound (the name is a message action).
 */
export class P2PAction extends RoomMember {
  /** The action's name, the same on every peer (at most 255 bytes of UTF-8). */
  @property({attribute: 'name', reflect: true}) name = ''
  /** 'message' (the default): `send()` and `p2p-data`. 'request': `request()`, `requestMany()` and `handler`. */
  @property({attribute: 'mode', reflect: true}) mode: 'message' | 'request' = 'message'
  /**
   * In request mode, answers each request from a peer: `(data, peerId, metadata, {signal}) => reply`
   * (or a promise of it); a throw rejects the asker with code `remote-error`. Property only.
   * `signal` aborts when the asker stops waiting or leaves.
   */
  @property({attribute: false}) handler?: RequestHandler

  #unsubscribe?: () => void
  /** The core room this element's handler is bound on, in request mode. */
  #boundOn?: Room

  protected override roomEvents: RoomEventHandlers = {'p2p-join': () => this.#bindHandler()}

  /**
   * In request mode: asks one peer and resolves with its reply; waits for the room to join
   * first. Rejects with a P2PError (`remote-error` with the handler's message, `timeout`
   * after `options.timeoutMs` (default 30 s), `aborted` by `options.signal`, `peer-left`,
   * `unknown-peer`...), also fired as `p2p-error`.
   */
  async request(data: DataPayload, peerId: PeerId, options?: RequestOptions): Promise<unknown> {
    return this.#withRequestAction(action => action.request(data, peerId, options))
  }

  /**
   * In request mode: asks every peer (or `targets`) and resolves with a Map of each peer's
   * result, `{peerId, status: 'fulfilled', value}` or `{peerId, status: 'rejected' | 'timeout' | 'disconnected', error}`.
   * Rejects only when aborted (or without a room).
   */
  async requestMany(
    data: DataPayload,
    targets?: TargetPeers,
    options?: RequestManyOptions,
  ): Promise<Map<PeerId, PeerResult>> {
    return this.#withRequestAction(action => action.requestMany(data, targets, options))
  }

  async #withRequestAction<R>(ask: (action: RequestAction) => Promise<R>): Promise<R> {
    try {
      const room = this.#needRoom()
      if (this.mode !== 'request')
        throw new P2PError('action-id', `p2p-action "${this.name}": set mode="request" to send requests`)
      const core = await room.ready()
      return await ask(core.makeAction(this.name, {kind: 'request'}))
    } catch (error) {
      fire(this, events.error, errorDetail(error))
      throw error
    }
  }

  #needRoom(): P2PRoom {
    const room = this.roomElement
    if (!room)
      throw new P2PError(
        'no-room',
        `p2p-action "${this.name}": it has no <p2p-room> yet; put it inside one or set for="id of a p2p-room"`,
      )
    if (!this.name)
      throw new P2PError('action-id', 'p2p-action: set its name attribute before sending (the same name on every peer)')
    return room
  }

  /** In request mode with a handler, answers the joined core room's requests; otherwise lets go of them. */
  #bindHandler() {
    const core = this.mode === 'request' && this.handler && this.name ? this.roomElement?.coreRoom : undefined
    if (this.#boundOn && (this.#boundOn !== core || !this.handler)) this.#unbind()
    if (!core) return
    try {
      const action = core.makeAction(this.name, {kind: 'request'})
      action.onRequest((data, peerId, metadata, context) => {
        const handler = this.handler
        if (!handler) throw new Error(`no handler on this peer's p2p-action "${this.name}"`)
        return handler(data, peerId, metadata, context)
      })
      let owners = answering.get(core)
      if (!owners) answering.set(core, (owners = new Map()))
      owners.set(this.name, this)
      this.#boundOn = core
      this.#boundName = this.name
    } catch (error) {
      fire(this, events.error, errorDetail(error))
    }
  }

  #unbind() {
    const core = this.#boundOn
    this.#boundOn = undefined
    const owners = core && answering.get(core)
    if (!core || owners?.get(this.#boundName) !== this) return
    owners.delete(this.#boundName)
    core.makeAction(this.#boundName, {kind: 'request'}).onRequest(null)
  }
  #boundName = ''

  /**
   * Sends `data` to every peer, or to `targets` (a peer id or a list); waits for the room to
   * join first. Resolves when every target has received it; rejects with a P2PError
   * (`code` 'no-room', 'peer-left', 'rejected', 'too-large', ...), also fired as `p2p-error`.
   */
  async send(data: DataPayload, targets?: TargetPeers, metadata?: Metadata): Promise<void> {
    try {
      const room = this.#needRoom()
      await room.sendAction(this.name, data, targets, metadata, (fraction, peerId) =>
        fire(this, events.progress, {fraction, peerId, metadata, direction: 'send', from: room.describe(peerId)}),
      )
    } catch (error) {
      fire(this, events.error, errorDetail(error))
      throw error
    }
  }

  protected override createRenderRoot() {
    return this
  }

  protected override roomChanged(room: P2PRoom | undefined) {
    this.#subscribe(room)
    this.#bindHandler()
  }

  protected override updated(changed: Map<PropertyKey, unknown>) {
    super.updated(changed)
    if (changed.has('name') || changed.has('mode')) {
      this.#unbind()
      this.#subscribe(this.roomElement)
    }
    if (changed.has('name') || changed.has('mode') || changed.has('handler')) this.#bindHandler()
  }

  override disconnectedCallback() {
    super.disconnectedCallback()
    this.#unbind()
  }

  #subscribe(room: P2PRoom | undefined) {
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
    if (!room || !this.name || this.mode === 'request') return
    this.#unsubscribe = room.subscribeAction(this.name, {
      data: (data, peerId, metadata) => fire(this, events.data, {data, peerId, metadata, from: room.describe(peerId)}),
      progress: (fraction, peerId, metadata) =>
        fire(this, events.progress, {fraction, peerId, metadata, direction: 'receive', from: room.describe(peerId)}),
    })
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'p2p-action': P2PAction
  }
}
