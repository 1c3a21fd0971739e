/**
 * Opens example pages (examples/NAME/) as a person would in two tabs: each in its own iframe of
 * the test page, side by side, so a screenshot of the test page shows both.
 * The pages meet in a room of their own per test (`?room=`), over the strategy the test asks for
 * (`?strategy=local` or `?relay=ws://...`), as examples/shared/room-settings.js reads them.
 */
import {until} from './peers.js'

export type ExamplePage = {
  frame: HTMLIFrameElement
  window: Window & typeof globalThis
  document: Document
  /** The first element matching `selector` in the page, or null. */
  $: <E extends Element = HTMLElement>(selector: string) => E | null
  close: () => void
}

/** Over BroadcastChannel, through a Nostr relay, or `{}`: the page's own defaults (as when hosted anywhere). */
export type Meeting = {strategy: 'local'} | {relay: string} | Record<string, never>

// Two pages side by side fill the default 800 px wide test page.
export const frameStyle = (height = 520) =>
  `width:48.5%;height:${height}px;border:1px solid #999;margin:0 2px 0 0;vertical-align:top;background:white`
const FRAME_STYLE = frameStyle()

export const openExample = async (
  path: string,
  room: string,
  meeting: Meeting = {strategy: 'local'},
  style = FRAME_STYLE,
): Promise<ExamplePage> => {
  const params = new URLSearchParams({room, ...meeting})
  const frame = document.createElement('iframe')
  frame.src = `/examples/${path}?${params}`
  frame.allow = 'camera; microphone; autoplay; clipboard-write'
  frame.style.cssText = style
  const loaded = new Promise(resolve => frame.addEventListener('load', resolve, {once: true}))
  document.body.append(frame)
  await loaded
  const win = frame.contentWindow as Window & typeof globalThis
  return {
    frame,
    window: win,
    document: win.document,
    $: <E extends Element = HTMLElement>(selector: string) => win.document.querySelector<E>(selector),
    close: () => frame.remove(),
  }
}

export const openExamples = (count: number, path: string, room: string, meeting?: Meeting, style?: string) =>
  Promise.all(Array.from({length: count}, () => openExample(path, room, meeting, style)))

/** Types into an input the way a keyboard does: the value changes and an `input` event fires (React, Vue, Svelte see it). */
export const type = (input: HTMLInputElement, text: string) => {
  const view = input.ownerDocument.defaultView as Window & typeof globalThis
  // The prototype's setter, not the instance's: React tracks values set through the instance.
  Object.getOwnPropertyDescriptor(view.HTMLInputElement.prototype, 'value')!.set!.call(input, text)
  input.dispatchEvent(new view.Event('input', {bubbles: true}))
  input.dispatchEvent(new view.Event('change', {bubbles: true}))
}

/** Resolves when `selector` matches an element in the page whose text includes `text`. */
export const untilText = (page: ExamplePage, selector: string, text: string) =>
  until(
    () => [...page.document.querySelectorAll(selector)].find(element => element.textContent?.includes(text)),
    `"${text}" in ${selector} of ${page.frame.src}`,
  )

export const closeAll = (pages: ExamplePage[]) => {
  for (const page of pages) page.close()
}
