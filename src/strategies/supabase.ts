/**
 * `supabase`: peers meet over Supabase Realtime broadcast channels, one channel per topic.
 * `appId` is your project URL (https://PROJECT.supabase.co), `supabaseKey` its anon key.
 * Nothing is stored in your database; Realtime only relays the (encrypted) signaling.
 *
 * Only supabase-js's Realtime client is used (auth, storage and the rest stay out of the
 * bundle); pass your own `supabaseClient` to share its connection and signed-in session.
 */
import type {RealtimeChannel, RealtimeClient, RealtimeClientOptions, SupabaseClient} from '@supabase/supabase-js'
import {createJoinRoom, errorMessage, invalidConfig, selfId, type BaseRoomConfig} from '../core/index.js'
import {defineRelayStrategy} from './shared/builder.js'
import {optionalSdk} from './shared/sdk.js'
import {createSharedClients} from './shared/shared-clients.js'

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
type Channel = {channel: RealtimeChannel; joined: boolean}

/** One Realtime client per (project, key) in a page, shared by its rooms. */
const clients = createSharedClients<RealtimeClient>(realtime => void realtime.disconnect())

/** The socket endpoint supabase-js derives from a project URL: wss://PROJECT.supabase.co/realtime/v1. */
const realtimeUrlOf = (projectUrl: string) => {
  const url = new URL('realtime/v1', projectUrl.endsWith('/') ? projectUrl : `${projectUrl}/`)
  url.protocol = url.protocol.replace('http', 'ws')
  return url.href
}

export const strategy = defineRelayStrategy<SupabaseRoomConfig, typeof import('./sdk/supabase.js')>({
  name: 'supabase',
  validate: config => {
    if (config.supabaseClient) return
    if (!/^https?:\/\//.test(config.appId))
      throw invalidConfig(
        `the supabase strategy takes your project URL as appId (e.g. "https://abcd1234.supabase.co"), not "${config.appId}"`,
      )
    if (typeof config.supabaseKey !== 'string' || !config.supabaseKey)
      throw invalidConfig(
        "the supabase strategy needs config.supabaseKey, your project's anon key (dashboard: Project Settings, API), or your own client as config.supabaseClient",
      )
  },
  sdk: optionalSdk('supabase', '@supabase/supabase-js', () => import('./sdk/supabase.js')),
  connect: (config, room, {RealtimeClient}) => {
    const held = config.supabaseClient
      ? undefined
      : clients.acquire(JSON.stringify([config.appId, config.supabaseKey]), () => {
          const apikey = config.supabaseKey!
          const options = config.realtimeOptions ?? {}
          return new RealtimeClient(realtimeUrlOf(config.appId), {
            ...options,
            params: {...options.params, apikey},
            // No user session: the anon key is the access token, as supabase-js sends when signed out.
            accessToken: options.accessToken ?? (async () => apikey),
          })
        })
    if (held) room.onClose(held.release)
    const client: Realtime = held?.client ?? config.supabaseClient!.realtime
    const channels = new Map<string, Channel>()

    /** The channel for `topic`, joined once and kept for both directions until the room closes. */
    const open = (topic: string): Channel => {
      const existing = channels.get(topic)
      if (existing) return existing
      const channel = client.channel(topic, {config: {broadcast: {self: false, ack: false}}})
      const entry: Channel = {channel, joined: false}
      channels.set(topic, entry)
      channel.on('broadcast', {event: signalEvent}, ({payload}) => {
        const message = (payload as {m?: unknown} | undefined)?.m
        if (typeof message === 'string') room.deliver(topic, message)
      })
      channel.subscribe((status, error) => {
        if (room.closed) return
        if (status === 'SUBSCRIBED') {
          entry.joined = true
          room.flush()
        } else {
          entry.joined = false
          // realtime-js rejoins by itself after errors and timeouts; we only tell the user.
          if (status !== 'CLOSED')
            room.report(
              `channel ${status.toLowerCase()} at ${config.appId}${error ? `: ${error.message}` : ''}; retrying`,
            )
        }
      })
      return entry
    }

    return {
      subscribe: topic => void open(topic),
      publish: (topic, message) => {
        const entry = open(topic)
        // Not joined yet (or rejoining): the builder's queue keeps it until the join.
        if (!entry.joined) return false
        void entry.channel.send({type: 'broadcast', event: signalEvent, payload: {m: message}}).then(
          result => result === 'ok' || room.report(`broadcast not delivered to Realtime (${result})`),
          error => room.report(`broadcast failed: ${errorMessage(error)}`),
        )
      },
      close: () => Promise.allSettled([...channels.values()].map(({channel}) => client.removeChannel(channel))),
    }
  },
})

export const joinRoom = createJoinRoom(strategy)
export {selfId}
