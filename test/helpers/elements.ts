import {until, uniqueRoom} from './peers.js'

/** Config for <p2p-room config>: no STUN servers, there is no internet here. */
export const testRoomConfig = {rtcConfig: {iceServers: []}}
export const testAppId = 'p2p-elements-tests'

export type ElementsPeer = {
  window: Window & typeof globalThis
  document: Document
  frame: HTMLIFrameElement
  /** The first element matching `selector` in the peer's page. */
  $: <E extends Element = any>(selector: string) => E
  /** Every event of these names seen on the peer's document (they bubble and are composed). */
  seen: (name: string) => CustomEvent[]
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
  await until(() => (frame.contentWindow as any)?.ready, 'the peer page to load')
  const win = frame.contentWindow as Window & typeof globalThis
  const doc = win.document
  const events: Record<string, CustomEvent[]> = {}
  const record = (name: string) => {
    if (events[name]) return events[name]!
    events[name] = []
    doc.addEventListener(name, event => events[name]!.push(event as CustomEvent), true)
    return events[name]!
  }
  for (const name of [
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
  ])
    record(name)
  const stage = doc.querySelector('#stage')!
  stage.innerHTML = html
  for (const room of stage.querySelectorAll('p2p-room')) (room as any).config = testRoomConfig
  return {
    window: win,
    document: doc,
    frame,
    $: selector => doc.querySelector(selector) as any,
    seen: name => record(name),
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

export const closeAll = (peers: ElementsPeer[]) => {
  for (const peer of peers) peer.close()
}
