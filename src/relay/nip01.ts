/**
 * The NIP-01 side of the relay, without I/O: what a client message is, whether it is well
 * formed, and which subscriptions an event matches. Every value here came off the network
 * from someone we do not trust, so each shape is checked before anything reads it.
 */

/** A Nostr event as NIP-01 defines it (its id and signature are checked elsewhere). */
export type NostrEvent = {
  id: string
  pubkey: string
  created_at: number
  kind: number
  tags: string[][]
  content: string
  sig: string
}

/** A REQ filter: the NIP-01 fields, and `#x` tag conditions keyed by a single letter. */
export type Filter = {
  ids?: string[]
  authors?: string[]
  kinds?: number[]
  since?: number
  until?: number
  limit?: number
  [tag: `#${string}`]: string[] | undefined
}

/** Bounds on what one REQ may ask for, so a filter cannot make matching expensive. */
export type FilterLimits = {
  /** Filters in one REQ. */
  maxFilters: number
  /** Values in one array of a filter (ids, authors, kinds, each `#x`). */
  maxFilterValues: number
}

/** A client message that passed its shape checks, or the reason it did not. */
export type ClientMessage =
  | {type: 'EVENT'; event: NostrEvent}
  | {type: 'REQ'; id: string; filters: Filter[]}
  | {type: 'CLOSE'; id: string}
  | {type: 'invalid'; reason: string; eventId?: string; subscriptionId?: string}

/** NIP-01: ephemeral events (kinds 20000-29999) are forwarded and never stored. */
export const isEphemeralKind = (kind: number) => kind >= 20_000 && kind < 30_000

/** NIP-01 caps subscription ids at 64 characters. */
export const maxSubscriptionIdLength = 64

/** Longest string in a filter array: ids and keys are 64 characters, topics 40; this bounds what a REQ holds. */
const maxFilterValueLength = 256

const hex64 = /^[0-9a-f]{64}$/
const hex128 = /^[0-9a-f]{128}$/

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every(item => typeof item === 'string')

/** Why `value` is not a NIP-01 event (null when it is one). Id and signature are checked later. */
export const eventProblem = (value: unknown): string | null => {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'an event must be an object'
  const event = value as Record<string, unknown>
  if (typeof event.id !== 'string' || !hex64.test(event.id)) return 'id must be 64 lowercase hex characters'
  if (typeof event.pubkey !== 'string' || !hex64.test(event.pubkey)) return 'pubkey must be 64 lowercase hex characters'
  if (typeof event.sig !== 'string' || !hex128.test(event.sig)) return 'sig must be 128 lowercase hex characters'
  if (!Number.isSafeInteger(event.kind) || (event.kind as number) < 0 || (event.kind as number) > 65_535)
    return 'kind must be an integer from 0 to 65535'
  if (!Number.isSafeInteger(event.created_at) || (event.created_at as number) < 0)
    return 'created_at must be a non-negative integer (seconds)'
  if (typeof event.content !== 'string') return 'content must be a string'
  if (!Array.isArray(event.tags) || !event.tags.every(isStringArray)) return 'tags must be an array of string arrays'
  return null
}

/** Why `value` is not an acceptable filter (null when it is one). */
const filterProblem = (value: unknown, limits: FilterLimits): string | null => {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'a filter must be an object'
  for (const [key, field] of Object.entries(value)) {
    if (key === 'since' || key === 'until' || key === 'limit') {
      if (!Number.isSafeInteger(field) || (field as number) < 0) return `${key} must be a non-negative integer`
    } else if (key === 'ids' || key === 'authors' || key === 'kinds' || /^[#&][a-zA-Z]$/.test(key)) {
      if (!Array.isArray(field)) return `${key} must be an array`
      if (field.length > limits.maxFilterValues)
        return `${key} has ${field.length} values (at most ${limits.maxFilterValues})`
      const ok = key === 'kinds' ? field.every(Number.isSafeInteger) : isStringArray(field)
      if (!ok) return `${key} must hold ${key === 'kinds' ? 'integers' : 'strings'}`
      if (key !== 'kinds' && field.some(item => item.length > maxFilterValueLength))
        return `${key} values are at most ${maxFilterValueLength} characters`
    } else if (key === 'search') {
      if (typeof field !== 'string') return 'search must be a string'
    } else return `unknown filter field ${JSON.stringify(key.slice(0, 32))}`
  }
  return null
}

/**
 * Reads one client message (already JSON-parsed). Unknown message types and malformed ones
 * come back as `invalid` with a reason fit for a NOTICE, an OK or a CLOSED.
 */
export const readClientMessage = (message: unknown, limits: FilterLimits): ClientMessage => {
  if (!Array.isArray(message) || typeof message[0] !== 'string')
    return {type: 'invalid', reason: 'a message must be a JSON array starting with its type'}
  const [type, first, ...rest] = message
  if (type === 'EVENT') {
    const eventId = typeof first?.id === 'string' ? first.id.slice(0, 64) : undefined
    const problem = message.length === 2 ? eventProblem(first) : 'EVENT takes exactly one event'
    return problem ? {type: 'invalid', reason: problem, eventId} : {type: 'EVENT', event: first as NostrEvent}
  }
  if (type === 'REQ' || type === 'CLOSE') {
    if (typeof first !== 'string' || first.length === 0 || first.length > maxSubscriptionIdLength)
      return {type: 'invalid', reason: `a subscription id is a string of 1 to ${maxSubscriptionIdLength} characters`}
    if (type === 'CLOSE') return {type: 'CLOSE', id: first}
    if (rest.length === 0) return {type: 'invalid', reason: 'REQ needs at least one filter', subscriptionId: first}
    if (rest.length > limits.maxFilters)
      return {
        type: 'invalid',
        reason: `REQ has ${rest.length} filters (at most ${limits.maxFilters})`,
        subscriptionId: first,
      }
    for (const filter of rest) {
      const problem = filterProblem(filter, limits)
      if (problem) return {type: 'invalid', reason: problem, subscriptionId: first}
    }
    return {type: 'REQ', id: first, filters: rest as Filter[]}
  }
  return {type: 'invalid', reason: `unsupported message type ${JSON.stringify(type.slice(0, 16))}`}
}

/** Whether `event` matches one NIP-01 filter, tag conditions (`#x`: any of; `&x`: all of) included. */
export const matchesFilter = (event: NostrEvent, filter: Filter): boolean => {
  if (filter.ids && !filter.ids.includes(event.id)) return false
  if (filter.authors && !filter.authors.includes(event.pubkey)) return false
  if (filter.kinds && !filter.kinds.includes(event.kind)) return false
  if (filter.since !== undefined && event.created_at < filter.since) return false
  if (filter.until !== undefined && event.created_at > filter.until) return false
  for (const key in filter) {
    if (key.length !== 2 || (key[0] !== '#' && key[0] !== '&')) continue
    const values = filter[key as `#${string}`]!
    const name = key[1]
    const tagged = (value: string) => event.tags.some(tag => tag[0] === name && tag[1] === value)
    if (key[0] === '#' ? !values.some(tagged) : !values.every(tagged)) return false
  }
  return true
}

/**
 * The index keys a filter can be found under: each value of its first `#x` condition
 * (`x:value`), or none when it has no tag condition (then it is checked against every event).
 */
export const indexKeysOf = (filter: Filter): string[] | null => {
  for (const key in filter)
    if (key.length === 2 && key[0] === '#') return filter[key as `#${string}`]!.map(v => `${key[1]}:${v}`)
  return null
}

/** The index keys an event can be reached by: one per tag (`name:value`). */
export const eventKeysOf = (event: NostrEvent): string[] =>
  event.tags.filter(tag => tag.length >= 2 && tag[0]!.length === 1).map(tag => `${tag[0]}:${tag[1]}`)
