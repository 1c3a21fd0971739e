/**
 * The wire format of the one data channel each pair of peers shares.
 *
 * Every frame starts with a type byte. Action messages are split into chunk frames:
 *
 *   Chunk  [1][nonce u32][index u32][flags u8] payload
 *          flags: 1 last chunk, 2 more to come and the done-ack may wait, 3 both (0: neither)
 *          chunk 0's payload opens with the message header:
 *          [total u32][id length u8][action id utf8][kind u8][meta length u32][meta json]
 *   Ack    [2][nonce u32][received u32][done u8]      receiver → sender: bytes held, after every
 *                                                      16th chunk (~1 MiB) and, done 1, when whole
 *   Acks   [8][nonce u32]…  (1 to maxBatchedAcks)     receiver → sender: these messages arrived
 *                                                      whole; for messages flagged "ack may wait"
 *                                                      (bulk: file chunks), one frame for many
 *   Refuse [3][nonce u32] reason utf8 "code:text"      receiver → sender, message dropped
 *   Ping   [4][id u32]     Pong [5][id u32]
 *   Control [6] json                                    negotiation, media metadata, leave
 *   Keepalive [7]                                       sent only when the channel is otherwise idle
 *
 * Integers are big-endian. A sender numbers its messages with one counter for all its peers;
 * a receiver keys them by the sending peer and the nonce.
 */
export const FrameType = {Chunk: 1, Ack: 2, Refuse: 3, Ping: 4, Pong: 5, Control: 6, Keepalive: 7, Acks: 8} as const
/** Done-acks one Acks frame carries at most. */
export const maxBatchedAcks = 64

export const chunkHeaderSize = 10
/** UTF-8 bytes an action id may take: its length travels in one byte. */
export const maxActionIdBytes = 255
/** Largest message one chunk header can declare. */
export const maxTotalBytes = 0xffff_ffff

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export type MessageHeader = {total: number; actionId: string; kind: number; meta: unknown}

export type Frame =
  | {type: typeof FrameType.Chunk; nonce: number; index: number; last: boolean; lazy?: true; payload: Uint8Array}
  | {type: typeof FrameType.Ack; nonce: number; received: number; done: boolean}
  | {type: typeof FrameType.Acks; nonces: number[]}
  | {type: typeof FrameType.Refuse; nonce: number; reason: string}
  | {type: typeof FrameType.Ping | typeof FrameType.Pong; id: number}
  | {type: typeof FrameType.Control; message: ControlMessage}
  | {type: typeof FrameType.Keepalive}

/** Messages that steer the connection itself rather than carry app data. */
export type ControlMessage =
  | {t: 'sdp'; description: RTCSessionDescriptionInit}
  | {t: 'ice'; candidate: RTCIceCandidateInit}
  | {t: 'stream'; streamId: string; meta: unknown}
  | {t: 'track'; streamId: string; trackId: string; meta: unknown}
  | {t: 'leave'}
  | {t: 'ready'} // this side's onPeerHandshake resolved (handshake.ts)

export class MalformedFrame extends Error {
  override name = 'MalformedFrame'
}

const frame = (type: number, size: number): [Uint8Array<ArrayBuffer>, DataView] => {
  const bytes = new Uint8Array(size)
  bytes[0] = type
  return [bytes, new DataView(bytes.buffer)]
}

/**
 * Frame buffers the outbox hands back once the data channel has copied them (send() copies
 * synchronously), so a bulk transfer writes its frames into the same few warm buffers instead
 * of allocating (and the page zeroing) a fresh 64 KiB buffer per frame. Only buffers made here
 * and given back by `releaseFrame` are reused; a frame nobody releases is simply collected.
 */
const pooled = new WeakSet<ArrayBuffer>()
const free: ArrayBuffer[] = []
const poolLimit = 8
const poolFrameBytes = 64 * 1024

/** Gives a frame from `encodeChunk(..., {pooled: true})` back for reuse; the caller must not touch it again. */
export const releaseFrame = (frame: Uint8Array) => {
  const buffer = frame.buffer as ArrayBuffer
  if (pooled.has(buffer) && free.length < poolLimit && !free.includes(buffer)) free.push(buffer)
}

export const encodeChunk = (
  nonce: number,
  index: number,
  last: boolean,
  parts: Uint8Array[],
  options?: {lazy?: boolean; pooled?: boolean},
) => {
  let size = chunkHeaderSize
  for (const part of parts) size += part.byteLength
  let bytes: Uint8Array<ArrayBuffer>
  if (options?.pooled && size <= poolFrameBytes) {
    let buffer = free.pop()
    if (!buffer) pooled.add((buffer = new ArrayBuffer(poolFrameBytes)))
    bytes = new Uint8Array(buffer, 0, size)
  } else bytes = new Uint8Array(size)
  bytes[0] = FrameType.Chunk
  const view = new DataView(bytes.buffer)
  view.setUint32(1, nonce)
  view.setUint32(5, index)
  bytes[9] = (last ? 1 : 0) | (options?.lazy ? 2 : 0)
  let offset = chunkHeaderSize
  for (const part of parts) {
    bytes.set(part, offset)
    offset += part.byteLength
  }
  return bytes
}

/**
 * The header that opens chunk 0 of a message. It does not check sizes: callers keep the id
 * within `maxActionIdBytes` (makeAction) and the total within `maxTotalBytes` (send). Throws
 * only where JSON.stringify does (a BigInt or a cycle in the metadata).
 */
export const encodeMessageHeader = ({total, actionId, kind, meta}: MessageHeader): Uint8Array => {
  const id = encoder.encode(actionId)
  const metaBytes = meta === undefined ? new Uint8Array(0) : encoder.encode(JSON.stringify(meta))
  const bytes = new Uint8Array(4 + 1 + id.byteLength + 1 + 4 + metaBytes.byteLength)
  const view = new DataView(bytes.buffer)
  view.setUint32(0, total)
  bytes[4] = id.byteLength
  bytes.set(id, 5)
  bytes[5 + id.byteLength] = kind
  view.setUint32(6 + id.byteLength, metaBytes.byteLength)
  bytes.set(metaBytes, 10 + id.byteLength)
  return bytes
}

/** Splits chunk 0's payload into the header and the first slice of the message body. */
export const decodeMessageHeader = (payload: Uint8Array): {header: MessageHeader; body: Uint8Array} => {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
  const need = (n: number) => {
    if (payload.byteLength < n) throw new MalformedFrame('message header is truncated')
  }
  need(5)
  const total = view.getUint32(0)
  const idLength = payload[4]!
  need(10 + idLength)
  const actionId = decoder.decode(payload.subarray(5, 5 + idLength))
  const kind = payload[5 + idLength]!
  const metaLength = view.getUint32(6 + idLength)
  const metaStart = 10 + idLength
  need(metaStart + metaLength)
  let meta: unknown
  try {
    meta = metaLength ? JSON.parse(decoder.decode(payload.subarray(metaStart, metaStart + metaLength))) : undefined
  } catch {
    throw new MalformedFrame('message metadata is not JSON')
  }
  return {header: {total, actionId, kind, meta}, body: payload.subarray(metaStart + metaLength)}
}

export const encodeAck = (nonce: number, received: number, done: boolean) => {
  const [bytes, view] = frame(FrameType.Ack, 10)
  view.setUint32(1, nonce)
  view.setUint32(5, received)
  bytes[9] = done ? 1 : 0
  return bytes
}

/** One frame acknowledging several whole messages (their nonces, 1 to maxBatchedAcks). */
export const encodeAcks = (nonces: number[]) => {
  const [bytes, view] = frame(FrameType.Acks, 1 + 4 * nonces.length)
  for (let i = 0; i < nonces.length; i++) view.setUint32(1 + 4 * i, nonces[i]!)
  return bytes
}

export const encodeRefuse = (nonce: number, reason: string) => {
  const text = encoder.encode(reason)
  const [bytes, view] = frame(FrameType.Refuse, 5 + text.byteLength)
  view.setUint32(1, nonce)
  bytes.set(text, 5)
  return bytes
}

export const encodePing = (type: typeof FrameType.Ping | typeof FrameType.Pong, id: number) => {
  const [bytes, view] = frame(type, 5)
  view.setUint32(1, id)
  return bytes
}

export const encodeControl = (message: ControlMessage) => {
  const text = encoder.encode(JSON.stringify(message))
  const [bytes] = frame(FrameType.Control, 1 + text.byteLength)
  bytes.set(text, 1)
  return bytes
}

export const encodeKeepalive = () => frame(FrameType.Keepalive, 1)[0]

const controlKinds = new Set(['sdp', 'ice', 'stream', 'track', 'leave', 'ready'])

/** Parses one frame; throws `MalformedFrame` for anything that is not a frame we sent. */
export const decodeFrame = (data: ArrayBuffer): Frame => {
  const bytes = new Uint8Array(data)
  const view = new DataView(data)
  const need = (n: number) => {
    if (bytes.byteLength < n) throw new MalformedFrame(`frame of type ${bytes[0]} is truncated`)
  }
  need(1)
  const type = bytes[0]
  switch (type) {
    case FrameType.Chunk:
      need(chunkHeaderSize)
      return {
        type,
        nonce: view.getUint32(1),
        index: view.getUint32(5),
        // Only the flag values we send mean anything (see the table above); others are "neither".
        last: bytes[9] === 1 || bytes[9] === 3,
        ...(bytes[9] === 2 || bytes[9] === 3 ? {lazy: true as const} : {}),
        payload: bytes.subarray(chunkHeaderSize),
      }
    case FrameType.Ack:
      need(10)
      return {type, nonce: view.getUint32(1), received: view.getUint32(5), done: bytes[9] === 1}
    case FrameType.Refuse:
      need(5)
      return {type, nonce: view.getUint32(1), reason: decoder.decode(bytes.subarray(5))}
    case FrameType.Ping:
    case FrameType.Pong:
      need(5)
      return {type, id: view.getUint32(1)}
    case FrameType.Control: {
      let message: unknown
      try {
        message = JSON.parse(decoder.decode(bytes.subarray(1)))
      } catch {
        throw new MalformedFrame('control frame is not JSON')
      }
      const t = (message as {t?: unknown} | null)?.t
      if (typeof t !== 'string' || !controlKinds.has(t)) throw new MalformedFrame('unknown control message')
      return {type, message: message as ControlMessage}
    }
    case FrameType.Keepalive:
      return {type}
    case FrameType.Acks: {
      const count = (bytes.byteLength - 1) / 4
      if (!Number.isInteger(count) || count < 1 || count > maxBatchedAcks)
        throw new MalformedFrame(`an acks frame of ${bytes.byteLength} bytes`)
      const nonces: number[] = []
      for (let i = 0; i < count; i++) nonces.push(view.getUint32(1 + 4 * i))
      return {type, nonces}
    }
    default:
      throw new MalformedFrame(`unknown frame type ${type}`)
  }
}
