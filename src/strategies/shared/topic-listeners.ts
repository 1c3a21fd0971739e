/**
 * Who listens to which topic, for adapters that carry many topics over one connection.
 * `first` runs when a topic gains its first listener (subscribe on the network), `last`
 * when it loses its last one (unsubscribe).
 */
export type Listener = (message: string) => void

export const createTopicListeners = (hooks: {first?: (topic: string) => void; last?: (topic: string) => void} = {}) => {
  const listeners = new Map<string, Set<Listener>>()
  return {
    /** Adds a listener; returns the function that removes it. */
    add(topic: string, listener: Listener): () => void {
      let set = listeners.get(topic)
      if (!set) {
        listeners.set(topic, (set = new Set()))
        hooks.first?.(topic)
      }
      set.add(listener)
      return () => {
        if (!set.delete(listener) || set.size || listeners.get(topic) !== set) return
        listeners.delete(topic)
        hooks.last?.(topic)
      }
    },
    has: (topic: string) => listeners.has(topic),
    /** Hands a message to every listener of `topic` (a copy of the set: listeners may unsubscribe). */
    deliver(topic: string, message: string) {
      for (const listener of [...(listeners.get(topic) ?? [])]) listener(message)
    },
    topics: () => [...listeners.keys()],
    get size() {
      return listeners.size
    },
    /** Removes every listener; `last` runs for each topic. */
    clear() {
      const topics = [...listeners.keys()]
      listeners.clear()
      for (const topic of topics) hooks.last?.(topic)
    },
  }
}
