import {createIdentity, type Identity} from './identity.js'
import type {PeerId} from './types.js'

const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** A crypto-random id of `length` alphanumeric characters (~5.95 bits each). */
export const randomId = (length: number): string =>
  Array.from(crypto.getRandomValues(new Uint8Array(length)), byte => alphabet[byte % alphabet.length]).join('')

/**
 * This page's default identity, made when the module loads (a top-level await of ~1 ms),
 * so that `selfId` is known synchronously at import, as code written for Trystero expects.
 * A runtime without WebCrypto gets none: importing still works, joining a room reports why.
 */
const [defaultIdentity, firstSpare] = await Promise.all([
  createIdentity().catch(() => undefined),
  createIdentity().catch(() => undefined),
])

/**
 * The peer id other peers see for this page's rooms: its default identity's id. A room
 * uses it unless another room of this page holds it at that moment (then the room gets
 * a fresh identity, so rooms open at the same time cannot be linked by id), or unless
 * `config.identity` pins another. `room.selfId` says which one a room uses.
 */
export const selfId: PeerId = defaultIdentity?.id ?? randomId(20)

let defaultHeld = false
/** Fresh identities made ahead of time, so a second room knows its id synchronously too. */
const spares: Identity[] = firstSpare ? [firstSpare] : []
let refilling: Promise<void> | undefined
const refill = () => {
  refilling ??= createIdentity()
    .then(identity => void spares.push(identity))
    .catch(() => {})
    .finally(() => (refilling = undefined))
}

/**
 * The identity for a room that does not pin one: the default one if free, else a spare
 * (synchronously), else a promise of a new one (only when several rooms open within a
 * few milliseconds of each other). `release` hands the default one back when the room ends.
 */
export const takeIdentity = (): {identity: Identity | Promise<Identity>; release: () => void} => {
  if (defaultIdentity && !defaultHeld) {
    defaultHeld = true
    return {identity: defaultIdentity, release: () => void (defaultHeld = false)}
  }
  const spare = spares.shift()
  refill()
  return {identity: spare ?? createIdentity(), release: () => {}}
}
