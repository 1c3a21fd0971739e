/**
 * Which relays a room uses: all of `config.relayUrls` if given, else `relayRedundancy` of
 * the strategy's defaults, picked by a shuffle seeded with the appId, so that apps spread
 * over different relays while every peer of one app picks the same ones.
 */

/** A 32-bit FNV-1a hash of a string: the seed of the per-app shuffle. */
const hashString = (text: string) => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193)
  return hash >>> 0
}

/** mulberry32: a tiny seeded PRNG, enough to spread apps over relays deterministically. */
const seededRandom = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) >>> 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** `list` shuffled the same way for the same `seed` (Fisher-Yates). */
export const seededShuffle = <T>(list: readonly T[], seed: string): T[] => {
  const random = seededRandom(hashString(seed))
  const result = [...list]
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[result[i], result[j]] = [result[j]!, result[i]!]
  }
  return result
}

/** The relays a room uses (see the module header); duplicates in `relayUrls` count once. */
export const pickRelayUrls = (
  config: {appId: string; relayUrls?: readonly string[]; relayRedundancy?: number},
  defaults: readonly string[],
  defaultRedundancy: number,
): string[] => {
  if (config.relayUrls?.length) return [...new Set(config.relayUrls)]
  const redundancy = config.relayRedundancy ?? defaultRedundancy
  return seededShuffle(defaults, config.appId).slice(0, Math.max(1, Math.floor(redundancy)))
}
