import {css, html, nothing} from 'lit'
import {state} from 'lit/decorators.js'
import type {PeerId} from '../core/types.js'
import type {P2PRoom} from './p2p-room.js'
import {type RoomEventHandlers, RoomView} from './room-member.js'
import {sharedStyles, tokens} from './styles.js'

/** How often each peer is pinged: often enough to feel live, rare enough to cost nothing. */
const pingIntervalMs = 2_000
/** Round trips under these bounds show as good / fair; anything slower as poor. */
const goodRttMs = 100
const fairRttMs = 300

/**
 * Who is in the room: this page first, then each peer with a live round-trip time from
 * `ping`, the name the page gave it in `names`, and how it is reached: a badge says "direct"
 * or, past `max-connections` (README "Big rooms"), "relayed" with its hop count, from
 * `room.peerInfo(id)`, re-read whenever the list redraws (at least every ping round).
 *
 * @summary The people in a room, with their round-trip times.
 * @tag p2p-peer-list
 *
 * @fires {CustomEvent<ErrorDetail>} p2p-error - No room was found for it (code `no-room`).
 *
 * @csspart list - The `<ul>` of peers.
 * @csspart peer - One `<li>` per peer (also this page's, which has part `peer self`).
 * @csspart self - This page's own `<li>`.
 * @csspart avatar - A peer's initials on its colour.
 * @csspart name - A peer's name (with a fingerprint where two share it), or its short id.
 * @csspart you - The "(you)" after this page's own name.
 * @csspart route - A peer's route badge: "direct", or "relayed · 3 hops" (also part `direct` or `relayed`).
 * @csspart rtt - A peer's round-trip time, e.g. "23 ms".
 * @csspart empty - The message shown when no one else is here.
 *
 * @cssprop [--p2p-font=inherit] - Font of every p2p element.
 * @cssprop [--p2p-text=inherit] - Text color.
 * @cssprop [--p2p-muted=light-dark(#4b5563, #9ca3af)] - Color of secondary text (ids, round-trip times).
 * @cssprop [--p2p-good=#16a34a] - Dot color of a peer with a round trip under 100 ms.
 * @cssprop [--p2p-fair=#d97706] - Dot color of a peer under 300 ms.
 * @cssprop [--p2p-poor=#dc2626] - Dot color of a slower peer.
 * @cssprop [--p2p-gap=0.5rem] - Space between items.
 */
export class P2PPeerList extends RoomView {
  static override styles = [
    sharedStyles,
    css`
    :host {
      color: ${tokens.text};
    }
    ul {
      list-style: none;
      margin: 0;
      padding: 0;
      display: grid;
      gap: calc(${tokens.gap} / 2);
    }
    li {
      display: flex;
      align-items: center;
      gap: ${tokens.gap};
    }
    .face {
      display: inline-grid;
      place-items: center;
      flex: none;
      width: 1.9em;
      height: 1.9em;
      border-radius: 50%;
      font-size: 0.8em;
      font-weight: 600;
    }
    [part~='name'] {
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
      min-width: 0;
    }
    .dot {
      display: inline-block;
      margin-right: 0.35em;
      width: 0.6em;
      height: 0.6em;
      border-radius: 50%;
      background: ${tokens.muted};
      flex: none;
    }
    .good {
      background: ${tokens.good};
    }
    .fair {
      background: ${tokens.fair};
    }
    .poor {
      background: ${tokens.poor};
    }
    [part~='rtt'],
    .you,
    [part~='empty'] {
      color: ${tokens.muted};
      font-variant-numeric: tabular-nums;
    }
    [part~='rtt'] {
      margin-left: auto;
    }
    [part~='route'] {
      flex: none;
      font-size: 0.75em;
      line-height: 1.4;
      padding: 0 0.45em;
      border-radius: 0.7em;
      border: 1px solid currentColor;
      color: ${tokens.muted};
      font-variant-numeric: tabular-nums;
      white-space: nowrap;
    }
    [part~='relayed'] {
      color: ${tokens.accent}; /* text-safe in both schemes (the dot colours are not) */
    }
  `,
  ]

  /** Latest round-trip time per peer, in milliseconds. Read-only. */
  @state() rtts: Record<PeerId, number> = {}

  #timer?: ReturnType<typeof setInterval>
  #onPeers = () => {
    this.#pingAll()
    this.requestUpdate()
  }

  protected override roomEvents: RoomEventHandlers = {
    'p2p-peer-join': this.#onPeers,
    'p2p-peer-leave': this.#onPeers,
    'p2p-join': this.#onPeers,
    'p2p-leave': this.#onPeers,
  }

  override disconnectedCallback() {
    super.disconnectedCallback()
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  protected override roomChanged(room: P2PRoom | undefined) {
    clearInterval(this.#timer)
    this.#timer = room ? setInterval(() => this.#pingAll(), pingIntervalMs) : undefined
    this.rtts = {}
    this.#pingAll()
  }

  #pingAll() {
    const coreRoom = this.coreRoom
    if (!coreRoom) return
    const peers = this.roomElement?.peers ?? []
    this.rtts = Object.fromEntries(Object.entries(this.rtts).filter(([id]) => peers.includes(id)))
    for (const peerId of peers)
      coreRoom
        .ping(peerId)
        .then(ms => (this.rtts = {...this.rtts, [peerId]: ms}))
        .catch(() => {}) // the peer left meanwhile: its row goes with the peer-leave event
  }

  override render() {
    const room = this.roomElement
    if (!room) return nothing
    const face = (peerId: PeerId) => {
      const who = this.describe(peerId)
      return html`<span part="avatar" class="face" style=${`background:${who.color};color:${who.ink}`} aria-hidden="true"
          >${who.initials}</span
        ><span part="name" title=${who.name || peerId}>${who.text}</span>`
    }
    const route = (peerId: PeerId) => {
      const info = this.coreRoom?.peerInfo?.(peerId)
      if (!info) return nothing
      const relayed = info.route === 'relayed'
      const text = relayed ? `relayed · ${info.hops} hops` : 'direct'
      const label = relayed ? `relayed through other members, ${info.hops} hops` : 'connected directly'
      return html`<span part="route ${info.route}" data-route=${info.route} data-hops=${info.hops} title=${label}
        >${text}</span
      >`
    }
    const quality = (ms: number | undefined) =>
      ms === undefined ? '' : ms < goodRttMs ? 'good' : ms < fairRttMs ? 'fair' : 'poor'
    return html`<ul part="list" aria-label="people in this room">
      <li part="peer self" data-self=${room.selfId}>
        ${face(room.selfId)}<span part="you" class="you">(you)</span>
      </li>
      ${room.peers.map(peerId => {
        const ms = this.rtts[peerId]
        return html`<li part="peer" data-peer=${peerId}>
          ${face(peerId)} ${route(peerId)}
          <span part="rtt" aria-label="round-trip time"
            ><span class="dot ${quality(ms)}" aria-hidden="true"></span>${ms === undefined ? '…' : `${Math.round(ms)} ms`}</span
          >
        </li>`
      })}
      ${
        room.peers.length
          ? nothing
          : html`<li part="empty">${room.joined ? 'No one else is here yet: open this page in another tab, or share its address.' : 'Joining…'}</li>`
      }
    </ul>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'p2p-peer-list': P2PPeerList
  }
}
