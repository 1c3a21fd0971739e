// An in-memory network of overlay nodes (src/core/overlay/node.ts) for the unit tests: real
// identities and crypto, real timers, no WebRTC. Frames take `delayMs` and are lost if their
// link closes meanwhile, as on a WebSocket or data channel that goes down.
import {createIdentity} from '../../dist/lib/core/identity.js'
import {createOverlayNode} from '../../dist/lib/core/overlay/node.js'

export const bytes = text => new TextEncoder().encode(text)
export const text = b => new TextDecoder().decode(b)
export const sleep = ms => new Promise(r => setTimeout(r, ms))

/** Polls `check` until it holds; `what` (a string, or a function read at the deadline) names it. */
export const until = async (check, ms = 10_000, what = 'condition') => {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`)
    await sleep(20)
  }
}

/**
 * n nodes capped at `max` links. `capLinks` refuses a link either side has no room for (else
 * the nodes alone keep to the cap); `bootstrap` is 'chain' (each knows the one before, as a
 * public relay would hand out) or 'star' (everyone dialed the first); `tamper` may rewrite
 * what a node sends; `options` go to every node.
 */
export const overlayNetwork = async (
  n,
  max,
  {capLinks = false, bootstrap = 'chain', delayMs = 1, tamper, options = {}, undeliverable} = {},
) => {
  const nodes = new Map()
  const links = new Map()
  const inbox = new Map()
  const dropped = []
  const linked = (a, b) => links.get(a)?.has(b)
  const open = (a, b) => {
    if (a === b || linked(a, b) || !nodes.has(a) || !nodes.has(b)) return
    if (capLinks && (links.get(a).size >= max || links.get(b).size >= max)) return
    links.get(a).add(b)
    links.get(b).add(a)
    nodes.get(a).linkUp(b)
    nodes.get(b).linkUp(a)
  }
  const close = (a, b) => {
    if (!linked(a, b)) return
    links.get(a).delete(b)
    links.get(b).delete(a)
    nodes.get(a)?.linkDown(b)
    nodes.get(b)?.linkDown(a)
  }
  const identities = await Promise.all(Array.from({length: n}, () => createIdentity()))
  for (const identity of identities) {
    const id = identity.id
    links.set(id, new Set())
    inbox.set(id, [])
    const node = await createOverlayNode({
      identity,
      scope: 'test-room',
      maxConnections: max,
      gossipIntervalMs: 50,
      ...options,
      send: (to, message) => {
        if (!linked(id, to)) return
        setTimeout(() => {
          if (!linked(id, to)) return
          nodes.get(to)?.receive(id, structuredClone(tamper?.(id, to, message) ?? message))
        }, delayMs)
      },
      connect: other => setTimeout(() => open(id, other), delayMs),
      disconnect: other => setTimeout(() => close(id, other), delayMs),
      message: (from, data, hops) => inbox.get(id).push({from, text: text(data), hops}),
      broadcast: (from, data) => inbox.get(id).push({from, text: text(data), broadcast: true}),
      dropped: reason => dropped.push(reason),
      undeliverable: (to, reason, mine) => undeliverable?.(id, to, reason, mine),
    })
    nodes.set(id, node)
    await node.start()
  }
  const ids = identities.map(i => i.id)
  for (let i = 1; i < n; i++) open(bootstrap === 'star' ? ids[0] : ids[i - 1], ids[i])
  return {
    nodes,
    links,
    inbox,
    dropped,
    ids,
    open,
    close,
    stop: () => Promise.all([...nodes.values()].map(node => node.stop())),
  }
}
