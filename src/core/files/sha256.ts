/**
 * Incremental SHA-256 (FIPS 180-4). WebCrypto only digests a whole buffer at once, and a
 * file's hash has to follow its bytes as they stream past without holding them. The state
 * is eight words plus a tail and a length, so it can be saved (`state()`) and picked up
 * again (`fromState`) when a transfer resumes after a reload.
 */

import {sha256Wasm} from './sha256-wasm.js'

/** What a resumed hash needs: the eight words and the bytes hashed so far (a multiple of 64). */
export type Sha256State = {h: number[]; length: number}

/**
 * Makes the Sha256 class. Self-contained (it refers to nothing outside itself), so its source
 * text is also what the hashing Worker runs (hash-worker.ts): one implementation in both places.
 *
 * `wasm` (base64, sha256-wasm.ts): the compression function as WebAssembly, about 1.5 times
 * as fast as the JavaScript below in V8, which matters when a gigabyte passes through it on
 * each side of a transfer. Where WebAssembly cannot start (none in the runtime, or a
 * Content-Security-Policy without `wasm-unsafe-eval`), the JavaScript one runs instead.
 */
export function makeSha256(wasm?: string) {
  const K = new Int32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
  ])
  /** The WebAssembly compression function (sha256.wat), or undefined to use the JavaScript one. */
  const compiled = (() => {
    try {
      if (!wasm || typeof WebAssembly !== 'object') return undefined
      const binary = Uint8Array.from(atob(wasm), char => char.charCodeAt(0))
      const {exports} = new WebAssembly.Instance(new WebAssembly.Module(binary))
      const memory = exports.memory as WebAssembly.Memory
      const words = new Int32Array(memory.buffer)
      words.set(K, 80) // K at byte 320
      return {
        blocks: exports.blocks as (at: number, count: number) => void,
        words,
        bytes: new Uint8Array(memory.buffer),
      }
    } catch {
      return undefined
    }
  })()
  /** Where the input goes in its memory, and how much of it per call. */
  const inputAt = 1024
  const inputBytes = 65536

  const initial = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]

  class Sha256 {
    /** Which compression function runs: 'wasm', or 'js' where WebAssembly could not start. */
    static readonly engine: 'wasm' | 'js' = compiled ? 'wasm' : 'js'
    #h = new Int32Array(initial)
    #w = new Int32Array(64)
    #tail = new Uint8Array(64)
    #tailLength = 0
    #length = 0

    static fromState(state: Sha256State): Sha256 {
      const hash = new Sha256()
      if (state.h.length !== 8 || state.length % 64) throw new RangeError('not a SHA-256 state')
      hash.#h.set(state.h)
      hash.#length = state.length
      return hash
    }

    /** The state after the last whole 64-byte block; bytes past it must be fed again on resume. */
    state(): Sha256State {
      return {h: [...this.#h], length: this.#length - this.#tailLength}
    }

    get length(): number {
      return this.#length
    }

    #blocks(bytes: Uint8Array, start: number, end: number) {
      if (compiled) {
        // One instance serves every hash of this class: the state goes in and comes back out.
        compiled.words.set(this.#h, 0)
        for (let at = start; at + 64 <= end; at += inputBytes) {
          const length = Math.min(inputBytes, end - at) & ~63
          compiled.bytes.set(bytes.subarray(at, at + length), inputAt)
          compiled.blocks(inputAt, length / 64)
        }
        this.#h.set(compiled.words.subarray(0, 8))
        return
      }
      const w = this.#w
      const h = this.#h
      let a0 = h[0]!
      let b0 = h[1]!
      let c0 = h[2]!
      let d0 = h[3]!
      let e0 = h[4]!
      let f0 = h[5]!
      let g0 = h[6]!
      let h0 = h[7]!
      for (let p = start; p + 64 <= end; p += 64) {
        for (let i = 0; i < 16; i++) {
          const j = p + i * 4
          w[i] = (bytes[j]! << 24) | (bytes[j + 1]! << 16) | (bytes[j + 2]! << 8) | bytes[j + 3]!
        }
        for (let i = 16; i < 64; i++) {
          const x = w[i - 15]!
          const y = w[i - 2]!
          const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)
          const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)
          w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0
        }
        let a = a0
        let b = b0
        let c = c0
        let d = d0
        let e = e0
        let f = f0
        let g = g0
        let hh = h0
        for (let i = 0; i < 64; i++) {
          const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
          const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0
          const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
          const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0
          hh = g
          g = f
          f = e
          e = (d + t1) | 0
          d = c
          c = b
          b = a
          a = (t1 + t2) | 0
        }
        a0 = (a0 + a) | 0
        b0 = (b0 + b) | 0
        c0 = (c0 + c) | 0
        d0 = (d0 + d) | 0
        e0 = (e0 + e) | 0
        f0 = (f0 + f) | 0
        g0 = (g0 + g) | 0
        h0 = (h0 + hh) | 0
      }
      h[0] = a0
      h[1] = b0
      h[2] = c0
      h[3] = d0
      h[4] = e0
      h[5] = f0
      h[6] = g0
      h[7] = h0
    }

    update(bytes: Uint8Array): this {
      this.#length += bytes.byteLength
      let offset = 0
      if (this.#tailLength) {
        const take = Math.min(64 - this.#tailLength, bytes.byteLength)
        this.#tail.set(bytes.subarray(0, take), this.#tailLength)
        this.#tailLength += take
        offset = take
        if (this.#tailLength < 64) return this
        this.#blocks(this.#tail, 0, 64)
        this.#tailLength = 0
      }
      const whole = offset + Math.floor((bytes.byteLength - offset) / 64) * 64
      this.#blocks(bytes, offset, whole)
      this.#tail.set(bytes.subarray(whole), 0)
      this.#tailLength = bytes.byteLength - whole
      return this
    }

    /** The digest, as lowercase hex. The hash cannot be updated afterwards. */
    hex(): string {
      const bits = this.#length * 8
      const pad = new Uint8Array((this.#tailLength < 56 ? 64 : 128) - this.#tailLength)
      pad[0] = 0x80
      const view = new DataView(pad.buffer)
      view.setUint32(pad.length - 8, Math.floor(bits / 2 ** 32))
      view.setUint32(pad.length - 4, bits >>> 0)
      const length = this.#length
      this.update(pad)
      this.#length = length
      return [...this.#h].map(word => (word >>> 0).toString(16).padStart(8, '0')).join('')
    }
  }
  return Sha256
}

export const Sha256 = makeSha256(sha256Wasm)
export type Sha256 = InstanceType<typeof Sha256>

export const toHex = (bytes: ArrayBuffer | Uint8Array) =>
  [...new Uint8Array(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes))]
    .map(byte => byte.toString(16).padStart(2, '0'))
    .join('')
