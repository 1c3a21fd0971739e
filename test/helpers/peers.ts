import type {BaseRoomConfig, JoinRoom, P2PError, PeerId} from '../../src/core/index.js'

/** Config as tests pass it: the base fields and whatever a strategy adds (relayUrls, driver...). */
export type TestRoomConfig = BaseRoomConfig & Record<string, unknown>

/** What every peer page's entry module exports: its strategy's joinRoom and the page's selfId. */
export type PeerLib = {joinRoom: JoinRoom<TestRoomConfig>; selfId: PeerId}

/** A peer page's window: its own globals (RTCPeerConnection, RTCDataChannel...) and the imported entry. */
export type PeerWindow<Lib = PeerLib> = Window & typeof globalThis & {lib: Lib; ready?: boolean}

/**
 * Peers under test are separate module instances, as real users are: each lives in its own
 * same-origin iframe that imports the library afresh, so it has its own `selfId`, rooms and
 * connections. The test drives it through `peer.lib` (the imported module). `Lib` is the
 * entry's module type when a test needs more than joinRoom and selfId.
 */
export type TestPeer<Lib = PeerLib> = {
  lib: Lib
  window: PeerWindow<Lib>
  frame: HTMLIFrameElement
  /** Removes the iframe: the page is gone, as when a user closes a tab. */
  close: () => void
}

export const openPeer = async <Lib = PeerLib>(
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
      const win = frame.contentWindow as PeerWindow<Lib>
      if (win.ready) return (clearTimeout(timer), resolve())
      win.addEventListener('peer-ready', () => (clearTimeout(timer), resolve()))
    })
  })
  document.body.append(frame)
  await ready
  const win = frame.contentWindow as PeerWindow<Lib>
  return {lib: win.lib, window: win, frame, close: () => frame.remove()}
}

export const openPeers = <Lib = PeerLib>(count: number, entry?: string, page?: string) =>
  Promise.all(Array.from({length: count}, () => openPeer<Lib>(entry, page)))

/**
 * An `expect` that fails inside a callback the library calls throws into the library, not
 * into the test, which then only times out (or passes). Wrap such callbacks in `checked`:
 * the first failure is kept and thrown, with its own message, by the next `until` or
 * `rethrowCallbackFailure()`, at once rather than after a timeout.
 */
const callbackFailures: unknown[] = []
export const checked =
  <A extends unknown[]>(callback: (...args: A) => void) =>
  (...args: A): void => {
    try {
      callback(...args)
    } catch (error) {
      callbackFailures.push(error)
    }
  }
/** Throws the first failure caught by a `checked` callback since the last call, if any. */
export const rethrowCallbackFailure = (): void => {
  if (!callbackFailures.length) return
  const [first] = callbackFailures.splice(0)
  throw first
}

/**
 * Resolves once `check()` is truthy, polling every 20 ms; rejects after `ms` with `what`, or
 * at once with the message of an assertion that failed in a `checked` callback.
 */
export const until = async <T>(check: () => T, what: string, ms = 20_000): Promise<NonNullable<T>> => {
  const start = performance.now()
  for (;;) {
    rethrowCallbackFailure()
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

/** What a promise rejected with (undefined if it resolved), for asserting on the error. */
export const rejection = (promise: Promise<unknown>): Promise<P2PError | undefined> =>
  promise.then(
    () => undefined,
    (error: P2PError) => error,
  )
