/**
 * What went wrong, as a stable string a program can switch on. This list is the whole
 * error model: every error the library raises, rejects with or reports carries one of
 * these codes. The README's "Errors" table says, for each, when it happens and what to do.
 */
export type P2PErrorCode =
  | 'invalid-config' // a config field or argument is missing or has the wrong type
  | 'missing-dependency' // a strategy's SDK is not installed (the message names the package)
  | 'no-webrtc' // no RTCPeerConnection in this runtime, or the browser refused to make another
  | 'action-id' // an action id the wire cannot carry
  | 'peer-left' // the peer left, or its channel closed, before the operation finished
  | 'unknown-peer' // a target that is not in the room
  | 'no-peers' // an operation that needs at least one peer found none
  | 'no-room' // an element that needs a <p2p-room> has none
  | 'unreadable' // a local file or stream could not be read
  | 'too-large' // a message over a size limit
  | 'malformed' // a frame or relay message that does not parse
  | 'rejected' // the other side refused (a message, or this peer at its verify gate)
  | 'bad-password' // signaling that could not be decrypted: the peers' passwords differ
  | 'handshake' // the app's onPeerHandshake rejected or timed out
  | 'ice-failed' // offers and answers were exchanged but no network path was found
  | 'strategy' // the signaling network failed
  | 'room-left' // the room was left while the operation was pending
  | 'remote-error' // the peer's request handler threw, or it has none for that action
  | 'timeout' // a request got no reply within its timeoutMs, or a transfer was idle / unanswered for too long
  | 'aborted' // the caller's AbortSignal stopped a request
  | 'declined' // the receiver's onFile declined the file (or has no onFile)
  | 'busy' // the receiver already takes as many files from this peer as it allows
  | 'cancelled' // the transfer was cancelled, by this side or the other
  | 'integrity' // received bytes did not match their SHA-256
  | 'flood' // a peer sent too many malformed or orphan messages and was disconnected
  | 'no-route' // a relayed member stayed unreachable through the overlay; pending sends to it were rejected
  | 'no-sources' // a swarm download has no source left that holds the file (all declined, left or were dropped)
  | 'resume-lost' // a stream transfer whose connection dropped could not resume: the other side no longer holds it (its page reloaded)

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

/** The message of anything thrown or rejected: an Error's message, else the value as text. */
export const errorMessage = (error: unknown): string =>
  error instanceof Error ||
  (typeof error === 'object' && error !== null && typeof (error as Error).message === 'string')
    ? (error as Error).message
    : String(error)

/** A config mistake: what is wrong and what to pass instead. */
export const invalidConfig = (message: string): P2PError => new P2PError('invalid-config', `p2p-elements: ${message}`)
