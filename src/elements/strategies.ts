/**
 * Strategies by name, each behind a dynamic import: a page using `strategy="mqtt"` downloads
 * the mqtt chunk only, never the others (the bundle splits each into its own chunk).
 */
import type {JoinRoom, PeerId} from '../core/types.js'

/** What every strategy module exports. */
// biome-ignore lint/suspicious/noExplicitAny: each strategy takes its own config type
export type StrategyModule = {joinRoom: JoinRoom<any>; selfId: PeerId}

export const strategies = {
  nostr: () => import('../strategies/nostr.js'),
  mqtt: () => import('../strategies/mqtt.js'),
  torrent: () => import('../strategies/torrent.js'),
  supabase: () => import('../strategies/supabase.js'),
  firebase: () => import('../strategies/firebase.js'),
  ipfs: () => import('../strategies/ipfs.js'),
  local: () => import('../strategies/local.js'),
  driver: () => import('../strategies/driver.js'),
} satisfies Record<string, () => Promise<StrategyModule>>

export type StrategyName = keyof typeof strategies

/** Used when `<p2p-room>` has no `strategy` attribute: public relays, nothing to run yourself. */
export const defaultStrategy: StrategyName = 'nostr'

export const strategyNames = Object.keys(strategies) as StrategyName[]

export const isStrategyName = (name: string): name is StrategyName => Object.hasOwn(strategies, name)

/** Loads a strategy module by name; the error names the valid values or says what failed to load. */
export const loadStrategy = async (name: string): Promise<StrategyModule> => {
  if (!isStrategyName(name))
    throw new Error(`p2p-room: unknown strategy "${name}"; use one of: ${strategyNames.join(', ')}`)
  try {
    return await strategies[name]()
  } catch (error) {
    throw new Error(
      `p2p-room: could not load the "${name}" strategy: ${(error as Error)?.message ?? error}. With the bundle, serve its chunks/ folder next to p2p-elements.js; or pick another strategy: ${strategyNames.join(', ')}`,
    )
  }
}
