import {relayStrategySuite} from './helpers/relay-strategy-suite.js'

relayStrategySuite({entry: '/src/strategies/torrent.ts', server: 'tracker', downUrl: 'ws://127.0.0.1:1'})
