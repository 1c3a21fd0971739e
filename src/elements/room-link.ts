import type {ReactiveController, ReactiveControllerHost} from 'lit'
import {errorDetail, fire} from './events.js'
import {tags} from './names.js'
import type {P2PRoom} from './p2p-room.js'

type Host = ReactiveControllerHost & HTMLElement

const isRoom = (element: Element | null | undefined): element is P2PRoom =>
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

/**
 * Connects a child element to its `<p2p-room>`: by its `room="id"` attribute, else the
 * nearest enclosing one. Works in any order of definition and upgrade: it waits for
 * `<p2p-room>` to be defined, and looks again a task later for rooms a framework inserts
 * after the child. Calls `onChange(room, previous)` whenever the linked room changes.
 */
export class RoomLink implements ReactiveController {
  room?: P2PRoom
  #host: Host
  #onChange: (room: P2PRoom | undefined, previous: P2PRoom | undefined) => void
  #attempt = 0

  constructor(host: Host, onChange: (room: P2PRoom | undefined, previous: P2PRoom | undefined) => void) {
    this.#host = host
    this.#onChange = onChange
    host.addController(this)
  }

  hostConnected() {
    this.relink()
  }

  hostDisconnected() {
    this.#attempt++
    this.#set(undefined)
  }

  /** Looks for the room again (call it when the host's `room` attribute changes). */
  relink() {
    const attempt = ++this.#attempt
    const find = () => {
      const id = this.#host.getAttribute('room')
      return id ? roomById(this.#host, id) : enclosingRoom(this.#host)
    }
    const settle = (last: boolean) => {
      if (attempt !== this.#attempt || !this.#host.isConnected) return
      const found = find()
      if (isRoom(found)) return this.#set(found)
      this.#set(undefined)
      if (found && customElements.get(tags.room) === undefined)
        return void customElements.whenDefined(tags.room).then(() => settle(true))
      if (!last) return void setTimeout(() => settle(true))
      const id = this.#host.getAttribute('room')
      const message = id
        ? `${this.#host.localName}: no <p2p-room id="${id}"> in this page; fix the room attribute or add that room`
        : `${this.#host.localName}: no <p2p-room> around it; put it inside a <p2p-room> or set room="id of a p2p-room"`
      fire(this.#host, 'p2p-error', errorDetail(new Error(message)))
    }
    settle(false)
  }

  #set(room: P2PRoom | undefined) {
    if (room === this.room) return
    const previous = this.room
    this.room = room
    this.#onChange(room, previous)
    this.#host.requestUpdate()
  }
}
