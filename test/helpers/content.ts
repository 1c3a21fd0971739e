// Test content for file transfers: reproducible pseudo-random bytes (no two chunks alike,
// so a chunk sent twice or out of place shows in the hash), and the hash to compare.
import {Sha256} from '../../src/core/files/sha256.js'

/** `length` pseudo-random bytes from `seed` (a linear congruential generator's high byte). */
export const pseudoRandomBytes = (length: number, seed: number) => {
  const out = new Uint8Array(length)
  let x = seed
  for (let i = 0; i < length; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24
  return out
}

/** The SHA-256 of a Blob's bytes, hex. */
export const sha256Of = async (blob: Blob) => new Sha256().update(new Uint8Array(await blob.arrayBuffer())).hex()
