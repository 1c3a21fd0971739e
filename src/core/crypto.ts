const encoder = new TextEncoder()
const decoder = new TextDecoder()

/**
 * PBKDF2-HMAC-SHA-256 iterations for a room password: OWASP's current recommendation
 * (600,000). About 0.2-0.4 s once per (appId, roomId, password) and page; it runs while
 * the relay socket opens, and the key is kept for rejoins.
 */
export const passwordIterations = 600_000

const toHex = (bytes: ArrayBuffer): string =>
  Array.from(new Uint8Array(bytes), b => b.toString(16).padStart(2, '0')).join('')

const toBase64 = (bytes: Uint8Array): string => {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}

const fromBase64 = (text: string): Uint8Array => Uint8Array.from(atob(text), c => c.charCodeAt(0))

/**
 * A topic for relays: 40 hex characters (160 bits) of SHA-256 over the parts, so relays
 * never see app or room names, and the BitTorrent adapter can use it as an info hash.
 */
export const topicOf = async (...parts: string[]): Promise<string> =>
  toHex(await crypto.subtle.digest('SHA-256', encoder.encode(['p2p-elements', ...parts].join('\u0000')))).slice(0, 40)

const derived = new Map<string, Promise<CryptoKey>>()
/** Derived room keys kept per page: a rejoin does not pay for PBKDF2 again. */
const derivedLimit = 16

/**
 * The AES-GCM key that seals signaling for one room, salted with appId and roomId.
 * With a password: PBKDF2-SHA-256 at `passwordIterations`, to slow down guessing it.
 * Without one: HKDF-SHA-256 over appId and roomId. There is no secret to stretch then
 * (both are known to anyone who can read the app), so PBKDF2 would only cost time; the
 * key still keeps out passers-by who do not know the room, not a determined relay.
 */
export const deriveKey = (appId: string, roomId: string, password = ''): Promise<CryptoKey> => {
  const cacheKey = JSON.stringify([appId, roomId, password])
  const cached = derived.get(cacheKey)
  if (cached) return cached
  const salt = encoder.encode(`p2p-elements\u0000${appId}\u0000${roomId}`)
  const aes = {name: 'AES-GCM', length: 256}
  // Started in a microtask, so a runtime without crypto.subtle rejects instead of throwing here.
  const key = Promise.resolve().then(() =>
    password
      ? crypto.subtle
          .importKey('raw', encoder.encode(password), 'PBKDF2', false, ['deriveKey'])
          .then(material =>
            crypto.subtle.deriveKey(
              {name: 'PBKDF2', hash: 'SHA-256', salt, iterations: passwordIterations},
              material,
              aes,
              false,
              ['encrypt', 'decrypt'],
            ),
          )
      : crypto.subtle
          .importKey('raw', salt, 'HKDF', false, ['deriveKey'])
          .then(material =>
            crypto.subtle.deriveKey(
              {name: 'HKDF', hash: 'SHA-256', salt: encoder.encode('p2p-elements room key'), info: new Uint8Array()},
              material,
              aes,
              false,
              ['encrypt', 'decrypt'],
            ),
          ),
  )
  derived.set(cacheKey, key)
  key.catch(() => derived.delete(cacheKey))
  if (derived.size > derivedLimit) derived.delete(derived.keys().next().value!)
  return key
}

/** `base64(iv).base64(ciphertext)`, a fresh 96-bit IV per message. */
export const encrypt = async (key: CryptoKey, plaintext: string): Promise<string> => {
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const sealed = await crypto.subtle.encrypt({name: 'AES-GCM', iv}, key, encoder.encode(plaintext))
  return `${toBase64(iv)}.${toBase64(new Uint8Array(sealed))}`
}

/** Throws if the text was not sealed with this key (a different password) or was tampered with. */
export const decrypt = async (key: CryptoKey, sealed: string): Promise<string> => {
  const [iv, data] = sealed.split('.')
  if (!iv || !data) throw new Error('not a sealed payload')
  return decoder.decode(
    await crypto.subtle.decrypt(
      {name: 'AES-GCM', iv: fromBase64(iv) as Uint8Array<ArrayBuffer>},
      key,
      fromBase64(data) as Uint8Array<ArrayBuffer>,
    ),
  )
}
