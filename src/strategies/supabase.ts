/**
 * `supabase`: peers meet over Supabase Realtime broadcast channels, one channel per topic.
 * `appId` is your project URL (https://PROJECT.supabase.co), `supabaseKey` its anon key.
 * Nothing is stored in your database; Realtime only relays the (encrypted) signaling.
 */
import {createClient, type RealtimeChannel, type SupabaseClient, type SupabaseClientOptions} from '@supabase/supabase-js'
import {createJoinRoom, defineStrategy, selfId, type BaseRoomConfig} from '../core/index.js'

export type SupabaseRoomConfig = BaseRoomConfig & {
  /** Your project's anon (publishable) key, from the dashboard's API settings. */
  supabaseKey: string
  /** Passed to `createClient`; e.g. `{realtime: {transport: WebSocket}}` where the runtime has no WebSocket (Node 20). */
  supabaseOptions?: SupabaseClientOptions<'public'>
}

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

/** One client per (project, key) in a page, shared by its rooms: Supabase warns about duplicate auth clients. */
const clients = new Map<string, {client: SupabaseClient; users: number}>()

const acquireClient = (config: SupabaseRoomConfig) => {
  const key = JSON.stringify([config.appId, config.supabaseKey])
  let entry = clients.get(key)
  if (!entry) {
    const options = config.supabaseOptions ?? {}
    const client = createClient(config.appId, config.supabaseKey, {
      ...options,
      // Signaling needs no user session: keep auth from touching storage or the URL.
      auth: {persistSession: false, autoRefreshToken: false, detectSessionInUrl: false, ...options.auth},
    })
    entry = {client, users: 0}
    clients.set(key, entry)
  }
  entry.users++
  const held = entry
  return {
    client: held.client,
    release: () => {
      if (--held.users > 0) return
      clients.delete(key)
      held.client.realtime.disconnect()
    },
  }
}

export const strategy = defineStrategy<SupabaseRoomConfig>({
  name: 'supabase',
  validate: config => {
    if (!/^https?:\/\//.test(config.appId))
      throw new TypeError(
        `p2p-elements: the supabase strategy takes your project URL as appId (e.g. "https://abcd1234.supabase.co"), not "${config.appId}"`,
      )
    if (typeof config.supabaseKey !== 'string' || !config.supabaseKey)
      throw new TypeError(
        "p2p-elements: the supabase strategy needs config.supabaseKey, your project's anon key (dashboard: Project Settings, API)",
      )
  },
  connect: (config, context) => {
    const {client, release} = acquireClient(config)
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
      const channel = client.channel(topic, {config: {broadcast: {self: false, ack: false}}})
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
            context.onError(`channel ${status.toLowerCase()} at ${config.appId}${error ? `: ${error.message}` : ''}; retrying`)
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
        void Promise.allSettled(channels.map(channel => client.removeChannel(channel))).then(release)
      },
    }
  },
})

export const joinRoom = createJoinRoom(strategy)
export {selfId}
