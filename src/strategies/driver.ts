/**
 * `driver`: bring any publish/subscribe object with `on(topic, handler)`,
 * `off(topic, handler)` and `emit(topic, data)` — an in-memory bus for one page, a
 * socket to your own server, a message bus you already run. Pass it as `config.driver`.
 */
import {
  createJoinRoom,
  defineStrategy,
  errorMessage,
  invalidConfig,
  selfId,
  type BaseRoomConfig,
} from '../core/index.js'

export type SignalingDriver = {
  on: (topic: string, handler: (data: string) => void) => void
  off: (topic: string, handler: (data: string) => void) => void
  emit: (topic: string, data: string) => void
}

/** A driver written for the `p2p` library: namespaces are arrays, e.g. `['sender', room, id]`. */
export type NamespaceDriver = {
  on: (namespace: string[], handler: (data: string) => void) => void
  off: (namespace: string[], handler: (data: string) => void) => void
  emit: (namespace: string[], data: string) => void
}

export type DriverRoomConfig = BaseRoomConfig & {
  driver: SignalingDriver | NamespaceDriver
  /** Call the driver with `[topic]` arrays. Default: strings, unless its `on` throws for one (a seed-style driver). */
  namespaces?: boolean
}

/** Drivers found to want namespace arrays: their `on` threw for a string topic. */
const arrayDrivers = new WeakSet<object>()

const isDriver = (driver: unknown): driver is SignalingDriver =>
  !!driver && ['on', 'off', 'emit'].every(name => typeof (driver as Record<string, unknown>)[name] === 'function')

export const strategy = defineStrategy<DriverRoomConfig>({
  name: 'driver',
  validate: config => {
    if (!isDriver(config.driver))
      throw invalidConfig(
        'the driver strategy needs config.driver, an object with on(topic, handler), off(topic, handler) and emit(topic, data)',
      )
  },
  connect: (config, context) => {
    const driver = config.driver as SignalingDriver
    if (config.namespaces) arrayDrivers.add(driver)
    // biome-ignore lint/suspicious/noExplicitAny: a topic goes out as the string or as [string]
    const key = (topic: string): any => (arrayDrivers.has(driver) ? [topic] : topic)
    const handlers = new Set<[string, (data: string) => void]>()
    return {
      subscribe: (topic, onMessage) => {
        const handler = (data: string) => onMessage(data)
        const entry: [string, typeof handler] = [topic, handler]
        handlers.add(entry)
        try {
          driver.on(key(topic), handler)
        } catch (error) {
          if (arrayDrivers.has(driver) || (error as Error)?.name !== 'TypeError') throw error
          arrayDrivers.add(driver) // e.g. namespace.join is not a function: it wants arrays
          driver.on(key(topic), handler)
        }
        return () => {
          handlers.delete(entry)
          driver.off(key(topic), handler)
        }
      },
      publish: (topic, message) => {
        try {
          driver.emit(key(topic), message)
        } catch (error) {
          context.onError(`driver.emit threw: ${errorMessage(error)}`)
        }
      },
      close: () => {
        for (const [topic, handler] of handlers) driver.off(key(topic), handler)
        handlers.clear()
      },
    }
  },
})

/** An in-memory driver: every room given the same bus meets, within one JS realm. */
export const createMemoryDriver = (): SignalingDriver => {
  const topics = new Map<string, Set<(data: string) => void>>()
  return {
    on: (topic, handler) => {
      if (!topics.has(topic)) topics.set(topic, new Set())
      topics.get(topic)!.add(handler)
    },
    off: (topic, handler) => void topics.get(topic)?.delete(handler),
    // Async like any network, so a handler never runs inside the publisher's call.
    emit: (topic, data) => {
      for (const handler of [...(topics.get(topic) ?? [])]) queueMicrotask(() => handler(data))
    },
  }
}

export const joinRoom = createJoinRoom(strategy)
export {selfId}
