/**
 * Every tag, event and attribute name the elements use, in one place: code refers to these
 * constants, so a typo is a type error rather than a listener that never fires.
 */

export const tags = {
  room: 'p2p-room',
  action: 'p2p-action',
  fileSend: 'p2p-file-send',
  videoGrid: 'p2p-video-grid',
  peerList: 'p2p-peer-list',
  broadcast: 'p2p-broadcast',
  diagnostics: 'p2p-diagnostics',
} as const
export type TagName = (typeof tags)[keyof typeof tags]

export const events = {
  /** This page joined the room (its strategy loaded and signaling started). */
  join: 'p2p-join',
  /** This page left the room (attributes changed, element removed, or `leave()` called). */
  leave: 'p2p-leave',
  peerJoin: 'p2p-peer-join',
  peerLeave: 'p2p-peer-leave',
  stream: 'p2p-stream',
  track: 'p2p-track',
  joinError: 'p2p-join-error',
  error: 'p2p-error',
  data: 'p2p-data',
  progress: 'p2p-progress',
  fileProgress: 'p2p-file-progress',
  fileReceived: 'p2p-file-received',
  fileError: 'p2p-file-error',
  mediaError: 'p2p-media-error',
  /** A peer's presence (name, colour...) arrived or changed, or this page's own did. */
  presence: 'p2p-presence',
} as const
export type EventName = (typeof events)[keyof typeof events]

export const attributes = {
  appId: 'app-id',
  /** On `<p2p-room>`: the room id. On a child element: deprecated, use `for`. */
  room: 'room',
  /** On a child element: the id of the `<p2p-room>` it belongs to when it is not inside it. */
  for: 'for',
  strategy: 'strategy',
  password: 'password',
  relayUrls: 'relay-urls',
  relayRedundancy: 'relay-redundancy',
  supabaseKey: 'supabase-key',
  rootPath: 'root-path',
  maxMessageSize: 'max-message-size',
  /** On `<p2p-room>`: direct connections kept at most (config.maxConnections). */
  maxConnections: 'max-connections',
  /** On `<p2p-room>`: a passive member (config.passive). */
  passive: 'passive',
  joined: 'joined',
  name: 'name',
  color: 'color',
  avatar: 'avatar',
  accept: 'accept',
  multiple: 'multiple',
  maxSize: 'max-size',
  autoDownload: 'auto-download',
  maxReceiveSize: 'max-receive-size',
  askAbove: 'ask-above',
  maxRows: 'max-rows',
  audio: 'audio',
  video: 'video',
  showSelf: 'show-self',
  mirrorSelf: 'mirror-self',
  speaking: 'speaking',
  pinned: 'pinned',
  avatars: 'avatars',
  /** On `<p2p-action>`: 'message' (the default) or 'request'. */
  mode: 'mode',
  debug: 'debug',
  interval: 'interval',
} as const
export type AttributeName = (typeof attributes)[keyof typeof attributes]
