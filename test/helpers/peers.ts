/**
 * Peers under test are separate module instances, as real users are: each lives in its own
 * same-origin iframe that imports the library afresh, so it has its own `selfId`, rooms and
 * connections. The test drives it through `peer.lib` (the imported module).
 */
export type TestPeer<Lib = any> = {
  lib: Lib
  window: Window & typeof globalThis
  frame: HTMLIFrameElement
  /** Removes the iframe: the page is gone, as when a user closes a tab. */
  close: () => void
}

export const openPeer = async <Lib = any>(
  entry = '/src/strategies/local.ts',
  page = '/test/fixtures/peer.html',
): Promise<TestPeer<Lib>> => {
  const frame = document.createElement('iframe')
  frame.src = `${page}?entry=${encodeURIComponent(entry)}`
  frame.allow = 'camera; microphone; autoplay'
  frame.style.cssText = 'width:480px;height:360px;border:0'
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`peer page ${frame.src} did not load`)), 20_000)
    frame.addEventListener('load', () => {
      const win = frame.contentWindow as any
      if (win.ready) return (clearTimeout(timer), resolve())
      win.addEventListener('peer-ready', () => (clearTimeout(timer), resolve()))
    })
  })
  document.body.append(frame)
  await ready
  const win = frame.contentWindow as Window & typeof globalThis & {lib: Lib}
  return {lib: win.lib, window: win, frame, close: () => frame.remove()}
}

export const openPeers = <Lib = any>(count: number, entry?: string, page?: string) =>
  Promise.all(Array.from({length: count}, () => openPeer<Lib>(entry, page)))

/** Resolves once `check()` is truthy, polling each animation frame; rejects after `ms` with `what`. */
export const until = async <T>(check: () => T, what: string, ms = 20_000): Promise<NonNullable<T>> => {
  const start = performance.now()
  for (;;) {
    const value = check()
    if (value) return value as NonNullable<T>
    if (performance.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

/** A unique room id per test, so tests never see each other's peers. */
export const uniqueRoom = (label = 'room') => `${label}-${Math.random().toString(36).slice(2, 10)}`

/** Config for tests: no STUN servers (there is no internet here), host candidates only. */
export const testConfig = {appId: 'p2p-elements-tests', rtcConfig: {iceServers: []}}
