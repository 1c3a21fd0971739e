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

export type DriverRoomConfig = BaseRoomConfig & {driver: SignalingDriver}

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
    const {driver} = config
    const handlers = new Set<[string, (data: string) => void]>()
    return {
      subscribe: (topic, onMessage) => {
        const handler = (data: string) => onMessage(data)
        const entry: [string, typeof handler] = [topic, handler]
        handlers.add(entry)
        driver.on(topic, handler)
        return () => {
          handlers.delete(entry)
          driver.off(topic, handler)
        }
      },
      publish: (topic, message) => {
        try {
          driver.emit(topic, message)
        } catch (error) {
          context.onError(`driver.emit threw: ${errorMessage(error)}`)
        }
      },
      close: () => {
        for (const [topic, handler] of handlers) driver.off(topic, handler)
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
