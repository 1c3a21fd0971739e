// Every strategy's config check throws an `invalid-config` P2PError that says what to fix,
// and a strategy that cannot run here says so through onError instead of throwing.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'

const load = name => import(`../../dist/lib/strategies/${name}.js`)

const mistakes = [
  ['nostr', {relayUrls: ['https://not-a-socket']}, /relayUrls must be a non-empty array of ws:\/\/ or wss:\/\//],
  ['nostr', {relayRedundancy: 0}, /relayRedundancy must be a positive integer/],
  ['mqtt', {relayUrls: []}, /relayUrls must be a non-empty array/],
  ['torrent', {WebSocket: 'ws'}, /config\.WebSocket must be a WebSocket constructor/],
  ['supabase', {appId: 'my-app', supabaseKey: 'k'}, /takes your project URL as appId/],
  ['supabase', {appId: 'https://x.supabase.co'}, /needs config\.supabaseKey/],
  ['firebase', {appId: 'my-app'}, /takes your databaseURL as appId/],
  ['firebase', {appId: 'https://x.firebaseio.com', rootPath: 'a.b'}, /rootPath must be a database path/],
  ['ipfs', {relayUrls: []}, /relayUrls must be a non-empty array of libp2p multiaddrs/],
  ['ipfs', {relayUrls: ['wss://not-a-multiaddr']}, /is not a multiaddr/],
  ['driver', {driver: {on() {}}}, /needs config\.driver/],
]

for (const [name, fields, message] of mistakes) {
  test(`${name}: ${JSON.stringify(fields)} is an invalid-config P2PError`, async () => {
    const {strategy} = await load(name)
    assert.throws(
      () => strategy.validate({appId: 'app', ...fields}),
      error => error.name === 'P2PError' && error.code === 'invalid-config' && message.test(error.message),
    )
  })
}

test('valid configs pass every strategy’s check', async () => {
  const valid = {
    nostr: {relayUrls: ['wss://relay.example']},
    mqtt: {relayRedundancy: 2},
    torrent: {},
    supabase: {appId: 'https://x.supabase.co', supabaseKey: 'k'},
    firebase: {appId: 'https://x.firebaseio.com'},
    ipfs: {relayUrls: ['/dns4/relay.example.com/tcp/443/wss/p2p/12D3KooWabc']},
    driver: {driver: {on() {}, off() {}, emit() {}}},
  }
  for (const [name, fields] of Object.entries(valid)) {
    const {strategy} = await load(name)
    assert.doesNotThrow(() => strategy.validate?.({appId: 'app', ...fields}), name)
  }
})

test('local without BroadcastChannel: joinRoom does not throw, room.onError says what is missing', () => {
  const script = `
    delete globalThis.BroadcastChannel
    globalThis.RTCPeerConnection = class {}
    const lib = await import(${JSON.stringify(new URL('../../dist/lib/strategies/local.js', import.meta.url).href)})
    const room = lib.joinRoom({appId: 'app'}, 'room')
    const error = await new Promise(resolve => room.onError(resolve))
    console.log(JSON.stringify({code: error.code, message: error.message}))
    await room.leave()
  `
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {encoding: 'utf8', timeout: 30_000})
  assert.equal(result.status, 0, result.stderr)
  assert.deepEqual(JSON.parse(result.stdout.trim().split('\n').at(-1)), {
    code: 'strategy',
    message: 'local: the local strategy needs BroadcastChannel (browsers, Deno, Node 18+)',
  })
})
