import {fromBase64Url, sign, toBase64Url, verify, type Identity} from '../identity.js'
import type {OverlayMessage, OverlayNode} from '../overlay/node.js'

/**
 * The client side of PeerRelay's WebSocket link protocol (src/peer-relay/index.ts, the
 * `npm run peer -- --listen PORT` peers), without 'ws' or node:*: browsers use it to join
 * the overlay through Node peers. It only dials; it never listens. Per link, JSON text:
 *
 *   both sides  {k: 'hi', nonce}                 a fresh random nonce
 *   on a hi     {k: 'auth', card, sig, url?}     our overlay card, and our identity's signature
 *                                                over ['link', scope, their nonce]
 *   then        {k: 'o', m}                      an overlay message (node.ts OverlayMessage)
 *
 * A link is up once the other side's auth checks: its card is truly its id's (seal.ts) and
 * its signature covers the nonce we sent, so no one can take another id's place. Nothing but
 * hi/auth is read before that, and nothing of ours but hi/auth is sent before our auth.
 */
export type WebSocketLike = {
  readonly readyState: number
  send(data: string): void
  close(): void
  addEventListener(type: string, listener: (event: {data?: unknown}) => void): void
}
export type WebSocketLikeConstructor = new (url: string) => WebSocketLike

export type LinkState = {url: string; state: 'open' | 'connecting' | 'down'; id?: string}

const encoder = new TextEncoder()
const linkText = (scope: string, nonce: string) => encoder.encode(JSON.stringify(['link', scope, nonce]))
/** Longer link messages are dropped unread (PeerRelay's own cap is 1 MiB). */
const maxLinkMessage = 1024 * 1024
const open = 1

export type WsLinksOptions = {
  identity: Identity
  scope: string
  node: Pick<OverlayNode, 'card' | 'verifyCard'>
  WebSocket: WebSocketLikeConstructor
  up: (id: string, url: string) => void
  down: (id: string) => void
  receive: (id: string, message: OverlayMessage) => void
  /** A link failed or closed (for onError; reconnects are ours). */
  problem?: (url: string, message: string) => void
  /** First redial delay; doubles up to 30 s. */
  retryMs?: number
}

type Link = {ws: WebSocketLike; url: string; nonce: string; id?: string; authSent: boolean; queue: string[]}

export const createWsLinks = (options: WsLinksOptions) => {
  const {identity, scope, node} = options
  const byId = new Map<string, Link>()
  const all = new Set<Link>()
  const states = new Map<string, LinkState>()
  const timers = new Set<ReturnType<typeof setTimeout>>()
  let closed = false

  const write = (link: Link, message: unknown) => {
    const text = JSON.stringify(message)
    if (!link.authSent) return void link.queue.push(text)
    if (link.ws.readyState === open) link.ws.send(text)
  }

  const dial = (url: string, delay = options.retryMs ?? 1000) => {
    if (closed) return
    let ws: WebSocketLike
    states.set(url, {url, state: 'connecting'})
    try {
      ws = new options.WebSocket(url)
    } catch (error) {
      states.set(url, {url, state: 'down'})
      return options.problem?.(url, `cannot dial: ${error}`)
    }
    const link: Link = {
      ws,
      url,
      nonce: toBase64Url(crypto.getRandomValues(new Uint8Array(16))),
      authSent: false,
      queue: [],
    }
    all.add(link)
    ws.addEventListener('open', () => ws.send(JSON.stringify({k: 'hi', nonce: link.nonce})))
    ws.addEventListener('message', event => void onMessage(link, event.data))
    ws.addEventListener('error', () => options.problem?.(url, 'the link failed'))
    ws.addEventListener('close', () => {
      all.delete(link)
      if (link.id && byId.get(link.id) === link) byId.delete(link.id), options.down(link.id)
      states.set(url, {url, state: 'down'})
      if (closed) return
      // A bootstrap peer restarting or briefly gone: dial again, backing off.
      const timer = setTimeout(() => (timers.delete(timer), dial(url, Math.min(delay * 2, 30_000))), delay)
      timers.add(timer)
    })
  }

  const onMessage = async (link: Link, data: unknown) => {
    if (closed || typeof data !== 'string' || data.length > maxLinkMessage) return
    let message: {k?: unknown; nonce?: unknown; card?: unknown; sig?: unknown; m?: OverlayMessage}
    try {
      message = JSON.parse(data)
    } catch {
      return link.ws.close()
    }
    if (!message || typeof message !== 'object') return
    if (message.k === 'hi' && typeof message.nonce === 'string' && message.nonce.length < 64 && !link.authSent) {
      const sig = toBase64Url(await sign(identity, linkText(scope, message.nonce)))
      if (link.ws.readyState !== open) return
      link.ws.send(JSON.stringify({k: 'auth', card: node.card, sig}))
      link.authSent = true
      for (const text of link.queue.splice(0)) link.ws.send(text)
    } else if (message.k === 'auth' && !link.id) {
      const card = await node.verifyCard(message.card)
      if (!card || typeof message.sig !== 'string' || card.id === identity.id) return link.ws.close()
      let ok = false
      try {
        ok = await verify(card.verifyKey, fromBase64Url(message.sig), linkText(scope, link.nonce))
      } catch {}
      if (!ok || closed) return link.ws.close()
      // One link per peer: two bootstrap URLs of the same peer keep the first.
      if (byId.has(card.id)) return link.ws.close()
      link.id = card.id
      byId.set(card.id, link)
      states.set(link.url, {url: link.url, state: 'open', id: card.id})
      options.up(card.id, link.url)
    } else if (message.k === 'o' && link.id && message.m) options.receive(link.id, message.m)
  }

  return {
    dial,
    send: (id: string, message: OverlayMessage) => {
      const link = byId.get(id)
      if (link) write(link, {k: 'o', m: message})
    },
    has: (id: string) => byId.has(id),
    ids: () => [...byId.keys()],
    states: (): LinkState[] => [...states.values()],
    close: () => {
      closed = true
      for (const timer of timers) clearTimeout(timer)
      for (const link of all) link.ws.close()
      all.clear()
      byId.clear()
    },
  }
}
