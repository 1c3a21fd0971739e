/** Rate limits and address keys for the relay: plain functions of the time they are given. */

/** A token bucket: `rate` tokens a second, holding at most `burst`. */
export type Bucket = {tokens: number; at: number}

export const createBucket = (burst: number, now: number): Bucket => ({tokens: burst, at: now})

/** Takes one token if there is one (refilling for the time since the last call); false when empty. */
export const take = (bucket: Bucket, rate: number, burst: number, now: number): boolean => {
  bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate)
  bucket.at = now
  if (bucket.tokens < 1) return false
  bucket.tokens -= 1
  return true
}

/**
 * The key limits per address are counted under: an IPv4 address as it is (IPv4-mapped IPv6
 * included), an IPv6 address by its /64, since one host is commonly given a whole /64.
 */
export const addressKey = (address: string): string => {
  const mapped = address.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i)
  if (mapped) return mapped[1]!
  if (!address.includes(':')) return address
  // Expand "::" to find the first four groups.
  const [head = '', tail = ''] = address.split('::')
  const headGroups = head ? head.split(':') : []
  const tailGroups = address.includes('::') ? (tail ? tail.split(':') : []) : []
  const groups = [
    ...headGroups,
    ...Array(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill('0'),
    ...tailGroups,
  ]
  return `${groups
    .slice(0, 4)
    .map(group => group.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`
}
