import {distance, sharedPrefix} from './keys.js'
import {compare, type Contact} from './table.js'

/**
 * Which members to hold direct connections to, at most `max` of them.
 *
 * Greedy XOR routing reaches any target in about log2(n) hops, and never gets stuck, when a
 * peer holds one contact in every non-empty k-bucket: each hop then fixes at least one more
 * leading bit of the target's key. So the choice is, in order:
 *   1. the closest member (the last hop always lands, and the nearest buckets, which hold
 *      one or two members each, are covered);
 *   2. one member per non-empty bucket, far buckets first (bucket 0 is half the room);
 *   3. `longLinks` random members not chosen yet: a bucket's only contact leaving, or a
 *      bucket missed because `max` is below the number of non-empty buckets, then still
 *      leaves short detours (small-world links), and they spread load off the few members
 *      that are many peers' closest;
 *   4. more members of the nearest buckets until `max`.
 * Members already connected (or chosen before) are preferred within a bucket and as long
 * links, so a new choice rarely tears down a working link or redials; members in `full` (at their own cap, they would refuse) are skipped
 * unless already connected, so a bucket falls back to another of its members. Below `max`
 * members everyone is chosen: a full mesh.
 */
export const chooseNeighbours = (
  self: Contact,
  members: readonly Contact[],
  max: number,
  {
    connected = new Set<string>(),
    full = new Set<string>(),
    longLinks = 2,
    random = Math.random,
  }: {connected?: ReadonlySet<string>; full?: ReadonlySet<string>; longLinks?: number; random?: () => number} = {},
): Set<string> => {
  const all = members.filter(member => member.id !== self.id)
  if (all.length <= max) return new Set(all.map(member => member.id))
  const others = all.filter(member => connected.has(member.id) || !full.has(member.id))
  const chosen = new Set<string>()
  const byBucket = new Map<number, Contact[]>()
  for (const member of others) {
    const index = sharedPrefix(self.key, member.key)
    let bucket = byBucket.get(index)
    if (!bucket) byBucket.set(index, (bucket = []))
    bucket.push(member)
  }
  const pick = (bucket: Contact[]) => {
    const free = bucket.filter(member => !chosen.has(member.id))
    return free.find(member => connected.has(member.id)) ?? free[Math.floor(random() * free.length)]
  }
  const add = (member: Contact | undefined) => member && chosen.size < max && chosen.add(member.id)

  let nearest: Contact | undefined
  for (const member of others)
    if (!nearest || distance(member.key, self.key) < distance(nearest.key, self.key)) nearest = member
  add(nearest)
  const indexes = [...byBucket.keys()].sort((a, b) => a - b)
  const reserve = Math.min(longLinks, Math.max(0, max - 1 - indexes.length))
  for (const index of indexes) if (chosen.size < max - reserve) add(pick(byBucket.get(index)!))
  const rest = others.filter(member => !chosen.has(member.id))
  for (let i = 0; i < longLinks && rest.length; i++) {
    const kept = rest.findIndex(member => connected.has(member.id))
    add(rest.splice(kept >= 0 ? kept : Math.floor(random() * rest.length), 1)[0])
  }
  if (chosen.size < max)
    for (const member of rest.sort((a, b) => compare(distance(a.key, self.key), distance(b.key, self.key)))) add(member)
  return chosen
}
