/**
 * Where a peer sits in the overlay's id space.
 *
 * Our peer ids are 20 base62 digits of SHA-256(public key). Read as a number they are
 * uniform in [0, 62^20), which is not a power of two: as bits, the top bit would be set for
 * only ~5.5 % of ids and the k-buckets would fill unevenly. So the overlay places a peer by
 * a hash of its id instead: the first 160 bits (peer-relay's width) of
 * SHA-256("p2p-elements overlay" NUL id), uniform in [0, 2^160). Any string id works, which
 * the PeerRelay API needs. Computing it is async (WebCrypto); keys are cached per id.
 */

export const keyBits = 160
const prefix = new TextEncoder().encode('p2p-elements overlay\u0000')
const cache = new Map<string, Promise<bigint>>()
const cacheLimit = 20_000

export const overlayKey = (id: string): Promise<bigint> => {
  const cached = cache.get(id)
  if (cached) return cached
  const bytes = new TextEncoder().encode(id)
  const input = new Uint8Array(prefix.length + bytes.length)
  input.set(prefix)
  input.set(bytes, prefix.length)
  const key = crypto.subtle.digest('SHA-256', input).then(digest => keyOfBytes(new Uint8Array(digest)))
  cache.set(id, key)
  if (cache.size > cacheLimit) cache.delete(cache.keys().next().value!)
  return key
}

/** The first 160 bits of `bytes` as a number. */
export const keyOfBytes = (bytes: Uint8Array): bigint => {
  let value = 0n
  for (let i = 0; i < keyBits / 8; i++) value = (value << 8n) | BigInt(bytes[i] ?? 0)
  return value
}

/** Kademlia's metric: XOR of the two keys, compared as numbers. */
export const distance = (a: bigint, b: bigint): bigint => a ^ b

/**
 * How many leading bits two keys share (0..160): the index of the k-bucket `b` falls in
 * for `a`. Symmetric, so a link between two peers serves the same bucket on both sides.
 */
export const sharedPrefix = (a: bigint, b: bigint): number => {
  const d = a ^ b
  if (d === 0n) return keyBits
  return keyBits - d.toString(2).length
}
