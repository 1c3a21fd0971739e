/**
 * `local`: peers are pages of one origin in one browser (tabs, windows, iframes), meeting
 * over BroadcastChannel. No server, no network; also the fastest way to test.
 */
import {createJoinRoom, defineStrategy, selfId, type BaseRoomConfig} from '../core/index.js'

export type LocalRoomConfig = BaseRoomConfig

export const strategy = defineStrategy<LocalRoomConfig>({
  name: 'local',
  connect: () => {
    if (typeof BroadcastChannel === 'undefined')
      throw new Error('the local strategy needs BroadcastChannel (browsers, Deno, Node 18+)')
    const channels = new Set<BroadcastChannel>()
    return {
      subscribe: (topic, onMessage) => {
        const channel = new BroadcastChannel(topic)
        channel.onmessage = event => onMessage(event.data)
        channels.add(channel)
        return () => {
          channel.close()
          channels.delete(channel)
        }
      },
      publish: (topic, message) => {
        const channel = new BroadcastChannel(topic)
        channel.postMessage(message)
        channel.close()
      },
      close: () => {
        for (const channel of channels) channel.close()
        channels.clear()
      },
    }
  },
})

export const joinRoom = createJoinRoom(strategy)
export {selfId}
