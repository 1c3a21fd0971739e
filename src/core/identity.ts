import {P2PError, invalidConfig} from './errors.js'
import type {PeerId} from './types.js'

/**
 * A peer's identity: a signing key pair, and the peer id derived from its public key.
 *
 *   id = the first 20 base62 digits of SHA-256(raw public key)
 *
 * 20 characters because the BitTorrent tracker protocol carries peer ids as exactly 20
 * bytes; 20 base62 digits hold ~119 bits, so finding a second key for someone's id is a
 * 2^119 search. Keys are Ed25519 where WebCrypto has it (Chromium 137+, Firefox 129+,
 * Safari 17+, Node 20), else ECDSA P-256 with SHA-256. The two have raw public keys of
 * different lengths (32 and 65 bytes), so the key text alone says which one a peer uses.
 */

export type IdentityAlgorithm = 'Ed25519' | 'ECDSA-P256'

/**
 * Everything a room needs to act as one peer. A plain object of CryptoKeys and strings:
 * it can be stored as is with IndexedDB (structured clone keeps non-extractable keys
 * usable and unreadable), or, if created with `{extractable: true}`, turned into JSON
 * with `exportIdentity`.
 */
export type Identity = {
  readonly id: PeerId
  readonly algorithm: IdentityAlgorithm
  /** The raw public key, base64url: what other peers verify our signatures with. */
  readonly publicKeyText: string
  readonly publicKey: CryptoKey
  readonly privateKey: CryptoKey
}

/** `exportIdentity`'s output: JSON you can keep anywhere you would keep a password. */
export type IdentityJSON = {
  v: 1
  algorithm: IdentityAlgorithm
  publicKey: string
  privateKey: JsonWebKey
}

const encoder = new TextEncoder()
const base62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
/** Length of every peer id: the torrent tracker protocol's 20 bytes. */
export const peerIdLength = 20
/** What a well-formed peer id looks like; anything else from a relay is dropped unread. */
export const peerIdPattern = /^[0-9A-Za-z]{20}$/

const params = {
  Ed25519: {generate: {name: 'Ed25519'}, sign: {name: 'Ed25519'}},
  'ECDSA-P256': {generate: {name: 'ECDSA', namedCurve: 'P-256'}, sign: {name: 'ECDSA', hash: 'SHA-256'}},
} as const
/** Raw public key lengths: 32 bytes (Ed25519), 65 bytes (uncompressed P-256 point). */
const algorithmOfKeyLength = (length: number): IdentityAlgorithm | undefined =>
  length === 32 ? 'Ed25519' : length === 65 ? 'ECDSA-P256' : undefined

export const toBase64Url = (bytes: Uint8Array): string => {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** Throws on anything that is not base64url. */
export const fromBase64Url = (text: string): Uint8Array<ArrayBuffer> => {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('not base64url')
  return Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), c => c.charCodeAt(0))
}

/** The peer id a raw public key stands for. */
export const idOfKey = async (raw: Uint8Array<ArrayBuffer>): Promise<PeerId> =>
  idOfDigest(new Uint8Array(await crypto.subtle.digest('SHA-256', raw)))

/** The peer id for a raw public key's SHA-256 digest (sync, for callers that hash it themselves). */
export const idOfDigest = (digest: Uint8Array): PeerId => {
  let value = 0n
  for (const byte of digest) value = (value << 8n) | BigInt(byte)
  let id = ''
  for (let i = 0; i < peerIdLength; i++) {
    id += base62[Number(value % 62n)]
    value /= 62n
  }
  return id
}

let ed25519: Promise<boolean> | undefined
/** Whether this runtime's WebCrypto signs with Ed25519 (checked once). */
const hasEd25519 = () =>
  (ed25519 ??= crypto.subtle
    .generateKey(params.Ed25519.generate, false, ['sign', 'verify'])
    .then(() => true)
    .catch(() => false))

/**
 * A new identity. Keep it (IndexedDB as is, or `exportIdentity` if `extractable`) and pass
 * it as `config.identity` to be the same peer id across reloads and rooms.
 */
export const createIdentity = async ({extractable = false}: {extractable?: boolean} = {}): Promise<Identity> => {
  if (!globalThis.crypto?.subtle)
    throw new P2PError('no-webrtc', 'p2p-elements: this page has no WebCrypto (crypto.subtle); serve it over https')
  const algorithm: IdentityAlgorithm = (await hasEd25519()) ? 'Ed25519' : 'ECDSA-P256'
  const pair = (await crypto.subtle.generateKey(params[algorithm].generate, extractable, [
    'sign',
    'verify',
  ])) as CryptoKeyPair
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey))
  return {
    id: await idOfKey(raw),
    algorithm,
    publicKeyText: toBase64Url(raw),
    publicKey: pair.publicKey,
    privateKey: pair.privateKey,
  }
}

/** JSON for an identity created with `{extractable: true}`. Whoever holds it can be this peer. */
export const exportIdentity = async (identity: Identity): Promise<IdentityJSON> => {
  if (!identity?.privateKey?.extractable)
    throw invalidConfig(
      'exportIdentity needs an identity made with createIdentity({extractable: true}); a non-extractable one can still be stored in IndexedDB as is',
    )
  return {
    v: 1,
    algorithm: identity.algorithm,
    publicKey: identity.publicKeyText,
    privateKey: await crypto.subtle.exportKey('jwk', identity.privateKey),
  }
}

/** The identity `exportIdentity` wrote; checks that the key pair and the id belong together. */
export const importIdentity = async (
  json: IdentityJSON,
  {extractable = false}: {extractable?: boolean} = {},
): Promise<Identity> => {
  const algorithm = json?.algorithm
  if (json?.v !== 1 || (algorithm !== 'Ed25519' && algorithm !== 'ECDSA-P256') || typeof json.publicKey !== 'string')
    throw invalidConfig('importIdentity: not an identity written by exportIdentity')
  const raw = fromBase64Url(json.publicKey)
  const privateKey = await crypto.subtle.importKey('jwk', json.privateKey, params[algorithm].generate, extractable, [
    'sign',
  ])
  const publicKey = await crypto.subtle.importKey('raw', raw, params[algorithm].generate, true, ['verify'])
  const identity = {id: await idOfKey(raw), algorithm, publicKeyText: json.publicKey, publicKey, privateKey}
  if (!(await matches(identity))) throw invalidConfig('importIdentity: the private key does not match the public key')
  return identity
}

const probe = encoder.encode('p2p-elements identity probe')

/** True if `identity` is well formed: its id is its public key's, and its private key signs for it. */
export const matches = async (identity: Identity): Promise<boolean> => {
  try {
    const raw = fromBase64Url(identity.publicKeyText)
    if (algorithmOfKeyLength(raw.length) !== identity.algorithm || (await idOfKey(raw)) !== identity.id) return false
    const signature = await sign(identity, probe)
    return verify(await publicKeyOf(identity.publicKeyText), signature, probe)
  } catch {
    return false
  }
}

/** Shape check for `config.identity`, done when joinRoom is called. */
export const isIdentity = (value: unknown): value is Identity => {
  const identity = value as Identity
  return (
    !!identity &&
    typeof identity === 'object' &&
    typeof identity.id === 'string' &&
    peerIdPattern.test(identity.id) &&
    (identity.algorithm === 'Ed25519' || identity.algorithm === 'ECDSA-P256') &&
    typeof identity.publicKeyText === 'string' &&
    typeof CryptoKey !== 'undefined' &&
    identity.privateKey instanceof CryptoKey &&
    identity.publicKey instanceof CryptoKey
  )
}

export const sign = async (identity: Identity, bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> =>
  new Uint8Array(await crypto.subtle.sign(params[identity.algorithm].sign, identity.privateKey, bytes))

/** A verified peer's public key, as the peer sent it. */
export type PeerKey = {key: CryptoKey; algorithm: IdentityAlgorithm; text: string}

/** Imported public keys, by their text: a peer's key is imported once, not per message. */
const keyCache = new Map<string, Promise<PeerKey>>()
const keyCacheLimit = 256

/** Imports a raw base64url public key; rejects if it is neither an Ed25519 nor a P-256 key. */
export const publicKeyOf = (text: string): Promise<PeerKey> => {
  const cached = keyCache.get(text)
  if (cached) return cached
  const imported = (async () => {
    const raw = fromBase64Url(text)
    const algorithm = algorithmOfKeyLength(raw.length)
    if (!algorithm) throw new Error('not a public key')
    const key = await crypto.subtle.importKey('raw', raw, params[algorithm].generate, true, ['verify'])
    return {key, algorithm, text}
  })()
  keyCache.set(text, imported)
  imported.catch(() => keyCache.delete(text))
  if (keyCache.size > keyCacheLimit) keyCache.delete(keyCache.keys().next().value!)
  return imported
}

/** False for a bad signature, a key of the wrong kind, or anything else that does not verify. */
export const verify = async (
  peerKey: PeerKey,
  signature: Uint8Array<ArrayBuffer>,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<boolean> => {
  try {
    return await crypto.subtle.verify(params[peerKey.algorithm].sign, peerKey.key, signature, bytes)
  } catch {
    return false
  }
}
