export {createJoinRoom, defaults, defaultIceServers, roomTopicOf} from './room.js'
export {selfId} from './ids.js'
export {maxPresenceBytes} from './presence.js'
export {defaultRequestTimeoutMs, handlerWaitMs, maxIncomingRequests} from './request.js'
export {createIdentity, exportIdentity, importIdentity} from './identity.js'
export {
  parseEnvelope,
  parseSealed,
  protocolVersion,
  type Envelope,
  type ParseFailure,
  type SealedSignal,
  type SignalKind,
} from './signaling.js'
export {P2PError, errorMessage, invalidConfig, type P2PErrorCode} from './errors.js'
export {defineStrategy, type Signaling, type Strategy, type StrategyContext} from './strategy.js'
export {topicOf} from './crypto.js'
export type * from './types.js'
export type {MediaChannel, MediaKind, MediaReceiver, MediaSender} from './stream-kinds.js'
export {combineStrategies, configFor, type MultiRoomConfig} from './multi-strategy.js'
export {
  clearReceivedFiles,
  safeFileName,
  maxMetadataBytes,
  type FileHandler,
  type FileLimits,
  type FileProgress,
  type IncomingFile,
  type SendFileOptions,
} from './files/index.js'
export {Sha256} from './files/sha256.js'
export {
  contentHash,
  manifestOf,
  type FetchFileOptions,
  type Manifest,
  type ServeHandler,
  type ServeRequest,
  type SwarmDownload,
  type SwarmFile,
  type SwarmLimits,
  type SwarmSource,
} from './files/swarm.js'
export {
  candidateTypesOf,
  peerHint,
  readStats,
  type CandidateStats,
  type CandidateType,
  type GetPeerStats,
  type HintKind,
  type MediaLossStats,
  type PeerConnectionState,
  type PeerFacts,
  type PeerStats,
} from './stats.js'
export type {DebugEntry, DebugOption} from './debug.js'
export type {RelayState} from './strategy.js'
