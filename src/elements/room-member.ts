/**
 * The base of every element that belongs to a `<p2p-room>` (`<p2p-action>`, `<p2p-file-send>`,
 * `<p2p-video-grid>`, `<p2p-peer-list>`): it finds its room, keeps handlers on it, and brings
 * the shared styles. Names used here: the *room element* is the `<p2p-room>`, the *core room*
 * is the `Room` it joined (`roomElement.coreRoom`).
 */
import {type CSSResultGroup, LitElement, type PropertyValues} from 'lit'
import {P2PError} from '../core/errors.js'
import type {PeerId, Room} from '../core/types.js'
import {errorDetail, fire, type P2PEventMap} from './events.js'
import {type PeerLabel, describePeer} from './format.js'
import {events, tags} from './names.js'
import type {P2PRoom} from './p2p-room.js'
import {property} from './property.js'
import {sharedStyles} from './styles.js'

/** Handlers a member keeps on its room element while linked to it, by event name. */
export type RoomEventHandlers = {[K in keyof P2PEventMap]?: (event: P2PEventMap[K]) => void}

const isRoomElement = (element: Element | null | undefined): element is P2PRoom =>
  !!element && typeof (element as Partial<P2PRoom>).subscribeAction === 'function'

/** The nearest `<p2p-room>` around `element`, looking through shadow roots up to the document. */
const enclosingRoom = (element: Element): Element | null => {
  let from: Element | null = element
  while (from) {
    const found = from.closest(tags.room)
    if (found) return found
    const root = from.getRootNode()
    from = root instanceof ShadowRoot ? root.host : null
  }
  return null
}

/** The element with `id` in the element's own tree (its shadow root or the document), else the document. */
const roomById = (element: Element, id: string): Element | null => {
  const root = element.getRootNode() as Partial<DocumentOrShadowRoot & NonElementParentNode>
  return root.getElementById?.(id) ?? element.ownerDocument.getElementById(id)
}

/** `room="id"` on a child element warns once per page. */
let warnedAboutRoomAttribute = false

/**
 * An element that belongs to a `<p2p-room>`: the one whose id its `for` attribute names, else
 * the nearest one around it. Works in any order of definition and upgrade: it waits for
 * `<p2p-room>` to be defined, and looks again a task later for a room a framework inserts
 * after the child. It links again when it moves in the page or `for` changes, and fires
 * `p2p-error` (code `no-room`) when there is no room to be found.
 */
export class RoomMember extends LitElement {
  static override styles: CSSResultGroup = sharedStyles

  /** The id of the `<p2p-room>` this element belongs to when it is not inside it (as `<label for>`). */
  @property({attribute: 'for', reflect: true}) htmlFor?: string
  /**
   * The id of the `<p2p-room>` this element belongs to.
   * @deprecated Use `for` (`room` means the room id on `<p2p-room>` only); `room` still works in this release, with a console warning.
   */
  @property({attribute: 'room', reflect: true}) room?: string

  /** Handlers kept on the room element while linked to it; subclasses set them as a field. */
  protected roomEvents: RoomEventHandlers = {}

  /** Every member shows people by their presence: a change re-renders it. */
  #onPresence = () => this.requestUpdate()
  #handlers(): [string, EventListener][] {
    return Object.entries({'p2p-presence': this.#onPresence, ...this.roomEvents}) as [string, EventListener][]
  }

  #roomElement?: P2PRoom
  #attempt = 0

  /** The `<p2p-room>` this element belongs to, once found. */
  get roomElement(): P2PRoom | undefined {
    return this.#roomElement
  }

  /** The core room of the room element, while it is joined. */
  protected get coreRoom(): Room | undefined {
    return this.#roomElement?.coreRoom
  }

  /** Called when the room element changes: found, lost, or another one. */
  protected roomChanged(_room: P2PRoom | undefined, _previous: P2PRoom | undefined): void {}

  override connectedCallback() {
    super.connectedCallback()
    this.#relink()
  }

  override disconnectedCallback() {
    super.disconnectedCallback()
    this.#attempt++
    this.#link(undefined)
  }

  // Before rendering, so what a relink changes (state of the subclass) renders in this update.
  protected override willUpdate(changed: PropertyValues) {
    if (changed.has('room') && this.room && !warnedAboutRoomAttribute) {
      warnedAboutRoomAttribute = true
      console.warn(
        `p2p-elements: room="${this.room}" on <${this.localName}> is deprecated and goes in the next release; write for="${this.room}" (room is the room id on <p2p-room> only)`,
      )
    }
    if (changed.has('htmlFor') || changed.has('room')) this.#relink()
  }

  /** The id in `for` (or the deprecated `room`), if any. */
  get #roomId(): string | undefined {
    return this.htmlFor || this.room || undefined
  }

  #relink() {
    const attempt = ++this.#attempt
    const settle = (last: boolean) => {
      if (attempt !== this.#attempt || !this.isConnected) return
      const id = this.#roomId
      const found = id ? roomById(this, id) : enclosingRoom(this)
      if (isRoomElement(found)) return this.#link(found)
      this.#link(undefined)
      if (found && customElements.get(tags.room) === undefined)
        return void customElements.whenDefined(tags.room).then(() => settle(true))
      if (!last) return void setTimeout(() => settle(true))
      const message = id
        ? `${this.localName}: no <p2p-room id="${id}"> in this page; fix the for attribute or add that room`
        : `${this.localName}: no <p2p-room> around it; put it inside a <p2p-room> or set for="id of a p2p-room"`
      fire(this, events.error, errorDetail(new P2PError('no-room', message)))
    }
    settle(false)
  }

  #link(room: P2PRoom | undefined) {
    const previous = this.#roomElement
    if (room === previous) return
    const handlers = this.#handlers()
    for (const [name, handler] of handlers) previous?.removeEventListener(name, handler)
    this.#roomElement = room
    for (const [name, handler] of handlers) room?.addEventListener(name, handler)
    this.roomChanged(room, previous)
    this.requestUpdate()
  }
}

/**
 * A room member that shows peers, each through the one formatter (`P2PRoom.describe`): the
 * name from its presence (or from `names`, which wins), a fingerprint where two collide,
 * "(you)" for this page, its colour and initials.
 */
export class RoomView extends RoomMember {
  /** Display names by peer id that win over the names peers give themselves, e.g. `{[peerId]: 'Ada'}`. Property only. */
  @property({attribute: false}) names: Record<PeerId, string> = {}

  /** How a peer is shown (name, colour, initials, "you"). */
  protected describe(peerId: PeerId): PeerLabel {
    const override = this.names[peerId]
    return this.roomElement?.describe(peerId, override) ?? describePeer(peerId, undefined, false, [], override)
  }

  /** A peer's label as text: "Ada", "Ada · 3fK9" where two share a name, "Ada (you)" or "You" for this page. */
  protected label(peerId: PeerId): string {
    return this.describe(peerId).display
  }
}
