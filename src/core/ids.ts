const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** A crypto-random id of `length` alphanumeric characters (~5.95 bits each). */
export const randomId = (length: number): string =>
  Array.from(crypto.getRandomValues(new Uint8Array(length)), byte => alphabet[byte % alphabet.length]).join('')

/**
 * This page's peer id, the same in every room it joins. 20 characters, because the
 * BitTorrent tracker protocol carries peer ids as exactly 20 bytes.
 */
export const selfId = randomId(20)
