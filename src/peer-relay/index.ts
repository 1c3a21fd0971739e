/**
 * The PeerRelay API (the peer-relay library's, https://github.com/xuset/peer-relay) on this
 * project's overlay: routing by XOR distance over k-buckets, membership gossip, end-to-end
 * sealed messages (src/core/overlay). Node only for now: peers link over WebSockets (`port`
 * to accept, `bootstrap` to dial). Differences from peer-relay:
 *   - ids are our identity ids (20 base62 characters), strings, not 160-bit Buffers; `id` is
 *     '' until the 'ready' event when no identity could be made synchronously;
 *   - every message is sealed for its target (ECDH + AES-GCM) and authenticated: relaying
 *     peers can neither read nor forge it;
 *   - `connect(id)` dials over WebSocket when either side listens; `wrtc` (WebRTC between
 *     peers that both lack a port, signaled through the overlay) is not implemented yet and
 *     is refused with an error rather than ignored.
 */
import {EventEmitter} from 'node:events'
import {WebSocket, WebSocketServer, type RawData} from 'ws'
import {P2PError, invalidConfig} from '../core/errors.js'
import {createIdentity, fromBase64Url, sign, toBase64Url, verify, type Identity} from '../core/identity.js'
import {createOverlayNode, type OverlayMessage, type OverlayNode} from '../core/overlay/node.js'
import type {Card} from '../core/overlay/seal.js'

export type PeerRelayOptions = {
  /** Accept WebSocket links on this port (0: any free one; `address()` says which). */
  port?: number
  /** The URL other peers dial to reach this one (default ws://127.0.0.1:PORT). */
  publicUrl?: string
  /** Interface to listen on (default all). */
  host?: string
  /** WebSocket URLs of peers already in the network. */
  bootstrap?: string[]
  /** WebRTC constructors for Node; not supported yet (throws). */
  wrtc?: unknown
  /** Direct links to keep at most (default 8). */
  maxConnections?: number
  identity?: Identity
  /** Binds the network: peers with another scope cannot talk to this one. */
  scope?: string
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const linkText = (scope: string, nonce: string) => encoder.encode(JSON.stringify(['link', scope, nonce]))
/** A link message larger than this is refused: a peer cannot make us parse megabytes. */
const maxLinkMessage = 1024 * 1024

/** `dialed`: we opened it. `authSent`: our proof is on the wire (nothing else goes before it). */
type Link = {ws: WebSocket; id?: string; nonce: string; dialed: boolean; authSent: Promise<void>; sent?: () => void}

export class PeerRelay extends EventEmitter {
  /** peer-relay's `PeerRelay.Socket` (set below, once the class exists). */
  static Socket: typeof PeerRelaySocket
  id = ''
  readonly ready: Promise<void>
  private node?: OverlayNode
  private server?: WebSocketServer
  private readonly links = new Map<string, Link>()
  private readonly pending = new Set<Link>()
  private readonly urls = new Map<string, string>()
  private readonly wanted = new Set<string>()
  private url?: string
  private destroyed = false
  private readonly options: PeerRelayOptions

  constructor(options: PeerRelayOptions = {}) {
    super()
    this.options = options
    if (options.wrtc !== undefined)
      throw invalidConfig('PeerRelay: the wrtc option (WebRTC links) is not supported yet; use port and bootstrap')
    if (options.port !== undefined && !(Number.isInteger(options.port) && options.port >= 0 && options.port < 65536))
      throw invalidConfig(`PeerRelay: port must be an integer 0-65535, not ${options.port}`)
    this.ready = this.start().catch(error => void this.emit('error', error))
  }

  private async start() {
    const identity = this.options.identity ?? (await createIdentity())
    const scope = this.options.scope ?? 'peer-relay'
    this.id = identity.id
    this.savedIdentity = identity
    this.node = await createOverlayNode({
      identity,
      scope,
      maxConnections: this.options.maxConnections ?? 8,
      send: (to, message) => this.write(this.links.get(to), {k: 'o', m: message}),
      connect: id => this.dial(id),
      // Pruning links over the cap is off here: closing a WebSocket loses frames in flight
      // (no hop-by-hop retransmission yet), and measured 32-peer runs lost messages with it.
      disconnect: () => {},
      message: (from, data) => this.onSealed(from, data),
      join: id => this.emit('member', id),
      dropped: reason => this.emit('dropped', reason),
      leave: id => this.emit('member-left', id),
    })
    if (this.options.port !== undefined) {
      const server = new WebSocketServer({port: this.options.port, host: this.options.host, maxPayload: maxLinkMessage})
      this.server = server
      await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject))
      const port = (server.address() as {port: number}).port
      this.url = this.options.publicUrl ?? `ws://127.0.0.1:${port}`
      server.on('connection', ws => this.attach(ws))
    }
    await this.node.start()
    for (const url of this.options.bootstrap ?? []) this.open(url)
    this.emit('ready')
  }

  /** The URL other peers can dial, if this one listens. */
  get listenUrl() {
    return this.url
  }

  private write(link: Link | undefined, message: unknown) {
    if (!link) return
    void link.authSent.then(() => link.ws.readyState === WebSocket.OPEN && link.ws.send(JSON.stringify(message)))
  }

  private writeNow(link: Link, message: unknown) {
    if (link.ws.readyState === WebSocket.OPEN) link.ws.send(JSON.stringify(message))
  }

  private open(url: string) {
    let ws: WebSocket
    try {
      ws = new WebSocket(url, {maxPayload: maxLinkMessage})
    } catch (error) {
      this.emit('error', new P2PError('strategy', `PeerRelay: cannot dial ${url}: ${error}`))
      return
    }
    ws.on('error', error => this.emit('warning', new P2PError('strategy', `PeerRelay: ${url}: ${error.message}`)))
    this.attach(ws, true)
  }

  /**
   * Both sides send a random nonce, then sign the other's nonce with the identity their card
   * names: a link's id is proven, so no one can take another's place in the routing table.
   */
  private attach(ws: WebSocket, dialed = false) {
    let sent = () => {}
    const authSent = new Promise<void>(resolve => (sent = resolve))
    const link: Link = {ws, nonce: toBase64Url(crypto.getRandomValues(new Uint8Array(16))), dialed, authSent, sent}
    this.pending.add(link)
    const hello = () => this.writeNow(link, {k: 'hi', nonce: link.nonce})
    if (ws.readyState === WebSocket.OPEN) hello()
    else ws.once('open', hello)
    ws.on('message', (raw: RawData) => void this.onLinkMessage(link, raw))
    ws.on('close', () => {
      this.pending.delete(link)
      if (link.id && this.links.get(link.id) === link) {
        this.links.delete(link.id)
        this.node?.linkDown(link.id)
      }
    })
  }

  private async onLinkMessage(link: Link, raw: RawData) {
    let message: {k?: string; nonce?: string; card?: Card; sig?: string; url?: string; m?: OverlayMessage}
    try {
      message = JSON.parse(decoder.decode(raw as Buffer))
    } catch {
      return link.ws.close()
    }
    const node = this.node
    if (!node || this.destroyed) return
    if (message.k === 'hi' && typeof message.nonce === 'string' && message.nonce.length < 64 && !link.id) {
      const sig = toBase64Url(await sign(this.savedIdentity!, linkText(this.scope, message.nonce)))
      this.writeNow(link, {k: 'auth', card: node.card, sig, url: this.url})
      link.sent?.()
    } else if (message.k === 'auth' && !link.id) {
      const card = await node.verifyCard(message.card)
      if (!card || typeof message.sig !== 'string' || card.id === this.id) return link.ws.close()
      const ok = await verify(card.verifyKey, fromBase64Url(message.sig), linkText(this.scope, link.nonce))
      if (!ok) return link.ws.close()
      // Both dialed: both sides keep the link the smaller id dialed, so they agree.
      const old = this.links.get(card.id)
      const preferred = (l: Link) => l.dialed === this.id < card.id
      link.id = card.id
      this.pending.delete(link)
      if (old && (preferred(old) || !preferred(link))) return link.ws.close()
      this.links.set(card.id, link)
      if (old) return old.ws.close() // replaced: the overlay keeps its contact
      if (typeof message.url === 'string' && /^wss?:\/\//.test(message.url)) this.urls.set(card.id, message.url)
      await node.linkUp(card.id)
      this.emit('peer', card.id)
    } else if (message.k === 'o' && link.id && message.m) await node.receive(link.id, message.m)
  }

  private savedIdentity?: Identity
  private get scope() {
    return this.options.scope ?? 'peer-relay'
  }

  /** Opens a link to member `id`: dial its URL, or ask it (through the overlay) to dial ours. */
  private dial(id: string) {
    if (this.links.has(id) || this.destroyed) return
    const url = this.urls.get(id)
    if (url) return this.open(url)
    void this.sendControl(id, {t: 'dial?', url: this.url})
  }

  private async sendControl(id: string, message: unknown) {
    await this.node?.sendTo(id, encoder.encode(JSON.stringify(message)))
  }

  private onSealed(from: string, data: Uint8Array) {
    let message: {t?: string; url?: string; d?: unknown}
    try {
      message = JSON.parse(decoder.decode(data))
    } catch {
      return
    }
    if (message.t === 'm') this.emit('message', message.d, from)
    else if (message.t === 'dial?' || message.t === 'dial') {
      if (typeof message.url === 'string' && /^wss?:\/\//.test(message.url)) this.urls.set(from, message.url)
      if (this.links.has(from)) return
      if (this.urls.has(from) && (message.t === 'dial' || !this.url || this.id < from)) this.open(this.urls.get(from)!)
      else if (message.t === 'dial?' && this.url) void this.sendControl(from, {t: 'dial', url: this.url})
      else if (!this.url && !this.urls.has(from))
        this.emit(
          'warning',
          new P2PError('rejected', `PeerRelay: neither this peer nor ${from} listens; no WebRTC yet`, from),
        )
    }
  }

  /** A direct link to `id` (a 'peer' event when it opens). */
  connect(id: string) {
    this.wanted.add(id)
    void this.ready.then(() => this.dial(id))
  }

  disconnect(id: string) {
    this.wanted.delete(id)
    this.links.get(id)?.ws.close()
  }

  /** Sends JSON-serializable `data` to any member, relayed if not directly linked. */
  send(id: string, data: unknown) {
    void this.ready.then(async () => {
      const bytes = encoder.encode(JSON.stringify({t: 'm', d: data}))
      const deadline = Date.now() + 10_000
      while (!(await this.node!.sendTo(id, bytes))) {
        if (Date.now() > deadline || this.destroyed)
          return void this.emit('warning', new P2PError('unknown-peer', `PeerRelay: ${id} is not a known member`, id))
        await new Promise(resolve => setTimeout(resolve, 100))
      }
    })
  }

  /** Every member this peer knows of, linked or relayed. */
  members(): string[] {
    return this.node?.members() ?? []
  }

  /** Direct links. */
  peers(): string[] {
    return [...this.links.keys()]
  }

  destroy(cb?: (error?: Error) => void) {
    if (this.destroyed) return void (cb && queueMicrotask(() => cb()))
    this.destroyed = true
    void (async () => {
      await this.ready
      await this.node?.stop()
      await new Promise(resolve => setTimeout(resolve, 50)) // the goodbye drains
      for (const link of [...this.links.values(), ...this.pending]) link.ws.terminate()
      if (this.server) await new Promise(resolve => this.server!.close(() => resolve(undefined)))
      this.emit('close')
      cb?.()
    })()
  }
}

type Rinfo = {address: string; port: number; family: 'peer-relay'}

/**
 * A dgram-like socket over a PeerRelay (peer-relay's PeerRelay.Socket): addresses are peer
 * ids, ports are kept only for the shape of dgram's API.
 */
export class PeerRelaySocket extends EventEmitter {
  readonly peer: PeerRelay
  private port = Math.floor(Math.random() * 50_000) + 10_000
  private closed = false

  constructor(options: PeerRelayOptions = {}) {
    super()
    this.peer = new PeerRelay(options)
    this.peer.on('message', (data: unknown, from: string) => {
      if (typeof data !== 'string') return
      let buffer: Buffer
      try {
        buffer = Buffer.from(data, 'base64')
      } catch {
        return
      }
      const rinfo: Rinfo = {address: from, port: this.port, family: 'peer-relay'}
      this.emit('message', buffer, rinfo)
    })
    this.peer.on('error', error => this.emit('error', error))
    this.peer.on('close', () => this.closed || ((this.closed = true), this.emit('close')))
  }

  /** dgram's send(buffer, offset, length, port, address, cb): the address is a peer id. */
  send(
    buffer: Uint8Array | string,
    offset: number,
    length: number,
    _port: number,
    peerId: string,
    cb?: (error: Error | null, bytes?: number) => void,
  ) {
    const bytes = typeof buffer === 'string' ? Buffer.from(buffer) : Buffer.from(buffer)
    const slice = bytes.subarray(offset ?? 0, (offset ?? 0) + (length ?? bytes.length))
    this.peer.send(peerId, slice.toString('base64'))
    if (cb) queueMicrotask(() => cb(null, slice.length))
  }

  address(): Rinfo {
    return {address: this.peer.id, port: this.port, family: 'peer-relay'}
  }

  bind(port?: number | (() => void), cb?: () => void) {
    if (typeof port === 'function') (cb = port), (port = undefined)
    if (typeof port === 'number') this.port = port
    queueMicrotask(() => {
      this.emit('listening')
      cb?.()
    })
  }

  close(cb?: () => void) {
    if (cb) this.once('close', cb)
    this.peer.destroy()
  }
}

PeerRelay.Socket = PeerRelaySocket
export default PeerRelay
