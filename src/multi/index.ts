/**
 * `multi`: several signaling networks at once, by name. `strategy: ['nostr', 'mqtt']` joins
 * the room through both; peers are de-duplicated (one connection per peer id) and the room
 * keeps working while any one of them is down (src/core/multi-strategy.ts says how).
 *
 * Each named strategy is loaded with a dynamic `import()` on first use, so this entry
 * costs only the strategies a room names; `combineStrategies(a, b)` from `p2p-elements/core`
 * does the same with strategy objects you imported yourself.
 */
import {createJoinRoom, invalidConfig, selfId} from '../core/index.js'
import {type MultiRoomConfig, combineStrategies} from '../core/multi-strategy.js'
import type {Strategy} from '../core/strategy.js'
import type {JoinError, JoinRoom, JoinRoomCallbacks, Room} from '../core/types.js'
import {isStrategyName, loadStrategy, strategyNames, type StrategyModule} from '../elements/strategies.js'

export {combineStrategies, configFor, type MultiRoomConfig} from '../core/multi-strategy.js'

/** Config of this entry: which networks, the shared fields, and each network's own. */
export type MultiStrategyConfig = MultiRoomConfig & {
  /** The networks, e.g. `['nostr', 'mqtt']` or `'nostr mqtt'`; each at most once. */
  strategy: string | readonly string[]
  // biome-ignore lint/suspicious/noExplicitAny: strategies add their own fields (relayUrls, supabaseKey, ...)
  [field: string]: any
}

/**
 * The names in `value` (an array, or a string separated by spaces, commas or `+`), checked:
 * known, each once, at least one. Throws `invalid-config` saying what to fix.
 */
export const parseStrategyNames = (value: unknown): string[] => {
  const list = typeof value === 'string' ? value.split(/[\s,+]+/).filter(Boolean) : value
  if (!Array.isArray(list) || !list.length || list.some(name => typeof name !== 'string'))
    throw invalidConfig(
      `config.strategy must name one or more strategies, e.g. ['nostr', 'mqtt'] or "nostr mqtt"; use: ${strategyNames.join(', ')}`,
    )
  for (const name of list)
    if (!isStrategyName(name))
      throw invalidConfig(`unknown strategy "${name}" in config.strategy; use: ${strategyNames.join(', ')}`)
  const duplicate = list.find((name, i) => list.indexOf(name) !== i)
  if (duplicate) throw invalidConfig(`config.strategy names "${duplicate}" twice; use each strategy once`)
  return list as string[]
}

const strategyOfModule = (module: StrategyModule) => module.strategy as Strategy<MultiRoomConfig>

/** One joinRoom per combination, so the same names (in any order) give the same rooms. */
const joinRooms = new Map<string, JoinRoom<MultiRoomConfig>>()
const cached = (key: string, make: () => JoinRoom<MultiRoomConfig>) => {
  if (!joinRooms.has(key)) joinRooms.set(key, make())
  return joinRooms.get(key)!
}
const lazy = (name: string) => ({name, load: async () => strategyOfModule(await loadStrategy(name))})

/** Joins a room through every strategy of `config.strategy` at once (one name works too). */
export const joinRoom = (
  config: MultiStrategyConfig,
  roomId: string,
  onJoinError?: ((details: JoinError) => void) | JoinRoomCallbacks,
): Room => {
  const names = parseStrategyNames(config?.strategy)
  const join = cached([...names].sort().join('+'), () => createJoinRoom(combineStrategies(...names.map(lazy))))
  return join(config, roomId, onJoinError)
}

/**
 * For `<p2p-room strategy="nostr mqtt">`: loads every named module now (so a missing one
 * fails the join, as a single unknown strategy does) and returns a module whose joinRoom
 * joins through all of them, the same function for the same names.
 */
export const loadStrategies = async (names: readonly string[]): Promise<StrategyModule> => {
  const modules = await Promise.all(names.map(name => loadStrategy(name)))
  const strategy = combineStrategies(...modules.map(strategyOfModule))
  const join = cached(`loaded:${[...names].sort().join('+')}`, () => createJoinRoom(strategy))
  return {joinRoom: join, selfId, strategy}
}

export {selfId}
