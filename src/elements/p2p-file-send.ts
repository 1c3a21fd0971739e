import {css, html, nothing} from 'lit'
import {query, state} from 'lit/decorators.js'
import {P2PError, type P2PErrorCode, errorMessage} from '../core/errors.js'
import {randomId} from '../core/ids.js'
import type {PeerId} from '../core/types.js'
import {errorDetail, fire, type FileMeta} from './events.js'
import {formatBytes, formatDuration, formatSpeed, percent} from './format.js'
import {events} from './names.js'
import type {P2PRoom} from './p2p-room.js'
import {property} from './property.js'
import {type RoomEventHandlers, RoomView} from './room-member.js'
import {sharedStyles, tokens} from './styles.js'

/** The action files travel on unless the `name` attribute says otherwise. */
const defaultActionName = 'file'
/** Longest file name kept from a peer; longer ones are cut (names come from other people). */
const maxNameLength = 200

type Outgoing = {
  meta: FileMeta
  progress: Record<PeerId, number>
  failed: Record<PeerId, string>
  done: Record<PeerId, boolean>
  rates: Record<PeerId, Rate>
}
type Incoming = {
  meta: FileMeta
  peerId: PeerId
  fraction: number
  file?: File
  url?: string
  failed?: string
  rate: Rate
}

/** Seconds of recent progress the speed is measured over: long enough to be steady, short enough to follow changes. */
const speedWindowMs = 3_000
/** Speed and time left show once a transfer has run this long (before, the figure would be noise). */
const speedAfterMs = 500

/** Recent (time, fraction) samples of one transfer to one peer, for its speed and time left. */
type Rate = {samples: [number, number][]; started: number; finished?: number}
const newRate = (): Rate => ({samples: [], started: performance.now()})
const sample = (rate: Rate, fraction: number) => {
  const now = performance.now()
  rate.samples.push([now, fraction])
  while (rate.samples.length > 2 && now - rate.samples[0]![0] > speedWindowMs) rate.samples.shift()
  if (fraction >= 1) rate.finished ??= now
}
/** Bytes per second over the recent samples, or undefined while there is too little to tell. */
const speedOf = (rate: Rate, size: number) => {
  const first = rate.samples[0]
  const last = rate.samples.at(-1)
  if (!first || !last || last[0] - rate.started < speedAfterMs || last[0] === first[0]) return undefined
  return ((last[1] - first[1]) * size * 1000) / (last[0] - first[0])
}

/** A peer's file description, checked: it comes from someone else's page. */
const readMeta = (value: unknown): FileMeta | undefined => {
  const meta = value as Partial<FileMeta> | null
  if (!meta || typeof meta !== 'object' || typeof meta.id !== 'string' || typeof meta.name !== 'string')
    return undefined
  return {
    id: meta.id.slice(0, 32),
    name: meta.name.replace(/[/\\\0]/g, '_').slice(0, maxNameLength) || 'file',
    type: typeof meta.type === 'string' ? meta.type : '',
    size: Number(meta.size) || 0,
    lastModified: Number(meta.lastModified) || Date.now(),
  }
}

/**
 * A file-sharing widget: choose or drop files and they go to everyone in the room (or the
 * peer chosen in its "Send to" list), with a progress bar per file and peer on both sides.
 * Received files are listed with their size and a download link.
 *
 * @summary Send files to the peers of a room, with progress, and download what they send.
 * @tag p2p-file-send
 *
 * @fires {CustomEvent<FileProgressDetail>} p2p-file-progress - A file moved: `{file, peerId, fraction, direction}`; `file` is its `{id, name, type, size, lastModified}`.
 * @fires {CustomEvent<FileReceivedDetail>} p2p-file-received - A whole file arrived: `{file: File, peerId}`.
 * @fires {CustomEvent<FileErrorDetail>} p2p-file-error - A file was not sent or did not arrive: too large, unreadable, refused, no one to send to, or a peer left mid-way: `{file?, peerId?, error, message, code?}`.
 * @fires {CustomEvent<ErrorDetail>} p2p-error - No room was found for it (code `no-room`).
 *
 * @csspart dropzone - The area files are dropped on (it holds the button and the target list).
 * @csspart choose - The "Choose files" button.
 * @csspart target - The "Send to" `<select>`.
 * @csspart message - A problem shown to the user (role="alert").
 * @csspart sent - The list of files being sent.
 * @csspart received - The list of files received.
 * @csspart file - One file row in either list.
 * @csspart file-name - A file's name.
 * @csspart file-size - A file's size.
 * @csspart transfer - One transfer to or from one peer (who, bar, status); also `done` once finished.
 * @csspart done - A finished transfer.
 * @csspart progress - A `<progress>` bar (one per file and peer).
 * @csspart status - A transfer's status: "42% · 3.1 MiB/s · 6 s left", "✓ Sent · 12 MiB/s", or why it failed.
 * @csspart download - The download link of a received file.
 *
 * @cssprop [--p2p-font=inherit] - Font of every p2p element.
 * @cssprop [--p2p-text=inherit] - Text color.
 * @cssprop [--p2p-muted=#6b7280] - Secondary text color.
 * @cssprop [--p2p-accent=#2563eb] - Buttons, links, progress bars and the drop highlight.
 * @cssprop [--p2p-accent-text=#fff] - Text on the accent color.
 * @cssprop [--p2p-surface=transparent] - Background of the drop zone.
 * @cssprop [--p2p-border=#d1d5db] - Border color.
 * @cssprop [--p2p-radius=8px] - Corner radius of the drop zone and buttons.
 * @cssprop [--p2p-error=light-dark(#b91c1c, #fca5a5)] - Color of problem messages.
 * @cssprop [--p2p-success=light-dark(#15803d, #86efac)] - Color of finished transfers.
 * @cssprop [--p2p-gap=0.5rem] - Space between items.
 */
export class P2PFileSend extends RoomView {
  static override styles = [
    sharedStyles,
    css`
    :host {
      color: ${tokens.text};
    }
    [part~='dropzone'] {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: ${tokens.gap};
      padding: calc(${tokens.gap} * 2);
      border: 2px dashed ${tokens.border};
      border-radius: ${tokens.radius};
      background: ${tokens.surface};
    }
    [part~='dropzone'].over {
      border-color: ${tokens.accent};
      background: color-mix(in srgb, ${tokens.accent} 8%, transparent);
    }
    .hint {
      color: ${tokens.muted};
      flex: 1 1 10em;
    }
    button,
    select {
      font: inherit;
      border-radius: ${tokens.radius};
      padding: 0.35em 0.8em;
    }
    [part~='choose'] {
      background: ${tokens.accent};
      color: ${tokens.accentText};
      border: 0;
      cursor: pointer;
    }
    select {
      border: 1px solid ${tokens.border};
      background: transparent;
      color: inherit;
    }
    input[type='file'] {
      display: none;
    }
    [part~='message'] {
      margin: ${tokens.gap} 0 0;
    }
    h3 {
      font-size: 0.85em;
      font-weight: 600;
      color: ${tokens.muted};
      margin: calc(${tokens.gap} * 2) 0 ${tokens.gap};
      text-transform: uppercase;
      letter-spacing: 0.04em;
    }
    ul {
      list-style: none;
      margin: 0;
      padding: 0;
      display: grid;
      gap: ${tokens.gap};
    }
    [part~='file'] {
      display: grid;
      grid-template-columns: minmax(0, 1fr) auto;
      gap: 0.15rem ${tokens.gap};
      align-items: center;
    }
    [part~='file-name'] {
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
      font-weight: 500;
    }
    [part~='file-size'],
    .peer,
    .pct {
      color: ${tokens.muted};
      font-size: 0.9em;
      font-variant-numeric: tabular-nums;
    }
    .bar {
      grid-column: 1 / -1;
      display: grid;
      grid-template-columns: minmax(5em, 9em) minmax(4em, 1fr) minmax(7em, auto);
      gap: ${tokens.gap};
      align-items: center;
    }
    .peer {
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .dot {
      display: inline-block;
      width: 0.6em;
      height: 0.6em;
      border-radius: 50%;
      margin-right: 0.35em;
    }
    .pct {
      text-align: right;
      white-space: nowrap;
    }
    .done .pct {
      color: ${tokens.success};
    }
    .done progress {
      accent-color: ${tokens.success};
    }
    .failed {
      color: ${tokens.error};
    }
    progress {
      width: 100%;
      height: 0.5em;
      accent-color: ${tokens.accent};
    }
    [part~='download'] {
      color: ${tokens.accent};
      font-weight: 500;
    }
  `,
  ]

  /** The action files travel on; the same on every peer. Two widgets with different names are separate. */
  @property({attribute: 'name', reflect: true}) name = defaultActionName
  /** File types the picker offers, as in `<input type="file" accept>` (e.g. "image/*,.pdf"). */
  @property({attribute: 'accept'}) accept = ''
  /** Allow choosing several files at once. */
  @property({attribute: 'multiple', type: Boolean}) multiple = false
  /** Largest file this widget sends, in bytes; bigger ones are refused with a message. */
  @property({attribute: 'max-size', type: Number}) maxSize?: number
  /** Save received files at once instead of only listing them. */
  @property({attribute: 'auto-download', type: Boolean}) autoDownload = false

  @state() private outgoing: Outgoing[] = []
  @state() private incoming: Incoming[] = []
  @state() private message = ''
  @state() private over = false
  @state() private target = ''

  @query('input[type=file]') private input!: HTMLInputElement

  #unsubscribe?: () => void

  protected override roomEvents: RoomEventHandlers = {
    'p2p-peer-join': () => this.#onPeers(),
    'p2p-join': () => this.#onPeers(),
    'p2p-leave': () => this.#onPeers(),
    'p2p-peer-leave': ({detail: {peerId}}) => {
      // Files still arriving from a peer that left will not finish: say so.
      for (const row of this.incoming)
        if (row.peerId === peerId && !row.file && !row.failed) {
          row.failed = 'they left'
          this.#fail(
            `${row.meta.name} did not arrive: ${this.label(peerId)} left before sending all of it.`,
            'peer-left',
            row.meta,
            peerId,
          )
        }
      this.#onPeers()
    },
  }

  #onPeers() {
    if (this.target && !this.roomElement?.peers.includes(this.target)) this.target = ''
    this.requestUpdate()
  }

  /** Files received so far, with who sent each. Read-only. */
  get received(): {file: File; peerId: PeerId}[] {
    return this.incoming.flatMap(({file, peerId}) => (file ? [{file, peerId}] : []))
  }

  /**
   * Sends files to `targets` (a peer id or list; default: the "Send to" choice, else everyone).
   * Resolves when every file reached every target or failed; failures show in the widget and
   * fire `p2p-file-error`.
   */
  async sendFiles(files: Iterable<File> | ArrayLike<File>, targets?: PeerId | PeerId[]): Promise<void> {
    const room = this.roomElement
    this.message = ''
    const list = Array.from(files)
    if (!room) return this.#fail(`There is no room to send in: put this widget inside a <p2p-room>.`, 'no-room')
    for (const file of list) {
      if (this.maxSize !== undefined && file.size > this.maxSize) {
        this.#fail(
          `${file.name} is ${formatBytes(file.size)}; files up to ${formatBytes(this.maxSize)} can be sent.`,
          'too-large',
          this.#metaOf(file),
        )
        continue
      }
      const to =
        targets === undefined ? (this.target ? [this.target] : [...room.peers]) : ([] as PeerId[]).concat(targets)
      if (!to.length) {
        this.#fail(`No one else is in the room yet: ${file.name} was not sent.`, 'no-peers', this.#metaOf(file))
        continue
      }
      await this.#send(room, file, to)
    }
  }

  override disconnectedCallback() {
    super.disconnectedCallback()
    for (const {url} of this.incoming) if (url) URL.revokeObjectURL(url)
    this.incoming = []
  }

  protected override roomChanged(room: P2PRoom | undefined) {
    this.#subscribe(room)
  }

  protected override updated(changed: Map<PropertyKey, unknown>) {
    super.updated(changed)
    if (changed.has('name')) this.#subscribe(this.roomElement)
  }

  #metaOf(file: File): FileMeta {
    return {id: randomId(12), name: file.name, type: file.type, size: file.size, lastModified: file.lastModified}
  }

  /** Shows and fires a failure; `code` is the P2PError code (a core error without one keeps none). */
  #fail(message: string, code: P2PErrorCode | undefined, file?: FileMeta, peerId?: PeerId, error?: unknown) {
    this.message = message
    fire(this, events.fileError, {
      ...(file ? {file} : {}),
      ...(peerId ? {peerId} : {}),
      error: error instanceof Error ? error : new P2PError(code ?? 'strategy', message, peerId),
      message,
      ...(code ? {code} : {}),
    })
  }

  async #send(room: P2PRoom, file: File, targets: PeerId[]) {
    const meta = this.#metaOf(file)
    const row: Outgoing = {
      meta,
      progress: Object.fromEntries(targets.map(id => [id, 0])),
      failed: {},
      done: {},
      rates: Object.fromEntries(targets.map(id => [id, newRate()])),
    }
    this.outgoing = [row, ...this.outgoing]
    // The core reports what the receiver acknowledged (every 16 chunks, about 1 MiB, and at the end).
    const progress = (fraction: number, peerId: PeerId) => {
      row.progress[peerId] = fraction
      sample(row.rates[peerId]!, fraction)
      this.requestUpdate()
      fire(this, events.fileProgress, {file: meta, peerId, fraction, direction: 'send'})
    }
    // One send per peer, so each peer's success or failure is its own; the file is read
    // once and its bytes shared by every send (a Blob would be read again per peer).
    let bytes: ArrayBuffer
    try {
      bytes = await file.arrayBuffer()
    } catch (error) {
      row.failed = Object.fromEntries(targets.map(id => [id, 'unreadable']))
      return this.#fail(`${file.name} could not be read: ${errorMessage(error)}`, 'unreadable', meta)
    }
    await Promise.all(
      targets.map(peerId =>
        room.sendAction(this.name, bytes, peerId, meta, progress).then(
          () => {
            row.done[peerId] = true
            progress(1, peerId)
          },
          error => {
            const {message, code} = errorDetail(error)
            row.failed[peerId] =
              code === 'too-large' ? 'too large for them' : code === 'peer-left' ? 'they left' : 'failed'
            this.requestUpdate()
            this.#fail(
              `${file.name} did not reach ${this.label(peerId)}: ${message}`,
              code as P2PErrorCode | undefined,
              meta,
              peerId,
              error,
            )
          },
        ),
      ),
    )
  }

  #subscribe(room: P2PRoom | undefined) {
    this.#unsubscribe?.()
    this.#unsubscribe = room?.subscribeAction(this.name, {
      progress: (fraction, peerId, metadata) => {
        const meta = readMeta(metadata)
        if (!meta) return
        const row = this.#incoming(meta, peerId)
        row.fraction = fraction
        sample(row.rate, fraction)
        this.requestUpdate()
        fire(this, events.fileProgress, {file: meta, peerId, fraction, direction: 'receive'})
      },
      data: (data, peerId, metadata) => {
        const meta = readMeta(metadata)
        if (!meta || !(data instanceof ArrayBuffer)) return
        const row = this.#incoming(meta, peerId)
        const file = new File([data], meta.name, {type: meta.type, lastModified: meta.lastModified})
        Object.assign(row, {fraction: 1, file, url: URL.createObjectURL(file)})
        sample(row.rate, 1)
        this.requestUpdate()
        fire(this, events.fileReceived, {file, peerId})
        if (this.autoDownload) this.#download(row)
      },
    })
  }

  #incoming(meta: FileMeta, peerId: PeerId): Incoming {
    const found = this.incoming.find(row => row.peerId === peerId && row.meta.id === meta.id)
    if (found) return found
    const row: Incoming = {meta, peerId, fraction: 0, rate: newRate()}
    this.incoming = [row, ...this.incoming]
    return row
  }

  #download({url, meta}: Incoming) {
    if (!url) return
    const link = Object.assign(document.createElement('a'), {href: url, download: meta.name})
    link.click()
  }

  #onPick = () => {
    const files = [...(this.input.files ?? [])]
    this.input.value = '' // choosing the same file again still sends it
    if (files.length) void this.sendFiles(files)
  }

  #onDrop = (event: DragEvent) => {
    event.preventDefault()
    this.over = false
    const files = [...(event.dataTransfer?.files ?? [])]
    if (files.length) void this.sendFiles(this.multiple ? files : files.slice(0, 1))
  }

  #onDragOver = (event: DragEvent) => {
    if (!event.dataTransfer?.types.includes('Files')) return
    event.preventDefault()
    event.dataTransfer.dropEffect = 'copy'
    this.over = true
  }

  /**
   * One transfer to or from one peer: who, a bar, and what it means now: "42% · 3.1 MiB/s ·
   * 6 s left" while it moves, "Sent"/"Received" with the average speed when done, or why it failed.
   */
  #bar(
    peerId: PeerId,
    direction: 'to' | 'from',
    fraction: number,
    size: number,
    rate: Rate,
    done: boolean,
    failed?: string,
  ) {
    const who = this.describe(peerId)
    const label = `${direction} ${who.display}`
    let status: string
    if (failed) status = failed
    else if (done) {
      const seconds = ((rate.finished ?? performance.now()) - rate.started) / 1000
      status = `${direction === 'to' ? 'Sent' : 'Received'}${seconds > 0.05 ? ` · ${formatSpeed(size / seconds)}` : ''}`
    } else {
      const speed = speedOf(rate, size)
      status = percent(fraction)
      if (speed && speed > 0)
        status += ` · ${formatSpeed(speed)} · ${formatDuration(((1 - fraction) * size) / speed)} left`
    }
    return html`<div class="bar ${done ? 'done' : ''}" part=${done ? 'transfer done' : 'transfer'} data-peer=${peerId}>
      <span class="peer" title=${label}><span class="dot" style=${`background:${who.color}`}></span>${label}</span>
      <progress part="progress" max="1" .value=${fraction} aria-label=${`${label}: ${percent(fraction)}`}></progress>
      <span part="status" class="pct ${failed ? 'failed' : ''}" aria-live=${done ? 'polite' : 'off'}>${done ? html`<span aria-hidden="true">✓ </span>` : nothing}${status}</span>
    </div>`
  }

  override render() {
    const room = this.roomElement
    const peers = room?.peers ?? []
    return html`
      <div
        part="dropzone"
        class=${this.over ? 'over' : ''}
        @dragover=${this.#onDragOver}
        @dragleave=${() => (this.over = false)}
        @drop=${this.#onDrop}
      >
        <button part="choose" type="button" @click=${() => this.input.click()} ?disabled=${!room}>
          ${this.multiple ? 'Choose files' : 'Choose a file'}
        </button>
        <span class="hint">or drop ${this.multiple ? 'them' : 'it'} here</span>
        <label>
          Send to
          <select part="target" .value=${this.target} @change=${(e: Event) => (this.target = (e.target as HTMLSelectElement).value)}>
            <option value="">everyone (${peers.length})</option>
            ${peers.map(id => html`<option value=${id} ?selected=${id === this.target}>${this.label(id)}</option>`)}
          </select>
        </label>
        <input type="file" tabindex="-1" aria-hidden="true" accept=${this.accept} ?multiple=${this.multiple} @change=${this.#onPick} />
      </div>
      ${this.message ? html`<p part="message" role="alert">${this.message}</p>` : nothing}
      ${
        this.outgoing.length
          ? html`<h3>Sent</h3>
            <ul part="sent">
              ${this.outgoing.map(
                ({meta, progress, failed, done, rates}) => html`<li part="file" data-file=${meta.name}>
                  <span part="file-name" title=${meta.name}>${meta.name}</span>
                  <span part="file-size">${formatBytes(meta.size)}</span>
                  ${Object.entries(progress).map(([peerId, fraction]) =>
                    this.#bar(peerId, 'to', fraction, meta.size, rates[peerId]!, !!done[peerId], failed[peerId]),
                  )}
                </li>`,
              )}
            </ul>`
          : nothing
      }
      ${
        this.incoming.length
          ? html`<h3>Received</h3>
            <ul part="received">
              ${this.incoming.map(
                ({meta, peerId, fraction, url, failed, file, rate}) => html`<li part="file" data-file=${meta.name}>
                  <span part="file-name" title=${meta.name}>${meta.name}</span>
                  ${
                    url
                      ? html`<a part="download" href=${url} download=${meta.name}>Download ${formatBytes(meta.size)}</a>`
                      : html`<span part="file-size">${formatBytes(meta.size)}</span>`
                  }
                  ${this.#bar(peerId, 'from', fraction, meta.size, rate, !!file, failed)}
                </li>`,
              )}
            </ul>`
          : nothing
      }
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'p2p-file-send': P2PFileSend
  }
}
