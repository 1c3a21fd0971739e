import type {OverlayNode} from '../overlay/node.js'
import type {SignalTransport} from '../signaling.js'
import type {PeerId} from '../types.js'
import {createOverlaySignal, type OverlaySignal} from './overlay-signal.js'

/**
 * Glue for the mesh wiring (src/core/mesh, the "mesh" branch): its seam `dial(id)`, which
 * opens a direct connection the overlay chose, made overlay-routed. Not wired on this branch
 * (mesh is not on main yet); branch `mesh-signal-try` has both merged and wired, in six lines:
 *
 *   room.ts        const meshSignal = createMeshSignal()
 *                  createMesh({...,
 *                    dial: (id, relay) => (!relay && meshSignal.dial(id)) || (signalingApi?.dial(id) ?? false),
 *                    signal: (from, data) => meshSignal.receive(from, data),
 *                    awake: node => signalingApi && meshSignal.attach(node, signalingApi)})
 *   mesh/index.ts  two optional hooks, `signal` (first line of the node's `message`:
 *                  if (hooks.signal?.(from, data)) return) and `awake` (called with the node
 *                  once it exists)
 *
 * `dial` then sends our announce to the member alone, sealed through the overlay
 * (signaling's `connect`); it offers back the same way; nothing reaches the public relay.
 */
type SignalingApi = {
  addTransport: (transport: SignalTransport) => () => void
  connect: (peerId: PeerId) => Promise<boolean>
}

export const createMeshSignal = () => {
  let signal: OverlaySignal | undefined
  let node: Pick<OverlayNode, 'sendTo' | 'isMember'> | undefined
  let api: SignalingApi | undefined
  let remove: (() => void) | undefined
  return {
    /** Signaling gets the room's overlay as a direct transport (again after a new node). */
    attach: (overlay: Pick<OverlayNode, 'sendTo' | 'isMember'>, signaling: SignalingApi) => {
      remove?.()
      node = overlay
      api = signaling
      signal = createOverlaySignal(overlay)
      remove = signaling.addTransport(signal)
    },
    /** For the node's `message` callback: true when `data` was signaling (then it is handled). */
    receive: (from: PeerId, data: Uint8Array): boolean => signal?.receive(from, data) ?? false,
    /** The seam: true when the member is in the overlay and our announce is on its way to it. */
    dial: (id: PeerId): boolean => {
      if (!node?.isMember(id) || !api) return false
      void api.connect(id).catch(() => {})
      return true
    },
    detach: () => {
      remove?.()
      remove = undefined
      signal = node = api = undefined
    },
  }
}
