import {P2PError, invalidConfig} from '../errors.js'
import {randomId} from '../ids.js'
import {defaultIceServers} from '../room.js'
import {isSeedDriver} from './bus.js'
import type {CommonOptions} from './types.js'

/**
 * What Sender and Receiver share: option checks, the seed's namespaces, and the framing of
 * app messages on a viewer's data channel.
 *
 * Namespaces (as in the `p2p` library):
 *   ['sender', room]            receivers' invokes       ['receiver', room]        senders' invokes, disposes
 *   ['sender', room, senderId]  answers, invokes, leaves ['receiver', room, id]    offers, rejects, tree orders
 */
export const namespaces = {
  senders: (room: string) => ['sender', room],
  sender: (room: string, id: string) => ['sender', room, id],
  receivers: (room: string) => ['receiver', room],
  receiver: (room: string, id: string) => ['receiver', room, id],
}

/** Seed defaults, in seconds. */
export const defaultConnectionTimeout = 30
export const defaultQueueSize = 10
export const defaultPingInterval = 30
export const defaultPingAttempts = 10

/** A node id: random per start(), so a restarted sender or receiver is a new peer. */
export const newId = () => randomId(20)

export const checkCommon = (options: CommonOptions, who: string) => {
  if (!options || typeof options !== 'object') throw invalidConfig(`new ${who}(options) needs an options object`)
  if (options.driver === undefined && options.strategy === undefined)
    throw invalidConfig(
      `new ${who}({driver}) needs a signaling driver (on/off/emit) or a strategy, e.g. createBroadcast(strategy)`,
    )
  if (options.driver !== undefined && !isSeedDriver(options.driver))
    throw invalidConfig(
      `${who}: driver must have on(namespace, handler), off(namespace, handler) and emit(namespace, message)`,
    )
  if (options.strategy !== undefined && typeof options.strategy?.connect !== 'function')
    throw invalidConfig(`${who}: strategy must be one of ours, e.g. import {strategy} from 'p2p-elements/mqtt'`)
  for (const name of [
    'connectionTimeout',
    'queueSize',
    'pingInterval',
    'pingAttempts',
    'audioBitrate',
    'videoBitrate',
    'fanout',
  ])
    if (name in options) {
      const value = (options as Record<string, unknown>)[name]
      if (value !== undefined && !(typeof value === 'number' && value >= 0))
        throw invalidConfig(`${who}: ${name} must be a non-negative number, not ${String(value)}`)
    }
}

export const rtcOf = (options: CommonOptions): typeof RTCPeerConnection => {
  const RTC = options.rtcPolyfill ?? (globalThis as {RTCPeerConnection?: typeof RTCPeerConnection}).RTCPeerConnection
  if (!RTC)
    throw new P2PError('no-webrtc', 'p2p-elements: this runtime has no RTCPeerConnection; pass one as rtcPolyfill')
  return RTC
}

export const iceServersOf = (options: CommonOptions) => options.iceServers ?? defaultIceServers

export const roomOf = (room: unknown): string => {
  if (room === undefined) return 'default'
  if (typeof room !== 'string' || !room) throw invalidConfig('start({room}): room must be a non-empty string')
  return room
}

/**
 * App messages on a data channel: text frames are JSON `{d: value}` (so any JSON value
 * arrives as it was sent), binary frames go as they are. In a relay tree a message for one
 * viewer carries its remaining route, `{d, to: [next, ..., target]}`, and a binary one is
 * announced by `{b: 1, to}` just before it (the channel is ordered).
 */
export type Routed = {data: unknown; to?: string[]}

export const encodeMessage = (data: unknown, to?: string[]): (string | ArrayBuffer | ArrayBufferView)[] => {
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return to ? [JSON.stringify({b: 1, to}), data] : [data]
  return [JSON.stringify(to ? {d: data ?? null, to} : {d: data ?? null})]
}

/** Turns frames back into messages; `pending` holds the route of an announced binary frame. */
export const createDecoder = () => {
  let pending: string[] | undefined
  return (frame: string | ArrayBuffer): Routed | undefined => {
    if (typeof frame !== 'string') {
      const to = pending
      pending = undefined
      return {data: frame, to}
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(frame)
    } catch {
      return {data: frame} // written to the channel by hand: hand it over as text
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {data: parsed}
    const {d, b, to} = parsed as {d?: unknown; b?: unknown; to?: unknown}
    const route = Array.isArray(to) && to.every(hop => typeof hop === 'string') ? (to as string[]) : undefined
    if (b === 1) {
      pending = route
      return undefined
    }
    return 'd' in parsed ? {data: d, to: route} : {data: parsed}
  }
}

export const isState = (value: unknown): value is Record<string, unknown> =>
  !!value && typeof value === 'object' && !Array.isArray(value)

export const fire = <M, K extends keyof M & string>(target: EventTarget, type: K, detail: M[K]) =>
  target.dispatchEvent(new CustomEvent(type, {detail}))
