/**
 * Membership without a connection: who is in the room, spread through the overlay.
 *
 * Each member's entry carries a sequence number its owner raises on every heartbeat and a
 * flag for leaving; `data` is whatever the wiring layer needs to trust it (a signed card),
 * checked before `apply`. An entry with a higher seq replaces the older one; a member not
 * heard from for `expiryMs` is dropped. Updates are not forwarded one by one: they queue,
 * and `tick` (called every `intervalMs`) hands out one batch of at most `batchLimit`
 * entries for each neighbour. So a peer sends at most 60000 / intervalMs gossip messages a
 * minute per neighbour, whatever happens in the room, and each update crosses each link at
 * most once (an entry already known at its seq is not queued again).
 */
export type MemberEntry<D = unknown> = {id: string; seq: number; alive: boolean; data?: D}

export type GossipOptions = {intervalMs?: number; batchLimit?: number; expiryMs?: number; now?: () => number}

export class Membership<D = unknown> {
  readonly selfId: string
  readonly intervalMs: number
  readonly batchLimit: number
  readonly expiryMs: number
  private readonly now: () => number
  private readonly entries = new Map<string, MemberEntry<D> & {heard: number}>()
  private readonly queue = new Map<string, MemberEntry<D>>()
  /** Ids that left (seq at leaving), so a late copy of an older heartbeat does not revive them. */
  private readonly gone = new Map<string, number>()
  sent = 0

  constructor(
    selfId: string,
    {intervalMs = 500, batchLimit = 64, expiryMs = 60_000, now = Date.now}: GossipOptions = {},
  ) {
    this.selfId = selfId
    this.intervalMs = intervalMs
    this.batchLimit = batchLimit
    this.expiryMs = expiryMs
    this.now = now
  }

  /** Live members other than us. */
  members(): MemberEntry<D>[] {
    return [...this.entries.values()].filter(entry => entry.alive)
  }

  get(id: string | undefined) {
    return id === undefined ? undefined : this.entries.get(id)
  }

  has(id: string) {
    return !!this.entries.get(id)?.alive
  }

  /**
   * Takes in an entry (ours to announce, or one a neighbour gossiped, already verified).
   * 'join' and 'leave' are changes the app should hear about; 'update' a newer heartbeat;
   * 'stale' an entry we knew (not forwarded again).
   */
  apply(entry: MemberEntry<D>): 'join' | 'leave' | 'update' | 'stale' {
    if (!Number.isSafeInteger(entry.seq) || entry.seq < 0) return 'stale'
    const known = this.entries.get(entry.id)
    const goneAt = this.gone.get(entry.id)
    if ((known && entry.seq <= known.seq) || (goneAt !== undefined && entry.seq <= goneAt)) return 'stale'
    this.queue.set(entry.id, entry)
    if (entry.id === this.selfId) return 'update'
    if (!entry.alive) {
      this.entries.delete(entry.id)
      this.gone.set(entry.id, entry.seq)
      if (this.gone.size > 4096) this.gone.delete(this.gone.keys().next().value!)
      return known ? 'leave' : 'stale'
    }
    this.entries.set(entry.id, {...entry, heard: this.now()})
    return known ? 'update' : 'join'
  }

  /**
   * Other proof that a member is alive right now (an authenticated message from it, an open
   * link to it): counts as hearing its heartbeat, so a member whose gossip is slow behind
   * bulk traffic on a busy overlay is not dropped while it is plainly there.
   */
  heard(id: string) {
    const entry = this.entries.get(id)
    if (entry?.alive) entry.heard = this.now()
  }

  /** Live members not heard from for `ms` (not gone yet): on the far side of a split, perhaps. */
  silent(ms: number): string[] {
    const limit = this.now() - ms
    return [...this.entries.values()].filter(entry => entry.alive && entry.heard < limit).map(entry => entry.id)
  }

  /** Members silent for longer than expiryMs: removed and returned (each a 'leave'). */
  expire(): string[] {
    const limit = this.now() - this.expiryMs
    const dropped: string[] = []
    for (const [id, entry] of this.entries)
      if (entry.heard < limit) this.entries.delete(id), this.gone.set(id, entry.seq), dropped.push(id)
    return dropped
  }

  /** The next batch to send every neighbour, oldest updates first; empty when nothing changed. */
  tick(): MemberEntry<D>[] {
    const batch: MemberEntry<D>[] = []
    for (const [id, entry] of this.queue) {
      if (batch.length >= this.batchLimit) break
      this.queue.delete(id)
      batch.push(entry)
    }
    if (batch.length) this.sent++
    return batch
  }

  /** Every live entry we know (ours included if given): what a new neighbour is sent first. */
  snapshot(own?: MemberEntry<D>): MemberEntry<D>[] {
    const list: MemberEntry<D>[] = this.members().map(({id, seq, alive, data}) => ({id, seq, alive, data}))
    return own ? [own, ...list] : list
  }

  get pending() {
    return this.queue.size
  }
}
