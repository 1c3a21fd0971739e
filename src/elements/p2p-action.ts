import {P2PError} from '../core/errors.js'
import type {DataPayload, Metadata, TargetPeers} from '../core/types.js'
import {errorDetail, fire} from './events.js'
import {events} from './names.js'
import type {P2PRoom} from './p2p-room.js'
import {property} from './property.js'
import {RoomMember} from './room-member.js'

/**
 * One named channel of messages between the peers of a room: `send()` data of any kind
 * (text, JSON, binary, Blob), hear it as `p2p-data`. Invisible. Several `<p2p-action>`s
 * with the same name in one room all hear every message; messages that arrive before
 * anything listens are kept (up to 100 per action) and delivered when it does.
 *
 * @summary Send and receive messages of one kind between the peers of a room.
 * @tag p2p-action
 *
 * @fires {CustomEvent<DataDetail>} p2p-data - A message arrived: `{data, peerId, metadata, from}`; `from` is the sender as the elements show it (`from.display`, `from.color`). Binary arrives as an ArrayBuffer.
 * @fires {CustomEvent<ProgressDetail>} p2p-progress - Progress of a message in either direction: `{fraction, peerId, metadata, direction}` with direction 'send' or 'receive'.
 * @fires {CustomEvent<ErrorDetail>} p2p-error - No room was found for it (code `no-room`), or a send failed (the send promise also rejects).
 */
export class P2PAction extends RoomMember {
  /** The action's name, the same on every peer (at most 255 bytes of UTF-8). */
  @property({attribute: 'name', reflect: true}) name = ''

  #unsubscribe?: () => void

  /**
   * Sends `data` to every peer, or to `targets` (a peer id or a list); waits for the room to
   * join first. Resolves when every target has received it; rejects with a P2PError
   * (`code` 'no-room', 'peer-left', 'rejected', 'too-large', ...), also fired as `p2p-error`.
   */
  async send(data: DataPayload, targets?: TargetPeers, metadata?: Metadata): Promise<void> {
    const room = this.roomElement
    try {
      if (!room)
        throw new P2PError(
          'no-room',
          `p2p-action "${this.name}": it has no <p2p-room> yet; put it inside one or set for="id of a p2p-room"`,
        )
      if (!this.name)
        throw new P2PError(
          'action-id',
          'p2p-action: set its name attribute before sending (the same name on every peer)',
        )
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
  }

  protected override updated(changed: Map<PropertyKey, unknown>) {
    super.updated(changed)
    if (changed.has('name')) this.#subscribe(this.roomElement)
  }

  #subscribe(room: P2PRoom | undefined) {
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
    if (!room || !this.name) return
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
