/**
 * Duplicate suppression for relayed frames: a set of recently seen message ids with a
 * fixed capacity (oldest forgotten first), so a flood or a replay cannot grow memory.
 * A frame whose id was forgotten is still stopped by its TTL and, end to end, by the
 * receiver's replay window (seal.ts).
 */
export class SeenSet {
  private readonly items = new Set<string>()
  readonly limit: number

  constructor(limit = 4096) {
    this.limit = limit
  }

  get size() {
    return this.items.size
  }

  /** True the first time `id` is seen (and remembers it), false after. */
  first(id: string): boolean {
    if (this.items.has(id)) return false
    this.items.add(id)
    if (this.items.size > this.limit) this.items.delete(this.items.values().next().value!)
    return true
  }

  has(id: string) {
    return this.items.has(id)
  }

  /** Forgets `id`: a later copy counts as new (a frame given up here may come again by another path). */
  delete(id: string) {
    this.items.delete(id)
  }
}

/** Hops a frame may take before it is dropped: enough for ~2^20 peers with detours. */
export const defaultTtl = 24

/**
 * Per-sender replay window over sequence numbers (IPsec style): a number is accepted once,
 * and only if it is within `size` of the highest seen.
 */
export class ReplayWindow {
  private highest = -1
  private readonly recent = new Set<number>()
  readonly size: number

  constructor(size = 1024) {
    this.size = size
  }

  accept(seq: number): boolean {
    if (!Number.isSafeInteger(seq) || seq < 0) return false
    if (seq <= this.highest - this.size || this.recent.has(seq)) return false
    this.recent.add(seq)
    if (seq > this.highest) {
      this.highest = seq
      for (const old of this.recent) if (old <= seq - this.size) this.recent.delete(old)
    }
    return true
  }
}
