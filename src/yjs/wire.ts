/**
 * The provider's wire format: y-protocols' messages as y-websocket and y-webrtc frame them,
 * one message per action payload.
 *
 *   sync       varUint 0, then a y-protocols sync message: varUint 0 (step 1, a state vector),
 *              1 (step 2, an update) or 2 (an update), then varUint8Array payload
 *   awareness  varUint 1, then varUint8Array of a y-protocols awareness update:
 *              varUint count, then per client varUint clientID, varUint clock, varString JSON state
 *
 * Everything here parses untrusted bytes: each reader returns `undefined` for anything that
 * is not exactly one well-formed message (short, long, unknown type, numbers past 2^53,
 * invalid UTF-8 or JSON), and never throws. Written here rather than with lib0 so the package
 * needs only `yjs` and `y-protocols` (lib0's decoders throw on bad input, and pnpm does not let
 * us import a dependency of a dependency).
 */
import {messageYjsSyncStep1, messageYjsSyncStep2, messageYjsUpdate} from 'y-protocols/sync'

export const messageSync = 0
export const messageAwareness = 1
export {messageYjsSyncStep1, messageYjsSyncStep2, messageYjsUpdate}

export type SyncMessage = {kind: 'sync'; step: 0 | 1 | 2; payload: Uint8Array}
export type AwarenessEntry = {clientID: number; clock: number; state: unknown; json: string}
export type AwarenessMessage = {kind: 'awareness'; entries: AwarenessEntry[]}

/** Awareness entries one message may carry; a peer only speaks for its own client (one, rarely a few). */
export const maxAwarenessEntries = 16

class Reader {
  offset = 0
  constructor(readonly bytes: Uint8Array) {}
  varUint(): number | undefined {
    let value = 0
    for (let shift = 1; this.offset < this.bytes.length; shift *= 128) {
      const byte = this.bytes[this.offset++]
      value += (byte & 0x7f) * shift
      if (value > Number.MAX_SAFE_INTEGER) return undefined
      if (byte < 0x80) return value
    }
    return undefined
  }
  varBytes(): Uint8Array | undefined {
    const length = this.varUint()
    if (length === undefined || length > this.bytes.length - this.offset) return undefined
    const slice = this.bytes.subarray(this.offset, this.offset + length)
    this.offset += length
    return slice
  }
  get done() {
    return this.offset === this.bytes.length
  }
}

const strictUtf8 = new TextDecoder('utf-8', {fatal: true})
const utf8 = new TextEncoder()

const readAwareness = (bytes: Uint8Array): AwarenessEntry[] | undefined => {
  const reader = new Reader(bytes)
  const count = reader.varUint()
  if (count === undefined || count > maxAwarenessEntries) return undefined
  const entries: AwarenessEntry[] = []
  for (let i = 0; i < count; i++) {
    const clientID = reader.varUint()
    const clock = reader.varUint()
    const text = reader.varBytes()
    if (clientID === undefined || clock === undefined || !text) return undefined
    try {
      const json = strictUtf8.decode(text)
      entries.push({clientID, clock, state: JSON.parse(json), json})
    } catch {
      return undefined
    }
  }
  return reader.done ? entries : undefined
}

/** One message from a peer, or undefined if it is not exactly one well-formed message. */
export const readMessage = (bytes: Uint8Array): SyncMessage | AwarenessMessage | undefined => {
  const reader = new Reader(bytes)
  const type = reader.varUint()
  if (type === messageSync) {
    const step = reader.varUint()
    const payload = reader.varBytes()
    if (!payload || !reader.done) return undefined
    if (step !== messageYjsSyncStep1 && step !== messageYjsSyncStep2 && step !== messageYjsUpdate) return undefined
    return {kind: 'sync', step, payload}
  }
  if (type === messageAwareness) {
    const update = reader.varBytes()
    if (!update || !reader.done) return undefined
    const entries = readAwareness(update)
    return entries && {kind: 'awareness', entries}
  }
  return undefined
}

class Writer {
  private parts: number[] = []
  private chunks: Uint8Array[] = []
  varUint(value: number) {
    while (value > 0x7f) {
      this.parts.push(0x80 | (value % 128))
      value = Math.floor(value / 128)
    }
    this.parts.push(value)
    return this
  }
  varBytes(bytes: Uint8Array) {
    this.varUint(bytes.length)
    this.chunks.push(Uint8Array.from(this.parts), bytes)
    this.parts = []
    return this
  }
  finish(): Uint8Array {
    this.chunks.push(Uint8Array.from(this.parts))
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0))
    let offset = 0
    for (const chunk of this.chunks) out.set(chunk, offset), (offset += chunk.length)
    return out
  }
}

export const encodeSync = (step: 0 | 1 | 2, payload: Uint8Array) =>
  new Writer().varUint(messageSync).varUint(step).varBytes(payload).finish()

/** Wraps an awareness update (from y-protocols' encodeAwarenessUpdate) as a message. */
export const encodeAwareness = (update: Uint8Array) => new Writer().varUint(messageAwareness).varBytes(update).finish()

/** An awareness update (the inner y-protocols format) of already-validated entries. */
export const encodeAwarenessEntries = (entries: readonly AwarenessEntry[]) => {
  const writer = new Writer().varUint(entries.length)
  for (const {clientID, clock, json} of entries) writer.varUint(clientID).varUint(clock).varBytes(utf8.encode(json))
  return writer.finish()
}
