/**
 * Viewer relay trees, as a pure state machine: events in, instructions out, no I/O.
 *
 * The broadcaster is the root. Each viewer receives the stream from one parent (the root
 * or another viewer) and forwards it to at most `fanout` children, so the root uploads at
 * most `fanout` copies however many watch. A newcomer goes to the shallowest node with a
 * free slot (breadth first, earliest joined first), which keeps the tree balanced and its
 * depth near log_fanout(viewers). When a viewer leaves, each of its children is re-attached,
 * with its own subtree, at the shallowest free slot outside that subtree.
 *
 * The instructions are what the broadcaster's glue must make happen:
 *   {type: 'adopt', parent, child}  parent (ROOT or a viewer) opens a link to child
 *   {type: 'drop', parent, child}   parent closes its link to child (the child moved)
 * The same module runs a thousand simulated viewers in a unit test and the real tree in
 * `Sender`.
 */

/** The broadcaster's place in the tree. */
export const ROOT = ''

export type Instruction = {type: 'adopt' | 'drop'; parent: string; child: string}

export type TreeState = {
  /** Largest number of children per node, the root included; Infinity for a star. */
  readonly fanout: number
  /** Each viewer's parent (ROOT for the root's children). */
  readonly parent: ReadonlyMap<string, string>
  /** Each node's children in the order they were attached; ROOT included. */
  readonly children: ReadonlyMap<string, readonly string[]>
}

export type TreeEvent =
  /** A viewer was admitted (or asks again, e.g. after a restart: it is placed anew). */
  | {type: 'join'; id: string}
  /** A viewer left, or was reported gone by its parent or a child. */
  | {type: 'leave'; id: string}

export const createTree = (fanout = Number.POSITIVE_INFINITY): TreeState => {
  if (!(fanout >= 1)) throw new RangeError(`fanout must be at least 1, not ${fanout}`)
  return {fanout: Math.floor(fanout), parent: new Map(), children: new Map([[ROOT, []]])}
}

/** Every node under `id`, `id` included. */
export const subtree = (state: TreeState, id: string): Set<string> => {
  const found = new Set<string>([id])
  for (const node of found) for (const child of state.children.get(node) ?? []) found.add(child)
  return found
}

/** The shallowest node with a free slot that is not in `excluded`, breadth first. */
const freeSlot = (state: TreeState, excluded: Set<string>): string | undefined => {
  const queue = [ROOT]
  for (const node of queue) {
    if (excluded.has(node)) continue
    const children = state.children.get(node) ?? []
    if (children.length < state.fanout) return node
    queue.push(...children)
  }
  return undefined
}

const detach = (parent: Map<string, string>, children: Map<string, string[]>, id: string) => {
  const from = parent.get(id)
  if (from === undefined) return undefined
  parent.delete(id)
  children.set(
    from,
    (children.get(from) ?? []).filter(child => child !== id),
  )
  return from
}

/** Applies one event; returns the new state and what the glue must do. Never mutates `state`. */
export const step = (state: TreeState, event: TreeEvent): {state: TreeState; out: Instruction[]} => {
  const parent = new Map(state.parent)
  const children = new Map([...state.children].map(([id, list]) => [id, [...list]]))
  const out: Instruction[] = []
  const next = (): TreeState => ({fanout: state.fanout, parent, children})

  /** Puts `id` (with its subtree) under the shallowest free node outside that subtree. */
  const place = (id: string) => {
    const moving = subtree(next(), id)
    const target = freeSlot(next(), moving)
    if (target === undefined) return // cannot happen: a leaf always has a free slot
    parent.set(id, target)
    children.set(target, [...(children.get(target) ?? []), id])
    if (!children.has(id)) children.set(id, [])
    out.push({type: 'adopt', parent: target, child: id})
  }

  if (event.type === 'join') {
    if (event.id === ROOT) return {state, out}
    const from = detach(parent, children, event.id)
    if (from !== undefined) out.push({type: 'drop', parent: from, child: event.id})
    place(event.id)
  } else {
    if (!parent.has(event.id)) return {state, out}
    detach(parent, children, event.id)
    const orphans = children.get(event.id) ?? []
    children.delete(event.id)
    for (const orphan of orphans) parent.delete(orphan)
    for (const orphan of orphans) place(orphan)
  }
  return {state: next(), out}
}

/** The viewers between the root and `id`, `id` included, root first; undefined if not in the tree. */
export const pathTo = (state: TreeState, id: string): string[] | undefined => {
  const path: string[] = []
  let node: string | undefined = id
  while (node !== undefined && node !== ROOT) {
    path.unshift(node)
    node = state.parent.get(node)
    if (path.length > state.parent.size) return undefined // a cycle: cannot happen
  }
  return node === ROOT ? path : undefined
}

/** How many levels of viewers (0 when nobody watches). */
export const depth = (state: TreeState): number => {
  let levels = 0
  let level = [...(state.children.get(ROOT) ?? [])]
  while (level.length) {
    levels++
    level = level.flatMap(id => [...(state.children.get(id) ?? [])])
  }
  return levels
}

export const viewers = (state: TreeState): string[] => [...state.parent.keys()]
