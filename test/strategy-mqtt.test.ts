import {relayStrategySuite} from './helpers/relay-strategy-suite.js'

relayStrategySuite({entry: '/src/strategies/mqtt.ts', server: 'mqtt', downUrl: 'ws://127.0.0.1:1/mqtt'})
