/**
 * The element classes and their types, with no side effects: importing this defines
 * nothing. Import `./define.js` (or load the bundle) to register the tags.
 */
export {P2PRoom, type ActionListener} from './p2p-room.js'
export {P2PAction} from './p2p-action.js'
export {P2PFileSend} from './p2p-file-send.js'
export {P2PVideoGrid} from './p2p-video-grid.js'
export {P2PPeerList} from './p2p-peer-list.js'
export {P2PDiagnostics} from './p2p-diagnostics.js'
export {P2PBroadcast, broadcastTag, broadcastEvents, type P2PBroadcastEventMap} from './p2p-broadcast.js'
export {tags, events, attributes, type TagName, type EventName} from './names.js'
export {
  strategies,
  strategyNames,
  defaultStrategy,
  loadStrategy,
  type StrategyName,
  type StrategyModule,
} from './strategies.js'
export type * from './events.js'
export {describePeer, formatBytes, formatSpeed, formatDuration, type PeerLabel} from './format.js'
export {gridLayout, type GridLayout} from './video-layout.js'
