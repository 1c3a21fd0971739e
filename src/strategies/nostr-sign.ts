/**
 * Signing of the nostr strategy's events (BIP-340 Schnorr over secp256k1), cheap enough for
 * a join's critical path. A room session's key is a random one made for it, so its
 * signature proves nothing to peers (the core signs what counts); relays check it, so it
 * must be a valid one. nostr-tools' `finalizeEvent` cost three curve multiplications per
 * event (the public key again, the nonce point, and a verification of its own result), the
 * first of them building a 4,224-point table for the generator (tens to 200 ms of main
 * thread on the page's first event). Here the public key is made once per session, an
 * event costs one multiplication (the nonce point), and that one uses a generator table of
 * window 4 (520 points, built on first use, a few ms) on a copy of the generator of our own,
 * so the library's shared tables are left as they are for anyone else on the page.
 */
import {schnorr} from '@noble/curves/secp256k1.js'
import {getEventHash, type Event, type EventTemplate} from 'nostr-tools/pure'
import {bytesToHex, hexToBytes} from 'nostr-tools/utils'

const {Point, utils} = schnorr
const {Fn} = Point

/** The generator, as an object of ours: its precomputed table is ours too (window 4). */
let generator: InstanceType<typeof Point> | undefined
const base = () => (generator ??= Point.fromAffine(Point.BASE.toAffine()).precompute(4, true))

const numberOf = (bytes: Uint8Array) => BigInt(`0x${bytesToHex(bytes) || '0'}`)
const isEven = (value: bigint) => (value & 1n) === 0n

/** `scalar`·G, with the scalar negated when the point's y is odd (BIP-340 keeps x only). */
const evenPoint = (scalar: bigint) => {
  const point = base().multiply(scalar)
  const {x, y} = point.toAffine()
  return {scalar: isEven(y) ? scalar : Fn.neg(scalar), x: Point.Fp.toBytes(x)}
}

export type NostrSigner = {
  /** The session's public key, hex (the events' `pubkey`). */
  publicKey: string
  /** The event with its pubkey, id and signature. */
  sign: (template: EventTemplate) => Event
}

/** A random key for one room session, and a signer with it. */
export const createNostrSigner = (): NostrSigner => {
  const secret = utils.randomSecretKey()
  const key = evenPoint(Fn.fromBytes(secret))
  const px = key.x
  const publicKey = bytesToHex(px)
  const d = key.scalar
  const signBytes = (message: Uint8Array): Uint8Array => {
    // BIP-340: t = bytes(d) xor hash/aux(a); k' = hash/nonce(t || P || m) mod n; R = k'G.
    const mask = numberOf(utils.taggedHash('BIP0340/aux', crypto.getRandomValues(new Uint8Array(32))))
    const t = Fn.toBytes(d ^ mask)
    const nonce = Fn.create(numberOf(utils.taggedHash('BIP0340/nonce', t, px, message)))
    if (nonce === 0n) throw new Error('nostr: nonce is zero') // probability 2^-256
    const r = evenPoint(nonce)
    const e = Fn.create(numberOf(utils.taggedHash('BIP0340/challenge', r.x, px, message)))
    const signature = new Uint8Array(64)
    signature.set(r.x, 0)
    signature.set(Fn.toBytes(Fn.create(r.scalar + e * d)), 32)
    return signature
  }
  return {
    publicKey,
    sign: template => {
      const unsigned = {...template, pubkey: publicKey}
      const id = getEventHash(unsigned)
      return {...unsigned, id, sig: bytesToHex(signBytes(hexToBytes(id)))} as Event
    },
  }
}

/**
 * Builds the generator table and runs the signing code once (hashing and curve code run
 * cold, several times slower, the first time), at an idle moment rather than on a room's
 * first event.
 */
export const warmNostrSigner = () => void createNostrSigner().sign({kind: 1, created_at: 0, tags: [], content: ''})
