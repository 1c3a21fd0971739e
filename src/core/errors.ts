/** What went wrong, as a stable string a program can switch on. */
export type P2PErrorCode =
  | 'invalid-config' // a config field is missing or has the wrong type
  | 'no-webrtc' // no RTCPeerConnection in this runtime
  | 'action-id' // an action id the wire cannot carry
  | 'peer-left' // the peer left, or its channel closed, before the operation finished
  | 'unknown-peer' // a target that is not in the room
  | 'too-large' // a message over a size limit
  | 'malformed' // a frame or relay message that does not parse
  | 'rejected' // the receiver refused a message (see message for why)
  | 'bad-password' // signaling that could not be decrypted
  | 'strategy' // the signaling network failed
  | 'room-left' // the room was left while the operation was pending

/** Every error this library raises or reports: a message for people, a code for programs. */
export class P2PError extends Error {
  override name = 'P2PError'
  readonly code: P2PErrorCode
  /** The peer the error concerns, if any. */
  readonly peerId?: string

  constructor(code: P2PErrorCode, message: string, peerId?: string) {
    super(message)
    this.code = code
    this.peerId = peerId
  }
}
