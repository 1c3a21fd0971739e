import {css, html, nothing} from 'lit'
import {state} from 'lit/decorators.js'
import type {PeerStats} from '../core/stats.js'
import type {PeerId} from '../core/types.js'
import {formatSpeed} from './format.js'
import type {P2PRoom} from './p2p-room.js'
import {property} from './property.js'
import {type RoomEventHandlers, RoomView} from './room-member.js'
import {sharedStyles, tokens} from './styles.js'

/** Shortest refresh period accepted, so a typo cannot make it poll in a busy loop. */
const minIntervalMs = 250

/** What each candidate type means, for the path cell's tooltip. */
const typeNames: Record<string, string> = {
  host: 'host (a device address)',
  srflx: 'srflx (an address seen through NAT)',
  prflx: 'prflx (an address seen through NAT)',
  relay: 'relay (a TURN server)',
}
/** The selected pair, short ("host ↔ srflx · UDP"), and in words for its tooltip. */
const pathOf = (stats: PeerStats): [text: string, title: string] => {
  if (!stats.local && !stats.remote) return stats.state === 'failed' ? ['no path', 'ICE found no path'] : ['…', '']
  const protocol = (stats.local?.protocol ?? stats.remote?.protocol)?.toUpperCase()
  const [local, remote] = [stats.local?.type ?? '?', stats.remote?.type ?? '?']
  return [
    `${local} ↔ ${remote}${protocol ? ` · ${protocol}` : ''}`,
    `this page: ${typeNames[local] ?? local}; the peer: ${typeNames[remote] ?? remote}${protocol ? `; over ${protocol}` : ''}`,
  ]
}
const rate = (value: number | undefined) => (value === undefined ? '…' : formatSpeed(value))
const loss = (stats: PeerStats) => (stats.media ? `${Math.round(stats.media.lossFraction * 1000) / 10}%` : '–')

/**
 * Connection diagnostics for each peer of the room, refreshed every second from
 * `room.getPeerStats()`: the selected path (direct, through NAT, or a TURN relay), round-trip
 * time, bytes per second each way, media packet loss and a plain-language hint, with the
 * signaling strategy and the state of each of its relays above. Peers whose connection
 * failed stay listed for a minute, with what to do about it.
 *
 * @summary Per-peer connection diagnostics: path, RTT, throughput, loss and a hint.
 * @tag p2p-diagnostics
 *
 * @fires {CustomEvent<ErrorDetail>} p2p-error - No room was found for it (code `no-room`).
 *
 * @csspart signaling - The line naming the strategy and its relays' states.
 * @csspart relay - One relay: its URL and state (`open`, `connecting` or `down`, also as `data-state`).
 * @csspart table - The `<table>` of peers.
 * @csspart row - One `<tr>` per peer (`data-peer` is its id, `data-hint` the hint kind).
 * @csspart peer - The peer's name, the row's header cell.
 * @csspart path - The selected candidate pair, this page's end first, e.g. "host ↔ srflx · UDP" (in words in its tooltip).
 * @csspart rtt - The round-trip time, e.g. "4 ms".
 * @csspart up - Bytes per second sent to the peer.
 * @csspart down - Bytes per second received from it.
 * @csspart loss - Inbound media packet loss, or "–" without media.
 * @csspart hint-row - The `<tr>` under each peer's row that holds its hint (`data-hint` is the hint kind).
 * @csspart hint - The plain-language hint, e.g. "This peer reaches you only through TURN (…)".
 * @csspart empty - The message shown when there is no peer.
 *
 * @cssprop [--p2p-font=inherit] - Font of every p2p element.
 * @cssprop [--p2p-text=light-dark(#111827, #e5e7eb)] - Text color.
 * @cssprop [--p2p-muted=light-dark(#4b5563, #9ca3af)] - Secondary text (the signaling line, empty message).
 * @cssprop [--p2p-border=light-dark(#d1d5db, #3b4656)] - Table rules.
 * @cssprop [--p2p-surface=light-dark(#f6f7f9, #18202b)] - Header row background.
 * @cssprop [--p2p-error=light-dark(#b91c1c, #fca5a5)] - Text of a failed peer's hint, and of a relay that is down.
 * @cssprop [--p2p-success=light-dark(#15803d, #86efac)] - A relay that is open.
 * @cssprop [--p2p-gap=0.5rem] - Cell padding.
 */
export class P2PDiagnostics extends RoomView {
  static override styles = [
    sharedStyles,
    css`
      [part~='signaling'],
      [part~='empty'] {
        color: ${tokens.muted};
        margin: 0 0 ${tokens.gap};
      }
      [part~='relay'] {
        margin-left: ${tokens.gap};
        overflow-wrap: anywhere;
      }
      [part~='relay'][data-state='open'] {
        color: ${tokens.success};
      }
      [part~='relay'][data-state='down'] {
        color: ${tokens.error};
      }
      .table-wrap {
        overflow-x: auto;
      }
      table {
        border-collapse: collapse;
        width: 100%;
        font-variant-numeric: tabular-nums;
      }
      caption {
        text-align: start;
        font-weight: 600;
        padding-bottom: calc(${tokens.gap} / 2);
      }
      th,
      td {
        text-align: start;
        vertical-align: top;
        padding: calc(${tokens.gap} / 2) ${tokens.gap};
        border-bottom: 1px solid ${tokens.border};
      }
      thead th {
        background: ${tokens.surface};
        font-weight: 600;
        white-space: nowrap;
      }
      tr[part~='row'] > * {
        border-bottom: 0;
      }
      [part~='hint'] {
        padding-top: 0;
        color: ${tokens.muted};
      }
      [part~='path'],
      [part~='rtt'],
      [part~='up'],
      [part~='down'],
      [part~='loss'] {
        white-space: nowrap;
      }
      tr[data-hint^='failed'] > [part~='hint'] {
        color: ${tokens.error};
      }
    `,
  ]

  /** How often the stats refresh, in milliseconds (at least 250). Default 1000. */
  @property({attribute: 'interval', type: Number}) interval = 1000

  /** The latest stats of each peer, by id (from `room.getPeerStats()`). Read-only. */
  @state() stats: Record<PeerId, PeerStats> = {}

  /** `performance.now()` of the latest refresh, 0 before the first. Read-only. */
  @state() updatedAt = 0

  #timer?: ReturnType<typeof setInterval>
  #period = 0
  #reading = false

  /** True while the element refreshes on its timer (it is in the page, with a room). Read-only. */
  get running(): boolean {
    return this.#timer !== undefined
  }

  #refreshSoon = () => void this.refresh()
  protected override roomEvents: RoomEventHandlers = {
    'p2p-peer-join': this.#refreshSoon,
    'p2p-peer-leave': this.#refreshSoon,
    'p2p-join': this.#refreshSoon,
    'p2p-join-error': this.#refreshSoon,
    'p2p-leave': () => {
      this.stats = {}
    },
  }

  override disconnectedCallback() {
    super.disconnectedCallback()
    this.#stop()
  }

  protected override roomChanged(room: P2PRoom | undefined) {
    this.stats = {}
    if (room) this.#start()
    else this.#stop()
  }

  protected override updated(changed: Map<PropertyKey, unknown>) {
    if (changed.has('interval') && this.#timer !== undefined && this.#period !== this.#intervalMs) this.#start()
  }

  get #intervalMs() {
    return Math.max(minIntervalMs, Number(this.interval) || 1000)
  }

  #start() {
    this.#stop()
    this.#period = this.#intervalMs
    this.#timer = setInterval(() => void this.refresh(), this.#period)
    void this.refresh()
  }

  #stop() {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Reads every peer's stats now (the timer does this every `interval` ms). */
  async refresh(): Promise<void> {
    const room = this.coreRoom
    if (!room || this.#reading) return
    this.#reading = true
    try {
      const stats = await room.getPeerStats()
      // Left, moved or removed meanwhile: these stats are not this element's any more.
      if (room !== this.coreRoom || !this.isConnected) return
      this.stats = stats
      this.updatedAt = performance.now()
    } catch {
      // the room was left meanwhile: the next join refreshes again
    } finally {
      this.#reading = false
    }
  }

  override render() {
    const room = this.roomElement
    if (!room) return nothing
    const rows = Object.values(this.stats)
    const signaling = rows[0]?.signaling
    const strategy = signaling?.strategy ?? room.strategy
    return html`<p part="signaling">
        Signaling: <strong>${strategy}</strong>${
          signaling?.relays.length
            ? html`, relays:${signaling.relays.map(
                relay => html`<span part="relay" data-state=${relay.state}>${relay.url} (${relay.state})</span>`,
              )}`
            : nothing
        }
      </p>
      ${
        rows.length
          ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="connections of this room">
              <table part="table">
                <caption>
                  Connections
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Peer</th>
                    <th scope="col">Path</th>
                    <th scope="col">RTT</th>
                    <th scope="col">Up</th>
                    <th scope="col">Down</th>
                    <th scope="col">Loss</th>
                  </tr>
                </thead>
                <tbody>
                  ${rows.map(
                    (stats, i) => html`<tr part="row" data-peer=${stats.peerId} data-hint=${stats.hintKind}>
                      <th scope="row" part="peer" id=${`peer-${i}`}>${this.label(stats.peerId)}</th>
                      <td part="path" title=${pathOf(stats)[1]}>${pathOf(stats)[0]}</td>
                      <td part="rtt">${stats.rttMs === undefined ? '…' : `${Math.round(stats.rttMs)} ms`}</td>
                      <td part="up">${rate(stats.sendBytesPerSecond)}</td>
                      <td part="down">${rate(stats.receiveBytesPerSecond)}</td>
                      <td part="loss">${loss(stats)}</td>
                    </tr>
                    <tr part="hint-row" data-hint=${stats.hintKind}>
                      <td part="hint" colspan="6" headers=${`peer-${i}`}>${stats.hint}</td>
                    </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
          : html`<p part="empty">${room.joined ? 'No peers yet.' : 'Joining…'}</p>`
      }`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'p2p-diagnostics': P2PDiagnostics
  }
}
