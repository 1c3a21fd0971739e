import type {P2PEventMap} from '../../src/elements/events.js'
import type {} from '../../src/elements/index.js'
import {until, uniqueRoom} from './peers.js'

/** Config for <p2p-room config>: no STUN servers, there is no internet here. */
export const testRoomConfig = {rtcConfig: {iceServers: []}}
export const testAppId = 'p2p-elements-tests'

/** Every event the elements fire; a peer page records them all from the start. */
const eventNames = [
  'p2p-join',
  'p2p-leave',
  'p2p-peer-join',
  'p2p-peer-leave',
  'p2p-stream',
  'p2p-track',
  'p2p-join-error',
  'p2p-error',
  'p2p-data',
  'p2p-progress',
  'p2p-file-progress',
  'p2p-file-received',
  'p2p-file-error',
  'p2p-media-error',
] as const satisfies readonly (keyof P2PEventMap)[]

export type ElementsPeer = {
  window: Window & typeof globalThis
  document: Document
  frame: HTMLIFrameElement
  /** The first element matching `selector` in the peer's page (typed by tag for a bare tag name). */
  $: {
    <K extends keyof HTMLElementTagNameMap>(selector: K): HTMLElementTagNameMap[K]
    <E extends Element = HTMLElement>(selector: string): E
  }
  /** Every event of this name seen on the peer's document (they bubble and are composed). */
  seen: <K extends keyof P2PEventMap>(name: K) => P2PEventMap[K][]
  /** What the page wrote with console.warn, in order. */
  warnings: string[]
  /** Removes the page (its iframe), as a user closing the tab. */
  close: () => void
}

/**
 * A separate page (iframe) with every p2p element defined, its #stage set to `html`; each
 * <p2p-room> in it gets the test config before it joins. `allow` is the iframe's permission
 * policy (e.g. "camera 'none'" to see a denied camera).
 */
export const openElementsPeer = async (
  html: string,
  {
    allow = 'camera; microphone; autoplay',
    width = 480,
    height = 360,
    page = '/test/fixtures/elements-peer.html' as string | undefined,
  } = {},
): Promise<ElementsPeer> => {
  const frame = document.createElement('iframe')
  frame.src = page ?? '/test/fixtures/elements-peer.html'
  frame.allow = allow
  frame.style.cssText = `width:${width}px;height:${height}px;border:1px solid #e5e7eb;margin:2px;vertical-align:top`
  document.body.append(frame)
  type PeerWindow = Window & typeof globalThis & {ready?: boolean}
  await until(() => (frame.contentWindow as PeerWindow | null)?.ready, 'the peer page to load')
  const win = frame.contentWindow as PeerWindow
  const doc = win.document
  const events = new Map<string, CustomEvent[]>()
  const record = (name: string) => {
    let list = events.get(name)
    if (!list) {
      events.set(name, (list = []))
      doc.addEventListener(name, event => list!.push(event as CustomEvent), true)
    }
    return list
  }
  for (const name of eventNames) record(name)
  const warnings: string[] = []
  const warn = win.console.warn.bind(win.console)
  win.console.warn = (...args: unknown[]) => {
    warnings.push(args.map(String).join(' '))
    warn(...args)
  }
  const stage = doc.querySelector('#stage')!
  stage.innerHTML = html
  for (const room of stage.querySelectorAll('p2p-room')) room.config = testRoomConfig
  const $ = (selector: string) => doc.querySelector(selector)
  return {
    window: win,
    document: doc,
    frame,
    $: $ as ElementsPeer['$'],
    seen: (<K extends keyof P2PEventMap>(name: K) => record(name) as P2PEventMap[K][]) as ElementsPeer['seen'],
    warnings,
    close: () => frame.remove(),
  }
}

/** HTML of a <p2p-room> on the local strategy around `inner`. */
export const roomHtml = (roomId: string, inner = '', attributes = '') =>
  `<p2p-room app-id="${testAppId}" room="${roomId}" strategy="local" ${attributes}>${inner}</p2p-room>`

/** Opens `count` peers whose pages hold `roomHtml(room, inner)`; resolves when all see each other. */
export const openRoomPeers = async (
  count: number,
  inner = '',
  attributes = '',
  options?: Parameters<typeof openElementsPeer>[1],
) => {
  const roomId = uniqueRoom('elements')
  const peers: ElementsPeer[] = []
  for (let i = 0; i < count; i++) peers.push(await openElementsPeer(roomHtml(roomId, inner, attributes), options))
  await until(() => peers.every(p => p.$('p2p-room').peers.length === count - 1), `${count} rooms to see each other`)
  return {roomId, peers}
}

/** Removes every peer's page (its iframe), as users closing their tabs. */
export const closePeerPages = (peers: ElementsPeer[]) => {
  for (const peer of peers) peer.close()
}

/** Resolves with the next event `name` fired on `target` (the events bubble, so a page's document sees them all). */
export const nextEvent = <K extends keyof P2PEventMap>(target: EventTarget, name: K, what: string = name) =>
  new Promise<P2PEventMap[K]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after 20000 ms waiting for ${what}`)), 20_000)
    target.addEventListener(name, event => (clearTimeout(timer), resolve(event as P2PEventMap[K])), {once: true})
  })
