// Several strategies at once: diagnostics see the relays of every network, and a network
// whose relays() throws or is missing hides nothing of the others.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {deferredSignaling, fanOutSignaling} from '../../dist/lib/core/multi-strategy.js'

const network = relays => ({subscribe: () => () => {}, publish: () => {}, close: () => {}, relays})

test('the combined signaling lists every network’s relays', async () => {
  const nostr = network(() => [{url: 'ws://127.0.0.1:1/nostr', state: 'open'}])
  const mqtt = network(() => [{url: 'ws://127.0.0.1:2/mqtt', state: 'down'}])
  const broken = network(() => {
    throw new Error('no')
  })
  const late = deferredSignaling(Promise.resolve(network(() => [{url: 'wss://late', state: 'connecting'}])))
  const combined = fanOutSignaling([nostr, mqtt, broken, network(undefined), late])
  assert.deepEqual(
    combined.relays().map(relay => relay.url),
    ['ws://127.0.0.1:1/nostr', 'ws://127.0.0.1:2/mqtt'],
  )
  await new Promise(resolve => setTimeout(resolve, 0))
  assert.deepEqual(
    combined.relays().map(relay => `${relay.url} ${relay.state}`),
    ['ws://127.0.0.1:1/nostr open', 'ws://127.0.0.1:2/mqtt down', 'wss://late connecting'],
  )
})

test('preconnect reaches every network, with its own config, also one still loading; one throwing stops none', async () => {
  const {combineStrategies} = await import('../../dist/lib/core/multi-strategy.js')
  const warmed = []
  const part = (name, extra = {}) => ({
    name,
    connect: () => network(undefined),
    preconnect: config => warmed.push([name, config.relayUrls]),
    ...extra,
  })
  const broken = part('broken', {
    preconnect: () => {
      throw new Error('no')
    },
  })
  const combined = combineStrategies(
    broken,
    part('nostr'),
    {name: 'mqtt', load: async () => part('mqtt')},
    {name: 'gone', load: () => Promise.reject(new Error('no module'))},
  )
  combined.preconnect({appId: 'a', relayUrls: ['ws://shared'], strategyConfig: {mqtt: {relayUrls: ['ws://own']}}})
  await new Promise(resolve => setTimeout(resolve, 0))
  assert.deepEqual(warmed, [
    ['nostr', ['ws://shared']],
    ['mqtt', ['ws://own']],
  ])
})
