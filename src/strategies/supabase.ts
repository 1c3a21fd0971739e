/**
 * `supabase`: peers meet over Supabase Realtime broadcast channels, one channel per topic.
 * `appId` is your project URL (https://PROJECT.supabase.co), `supabaseKey` its anon key.
 * Nothing is stored in your database; Realtime only relays the (encrypted) signaling.
 *
 * Only supabase-js's Realtime client is used (auth, storage and the rest stay out of the
 * bundle); pass your own `supabaseClient` to share its connection and signed-in session.
 */
import {
  RealtimeClient,
  type RealtimeChannel,
  type RealtimeClientOptions,
  type SupabaseClient,
} from '@supabase/supabase-js'
import {createJoinRoom, defineStrategy, selfId, type BaseRoomConfig} from '../core/index.js'
import {createSharedClients} from './shared-clients.js'

export type SupabaseRoomConfig = BaseRoomConfig & {
  /** Your project's anon (publishable) key, from the dashboard's API settings. */
  supabaseKey?: string
  /** A client you already made with `createClient`: its Realtime connection is used (then supabaseKey is not needed). */
  supabaseClient?: SupabaseClient
  /** Options for the Realtime client we make, e.g. `{transport: WebSocket}` where the runtime has none (Node 20). */
  realtimeOptions?: RealtimeClientOptions
}

type Realtime = Pick<RealtimeClient, 'channel' | 'removeChannel' | 'disconnect'>

/** The broadcast event name our messages travel under on every channel. */
const signalEvent = 'p2p-signal'
/** Messages published before a channel's join completes wait here; more than this means the socket is down, so drop the oldest. */
const maxQueuedPerTopic = 50

type Topic = {
  channel: RealtimeChannel
  listeners: Set<(message: string) => void>
  joined: boolean
  queue: string[]
}

/** One Realtime client per (project, key) in a page, shared by its rooms. */
const clients = createSharedClients<RealtimeClient>(realtime => void realtime.disconnect())

/** The socket endpoint supabase-js derives from a project URL: wss://PROJECT.supabase.co/realtime/v1. */
const realtimeUrlOf = (projectUrl: string) => {
  const url = new URL('realtime/v1', projectUrl.endsWith('/') ? projectUrl : `${projectUrl}/`)
  url.protocol = url.protocol.replace('http', 'ws')
  return url.href
}

const acquireRealtime = (config: SupabaseRoomConfig): {realtime: Realtime; release: () => void} => {
  if (config.supabaseClient) return {realtime: config.supabaseClient.realtime, release: () => {}}
  const key = JSON.stringify([config.appId, config.supabaseKey])
  const {client, release} = clients.acquire(key, () => {
    const apikey = config.supabaseKey!
    const options = config.realtimeOptions ?? {}
    return new RealtimeClient(realtimeUrlOf(config.appId), {
      ...options,
      params: {...options.params, apikey},
      // No user session: the anon key is the access token, as supabase-js sends when signed out.
      accessToken: options.accessToken ?? (async () => apikey),
    })
  })
  return {realtime: client, release}
}

export const strategy = defineStrategy<SupabaseRoomConfig>({
  name: 'supabase',
  validate: config => {
    if (config.supabaseClient) return
    if (!/^https?:\/\//.test(config.appId))
      throw new TypeError(
        `p2p-elements: the supabase strategy takes your project URL as appId (e.g. "https://abcd1234.supabase.co"), not "${config.appId}"`,
      )
    if (typeof config.supabaseKey !== 'string' || !config.supabaseKey)
      throw new TypeError(
        "p2p-elements: the supabase strategy needs config.supabaseKey, your project's anon key (dashboard: Project Settings, API), or your own client as config.supabaseClient",
      )
  },
  connect: (config, context) => {
    const {realtime, release} = acquireRealtime(config)
    const topics = new Map<string, Topic>()
    let closed = false

    const send = (entry: Topic, message: string) =>
      entry.channel.send({type: 'broadcast', event: signalEvent, payload: {m: message}}).then(
        result => result === 'ok' || context.onError(`broadcast not delivered to Realtime (${result})`),
        error => context.onError(`broadcast failed: ${error?.message ?? error}`),
      )

    /** The channel for `topic`, joined once and kept for both directions until the room closes. */
    const open = (topic: string): Topic => {
      const existing = topics.get(topic)
      if (existing) return existing
      const channel = realtime.channel(topic, {config: {broadcast: {self: false, ack: false}}})
      const entry: Topic = {channel, listeners: new Set(), joined: false, queue: []}
      topics.set(topic, entry)
      channel.on('broadcast', {event: signalEvent}, ({payload}) => {
        const message = (payload as {m?: unknown} | undefined)?.m
        if (typeof message === 'string') for (const listener of entry.listeners) listener(message)
      })
      channel.subscribe((status, error) => {
        if (closed) return
        if (status === 'SUBSCRIBED') {
          entry.joined = true
          for (const message of entry.queue.splice(0)) void send(entry, message)
        } else {
          entry.joined = false
          // realtime-js rejoins by itself after errors and timeouts; we only tell the user.
          if (status !== 'CLOSED')
            context.onError(
              `channel ${status.toLowerCase()} at ${config.appId}${error ? `: ${error.message}` : ''}; retrying`,
            )
        }
      })
      return entry
    }

    return {
      subscribe: (topic, onMessage) => {
        const entry = open(topic)
        entry.listeners.add(onMessage)
        return () => void entry.listeners.delete(onMessage)
      },
      publish: (topic, message) => {
        if (closed) return
        const entry = open(topic)
        if (entry.joined) return void send(entry, message)
        entry.queue.push(message)
        if (entry.queue.length > maxQueuedPerTopic) entry.queue.shift()
      },
      close: () => {
        closed = true
        const channels = [...topics.values()].map(({channel}) => channel)
        topics.clear()
        void Promise.allSettled(channels.map(channel => realtime.removeChannel(channel))).then(release)
      },
    }
  },
})

export const joinRoom = createJoinRoom(strategy)
export {selfId}
