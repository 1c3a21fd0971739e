/**
 * `local`: peers are pages of one origin in one browser (tabs, windows, iframes), meeting
 * over BroadcastChannel. No server, no network; also the fastest way to test.
 */
import {createJoinRoom, defineStrategy, selfId, type BaseRoomConfig} from '../core/index.js'

export type LocalRoomConfig = BaseRoomConfig

export const strategy = defineStrategy<LocalRoomConfig>({
  name: 'local',
  connect: (_config, context) => {
    if (typeof BroadcastChannel === 'undefined') {
      // The contract's error path, not a throw: the room exists, it just meets no one.
      context.onError('the local strategy needs BroadcastChannel (browsers, Deno, Node 18+)')
      return {subscribe: () => () => {}, publish: () => {}, close: () => {}}
    }
    const channels = new Set<BroadcastChannel>()
    let closed = false
    return {
      subscribe: (topic, onMessage) => {
        if (closed) return () => {}
        const channel = new BroadcastChannel(topic)
        channel.onmessage = event => onMessage(event.data)
        channels.add(channel)
        return () => {
          channel.close()
          channels.delete(channel)
        }
      },
      publish: (topic, message) => {
        if (closed) return
        const channel = new BroadcastChannel(topic)
        channel.postMessage(message)
        channel.close()
      },
      close: () => {
        closed = true
        for (const channel of channels) channel.close()
        channels.clear()
      },
    }
  },
})

export const joinRoom = createJoinRoom(strategy)
export {selfId}
