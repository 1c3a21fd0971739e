import {css, html, nothing} from 'lit'
import {query, state} from 'lit/decorators.js'
import {P2PError, type P2PErrorCode, errorMessage} from '../core/errors.js'
import type {FileProgress, IncomingFile} from '../core/files/index.js'
import {safeFileName} from '../core/files/index.js'
import {randomId} from '../core/ids.js'
import type {PeerId, Room} from '../core/types.js'
import {errorDetail, fire, type FileMeta} from './events.js'
import {formatBytes, formatDuration, formatSpeed, percent} from './format.js'
import {events} from './names.js'
import type {P2PRoom} from './p2p-room.js'
import {property} from './property.js'
import {type RoomEventHandlers, RoomView} from './room-member.js'
import {sharedStyles, tokens} from './styles.js'

/** The channel files travel on unless the `name` attribute says otherwise. */
const defaultActionName = 'file'

/**
 * Types a received file keeps for its blob URL: ones the browser only displays, never runs.
 * Everything else (text/html, image/svg+xml, application/pdf, text/*, unknown) becomes
 * application/octet-stream, which the browser downloads instead of rendering in this origin.
 */
export const safeTypes = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'audio/mpeg',
  'audio/ogg',
  'audio/wav',
  'audio/webm',
  'audio/flac',
  'video/mp4',
  'video/webm',
  'video/ogg',
])
export const safeType = (type: string) =>
  safeTypes.has(type.toLowerCase().trim()) ? type.toLowerCase().trim() : 'application/octet-stream'

type Outgoing = {
  meta: FileMeta
  progress: Record<PeerId, Progress>
  failed: Record<PeerId, string>
  done: Record<PeerId, boolean>
  controllers: Record<PeerId, AbortController>
}
type Incoming = {
  meta: FileMeta
  peerId: PeerId
  progress: Progress
  file?: File
  url?: string
  failed?: string
  /** Set while the user is asked: resolves with their answer. */
  ask?: (yes: boolean) => void
  transfer: IncomingFile
  started: number
  finished?: number
}
type Progress = {
  fraction: number
  bytes: number
  bytesPerSecond?: number
  secondsLeft?: number
  started: number
  finished?: number
}
const newProgress = (): Progress => ({fraction: 0, bytes: 0, started: performance.now()})

/** Speed and time left show once a transfer has run this long (before, the figure would be noise). */
const speedAfterMs = 500

/** One p2p-file-send per (core room, name) takes the offers named for it. */
const widgets = new WeakMap<Room, Map<string, P2PFileSend>>()
const route = (room: Room) => {
  let byName = widgets.get(room)
  if (byName) return byName
  widgets.set(room, (byName = new Map()))
  const names = byName
  room.onFile(incoming => {
    const channel = (incoming.metadata as {channel?: unknown} | undefined)?.channel
    const widget = typeof channel === 'string' ? names.get(channel) : undefined
    return widget ? widget.offered(incoming) : false
  })
  return byName
}

/**
 * A file-sharing widget: choose or drop files and they go to everyone in the room (or the
 * peer chosen in its "Send to" list), with a progress bar per file and peer on both sides.
 * Files stream (room.sendFile) in a 4 MiB window, so a multi-GB file never sits in memory;
 * each is verified (SHA-256) before it is offered. Incoming files above `ask-above` bytes
 * wait for the user's Accept or Decline; either side can cancel. Received files are listed
 * with the bytes received and a download link; their blob URL is typed
 * `application/octet-stream` unless the type is on a short safe list (images but not SVG,
 * audio, video), so a peer cannot make this origin render its HTML or SVG. Names are stripped
 * of control and bidi-override characters. At most `max-rows` rows are kept per list; object
 * URLs are revoked when their row goes.
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
 * @csspart accept - The Accept button of an incoming file that waits for the user.
 * @csspart decline - Its Decline button.
 * @csspart cancel - Stops a transfer on both sides.
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
    .ask,
    .actions {
      grid-column: 1 / -1;
      display: flex;
      gap: ${tokens.gap};
      align-items: center;
      flex-wrap: wrap;
    }
    [part~='accept'],
    [part~='decline'],
    [part~='cancel'] {
      font-size: 0.85em;
      padding: 0.15em 0.6em;
      border: 1px solid ${tokens.border};
      background: transparent;
      color: inherit;
      cursor: pointer;
    }
    [part~='accept'] {
      background: ${tokens.accent};
      color: ${tokens.accentText};
      border-color: ${tokens.accent};
    }
    [part~='download'] {
      color: ${tokens.accent};
      font-weight: 500;
    }
  `,
  ]

  /** The channel files travel on; the same on every peer. Two widgets with different names are separate. */
  @property({attribute: 'name', reflect: true}) name = defaultActionName
  /** File types the picker offers, as in `<input type="file" accept>` (e.g. "image/*,.pdf"). */
  @property({attribute: 'accept'}) accept = ''
  /** Allow choosing several files at once. */
  @property({attribute: 'multiple', type: Boolean}) multiple = false
  /** Largest file this widget sends, in bytes; bigger ones are refused with a message. */
  @property({attribute: 'max-size', type: Number}) maxSize?: number
  /** Largest file this widget receives, in bytes; bigger offers are declined ('too-large' on the sender). */
  @property({attribute: 'max-receive-size', type: Number}) maxReceiveSize?: number
  /** Incoming files above this many bytes (or of unknown size) wait for the user's Accept. Default 10 MiB. */
  @property({attribute: 'ask-above', type: Number}) askAbove = 10 * 1024 * 1024
  /** Rows kept in each list; older finished rows go (and their object URLs are revoked). */
  @property({attribute: 'max-rows', type: Number}) maxRows = 20
  /** Save received files at once instead of only listing them. Only where the app opts in. */
  @property({attribute: 'auto-download', type: Boolean}) autoDownload = false

  @state() private outgoing: Outgoing[] = []
  @state() private incoming: Incoming[] = []
  @state() private message = ''
  @state() private over = false
  @state() private target = ''

  @query('input[type=file]') private input!: HTMLInputElement

  #core?: Room
  #routedName?: string

  protected override roomEvents: RoomEventHandlers = {
    'p2p-peer-join': () => this.#onPeers(),
    'p2p-join': () => this.#onPeers(),
    'p2p-leave': () => this.#onPeers(),
    'p2p-peer-leave': () => this.#onPeers(),
  }

  #onPeers() {
    if (this.target && !this.roomElement?.peers.includes(this.target)) this.target = ''
    void this.#route()
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
    for (const row of this.incoming) {
      if (row.url) URL.revokeObjectURL(row.url)
      row.ask?.(false)
      if (!row.file && !row.failed) row.transfer.cancel('the widget was removed')
    }
    this.incoming = []
    this.#unroute()
  }

  protected override roomChanged(_room: P2PRoom | undefined) {
    this.#unroute()
    void this.#route()
  }

  protected override updated(changed: Map<PropertyKey, unknown>) {
    super.updated(changed)
    if (changed.has('name')) {
      this.#unroute()
      void this.#route()
    }
  }

  async #route() {
    const element = this.roomElement
    const core = element?.coreRoom
    if (!core || (this.#core === core && this.#routedName === this.name)) return
    this.#unroute()
    this.#core = core
    this.#routedName = this.name
    route(core).set(this.name, this)
  }

  #unroute() {
    if (!this.#core) return
    const names = widgets.get(this.#core)
    if (names?.get(this.#routedName!) === this) names.delete(this.#routedName!)
    this.#core = undefined
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

  /** Drops the oldest settled rows over max-rows, revoking their object URLs. */
  /** One progress report of a row (sent or received): shown in the row and fired as `p2p-file-progress`. */
  #progress(shown: Progress, p: FileProgress, file: FileMeta, peerId: PeerId, direction: 'send' | 'receive') {
    const figures = {
      fraction: p.fraction ?? 0,
      bytes: p.bytes,
      bytesPerSecond: p.bytesPerSecond,
      secondsLeft: p.secondsLeft,
    }
    Object.assign(shown, figures)
    this.requestUpdate()
    fire(this, events.fileProgress, {file, peerId, direction, ...figures})
  }

  #trim() {
    const keep = Math.max(1, this.maxRows)
    const settledIn = (row: Incoming) => !!(row.file || row.failed)
    while (this.incoming.length > keep) {
      const index = this.incoming.findLastIndex(settledIn)
      if (index < 0) break
      const [row] = this.incoming.splice(index, 1)
      if (row!.url) URL.revokeObjectURL(row!.url)
    }
    while (this.outgoing.length > keep) {
      const index = this.outgoing.findLastIndex(row =>
        Object.keys(row.progress).every(id => row.done[id] || row.failed[id]),
      )
      if (index < 0) break
      this.outgoing.splice(index, 1)
    }
  }

  async #send(room: P2PRoom, file: File, targets: PeerId[]) {
    const meta = this.#metaOf(file)
    const row: Outgoing = {
      meta,
      progress: Object.fromEntries(targets.map(id => [id, newProgress()])),
      failed: {},
      done: {},
      controllers: Object.fromEntries(targets.map(id => [id, new AbortController()])),
    }
    this.outgoing = [row, ...this.outgoing]
    this.#trim()
    let core: Room
    try {
      core = await room.ready()
    } catch (error) {
      return this.#fail(`${file.name} was not sent: ${errorMessage(error)}`, 'room-left', meta)
    }
    // Progress is what the receiver acknowledged (every chunk: 1 % of the file or 256 KiB).
    const progress = (p: FileProgress, peerId: PeerId) => this.#progress(row.progress[peerId]!, p, meta, peerId, 'send')
    await Promise.all(
      targets.map(peerId =>
        core
          .sendFile(file, peerId, {
            metadata: {channel: this.name, id: meta.id, lastModified: meta.lastModified},
            onProgress: progress,
            signal: row.controllers[peerId]!.signal,
          })
          .then(
            () => {
              row.done[peerId] = true
              row.progress[peerId]!.finished = performance.now()
              row.progress[peerId]!.fraction = 1
              this.requestUpdate()
            },
            error => {
              const {message, code} = errorDetail(error)
              row.failed[peerId] =
                code === 'too-large'
                  ? 'too large for them'
                  : code === 'peer-left'
                    ? 'they left'
                    : code === 'declined'
                      ? 'declined'
                      : code === 'cancelled'
                        ? 'cancelled'
                        : 'failed'
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

  /** Called by the room's file router for an offer named for this widget: accept, ask, or decline. */
  offered(transfer: IncomingFile): Promise<boolean> | boolean {
    const data = (transfer.metadata ?? {}) as {id?: unknown; lastModified?: unknown}
    const meta: FileMeta = {
      id: typeof data.id === 'string' ? data.id.slice(0, 32) : randomId(12),
      name: safeFileName(transfer.name),
      type: transfer.type,
      size: transfer.size ?? 0,
      lastModified: Number(data.lastModified) || Date.now(),
    }
    if (this.maxReceiveSize !== undefined && (transfer.size ?? 0) > this.maxReceiveSize)
      throw new P2PError('too-large', `files up to ${this.maxReceiveSize} bytes are taken here`)
    const row: Incoming = {meta, peerId: transfer.peerId, progress: newProgress(), transfer, started: performance.now()}
    this.incoming = [row, ...this.incoming]
    this.#trim()
    transfer.onProgress(p => this.#progress(row.progress, p, meta, row.peerId, 'receive'))
    transfer.file().then(
      received => {
        // The blob URL's type is safe to open in this origin; the shown size is what arrived.
        const file = new File([received], meta.name, {type: safeType(meta.type), lastModified: meta.lastModified})
        Object.assign(row, {file, url: URL.createObjectURL(file)})
        Object.assign(row.progress, {fraction: 1, bytes: file.size, finished: performance.now()})
        this.requestUpdate()
        fire(this, events.fileReceived, {file, peerId: row.peerId})
        if (this.autoDownload) this.#download(row)
      },
      error => {
        const {code} = errorDetail(error)
        if (row.ask) return
        row.failed =
          code === 'peer-left'
            ? 'they left'
            : code === 'cancelled'
              ? 'cancelled'
              : code === 'declined'
                ? 'declined'
                : 'failed'
        this.requestUpdate()
        if (code === 'declined') return
        this.#fail(
          code === 'peer-left'
            ? `${meta.name} did not arrive: ${this.label(row.peerId)} left before sending all of it.`
            : `${meta.name} did not arrive: ${errorMessage(error)}`,
          code as P2PErrorCode | undefined,
          meta,
          row.peerId,
          error,
        )
      },
    )
    if (transfer.size !== undefined && transfer.size <= this.askAbove) return true
    return new Promise<boolean>(resolve => {
      row.ask = yes => {
        row.ask = undefined
        if (!yes) row.failed = 'declined'
        this.requestUpdate()
        resolve(yes)
      }
      this.requestUpdate()
    })
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
  #bar(peerId: PeerId, direction: 'to' | 'from', p: Progress, done: boolean, failed?: string, cancel?: () => void) {
    const who = this.describe(peerId)
    const label = `${direction} ${who.display}`
    let status: string
    if (failed) status = failed
    else if (done) {
      const seconds = ((p.finished ?? performance.now()) - p.started) / 1000
      status = `${direction === 'to' ? 'Sent' : 'Received'}${seconds > 0.05 ? ` · ${formatSpeed(p.bytes / seconds)}` : ''}`
    } else {
      status = percent(p.fraction)
      if (p.bytesPerSecond && p.bytesPerSecond > 0 && performance.now() - p.started > speedAfterMs) {
        status += ` · ${formatSpeed(p.bytesPerSecond)}`
        if (p.secondsLeft !== undefined) status += ` · ${formatDuration(p.secondsLeft)} left`
      }
    }
    return html`<div class="bar ${done ? 'done' : ''}" part=${done ? 'transfer done' : 'transfer'} data-peer=${peerId}>
      <span class="peer" title=${label}><span class="dot" style=${`background:${who.color}`}></span>${label}</span>
      <progress part="progress" max="1" .value=${p.fraction} aria-label=${`${label}: ${percent(p.fraction)}`}></progress>
      <span part="status" class="pct ${failed ? 'failed' : ''}" aria-live=${done ? 'polite' : 'off'}>${done ? html`<span aria-hidden="true">✓ </span>` : nothing}${status}</span>
    </div>${
      cancel && !done && !failed
        ? html`<div class="actions"><button part="cancel" type="button" @click=${cancel} aria-label=${`Cancel ${label}`}>Cancel</button></div>`
        : nothing
    }`
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
                ({meta, progress, failed, done, controllers}) => html`<li part="file" data-file=${meta.name}>
                  <span part="file-name" title=${meta.name}>${meta.name}</span>
                  <span part="file-size">${formatBytes(meta.size)}</span>
                  ${Object.entries(progress).map(([peerId, p]) =>
                    this.#bar(peerId, 'to', p, !!done[peerId], failed[peerId], () => controllers[peerId]!.abort()),
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
                row => html`<li part="file" data-file=${row.meta.name}>
                  <span part="file-name" title=${row.meta.name}>${row.meta.name}</span>
                  ${
                    row.url
                      ? html`<a part="download" href=${row.url} download=${row.meta.name}>Download ${formatBytes(row.progress.bytes)}</a>`
                      : html`<span part="file-size">${formatBytes(row.progress.bytes)}</span>`
                  }
                  ${
                    row.ask
                      ? html`<div class="ask" role="group" aria-label=${`Incoming file ${row.meta.name}`}>
                          <span>${this.label(row.peerId)} wants to send ${row.meta.name} (${row.transfer.size === undefined ? 'size unknown' : formatBytes(row.transfer.size)}).</span>
                          <button part="accept" type="button" @click=${() => row.ask?.(true)}>Accept</button>
                          <button part="decline" type="button" @click=${() => row.ask?.(false)}>Decline</button>
                        </div>`
                      : this.#bar(row.peerId, 'from', row.progress, !!row.file, row.failed, () =>
                          row.transfer.cancel('the receiver cancelled'),
                        )
                  }
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
