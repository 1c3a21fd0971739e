/**
 * The wire format of the one data channel each pair of peers shares.
 *
 * Every frame starts with a type byte. Action messages are split into chunk frames:
 *
 *   Chunk  [1][nonce u32][index u32][last u8] payload
 *          chunk 0's payload opens with the message header:
 *          [total u32][id length u8][action id utf8][kind u8][meta length u32][meta json]
 *   Ack    [2][nonce u32][received u32][done u8]      receiver → sender: bytes held, after every
 *                                                      16th chunk (~1 MiB) and, done 1, when whole
 *   Refuse [3][nonce u32] reason utf8 "code:text"      receiver → sender, message dropped
 *   Ping   [4][id u32]     Pong [5][id u32]
 *   Control [6] json                                    negotiation, media metadata, leave
 *   Keepalive [7]                                       sent only when the channel is otherwise idle
 *
 * Integers are big-endian. A sender numbers its messages with one counter for all its peers;
 * a receiver keys them by the sending peer and the nonce.
 */
export const FrameType = {Chunk: 1, Ack: 2, Refuse: 3, Ping: 4, Pong: 5, Control: 6, Keepalive: 7} as const

export const chunkHeaderSize = 10
/** UTF-8 bytes an action id may take: its length travels in one byte. */
export const maxActionIdBytes = 255
/** Largest message one chunk header can declare. */
export const maxTotalBytes = 0xffff_ffff

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export type MessageHeader = {total: number; actionId: string; kind: number; meta: unknown}

export type Frame =
  | {type: typeof FrameType.Chunk; nonce: number; index: number; last: boolean; payload: Uint8Array}
  | {type: typeof FrameType.Ack; nonce: number; received: number; done: boolean}
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

export const encodeChunk = (nonce: number, index: number, last: boolean, parts: Uint8Array[]) => {
  const size = parts.reduce((sum, part) => sum + part.byteLength, 0)
  const [bytes, view] = frame(FrameType.Chunk, chunkHeaderSize + size)
  view.setUint32(1, nonce)
  view.setUint32(5, index)
  bytes[9] = last ? 1 : 0
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
        last: bytes[9] === 1,
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
    default:
      throw new MalformedFrame(`unknown frame type ${type}`)
  }
}
