/**
 * Several signaling networks at once (Trystero #108): one `Strategy` made of others, so a
 * room is reachable through every one of them and survives any of them being down.
 *
 * The combination is below the core's signaling, not beside it: one `startSignaling` runs
 * over a `Signaling` that subscribes on every network and publishes on every network. So
 * there is one state machine per room, one connection per peer id, one `onPeerJoin` per
 * peer, whatever the number of networks:
 *
 * - an announce, offer or answer that arrives through two networks is the same signed
 *   envelope twice; the core's seen-set (signatures, signaling.ts) acts on the first copy
 *   and drops the second;
 * - everything we send (announces, offers, answers, restarts) goes out on every network.
 *   Replies are not routed back "through the network that delivered" the message: the
 *   core does not know which one did, and sending on all of them means a reply still gets
 *   through when the network that carried the offer goes down mid-handshake. It costs one
 *   relay message per network per signal (a join is three signals);
 * - a network that is down, refuses us or cannot load reports through the room's
 *   `onError` as a `strategy` P2PError whose message starts with its own name
 *   (`mqtt: broker ws://... is unreachable ...`); the others carry on. Nothing of one
 *   network is fatal to the room.
 *
 * Per-network config: `config.strategyConfig[name]` is merged over the room config for
 * that network only (e.g. `{strategyConfig: {nostr: {relayUrls: [...]}, mqtt: {relayUrls:
 * [...]}}}`); top-level fields reach every network.
 */
import {P2PError, errorMessage, invalidConfig} from './errors.js'
import type {Signaling, Strategy, StrategyContext} from './strategy.js'
import type {BaseRoomConfig} from './types.js'

/** Room config of a combined strategy: the shared fields, and each network's own under its name. */
export type MultiRoomConfig = BaseRoomConfig & {
  /** Per-network config, by strategy name, merged over the rest for that network only. */
  strategyConfig?: Record<string, Record<string, unknown>>
}

/** Messages kept for a network whose strategy is still loading (a lazy one); the oldest go first. */
export const pendingLimit = 32

const isRecord = (value: unknown): value is Record<string, unknown> =>
  !!value && typeof value === 'object' && !Array.isArray(value)

/** The config one network of the combination sees: the room's, with its own `strategyConfig` entry over it. */
export const configFor = <C extends MultiRoomConfig>(config: C, name: string): C => {
  const own = config.strategyConfig?.[name]
  return own ? {...config, ...own} : config
}

const silent: Signaling = {subscribe: () => () => {}, publish: () => {}, close: () => {}}

const guard = <T>(run: () => T, fallback: T): T => {
  try {
    return run()
  } catch {
    return fallback
  }
}

/** The context one network gets: its errors carry its own name, not the combination's. */
const contextFor = (context: StrategyContext, name: string): StrategyContext => ({
  ...context,
  onError: error => context.onError(error instanceof P2PError ? error : new P2PError('strategy', `${name}: ${error}`)),
})

/** One signaling over several: subscribe and publish on each, close each; one failing never stops the rest. */
export const fanOutSignaling = (parts: readonly Signaling[]): Signaling => ({
  subscribe: (topic, onMessage) => {
    const offs = parts.map(part =>
      guard(
        () => part.subscribe(topic, onMessage),
        () => {},
      ),
    )
    return () => {
      for (const off of offs) guard(off, undefined)
    }
  },
  publish: (topic, message) => {
    for (const part of parts) guard(() => part.publish(topic, message), undefined)
  },
  close: () => {
    for (const part of parts) guard(() => part.close(), undefined)
  },
  relays: () => parts.flatMap(part => guard(() => part.relays?.() ?? [], [])),
})

/**
 * A signaling whose network is not there yet (its strategy module still loading):
 * subscriptions are replayed on it when it arrives, publishes wait (at most
 * `pendingLimit`), and `undefined` (it could not load) leaves it silent for good.
 */
export const deferredSignaling = (arrival: Promise<Signaling | undefined>): Signaling => {
  type Subscription = {topic: string; onMessage: (message: string) => void; off?: () => void}
  const subscriptions = new Set<Subscription>()
  const pending: [string, string][] = []
  let inner: Signaling | undefined
  let closed = false
  void arrival.then(
    signaling => {
      if (!signaling) return void (pending.length = 0)
      if (closed) return guard(() => signaling.close(), undefined)
      inner = signaling
      for (const sub of subscriptions) sub.off = guard(() => signaling.subscribe(sub.topic, sub.onMessage), undefined)
      for (const [topic, message] of pending.splice(0)) guard(() => signaling.publish(topic, message), undefined)
    },
    () => void (pending.length = 0),
  )
  return {
    subscribe: (topic, onMessage) => {
      if (closed) return () => {}
      const sub: Subscription = {topic, onMessage}
      subscriptions.add(sub)
      if (inner) sub.off = guard(() => inner!.subscribe(topic, onMessage), undefined)
      return () => {
        subscriptions.delete(sub)
        if (sub.off) guard(sub.off, undefined)
      }
    },
    publish: (topic, message) => {
      if (closed) return
      if (inner) return guard(() => inner!.publish(topic, message), undefined)
      pending.push([topic, message])
      if (pending.length > pendingLimit) pending.shift()
    },
    close: () => {
      if (closed) return
      closed = true
      subscriptions.clear()
      pending.length = 0
      if (inner) guard(() => inner!.close(), undefined)
    },
    relays: () => (inner?.relays ? guard(() => inner!.relays!(), []) : []),
  }
}

/** A network of the combination: a strategy, or one still to load (by the multi entry, by name). */
export type Part = Strategy<MultiRoomConfig> | {name: string; load: () => Promise<Strategy<MultiRoomConfig>>}

const checkStrategyConfig = (config: MultiRoomConfig, names: readonly string[]) => {
  const {strategyConfig} = config
  if (strategyConfig === undefined) return
  if (!isRecord(strategyConfig) || Object.values(strategyConfig).some(value => !isRecord(value)))
    throw invalidConfig(
      'config.strategyConfig must map strategy names to config objects, e.g. {nostr: {relayUrls: ["wss://relay.example.com"]}, mqtt: {relayUrls: ["wss://broker.example.com/mqtt"]}}',
    )
  for (const name of Object.keys(strategyConfig))
    if (!names.includes(name))
      throw invalidConfig(
        `config.strategyConfig.${name}: "${name}" is not one of this room's strategies (${names.join(', ')})`,
      )
}

/**
 * One strategy out of several: the room joins through all of them at once (see the module
 * header). Named `a+b`. Strategies given as objects are validated when joinRoom is called;
 * those given with `load` (the `p2p-elements/multi` entry) once loaded, their config
 * mistakes then reported through `onError` (`invalid-config`) while the others carry on.
 */
export const combineStrategies = (...parts: Part[]): Strategy<MultiRoomConfig> => {
  const names = parts.map(part => part?.name)
  if (!names.length || names.some(name => typeof name !== 'string' || !name))
    throw invalidConfig('combineStrategies needs one or more strategies, e.g. combineStrategies(nostr, mqtt)')
  const duplicate = names.find((name, i) => names.indexOf(name) !== i)
  if (duplicate) throw invalidConfig(`combineStrategies: "${duplicate}" is given twice; use each strategy once`)

  const connectOne = (strategy: Strategy<MultiRoomConfig>, config: MultiRoomConfig, context: StrategyContext) => {
    try {
      return strategy.connect(configFor(config, strategy.name), context)
    } catch (error) {
      context.onError(`could not connect: ${errorMessage(error)}`)
      return silent
    }
  }

  return {
    name: names.join('+'),
    validate: config => {
      checkStrategyConfig(config, names)
      for (const part of parts) if (!('load' in part)) part.validate?.(configFor(config, part.name))
    },
    // Each network starts opening its relay sockets at joinRoom, as it does alone; one still
    // loading does once loaded. Its config mistakes are reported by connect, not here.
    preconnect: config => {
      for (const part of parts) {
        const warm = (strategy: Strategy<MultiRoomConfig>) =>
          guard(() => {
            const own = configFor(config, strategy.name)
            strategy.validate?.(own)
            strategy.preconnect?.(own)
          }, undefined)
        if (!('load' in part)) warm(part)
        else part.load().then(warm, () => {})
      }
    },
    connect: (config, context) =>
      fanOutSignaling(
        parts.map(part => {
          const own = contextFor(context, part.name)
          if (!('load' in part)) return connectOne(part, config, own)
          const arrival = part.load().then(
            strategy => {
              try {
                strategy.validate?.(configFor(config, part.name))
              } catch (error) {
                context.onError(
                  error instanceof P2PError ? error : invalidConfig(`${part.name}: ${errorMessage(error)}`),
                )
                return undefined
              }
              return connectOne(strategy, config, own)
            },
            error => {
              context.onError(
                error instanceof P2PError ? error : new P2PError('strategy', `${part.name}: ${errorMessage(error)}`),
              )
              return undefined
            },
          )
          return deferredSignaling(arrival)
        }),
      ),
  }
}
