/**
 * The PeerRelay API (the peer-relay library's, https://github.com/xuset/peer-relay) on this
 * project's overlay: routing by XOR distance over k-buckets, membership gossip, end-to-end
 * sealed messages, hop-by-hop acks (src/core/overlay). Peers link over WebSockets (`port` to
 * accept, `bootstrap` to dial) and, given `wrtc`, over WebRTC data channels signaled through
 * the overlay. Differences from peer-relay are listed in the README ("p2p-elements/peer-relay").
 *
 * LINK PROTOCOL (v1), the same over a WebSocket and over an RTCDataChannel ('p2p-overlay');
 * what a browser's bootstrap strategy speaks to `npm run peer -- --listen PORT`:
 *   - Every frame is one UTF-8 JSON text message, at most 1 MiB; anything else (binary that
 *     is not UTF-8 JSON, an unknown shape, a bad proof) closes the link.
 *   - On open, each side sends {k: 'hi', nonce} (nonce: 16 random bytes, base64url, < 64 chars).
 *   - On a 'hi', each side answers {k: 'auth', card, sig, url?, n?, pin?}: `card` is its overlay card for
 *     the network's scope (src/core/overlay/seal.ts: {id, key, dh, sig}), `sig` its identity
 *     signature (base64url) over UTF-8 JSON ["link", scope, <the other's nonce>], `url` the
 *     ws:// URL it accepts links on, if any. Scope: the PeerRelay `scope` option, `--scope` of
 *     `npm run peer`, default "peer-relay"; peers of different scopes cannot link. `n`: how many
 *     links the sender has already, `pin`: its app asked for this link. A side at its cap may
 *     refuse a link it did not dial (when n >= 1 and not pin): it sends
 *     {k: 'o', m: {k: 'want', y: false, full: true}} and closes; the dialer picks someone else.
 *   - A side whose check of the other's auth passes (card valid, id = hash of key, sig over its
 *     own nonce) treats the link as up; nothing but 'hi'/'auth' may come before.
 *   - Then {k: 'o', m}: m is an OverlayMessage (src/core/overlay/node.ts: gossip, route with
 *     hop acks, flood, want, ack), handed to OverlayNode.receive.
 *   - Two links between the same pair: both keep the one the smaller id opened.
 * Sealed payloads between PeerRelay members (OverlayNode.sendTo, JSON inside the seal):
 *   {t: 'm', d, k}                 a message: `d` is what send(id, d) was given, `k` its key
 *                                  (unique per sender); the target answers {t: 'ok', k}, delivers
 *                                  a key once, and the sender sends again if no 'ok' comes
 *   {t: 'dial?', url?, rtc?}       please link to me: dial `url`, or offer WebRTC if `rtc`
 *   {t: 'dial', url}               dial me at `url`
 *   {t: 'rtc', type, sdp}          a WebRTC offer or answer (complete, not trickled)
 *   {t: 'nolink', reason}          no transport in common: neither listens, or no wrtc
 */
import {createHash, generateKeyPairSync} from 'node:crypto'
import {EventEmitter} from 'node:events'
import {WebSocket, WebSocketServer, type RawData} from 'ws'
import {P2PError, errorMessage, invalidConfig} from '../core/errors.js'
import {fromBase64Url, idOfDigest, sign, toBase64Url, verify, type Identity} from '../core/identity.js'
import {createOverlayNode, type OverlayMessage, type OverlayNode} from '../core/overlay/node.js'
import {SeenSet} from '../core/overlay/dedup.js'
import type {Card} from '../core/overlay/seal.js'
import {answer, offer, wrtcOf, type Description, type RtcAttempt, type WrtcModule} from './rtc.js'

export type PeerRelayOptions = {
  /** Accept WebSocket links on this port (0: any free one; `listenUrl` says which). */
  port?: number
  /** The URL other peers dial to reach this one (default ws://127.0.0.1:PORT). */
  publicUrl?: string
  /** Interface to listen on (default all). */
  host?: string
  /** WebSocket URLs of peers already in the network. */
  bootstrap?: string[]
  /** WebRTC constructors (node-datachannel/polyfill's module, @roamhq/wrtc, …): links between peers without a port. */
  wrtc?: unknown
  /** For WebRTC links (default no ICE servers: host candidates only; add STUN/TURN here). */
  rtcConfig?: RTCConfiguration
  /** Direct links to keep at most (default 8). */
  maxConnections?: number
  /** How long send/connect wait for an id to become a known member before an 'error' (default 5000). */
  unknownPeerTimeoutMs?: number
  identity?: Identity
  /** Binds the network: peers with another scope cannot talk to this one. */
  scope?: string
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const linkText = (scope: string, nonce: string) => encoder.encode(JSON.stringify(['link', scope, nonce]))
/** A link message larger than this is refused: a peer cannot make us parse megabytes. */
const maxLinkMessage = 1024 * 1024
/** A dial that did not give a link within this long may be tried again. */
const dialTimeoutMs = 15_000
/** With no link at all, the bootstrap URLs are dialed again this often. */
const redialMs = 3000
/** The goodbye and frames in our charge get this long to go out on destroy. */
const drainMs = 1500
/** No end-to-end ack within this long (doubling per try): the message is sent again. */
const e2eTimeoutMs = 8000
const e2eRetries = 2
/** Messages awaiting an end-to-end ack at most; beyond, they are sent once, untracked. */
const maxUnacked = 16_384
const isUrl = (url: unknown): url is string => typeof url === 'string' && url.length < 512 && /^wss?:\/\//.test(url)

/** What carries a link's frames: a WebSocket or an RTCDataChannel. */
type Wire = {send: (text: string) => void; open: () => boolean; close: () => void; kill: () => void}
/** `dialed`: we opened it. `authSent`: our proof is on the wire (nothing else goes before it). */
type Link = {
  wire: Wire
  id?: string
  nonce: string
  dialed: boolean
  authSent: Promise<void>
  sent: () => void
  /** Frames are handled one after another, so none overtakes the proof that names the link. */
  chain: Promise<void>
  closed: boolean
  /** The peer we meant to reach, when we dialed it for a member (not a bootstrap URL). */
  target?: string
  /** We asked for this link (dialed it, or asked the other to offer WebRTC): never refused at the cap. */
  initiated: boolean
}

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
  private readonly dialing = new Map<string, number>()
  private readonly attempts = new Map<string, RtcAttempt>()
  private readonly wrtc?: WrtcModule
  private url?: string
  private destroyed = false
  /** Our messages not acked end to end yet, by key; keys of messages delivered to us. */
  private readonly unacked = new Map<string, ReturnType<typeof setTimeout>>()
  private readonly delivered = new SeenSet(65_536)
  private readonly session = toBase64Url(crypto.getRandomValues(new Uint8Array(6)))
  private sendSeq = 0
  /** Links the app asked for with connect(id). */
  private readonly pinnedIds = new Set<string>()
  private redial?: ReturnType<typeof setInterval>
  private savedIdentity?: Identity
  private readonly options: PeerRelayOptions

  constructor(options: PeerRelayOptions = {}) {
    super()
    this.options = options
    if (options.wrtc !== undefined) {
      this.wrtc = wrtcOf(options.wrtc)
      if (!this.wrtc)
        throw invalidConfig(
          'PeerRelay: wrtc must be a module with the WebRTC constructors (RTCPeerConnection), e.g. node-datachannel/polyfill',
        )
    }
    if (options.port !== undefined && !(Number.isInteger(options.port) && options.port >= 0 && options.port < 65536))
      throw invalidConfig(`PeerRelay: port must be an integer 0-65535, not ${options.port}`)
    if (options.bootstrap !== undefined && !(Array.isArray(options.bootstrap) && options.bootstrap.every(isUrl)))
      throw invalidConfig('PeerRelay: bootstrap must be an array of ws:// or wss:// URLs')
    // peer-relay's `peer.id` is there as soon as the peer is constructed, so the key pair is
    // made here, synchronously (node:crypto); WebCrypto only imports it, in start().
    this.id = options.identity?.id ?? ''
    const keys = options.identity ? undefined : newEd25519Keys()
    if (keys) this.id = keys.id
    this.ready = this.start(keys).catch(error => this.fail(error))
  }

  /** An 'error' event if anyone listens; otherwise a 'warning', never an uncaught throw. */
  private fail(error: unknown) {
    const p2pError = error instanceof P2PError ? error : new P2PError('strategy', `PeerRelay: ${errorMessage(error)}`)
    this.emit(this.listenerCount('error') ? 'error' : 'warning', p2pError)
  }

  private get scope() {
    return this.options.scope ?? 'peer-relay'
  }

  private async start(keys?: SyncKeys) {
    const identity = this.options.identity ?? (await importKeys(keys!))
    this.savedIdentity = identity
    this.node = await createOverlayNode({
      identity,
      scope: this.scope,
      maxConnections: this.options.maxConnections ?? 8,
      send: (to, message) => this.write(this.links.get(to), {k: 'o', m: message}),
      connect: id => this.dial(id),
      disconnect: id => this.closeAfterWrites(this.links.get(id)),
      message: (from, data, hops) => this.onSealed(from, data, hops),
      join: id => this.emit('member', id),
      dropped: reason => this.emit('dropped', reason),
      leave: id => this.emit('member-left', id),
      // A frame of ours given up on the way: the end-to-end retry below sends it again.
      undeliverable: (to, reason, mine) => mine && this.emit('dropped', `to ${to}: ${reason}`),
    })
    if (this.options.port !== undefined) {
      const server = new WebSocketServer({port: this.options.port, host: this.options.host, maxPayload: maxLinkMessage})
      this.server = server
      await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject))
      server.on('error', error => this.fail(error))
      const port = (server.address() as {port: number}).port
      this.url = this.options.publicUrl ?? `ws://127.0.0.1:${port}`
      server.on('connection', ws => this.attachSocket(ws))
    }
    await this.node.start()
    for (const url of this.options.bootstrap ?? []) this.open(url)
    this.redial = setInterval(() => {
      if (!this.links.size && !this.pending.size) for (const url of this.options.bootstrap ?? []) this.open(url)
    }, redialMs)
    this.emit('ready')
  }

  /** The URL other peers can dial, if this one listens. */
  get listenUrl() {
    return this.url
  }

  private write(link: Link | undefined, message: unknown) {
    if (!link) return
    const text = JSON.stringify(message)
    void link.authSent.then(() => this.sendText(link, text))
  }

  /** Closes a link once what was written to it before is on the wire (a goodbye, a 'full'). */
  private closeAfterWrites(link: Link | undefined) {
    if (link) void link.authSent.then(() => link.wire.close())
  }

  /** A closing channel may throw on send: the frame is lost, and hop acks resend it elsewhere. */
  private sendText(link: Link, text: string) {
    try {
      if (link.wire.open()) link.wire.send(text)
    } catch (error) {
      this.emit('dropped', `send on a closing link: ${errorMessage(error)}`)
    }
  }

  private writeNow(link: Link, message: unknown) {
    this.sendText(link, JSON.stringify(message))
  }

  private open(url: string, target?: string) {
    if (this.destroyed) return
    let ws: WebSocket
    try {
      ws = new WebSocket(url, {maxPayload: maxLinkMessage})
    } catch (error) {
      return this.fail(new P2PError('strategy', `PeerRelay: cannot dial ${url}: ${errorMessage(error)}`))
    }
    ws.on('error', error => this.emit('warning', new P2PError('strategy', `PeerRelay: ${url}: ${error.message}`)))
    this.attachSocket(ws, true, target)
  }

  private attachSocket(ws: WebSocket, dialed = false, target?: string) {
    if (this.destroyed) return ws.terminate()
    const wire: Wire = {
      send: text => ws.send(text),
      open: () => ws.readyState === WebSocket.OPEN,
      close: () => ws.close(),
      kill: () => ws.terminate(),
    }
    const link = this.attach(wire, dialed, target)
    if (ws.readyState === WebSocket.OPEN) this.hello(link)
    else ws.once('open', () => this.hello(link))
    ws.on('message', (raw: RawData, binary: boolean) => this.enqueue(link, binary ? raw : String(raw)))
    ws.on('close', () => this.closed(link))
  }

  private attachChannel(channel: RTCDataChannel, attempt: RtcAttempt, target: string) {
    if (this.destroyed) return attempt.close()
    const wire: Wire = {
      send: text => channel.send(text),
      open: () => channel.readyState === 'open',
      close: () => {
        channel.close()
        attempt.close()
      },
      kill: () => attempt.close(),
    }
    // The offerer may only be answering our 'dial?': who asked is who initiated.
    const link = this.attach(wire, attempt.offerer, target, this.dialing.has(target))
    channel.addEventListener('message', event => this.enqueue(link, (event as MessageEvent).data))
    channel.addEventListener('close', () => (this.closed(link), attempt.close()))
    attempt.pc.addEventListener('connectionstatechange', () => {
      if (['failed', 'closed'].includes(attempt.pc.connectionState)) this.closed(link)
    })
    this.hello(link)
  }

  /**
   * Both sides send a random nonce, then sign the other's nonce with the identity their card
   * names: a link's id is proven, so no one can take another's place in the routing table.
   */
  private attach(wire: Wire, dialed: boolean, target?: string, initiated = dialed): Link {
    let sent = () => {}
    const authSent = new Promise<void>(resolve => (sent = resolve))
    const link: Link = {
      wire,
      nonce: toBase64Url(crypto.getRandomValues(new Uint8Array(16))),
      dialed,
      authSent,
      sent,
      chain: Promise.resolve(),
      closed: false,
      target,
      initiated,
    }
    this.pending.add(link)
    return link
  }

  private hello(link: Link) {
    this.writeNow(link, {k: 'hi', nonce: link.nonce})
  }

  private closed(link: Link) {
    if (link.closed) return
    link.closed = true
    this.pending.delete(link)
    if (link.id && this.links.get(link.id) === link) {
      this.links.delete(link.id)
      this.node?.linkDown(link.id)
    }
  }

  private enqueue(link: Link, raw: unknown) {
    // Once the link is named, frames need no order: each is handled as it comes (its
    // synchronous part, such as a hop ack, in arrival order), none waits for a slow one.
    if (link.id)
      return void this.onLinkMessage(link, raw).catch(error => {
        this.emit('dropped', `link message failed: ${errorMessage(error)}`)
        link.wire.close()
      })
    link.chain = link.chain
      .then(() => this.onLinkMessage(link, raw))
      .catch(error => {
        this.emit('dropped', `link message failed: ${errorMessage(error)}`)
        link.wire.close()
      })
  }

  private async onLinkMessage(link: Link, raw: unknown) {
    if (link.closed) return
    const text = typeof raw === 'string' ? raw : raw instanceof Buffer ? decoder.decode(raw) : undefined
    if (text === undefined || text.length > maxLinkMessage) return link.wire.close()
    let message: {
      k?: unknown
      nonce?: unknown
      card?: Card
      sig?: unknown
      url?: unknown
      n?: unknown
      pin?: unknown
      m?: OverlayMessage
    }
    try {
      message = JSON.parse(text)
    } catch {
      return link.wire.close()
    }
    const node = this.node
    if (!node || this.destroyed) return
    if (!message || typeof message !== 'object') return link.wire.close()
    if (message.k === 'hi' && typeof message.nonce === 'string' && message.nonce.length < 64 && !link.id) {
      const sig = toBase64Url(await sign(this.savedIdentity!, linkText(this.scope, message.nonce)))
      // `n`: links we have already; `pin`: the app asked for this one (connect(id)).
      const pin = !!link.target && this.pinnedIds.has(link.target)
      this.writeNow(link, {k: 'auth', card: node.card, sig, url: this.url, n: this.links.size, pin})
      link.sent()
    } else if (message.k === 'auth' && !link.id) {
      const card = await node.verifyCard(message.card)
      if (!card || typeof message.sig !== 'string' || card.id === this.id) return link.wire.close()
      const ok = await verify(card.verifyKey, fromBase64Url(message.sig), linkText(this.scope, link.nonce)).catch(
        () => false,
      )
      if (!ok || link.closed) return link.wire.close()
      // Both dialed: both sides keep the link the smaller id dialed, so they agree.
      const old = this.links.get(card.id)
      const preferred = (l: Link) => l.dialed === this.id < card.id
      link.id = card.id
      this.pending.delete(link)
      if (isUrl(message.url)) this.urls.set(card.id, message.url)
      if (old && (preferred(old) || !preferred(link))) return link.wire.close()
      // At the cap, a link someone else chose is refused at once (it is told we are full and
      // picks another member), unless the dialer has no other link or its app asked for it.
      const max = this.options.maxConnections ?? 8
      const refuse =
        !link.initiated &&
        !old &&
        this.links.size >= max &&
        Number(message.n) >= 1 &&
        message.pin !== true &&
        !this.pinnedIds.has(card.id) &&
        !node.wants(card.id)
      if (refuse) {
        this.writeNow(link, {k: 'o', m: {k: 'want', y: false, full: true}})
        this.emit('dropped', `link from ${card.id} refused: at the cap of ${max}`)
        return this.closeAfterWrites(link)
      }
      this.links.set(card.id, link)
      this.dialing.delete(card.id)
      if (old) return old.wire.close() // replaced: the overlay keeps its contact
      await node.linkUp(card.id)
      this.emit('peer', card.id)
    } else if (message.k === 'o' && link.id && message.m) await node.receive(link.id, message.m)
    else if (message.k !== 'hi' && message.k !== 'auth') link.wire.close()
  }

  /** Opens a link to member `id`: dial its URL, or ask it (through the overlay) to link to us. */
  private dial(id: string) {
    if (this.links.has(id) || this.destroyed || id === this.id) return
    const since = this.dialing.get(id)
    if (since && Date.now() - since < dialTimeoutMs) return
    this.dialing.set(id, Date.now())
    const url = this.urls.get(id)
    if (url) return this.open(url, id)
    this.control(id, {t: 'dial?', url: this.url, rtc: !!this.wrtc})
  }

  /** A sealed control message for `id`, once it is a known member. */
  private control(id: string, message: unknown) {
    void (async () => {
      const node = this.node!
      if (await node.waitForMember(id, this.unknownTimeout))
        await node.sendTo(id, encoder.encode(JSON.stringify(message)))
    })().catch(error => this.fail(error))
  }

  private get unknownTimeout() {
    return this.options.unknownPeerTimeoutMs ?? 5000
  }

  private onSealed(from: string, data: Uint8Array, hops: number) {
    let message: {
      t?: unknown
      url?: unknown
      d?: unknown
      rtc?: unknown
      type?: unknown
      sdp?: unknown
      reason?: unknown
      k?: unknown
    }
    try {
      message = JSON.parse(decoder.decode(data))
    } catch {
      return
    }
    if (!message || typeof message !== 'object') return
    // peer-relay's (data, from), and the hops it took (1: direct).
    if (message.t === 'm') {
      // End to end: every message is acked by its target, and a copy seen before is acked again, not delivered.
      if (typeof message.k === 'string' && message.k.length < 64) {
        void this.node?.sendTo(from, encoder.encode(JSON.stringify({t: 'ok', k: message.k})))
        if (!this.delivered.first(`${from} ${message.k}`)) return
      }
      return void this.emit('message', message.d, from, hops)
    }
    if (message.t === 'ok' && typeof message.k === 'string') return this.acked(message.k)
    if (this.destroyed) return
    if (isUrl(message.url)) this.urls.set(from, message.url)
    if (message.t === 'dial?') {
      if (this.links.has(from)) return
      if (this.urls.has(from)) return this.open(this.urls.get(from)!, from)
      if (this.url) return this.control(from, {t: 'dial', url: this.url})
      if (this.wrtc && message.rtc === true) return void this.offerTo(from)
      this.control(from, {t: 'nolink', reason: 'neither peer accepts links (no port) and one has no wrtc'})
    } else if (message.t === 'dial' && this.urls.has(from) && !this.links.has(from))
      this.open(this.urls.get(from)!, from)
    else if (message.t === 'rtc' && (message.type === 'offer' || message.type === 'answer')) {
      if (typeof message.sdp !== 'string' || message.sdp.length > 64 * 1024) return
      void this.onRtc(from, {type: message.type, sdp: message.sdp})
    } else if (message.t === 'nolink') {
      this.dialing.delete(from)
      this.fail(
        new P2PError('rejected', `PeerRelay: cannot link to ${from}: ${String(message.reason).slice(0, 200)}`, from),
      )
    }
  }

  private async offerTo(id: string) {
    if (!this.wrtc || this.attempts.has(id) || this.links.has(id)) return
    const {attempt, description} = await offer(this.wrtc, this.rtcConfig)
    if (this.attempts.has(id) || this.links.has(id) || this.destroyed) return attempt.close()
    this.track(id, attempt)
    this.control(id, {t: 'rtc', ...description})
  }

  private async onRtc(from: string, description: Description) {
    if (!this.wrtc) return this.control(from, {t: 'nolink', reason: 'this peer has no wrtc'})
    const current = this.attempts.get(from)
    if (description.type === 'answer') {
      if (current?.offerer) await current.answer(description).catch(error => this.rtcFailed(from, current, error))
      return
    }
    if (this.links.has(from)) return
    // Both offered at once: the smaller id's offer wins.
    if (current?.offerer && this.id < from) return
    if (current) this.attempts.delete(from), current.close()
    const {attempt, description: reply} = await answer(this.wrtc, this.rtcConfig, description)
    if (this.destroyed || this.links.has(from)) return attempt.close()
    this.track(from, attempt)
    this.control(from, {t: 'rtc', ...reply})
  }

  private get rtcConfig(): RTCConfiguration {
    return this.options.rtcConfig ?? {iceServers: []}
  }

  /** Follows an attempt until its channel opens (then it is a link) or it fails. */
  private track(id: string, attempt: RtcAttempt) {
    this.attempts.set(id, attempt)
    const timer = setTimeout(() => this.rtcFailed(id, attempt, new Error('no data channel within 15 s')), dialTimeoutMs)
    attempt.channel.then(
      channel => {
        clearTimeout(timer)
        if (this.attempts.get(id) === attempt) this.attempts.delete(id)
        this.attachChannel(channel, attempt, id)
      },
      error => (clearTimeout(timer), this.rtcFailed(id, attempt, error)),
    )
  }

  private rtcFailed(id: string, attempt: RtcAttempt, error: unknown) {
    if (this.attempts.get(id) !== attempt) return
    this.attempts.delete(id)
    this.dialing.delete(id)
    attempt.close()
    this.emit(
      'warning',
      new P2PError('ice-failed', `PeerRelay: WebRTC link to ${id} failed: ${errorMessage(error)}`, id),
    )
  }

  /** A direct link to `id` (a 'peer' event when it is up, at once if it is already). */
  connect(id: string) {
    void this.ready.then(async () => {
      const node = this.node
      if (!node || this.destroyed) return
      if (typeof id !== 'string' || !id)
        return this.fail(new P2PError('unknown-peer', 'PeerRelay.connect: the id must be a non-empty string'))
      if (this.links.has(id)) {
        this.pinnedIds.add(id), node.pin(id)
        return void this.emit('peer', id)
      }
      if (!(await node.waitForMember(id, this.unknownTimeout)))
        return this.fail(new P2PError('unknown-peer', `PeerRelay.connect: ${id} is not a member of this network`, id))
      this.pinnedIds.add(id), node.pin(id)
      this.dialing.delete(id)
      this.dial(id)
    })
  }

  /** Closes the direct link to `id` (messages to it are relayed from now on). */
  disconnect(id: string) {
    this.pinnedIds.delete(id)
    if (this.node && this.links.has(id)) this.node.closeLink(id)
    else this.node?.avoid(id)
  }

  /** Sends JSON-serializable `data` to any member, relayed if not directly linked. */
  send(id: string, data: unknown) {
    void this.ready
      .then(async () => {
        const node = this.node
        if (!node || this.destroyed) return
        if (typeof id !== 'string' || !id)
          return this.fail(new P2PError('unknown-peer', 'PeerRelay.send: the target id must be a non-empty string'))
        const k = `${this.session}.${this.sendSeq++}`
        let bytes: Uint8Array<ArrayBuffer>
        try {
          bytes = encoder.encode(JSON.stringify({t: 'm', d: data, k}))
        } catch (error) {
          return this.fail(invalidConfig(`PeerRelay.send: data must be JSON-serializable (${errorMessage(error)})`))
        }
        if (!(await node.waitForMember(id, this.unknownTimeout)))
          return this.fail(
            new P2PError(
              'unknown-peer',
              `PeerRelay.send: ${id} is not a member of this network (not heard of within ${this.unknownTimeout} ms); message dropped`,
              id,
            ),
          )
        if (!(await node.sendTo(id, bytes)))
          return this.fail(new P2PError('unknown-peer', `PeerRelay.send: ${id} left the network; message dropped`, id))
        if (this.unacked.size < maxUnacked) this.awaitAck(k, id, bytes, 0)
      })
      .catch(error => this.fail(error))
  }

  /**
   * Hop acks cover links that close; this covers the rest (a relay that leaves after taking a
   * frame, a frame whose TTL ran out while routes changed): no end-to-end ack within
   * `e2eTimeoutMs` (doubling), the message is sent again, then reported as an error.
   */
  private awaitAck(k: string, id: string, bytes: Uint8Array<ArrayBuffer>, tries: number) {
    const timer = setTimeout(
      () => {
        if (!this.unacked.delete(k) || this.destroyed) return
        const node = this.node!
        if (tries >= e2eRetries || !node.isMember(id))
          return this.fail(
            new P2PError(
              'timeout',
              `PeerRelay.send: a message to ${id} was not acknowledged after ${tries + 1} tries; it may not have arrived`,
              id,
            ),
          )
        void node.sendTo(id, bytes).then(sent => sent && this.awaitAck(k, id, bytes, tries + 1))
      },
      e2eTimeoutMs * 2 ** tries,
    )
    this.unacked.set(k, timer)
  }

  private acked(k: string) {
    clearTimeout(this.unacked.get(k))
    this.unacked.delete(k)
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
    if (this.destroyed) return void (cb && setImmediate(() => cb()))
    this.destroyed = true
    clearInterval(this.redial)
    for (const timer of this.unacked.values()) clearTimeout(timer)
    this.unacked.clear()
    void (async () => {
      await this.ready
      clearInterval(this.redial) // set by start() if destroy came before it finished
      // Goodbye first (no new frames taken in charge), then the frames in our charge go out.
      await this.node?.leave()
      await this.node?.drain(drainMs)
      await this.node?.stop()
      await new Promise(resolve => setTimeout(resolve, 50)) // the last acks and the goodbye drain
      for (const link of [...this.links.values(), ...this.pending]) link.wire.kill()
      for (const attempt of this.attempts.values()) attempt.close()
      this.attempts.clear()
      if (this.server) await new Promise(resolve => this.server!.close(() => resolve(undefined)))
      this.emit('close')
    })()
      .catch(error => this.fail(error))
      .finally(() => cb?.())
  }
}

type SyncKeys = {id: string; raw: Uint8Array<ArrayBuffer>; pkcs8: Uint8Array<ArrayBuffer>}

/** An Ed25519 key pair and its id (the same id createIdentity would give that key). */
const newEd25519Keys = (): SyncKeys => {
  const pair = generateKeyPairSync('ed25519')
  const raw = new Uint8Array(Buffer.from(pair.publicKey.export({format: 'jwk'}).x as string, 'base64url'))
  const pkcs8 = new Uint8Array(pair.privateKey.export({format: 'der', type: 'pkcs8'}))
  return {id: idOfDigest(createHash('sha256').update(raw).digest()), raw, pkcs8}
}

/** The keys as an Identity (a non-extractable private key, as createIdentity makes). */
const importKeys = async ({id, raw, pkcs8}: SyncKeys): Promise<Identity> => ({
  id,
  algorithm: 'Ed25519',
  publicKeyText: toBase64Url(raw),
  publicKey: await crypto.subtle.importKey('raw', raw, {name: 'Ed25519'}, true, ['verify']),
  privateKey: await crypto.subtle.importKey('pkcs8', pkcs8, {name: 'Ed25519'}, false, ['sign']),
})

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
      const rinfo: Rinfo = {address: from, port: this.port, family: 'peer-relay'}
      this.emit('message', Buffer.from(data, 'base64'), rinfo)
    })
    this.peer.on('error', error => this.emit(this.listenerCount('error') ? 'error' : 'warning', error))
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
    const bytes = Buffer.from(buffer)
    const start = offset ?? 0
    const slice = bytes.subarray(start, start + (length ?? bytes.length - start))
    this.peer.send(peerId, slice.toString('base64'))
    if (cb) setImmediate(() => cb(null, slice.length))
  }

  address(): Rinfo {
    return {address: this.peer.id, port: this.port, family: 'peer-relay'}
  }

  bind(port?: number | (() => void), cb?: () => void) {
    if (typeof port === 'function') (cb = port), (port = undefined)
    if (typeof port === 'number') this.port = port
    setImmediate(() => {
      this.emit('listening')
      cb?.()
    })
  }

  close(cb?: () => void) {
    if (this.closed) return void (cb && setImmediate(cb))
    if (cb) this.once('close', cb)
    this.peer.destroy()
  }
}

PeerRelay.Socket = PeerRelaySocket
export default PeerRelay
