/**
 * One long-lived client per key in a page (a Realtime socket, a Firebase app, a libp2p node),
 * shared by every room that asks for the same key and destroyed when the last one releases it.
 */
export type SharedClients<T> = ReturnType<typeof createSharedClients<T>>

export const createSharedClients = <T>(destroy: (client: T) => void) => {
  const entries = new Map<string, {client: T; users: number}>()
  return {
    /** The client for `key`, made with `create` if no room holds one. Call `release` when done (more calls do nothing). */
    acquire(key: string, create: () => T): {client: T; release: () => void} {
      let entry = entries.get(key)
      if (!entry) entries.set(key, (entry = {client: create(), users: 0}))
      entry.users++
      const held = entry
      let released = false
      const release = () => {
        if (released) return
        released = true
        if (--held.users > 0) return
        entries.delete(key)
        destroy(held.client)
      }
      return {client: held.client, release}
    },
  }
}
