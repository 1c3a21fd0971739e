import {fromBase64Url, idOfKey, publicKeyOf, sign, toBase64Url, verify, type Identity} from '../identity.js'
import {ReplayWindow} from './dedup.js'

/**
 * End-to-end protection for what crosses relaying peers.
 *
 * Identity keys sign (Ed25519 or ECDSA); they cannot agree on a secret. So each peer makes a
 * fresh ECDH P-256 key pair per overlay (a room, a PeerRelay) and signs its public half with
 * its identity: the *card* {id, key, dh, sig}. Anyone can check a card (the id is the hash
 * of `key`, `sig` verifies over the scope and `dh`), so a relaying peer cannot hand out a
 * card of its own under someone else's id.
 *
 * - To one peer: AES-256-GCM under HKDF(ECDH(our dh, their dh), scope, both ids), with the
 *   sender, receiver and a per-sender sequence number as associated data. A relay can
 *   neither read it nor change a bit of it (or its from/to/seq) without the receiver
 *   dropping it; a replayed copy fails the receiver's replay window.
 * - To everyone: signed with the sender's identity key over (scope, from, seq, payload).
 *   Anyone can read a broadcast (every member is meant to); no one can forge or replay one.
 */
export type Card = {id: string; key: string; dh: string; sig: string}
export type VerifiedCard = Card & {dhKey: CryptoKey; verifyKey: Awaited<ReturnType<typeof publicKeyOf>>}
export type Sealed = {f: string; t: string; n: number; iv: string; c: string}
export type Signed = {f: string; n: number; p: string; s: string}

const encoder = new TextEncoder()
const text = (...parts: (string | number)[]) => encoder.encode(JSON.stringify(parts))
const ecdh = {name: 'ECDH', namedCurve: 'P-256'} as const

export const createSealer = async (identity: Identity, scope: string) => {
  const pair = (await crypto.subtle.generateKey(ecdh, false, ['deriveBits'])) as CryptoKeyPair
  const dh = toBase64Url(new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)))
  const card: Card = {
    id: identity.id,
    key: identity.publicKeyText,
    dh,
    sig: toBase64Url(await sign(identity, text('card', scope, identity.id, dh))),
  }
  const cards = new Map<string, Promise<VerifiedCard | undefined>>()
  const secrets = new Map<string, Promise<CryptoKey>>()
  const sealedWindows = new Map<string, ReplayWindow>()
  const signedWindows = new Map<string, ReplayWindow>()
  let sealedSeq = 0
  let signedSeq = 0

  const window = (windows: Map<string, ReplayWindow>, id: string) => {
    let found = windows.get(id)
    if (!found) {
      windows.set(id, (found = new ReplayWindow()))
      if (windows.size > 4096) windows.delete(windows.keys().next().value!)
    }
    return found
  }

  /** The card if it is well formed and truly the id's; undefined for anything else. */
  const verifyCard = (value: unknown): Promise<VerifiedCard | undefined> => {
    const candidate = value as Card
    if (
      !candidate ||
      typeof candidate !== 'object' ||
      ![candidate.id, candidate.key, candidate.dh, candidate.sig].every(part => typeof part === 'string') ||
      candidate.key.length > 200 ||
      candidate.dh.length > 200 ||
      candidate.sig.length > 200
    )
      return Promise.resolve(undefined)
    const cacheKey = JSON.stringify([candidate.id, candidate.key, candidate.dh, candidate.sig])
    let checked = cards.get(cacheKey)
    if (!checked) {
      checked = (async () => {
        try {
          const raw = fromBase64Url(candidate.key)
          if ((await idOfKey(raw)) !== candidate.id) return undefined
          const verifyKey = await publicKeyOf(candidate.key)
          const ok = await verify(
            verifyKey,
            fromBase64Url(candidate.sig),
            text('card', scope, candidate.id, candidate.dh),
          )
          if (!ok) return undefined
          const dhKey = await crypto.subtle.importKey('raw', fromBase64Url(candidate.dh), ecdh, false, [])
          const {id, key, dh, sig} = candidate
          return {id, key, dh, sig, dhKey, verifyKey}
        } catch {
          return undefined
        }
      })()
      cards.set(cacheKey, checked)
      if (cards.size > 4096) cards.delete(cards.keys().next().value!)
    }
    return checked
  }

  const secretWith = (peer: VerifiedCard): Promise<CryptoKey> => {
    let secret = secrets.get(peer.dh)
    if (!secret) {
      secret = (async () => {
        const bits = await crypto.subtle.deriveBits({name: 'ECDH', public: peer.dhKey}, pair.privateKey, 256)
        const base = await crypto.subtle.importKey('raw', bits, 'HKDF', false, ['deriveKey'])
        const ids = [identity.id, peer.id].sort()
        return crypto.subtle.deriveKey(
          {name: 'HKDF', hash: 'SHA-256', salt: encoder.encode(scope), info: text('seal', ...ids)},
          base,
          {name: 'AES-GCM', length: 256},
          false,
          ['encrypt', 'decrypt'],
        )
      })()
      secrets.set(peer.dh, secret)
      if (secrets.size > 1024) secrets.delete(secrets.keys().next().value!)
    }
    return secret
  }

  return {
    card,
    verifyCard,
    /** Encrypts `bytes` for `to` alone. */
    seal: async (to: VerifiedCard, bytes: Uint8Array<ArrayBuffer>): Promise<Sealed> => {
      const n = sealedSeq++
      const iv = crypto.getRandomValues(new Uint8Array(12))
      const c = await crypto.subtle.encrypt(
        {name: 'AES-GCM', iv, additionalData: text('sealed', identity.id, to.id, n)},
        await secretWith(to),
        bytes,
      )
      return {f: identity.id, t: to.id, n, iv: toBase64Url(iv), c: toBase64Url(new Uint8Array(c))}
    },
    /** The plaintext of a frame `from` sealed for us; undefined if forged, altered, misaddressed or replayed. */
    open: async (from: VerifiedCard, sealed: Sealed): Promise<Uint8Array | undefined> => {
      if (sealed?.f !== from.id || sealed.t !== identity.id || typeof sealed.iv !== 'string') return undefined
      if (typeof sealed.c !== 'string' || !Number.isSafeInteger(sealed.n)) return undefined
      try {
        const plain = await crypto.subtle.decrypt(
          {
            name: 'AES-GCM',
            iv: fromBase64Url(sealed.iv),
            additionalData: text('sealed', from.id, identity.id, sealed.n),
          },
          await secretWith(from),
          fromBase64Url(sealed.c),
        )
        return window(sealedWindows, from.id).accept(sealed.n) ? new Uint8Array(plain) : undefined
      } catch {
        return undefined
      }
    },
    /** Signs `bytes` for everyone. */
    sign: async (bytes: Uint8Array<ArrayBuffer>): Promise<Signed> => {
      const n = signedSeq++
      const p = toBase64Url(bytes)
      return {f: identity.id, n, p, s: toBase64Url(await sign(identity, text('signed', scope, identity.id, n, p)))}
    },
    /** The payload of a broadcast `from` signed; undefined if forged, altered or replayed. */
    check: async (from: VerifiedCard, signed: Signed): Promise<Uint8Array | undefined> => {
      if (signed?.f !== from.id || typeof signed.p !== 'string' || typeof signed.s !== 'string') return undefined
      if (!Number.isSafeInteger(signed.n)) return undefined
      try {
        const ok = await verify(
          from.verifyKey,
          fromBase64Url(signed.s),
          text('signed', scope, from.id, signed.n, signed.p),
        )
        return ok && window(signedWindows, from.id).accept(signed.n) ? fromBase64Url(signed.p) : undefined
      } catch {
        return undefined
      }
    },
  }
}

export type Sealer = Awaited<ReturnType<typeof createSealer>>
