/**
 * One-to-many broadcasting: the `p2p` library's Sender and Receiver over a seed-style
 * driver or any of our strategies, with optional viewer relay trees (`fanout`).
 *
 *   import {Sender, Receiver} from 'p2p-elements/broadcast'
 *   new Sender({driver})                       // a driver written for the p2p library, unchanged
 *
 *   import {createBroadcast} from 'p2p-elements/broadcast'
 *   import {strategy} from 'p2p-elements/mqtt'
 *   const {Sender, Receiver} = createBroadcast(strategy)
 *   new Sender({config: {relayUrls: ['wss://...']}, appId: 'my-app'})
 */
import type {Strategy} from '../strategy.js'
import {Receiver} from './receiver.js'
import {Sender} from './sender.js'
import type {ReceiverOptions, SenderOptions} from './types.js'

export {Sender} from './sender.js'
export {Receiver} from './receiver.js'
export {applyBitrate, type Bitrate} from './link.js'
export {isSeedDriver, defaultBroadcastAppId, type SeedDriver} from './bus.js'
export {namespaces} from './common.js'
export * as tree from './tree.js'
export type * from './types.js'

/** Sender and Receiver classes bound to one strategy: `new Sender(options)` needs no `strategy`. */
export const createBroadcast = (strategy: Strategy) => ({
  Sender: class extends Sender {
    constructor(options: Omit<SenderOptions, 'strategy'> = {}) {
      super({...options, strategy} as SenderOptions)
    }
  },
  Receiver: class extends Receiver {
    constructor(options: Omit<ReceiverOptions, 'strategy'> = {}) {
      super({...options, strategy} as ReceiverOptions)
    }
  },
})
