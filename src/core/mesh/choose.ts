/**
 * Pure rules of the room's partial mesh, kept apart so they are unit-tested in Node.
 */

/**
 * Default `maxConnections`: a room is a full mesh up to this many direct connections per
 * peer (11 members) and a capped overlay beyond. README "Big rooms" gives the measurement:
 * a full mesh costs each member one handshake through the public relay per newcomer and
 * one RTCPeerConnection (an SCTP association, ICE checks, keepalives) per member, and
 * past ~10 those costs grow faster than a relayed hop costs (about one extra round trip).
 */
export const defaultMaxConnections = 10

/** Newcomers not yet in the overlay are dialed by this many members (the closest by XOR). */
export const bootstrapLinks = 2

/**
 * Whether we are among the `count` members whose overlay key is XOR-closest to a newcomer's:
 * every member of a settled room knows the same members, so each newcomer gets about
 * `count` offers instead of one from every member, and needs no coordination to get them.
 */
export const isBootstrapFor = (self: bigint, members: readonly bigint[], newcomer: bigint, count = bootstrapLinks) => {
  const mine = self ^ newcomer
  let closer = 0
  for (const key of members) if ((key ^ newcomer) < mine && ++closer >= count) return false
  return true
}

/** The maxConnections a room uses: a config value (checked), else the default. */
export const maxConnectionsOf = (value: unknown): number => {
  if (value === undefined || value === null) return defaultMaxConnections
  if (value === Number.POSITIVE_INFINITY) return value
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 2)
    throw new TypeError(`config.maxConnections must be an integer of at least 2 (or Infinity), not ${String(value)}`)
  return value
}
