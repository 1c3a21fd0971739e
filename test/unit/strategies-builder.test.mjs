// The strategy builder (src/strategies/shared/builder.ts), run on the build with an adapter
// written for the test: it owns the queue, topic listeners, error de-duplication, SDK
// loading and an idempotent close, so each adapter does not. And, with the real strategy
// modules, that a missing optional SDK is a `missing-dependency` error through onError.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {defineRelayStrategy} from '../../dist/lib/strategies/shared/builder.js'
import {optionalSdk} from '../../dist/lib/strategies/shared/sdk.js'
import {P2PError} from '../../dist/lib/core/errors.js'

const tick = () => new Promise(resolve => setTimeout(resolve, 0))

/** A room context as the core gives it, with its onError reports collected. */
const contextFor = () => {
  const errors = []
  return {
    errors,
    context: {
      appId: 'app',
      roomId: 'room',
      selfId: 'self',
      roomTopic: 'room-topic',
      selfTopic: 'self-topic',
      peerTopic: async id => `topic-${id}`,
      onError: error => errors.push(error),
    },
  }
}

/** An adapter that records what the builder asks of it; `ready` says whether publish can send. */
const recordingStrategy = (options = {}) => {
  const log = []
  const state = {ready: true, room: undefined, closes: 0}
  const strategy = defineRelayStrategy({
    name: 'test',
    ...options,
    connect: (_config, room) => {
      state.room = room
      return {
        subscribe: topic => log.push(['subscribe', topic]),
        unsubscribe: topic => log.push(['unsubscribe', topic]),
        publish: (topic, message) => {
          if (message === 'throws') throw new Error('adapter broke')
          if (!state.ready) return false
          log.push(['publish', topic, message])
        },
        close: () => {
          state.closes++
          log.push(['close'])
          return new Promise(resolve => setTimeout(resolve, 5))
        },
      }
    },
  })
  return {strategy, log, state}
}

test('builder: the adapter hears subscribe for a topic’s first listener and unsubscribe for its last', () => {
  const {strategy, log, state} = recordingStrategy()
  const {context} = contextFor()
  const signaling = strategy.connect({appId: 'app'}, context)
  const heard = []
  const off1 = signaling.subscribe('t', m => heard.push(['1', m]))
  const off2 = signaling.subscribe('t', m => heard.push(['2', m]))
  state.room.deliver('t', 'hello')
  state.room.deliver('other', 'ignored')
  assert.deepEqual(heard, [
    ['1', 'hello'],
    ['2', 'hello'],
  ])
  off1()
  assert.deepEqual(log, [['subscribe', 't']])
  off2()
  assert.deepEqual(log, [
    ['subscribe', 't'],
    ['unsubscribe', 't'],
  ])
  assert.deepEqual(state.room.topics(), [])
  signaling.close()
})

test('builder: a publish the adapter cannot send waits in the queue and goes out, in order, on flush', () => {
  const {strategy, log, state} = recordingStrategy()
  state.ready = false
  const signaling = strategy.connect({appId: 'app'}, contextFor().context)
  signaling.publish('a', '1')
  signaling.publish('b', '2')
  assert.deepEqual(log, [])
  state.ready = true
  signaling.publish('a', '3') // behind the queued ones, not ahead of them
  assert.deepEqual(log, [], 'a new message does not overtake queued ones')
  state.room.flush()
  assert.deepEqual(log, [
    ['publish', 'a', '1'],
    ['publish', 'b', '2'],
    ['publish', 'a', '3'],
  ])
  signaling.publish('c', '4')
  assert.deepEqual(log.at(-1), ['publish', 'c', '4'], 'an empty queue sends at once')
  signaling.close()
})

test('builder: what the adapter throws is reported once through onError, never thrown to the core', () => {
  const {strategy} = recordingStrategy()
  const {context, errors} = contextFor()
  const signaling = strategy.connect({appId: 'app'}, context)
  for (let i = 0; i < 5; i++) assert.doesNotThrow(() => signaling.publish('t', 'throws'))
  assert.deepEqual(errors, ['adapter broke'])
  signaling.close()
})

test('builder: close is idempotent, unsubscribes every topic, and releases clients after the adapter closed', async () => {
  const {strategy, log, state} = recordingStrategy()
  const {context, errors} = contextFor()
  const signaling = strategy.connect({appId: 'app'}, context)
  const released = []
  state.room.onClose(() => released.push('lease'))
  signaling.subscribe('a', () => {})
  signaling.subscribe('b', () => {})
  signaling.close()
  signaling.close()
  assert.equal(state.closes, 1)
  assert.deepEqual(log.slice(2), [['unsubscribe', 'a'], ['unsubscribe', 'b'], ['close']])
  assert.deepEqual(released, [], 'releases wait for the adapter’s close')
  await new Promise(resolve => setTimeout(resolve, 20))
  assert.deepEqual(released, ['lease'])
  // After close nothing reaches the adapter or the app.
  signaling.publish('a', 'late')
  const heard = []
  signaling.subscribe('a', m => heard.push(m))
  state.room.deliver('a', 'late')
  state.room.report('late problem')
  assert.deepEqual(heard, [])
  assert.deepEqual(errors, [])
  assert.equal(state.room.closed, true)
  assert.equal(
    log.some(([kind, , message]) => kind === 'publish' && message === 'late'),
    false,
  )
})

test('builder: with an SDK, messages and topics wait for it, then go to the adapter made with it', async () => {
  let loaded
  const sdk = new Promise(resolve => (loaded = resolve))
  const made = []
  const log = []
  const strategy = defineRelayStrategy({
    name: 'test',
    sdk: () => sdk,
    connect: (_config, _room, given) => {
      made.push(given)
      return {subscribe: topic => log.push(['subscribe', topic]), publish: (t, m) => void log.push(['publish', t, m])}
    },
  })
  const signaling = strategy.connect({appId: 'app'}, contextFor().context)
  signaling.subscribe('t', () => {})
  signaling.publish('t', 'early')
  await tick()
  assert.deepEqual(made, [])
  loaded({name: 'the sdk'})
  await tick()
  assert.deepEqual(made, [{name: 'the sdk'}])
  assert.deepEqual(log, [
    ['subscribe', 't'],
    ['publish', 't', 'early'],
  ])
  signaling.close()
})

test('builder: an SDK that is not installed is a missing-dependency P2PError naming the package, via onError', async () => {
  const load = optionalSdk('test', 'some-sdk', () =>
    Promise.reject(Object.assign(new Error("Cannot find package 'some-sdk'"), {code: 'ERR_MODULE_NOT_FOUND'})),
  )
  const strategy = defineRelayStrategy({
    name: 'test',
    sdk: load,
    connect: () => assert.fail('no adapter without its SDK'),
  })
  const {context, errors} = contextFor()
  const signaling = strategy.connect({appId: 'app'}, context)
  assert.doesNotThrow(() => signaling.publish('t', 'm'))
  await tick()
  assert.equal(errors.length, 1)
  assert.ok(errors[0] instanceof P2PError)
  assert.equal(errors[0].code, 'missing-dependency')
  assert.equal(errors[0].message, 'the test strategy needs some-sdk: npm install some-sdk')
  signaling.close()

  const broken = optionalSdk('test', 'some-sdk', () => Promise.reject(new SyntaxError('bad module')))
  await assert.rejects(
    broken(),
    error => error.code === 'strategy' && /could not load some-sdk: bad module/.test(error.message),
  )
})

const hide = fileURLToPath(new URL('./_hide-packages.mjs', import.meta.url))
for (const [strategy, hidden, config, pkg] of [
  ['supabase', '@supabase/supabase-js', {appId: 'http://127.0.0.1:1', supabaseKey: 'k'}, '@supabase/supabase-js'],
  ['firebase', 'firebase', {appId: 'ws://127.0.0.1:1?ns=x'}, 'firebase'],
  [
    'ipfs',
    '@chainsafe/libp2p-noise',
    {appId: 'app', relayUrls: ['/ip4/127.0.0.1/tcp/1/ws']},
    'libp2p @chainsafe/libp2p-noise @chainsafe/libp2p-yamux @libp2p/gossipsub @libp2p/identify @libp2p/websockets @multiformats/multiaddr',
  ],
]) {
  test(`${strategy} without ${pkg} installed: importing works, joinRoom reports missing-dependency through room.onError`, () => {
    const script = `
      const lib = await import(${JSON.stringify(new URL(`../../dist/lib/strategies/${strategy}.js`, import.meta.url).href)})
      globalThis.RTCPeerConnection = class {}
      const room = lib.joinRoom(${JSON.stringify(config)}, 'room')
      const error = await new Promise(resolve => room.onError(resolve))
      console.log(JSON.stringify({code: error.code, message: error.message, name: error.name}))
      await room.leave()
      process.exit(0)
    `
    const result = spawnSync(process.execPath, ['--import', hide, '--input-type=module', '-e', script], {
      env: {...process.env, HIDE_PACKAGES: hidden},
      encoding: 'utf8',
      timeout: 30_000,
    })
    assert.equal(result.status, 0, result.stderr)
    assert.deepEqual(JSON.parse(result.stdout.trim().split('\n').at(-1)), {
      code: 'missing-dependency',
      message: `the ${strategy} strategy needs ${pkg}: npm install ${pkg}`,
      name: 'P2PError',
    })
  })
}
