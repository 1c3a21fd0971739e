/**
 * Registers every p2p element. Safe to import twice (two bundles on one page) and on a
 * server: without a custom element registry (Node without a DOM shim) it does nothing.
 */
import {P2PAction} from './p2p-action.js'
import {P2PBroadcast, broadcastTag} from './p2p-broadcast.js'
import {P2PDiagnostics} from './p2p-diagnostics.js'
import {P2PFileSend} from './p2p-file-send.js'
import {P2PPeerList} from './p2p-peer-list.js'
import {P2PRoom} from './p2p-room.js'
import {P2PVideoGrid} from './p2p-video-grid.js'
import {tags} from './names.js'

const elements: [string, CustomElementConstructor][] = [
  [tags.room, P2PRoom],
  [tags.action, P2PAction],
  [tags.fileSend, P2PFileSend],
  [tags.videoGrid, P2PVideoGrid],
  [tags.peerList, P2PPeerList],
  [tags.diagnostics, P2PDiagnostics],
  [broadcastTag, P2PBroadcast],
]

/** Defines each tag not defined yet, in the given registry (default: the page's). */
export const defineElements = (registry: CustomElementRegistry | undefined = globalThis.customElements) => {
  if (!registry) return
  for (const [tag, element] of elements) if (!registry.get(tag)) registry.define(tag, element)
}

defineElements()

export * from './index.js'
