import {relayStrategySuite} from './helpers/relay-strategy-suite.js'

relayStrategySuite({entry: '/src/strategies/nostr.ts', server: 'nostr', downUrl: 'ws://127.0.0.1:1'})
