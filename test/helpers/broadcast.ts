/**
 * Broadcast tests: one page per sender or receiver (each its own module instance), real
 * peer connections, signaling through a local relay or a seed-style in-memory driver.
 */
import {openPeer, until, type TestPeer} from './peers.js'
import {servers} from './servers.js'

export const libEntry = '/test/helpers/broadcast-lib.ts'

/**
 * A driver as the `p2p` library's README describes them: namespaces are arrays, joined
 * here with ':'; handlers run synchronously and their errors are swallowed. Written anew
 * for the tests, not taken from the seed. `drop` lets a test lose messages on purpose.
 */
export class SeedMemoryDriver {
  handlers = new Map<string, Set<(message: unknown) => void>>()
  emitted: {namespace: string; message: any}[] = []
  drop?: (namespace: string, message: any) => boolean
  on(namespace: string[], handler: (message: unknown) => void) {
    const key = namespace.join(':')
    if (!this.handlers.has(key)) this.handlers.set(key, new Set())
    this.handlers.get(key)!.add(handler)
  }
  off(namespace: string[], handler: (message: unknown) => void) {
    this.handlers.get(namespace.join(':'))?.delete(handler)
  }
  emit(namespace: string[], message: unknown) {
    const key = namespace.join(':')
    this.emitted.push({namespace: key, message})
    if (this.drop?.(key, message)) return
    for (const handler of [...(this.handlers.get(key) ?? [])])
      try {
        handler(message)
      } catch {
        // like the seed's driver: one failing handler does not stop the others
      }
  }
}

export type Transport = {name: string; options: (page: TestPeer) => Promise<Record<string, unknown>>}

/** The seed-style driver shared by every page of one test (same-origin frames share objects). */
export const seedDriver = (driver = new SeedMemoryDriver()): Transport & {driver: SeedMemoryDriver} => ({
  name: 'seed-style MemoryDriver (namespace arrays)',
  driver,
  options: async () => ({driver}),
})

export const relayTransport = (name: 'mqtt' | 'nostr'): Transport => ({
  name,
  options: async page => ({
    strategy: await page.lib.loadStrategy(name),
    config: {relayUrls: [(await servers())[name]]},
    appId: 'p2p-elements-broadcast-tests',
  }),
})

/** Options every test uses: no STUN (no internet here), short timeouts. */
export const base = {iceServers: [], connectionTimeout: 10}

export type Node = {page: TestPeer; node: any; events: Record<string, any[]>}

const record = (node: any, names: string[]) => {
  const events: Record<string, any[]> = {}
  for (const name of names) {
    events[name] = []
    node.addEventListener(name, (event: CustomEvent) => events[name]!.push(event.detail))
  }
  return events
}

const senderEvents = ['connect', 'dispose', 'error', 'viewers']
const receiverEvents = ['stream', 'message', 'channel', 'sync', 'connect', 'dispose', 'error']

export const openSender = async (transport: Transport, options: Record<string, unknown> = {}): Promise<Node> => {
  const page = await openPeer(libEntry)
  const node = new page.lib.Sender({...base, ...(await transport.options(page)), ...options})
  return {page, node, events: record(node, senderEvents)}
}

export const openReceiver = async (transport: Transport, options: Record<string, unknown> = {}): Promise<Node> => {
  const page = await openPeer(libEntry)
  const node = new page.lib.Receiver({...base, ...(await transport.options(page)), ...options})
  return {page, node, events: record(node, receiverEvents)}
}

/** A small fake camera (160×120): enough to decode frames, cheap for seven pages on two cores. */
export const camera = (page: TestPeer, audio = false): Promise<MediaStream> =>
  page.window.navigator.mediaDevices.getUserMedia({
    video: {width: 160, height: 120, frameRate: 15},
    audio,
  }) as Promise<MediaStream>

/** Plays the receiver's latest stream in its page; resolves once frames decode there. */
export const playing = async (receiver: Node, what = 'decoded frames') => {
  const stream = await until(() => receiver.events.stream!.at(-1)?.stream, `a stream (${what})`)
  const video = receiver.page.window.document.createElement('video')
  video.muted = true
  video.srcObject = stream
  receiver.page.window.document.body.append(video)
  await video.play().catch(() => {})
  await until(() => video.videoWidth > 0, what, 15_000)
  return video
}

/** Frames decoded so far by the receiver's inbound video (getStats). */
export const framesDecoded = async (connection: RTCPeerConnection): Promise<number> => {
  let frames = 0
  for (const report of (await connection.getStats()).values())
    if (report.type === 'inbound-rtp' && report.kind === 'video') frames += report.framesDecoded ?? 0
  return frames
}

export const closeNodes = (nodes: Node[]) => {
  for (const {node, page} of nodes) {
    try {
      node.stop()
    } catch {
      // already gone
    }
    page.close()
  }
}

export const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))
