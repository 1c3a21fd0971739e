import {distance, keyBits, sharedPrefix} from './keys.js'

/** A peer as the routing table knows it: its id and its overlay key. */
export type Contact = {id: string; key: bigint}

/**
 * A Kademlia-style k-bucket table over the peers this peer is directly connected to.
 * Bucket i holds contacts that share exactly i leading bits with us: bucket 0 is the far
 * half of the id space, bucket 1 a quarter, and so on. `nextHop` is the greedy step every
 * relaying peer takes: the contact closest (XOR) to the target.
 */
export class RoutingTable {
  readonly self: Contact
  readonly k: number
  private readonly buckets: Contact[][] = Array.from({length: keyBits + 1}, () => [])
  private readonly byId = new Map<string, Contact>()

  constructor(self: Contact, k = 20) {
    this.self = self
    this.k = k
  }

  get size() {
    return this.byId.size
  }

  has(id: string) {
    return this.byId.has(id)
  }

  get(id: string) {
    return this.byId.get(id)
  }

  /** Adds a contact; false if it is us, already there, or its bucket holds k already. */
  add(contact: Contact): boolean {
    if (contact.id === this.self.id || this.byId.has(contact.id)) return false
    const bucket = this.buckets[sharedPrefix(this.self.key, contact.key)]!
    if (bucket.length >= this.k) return false
    bucket.push(contact)
    this.byId.set(contact.id, contact)
    return true
  }

  remove(id: string): boolean {
    const contact = this.byId.get(id)
    if (!contact) return false
    this.byId.delete(id)
    const bucket = this.buckets[sharedPrefix(this.self.key, contact.key)]!
    bucket.splice(bucket.indexOf(contact), 1)
    return true
  }

  contacts(): Contact[] {
    return [...this.byId.values()]
  }

  /** The contacts of bucket `index`. */
  bucket(index: number): readonly Contact[] {
    return this.buckets[index] ?? []
  }

  /** Up to `count` contacts, closest to `key` first. */
  closest(key: bigint, count = this.k): Contact[] {
    return this.contacts()
      .sort((a, b) => compare(distance(a.key, key), distance(b.key, key)))
      .slice(0, count)
  }

  /**
   * Where a message for `target` goes next: the target itself if it is a contact, else the
   * contact strictly closer to it than we are, closest first. With `fallback`, when no
   * contact is closer (a capped table can miss a bucket), the closest contact not in
   * `exclude` (the hops the message came through); TTL and duplicate suppression end loops.
   */
  nextHop(target: Contact, {exclude = [], fallback = true}: {exclude?: Iterable<string>; fallback?: boolean} = {}) {
    const direct = this.byId.get(target.id)
    if (direct) return direct
    const skip = new Set(exclude)
    const own = distance(this.self.key, target.key)
    let best: Contact | undefined
    let bestDistance = 0n
    for (const contact of this.byId.values()) {
      if (skip.has(contact.id)) continue
      const d = distance(contact.key, target.key)
      if (!best || d < bestDistance) (best = contact), (bestDistance = d)
    }
    if (!best) return undefined
    return bestDistance < own || fallback ? best : undefined
  }
}

export const compare = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0)
