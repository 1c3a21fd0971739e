import {P2PError} from './errors.js'
import type {DataPayload} from './types.js'

/** How a value travels, so it arrives as the same type. */
export const ValueKind = {Undefined: 0, Text: 1, Json: 2, Binary: 3} as const
export type ValueKind = (typeof ValueKind)[keyof typeof ValueKind]

const encoder = new TextEncoder()
const decoder = new TextDecoder()

// Tag checks rather than instanceof, so values made in another realm (an iframe, a worker's
// structured clone) are recognized too.
const tagOf = (value: unknown) => Object.prototype.toString.call(value)
const isArrayBuffer = (value: unknown): value is ArrayBuffer => tagOf(value) === '[object ArrayBuffer]'
const isBlob = (value: unknown): value is Blob => tagOf(value) === '[object Blob]' || tagOf(value) === '[object File]'

/** Bytes and kind for any sendable value. Blobs are read here, once. */
export const encodeValue = async (value: DataPayload): Promise<{kind: ValueKind; bytes: Uint8Array}> => {
  if (value === undefined) return {kind: ValueKind.Undefined, bytes: new Uint8Array(0)}
  if (typeof value === 'string') return {kind: ValueKind.Text, bytes: encoder.encode(value)}
  if (isArrayBuffer(value)) return {kind: ValueKind.Binary, bytes: new Uint8Array(value)}
  if (ArrayBuffer.isView(value))
    return {kind: ValueKind.Binary, bytes: new Uint8Array(value.buffer, value.byteOffset, value.byteLength)}
  if (isBlob(value)) return {kind: ValueKind.Binary, bytes: new Uint8Array(await value.arrayBuffer())}
  return {kind: ValueKind.Json, bytes: encoder.encode(JSON.stringify(value))}
}

/** The value a receiver hands to the app; throws a 'malformed' P2PError on bytes that do not decode as their kind. */
export const decodeValue = (kind: number, bytes: Uint8Array): unknown => {
  switch (kind) {
    case ValueKind.Undefined:
      return undefined
    case ValueKind.Text:
      return decoder.decode(bytes)
    case ValueKind.Json:
      try {
        return JSON.parse(decoder.decode(bytes))
      } catch {
        throw new P2PError('malformed', `a JSON value of ${bytes.byteLength} bytes that does not parse`)
      }
    case ValueKind.Binary:
      return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
        ? bytes.buffer
        : bytes.slice().buffer
    default:
      throw new P2PError('malformed', `unknown value kind ${kind}`)
  }
}
