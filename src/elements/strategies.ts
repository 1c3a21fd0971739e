/**
 * The one list of strategies the project ships, each behind a dynamic import: a page using
 * `strategy="mqtt"` downloads the mqtt chunk only, never the others (the bundle splits each
 * into its own chunk, which is why each entry must be a literal `import()`).
 *
 * Everything else derives from the keys of `strategies`, in this order: the build's
 * per-strategy bundles (esbuild.mjs reads `strategyNames` from the built module), the
 * `strategy` attribute's type in custom-elements.json, error messages. What cannot derive
 * (package.json `exports`, the README's strategy table, `<p2p-room>`'s attribute docs) is
 * checked against it by test/unit/strategy-list.test.mjs. Adding a strategy: one line here,
 * one `exports` entry in package.json, one README row.
 */
import {P2PError, errorMessage, invalidConfig} from '../core/errors.js'
import type {Strategy} from '../core/strategy.js'
import type {JoinRoom, PeerId} from '../core/types.js'

/** What every strategy module exports. */
// biome-ignore lint/suspicious/noExplicitAny: each strategy takes its own config type
export type StrategyModule = {joinRoom: JoinRoom<any>; selfId: PeerId; strategy: Strategy<any>}

/** The default first, then public relays, then infrastructure you run, then the special cases. */
export const strategies = {
  nostr: () => import('../strategies/nostr.js'),
  mqtt: () => import('../strategies/mqtt.js'),
  torrent: () => import('../strategies/torrent.js'),
  supabase: () => import('../strategies/supabase.js'),
  firebase: () => import('../strategies/firebase.js'),
  ipfs: () => import('../strategies/ipfs.js'),
  bootstrap: () => import('../strategies/bootstrap.js'),
  local: () => import('../strategies/local.js'),
  driver: () => import('../strategies/driver.js'),
} satisfies Record<string, () => Promise<StrategyModule>>

export type StrategyName = keyof typeof strategies

/** Used when `<p2p-room>` has no `strategy` attribute: public relays, nothing to run yourself. */
export const defaultStrategy: StrategyName = 'nostr'

export const strategyNames = Object.keys(strategies) as StrategyName[]

/**
 * What a strategy needs installed besides this package (its optional peer dependencies; the
 * README's "Install" table). The CDN bundles carry these; an npm app installs the ones it uses.
 */
export const strategyPackages: Partial<Record<StrategyName, readonly string[]>> = {
  supabase: ['@supabase/supabase-js'],
  firebase: ['firebase'],
  ipfs: [
    'libp2p',
    '@libp2p/websockets',
    '@chainsafe/libp2p-noise',
    '@chainsafe/libp2p-yamux',
    '@libp2p/identify',
    '@libp2p/gossipsub',
    '@multiformats/multiaddr',
  ],
}

/** How Node, browsers and bundlers say a module was not found; each quotes the specifier. */
const notFound = /cannot find|could not resolve|failed to resolve|not found|bare specifier|does not resolve/i

/** Whether `error` says the package `pkg` (or a subpath of it, like `firebase/app`) is not installed. */
const namesMissing = (error: unknown, pkg: string) =>
  notFound.test(errorMessage(error)) &&
  new RegExp(`["'“]${pkg.replaceAll('.', '\\.')}(/[^"'”]*)?["'”]`).test(errorMessage(error))

export const isStrategyName = (name: string): name is StrategyName => Object.hasOwn(strategies, name)

/**
 * Loads a strategy module by name. An unknown name is an `invalid-config` P2PError naming the
 * valid values; a module that cannot load because its SDK is not installed is a
 * `missing-dependency` P2PError saying what to install; any other failure is a `strategy`
 * P2PError saying what failed.
 */
export const loadStrategy = async (name: string): Promise<StrategyModule> => {
  if (!isStrategyName(name)) throw invalidConfig(`unknown strategy "${name}"; use one of: ${strategyNames.join(', ')}`)
  try {
    return await strategies[name]()
  } catch (error) {
    const packages = strategyPackages[name] ?? []
    if (packages.some(pkg => namesMissing(error, pkg)))
      throw new P2PError(
        'missing-dependency',
        `p2p-elements: the ${name} strategy needs ${packages.join(', ')}: npm install ${packages.join(' ')}`,
      )
    throw new P2PError(
      'strategy',
      `p2p-elements: could not load the "${name}" strategy: ${errorMessage(error)}. With the bundle, serve its chunks/ folder next to p2p-elements.js; or pick another strategy: ${strategyNames.join(', ')}`,
    )
  }
}
