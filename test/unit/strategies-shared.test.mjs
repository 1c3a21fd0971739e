// Unit tests of the pure helpers every strategy shares (src/strategies/shared/), run on the
// build: topic listeners, refcounted clients, the send-queue policy, reconnect backoff,
// error de-duplication and the appId-seeded relay pick.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createTopicListeners} from '../../dist/lib/strategies/shared/topic-listeners.js'
import {createSharedClients} from '../../dist/lib/strategies/shared/shared-clients.js'
import {createSendQueue, sendQueueLimit, sendQueueMaxAgeMs} from '../../dist/lib/strategies/shared/send-queue.js'
import {createBackoff, reconnectMaxMs, reconnectMinMs} from '../../dist/lib/strategies/shared/backoff.js'
import {createReporter, reportLimit} from '../../dist/lib/strategies/shared/reporter.js'
import {pickRelayUrls, seededShuffle} from '../../dist/lib/strategies/shared/relay-urls.js'
import {P2PError} from '../../dist/lib/core/errors.js'

test('topic listeners: first and last hooks run once per topic, deliver reaches every listener of that topic only', () => {
  const events = []
  const topics = createTopicListeners({first: t => events.push(['first', t]), last: t => events.push(['last', t])})
  const heard = []
  const offA1 = topics.add('a', m => heard.push(['a1', m]))
  const offA2 = topics.add('a', m => heard.push(['a2', m]))
  const offB = topics.add('b', m => heard.push(['b', m]))
  assert.deepEqual(events, [
    ['first', 'a'],
    ['first', 'b'],
  ])
  topics.deliver('a', 'x')
  topics.deliver('c', 'nobody')
  assert.deepEqual(heard, [
    ['a1', 'x'],
    ['a2', 'x'],
  ])
  offA1()
  offA1() // twice is harmless
  assert.equal(topics.has('a'), true)
  offA2()
  assert.equal(topics.has('a'), false)
  assert.deepEqual(events.at(-1), ['last', 'a'])
  assert.deepEqual(topics.topics(), ['b'])
  topics.clear()
  assert.deepEqual(events.at(-1), ['last', 'b'], 'clear runs last for each topic')
  offB() // after clear: no second last
  assert.equal(events.filter(([kind]) => kind === 'last').length, 2)
  assert.equal(topics.size, 0)
})

test('topic listeners: a listener that unsubscribes while a message is delivered does not skip the others', () => {
  const topics = createTopicListeners()
  const heard = []
  const off = topics.add('t', () => {
    heard.push(1)
    off()
  })
  topics.add('t', () => heard.push(2))
  topics.deliver('t', 'm')
  topics.deliver('t', 'm')
  assert.deepEqual(heard, [1, 2, 2])
})

test('shared clients: one client per key, created once, destroyed when its last user releases it (once)', () => {
  const destroyed = []
  let made = 0
  const pool = createSharedClients(client => destroyed.push(client))
  const a = pool.acquire('k', () => `client-${++made}`)
  const b = pool.acquire('k', () => `client-${++made}`)
  const other = pool.acquire('other', () => `client-${++made}`)
  assert.equal(a.client, 'client-1')
  assert.equal(b.client, 'client-1')
  assert.equal(other.client, 'client-2')
  a.release()
  a.release() // a second release of the same hold does not count twice
  assert.deepEqual(destroyed, [])
  b.release()
  assert.deepEqual(destroyed, ['client-1'])
  const c = pool.acquire('k', () => `client-${++made}`)
  assert.equal(c.client, 'client-3', 'a released key is made afresh')
  other.release()
  assert.deepEqual(destroyed, ['client-1', 'client-2'])
})

test('send queue: keeps the newest sendQueueLimit messages, drops those older than sendQueueMaxAgeMs, keeps order', () => {
  assert.equal(sendQueueLimit, 20)
  assert.equal(sendQueueMaxAgeMs, 30_000)
  const queue = createSendQueue()
  for (let i = 0; i < 25; i++) queue.push(i, 1000 + i)
  assert.equal(queue.size, 20)
  const sent = []
  queue.drain((item, waited) => (sent.push([item, waited]), true), 1030)
  assert.deepEqual(
    sent.map(([item]) => item),
    Array.from({length: 20}, (_, i) => i + 5),
    'the oldest five were dropped, the rest go in order',
  )
  assert.equal(sent[0][1], 25, 'drain passes how long each waited')
  assert.equal(queue.size, 0)

  queue.push('stale', 0)
  queue.push('fresh', 20_000)
  const second = []
  queue.drain(item => (second.push(item), true), 30_001 + 0)
  assert.deepEqual(second, ['fresh'], 'a message older than the age limit is dropped, not sent late')
})

test('send queue: what send refuses stays queued, in order, for the next drain', () => {
  const queue = createSendQueue({limit: 5, maxAgeMs: 100})
  for (const item of ['a1', 'b1', 'a2']) queue.push(item, 0)
  const sent = []
  queue.drain(item => item.startsWith('a') && (sent.push(item), true), 10)
  assert.deepEqual(sent, ['a1', 'a2'])
  assert.equal(queue.size, 1)
  queue.drain(item => (sent.push(item), true), 50)
  assert.deepEqual(sent, ['a1', 'a2', 'b1'])
  queue.push('x', 0)
  queue.clear()
  assert.equal(queue.size, 0)
})

test('backoff: doubles from reconnectMinMs to reconnectMaxMs, jittered in [c/2, c], reset starts over', () => {
  assert.equal(reconnectMinMs, 1_000)
  assert.equal(reconnectMaxMs, 60_000)
  const ceilings = [1, 2, 4, 8, 16, 32, 60, 60, 60].map(s => s * 1000)
  for (const [random, fraction] of [
    [() => 0, 0.5],
    [() => 0.999999, 1],
  ]) {
    const backoff = createBackoff({random})
    for (const ceiling of ceilings) assert.ok(Math.abs(backoff.next() - ceiling * fraction) < 1, `${ceiling}`)
    backoff.reset()
    assert.ok(Math.abs(backoff.next() - 1000 * fraction) < 1)
  }
  const real = createBackoff({minMs: 100, maxMs: 400})
  for (let i = 0; i < 50; i++) {
    const delay = real.next()
    const ceiling = Math.min(400, 100 * 2 ** i)
    assert.ok(delay >= ceiling / 2 && delay <= ceiling, `${delay} within [${ceiling / 2}, ${ceiling}]`)
  }
})

test('reporter: each distinct problem reaches onError once, at most reportLimit in all, P2PErrors by code and message', () => {
  const reported = []
  const report = createReporter(error => reported.push(error))
  report('relay down')
  report('relay down')
  report('relay refused')
  const missing = new P2PError('missing-dependency', 'needs x')
  report(missing)
  report(new P2PError('missing-dependency', 'needs x'))
  assert.deepEqual(reported, ['relay down', 'relay refused', missing])
  for (let i = 0; i < 100; i++) report(`flood ${i}`)
  assert.equal(reported.length, reportLimit)
})

test('relay pick: relayUrls as given (deduplicated), else relayRedundancy of the defaults, shuffled by appId', () => {
  const defaults = Array.from({length: 10}, (_, i) => `wss://relay${i}.example`)
  assert.deepEqual(pickRelayUrls({appId: 'a', relayUrls: ['wss://x', 'wss://y', 'wss://x']}, defaults, 3), [
    'wss://x',
    'wss://y',
  ])
  const forApp = appId => pickRelayUrls({appId}, defaults, 3)
  assert.equal(forApp('app-1').length, 3)
  assert.deepEqual(forApp('app-1'), forApp('app-1'), 'every peer of one app picks the same relays')
  assert.equal(new Set(forApp('app-1')).size, 3)
  assert.equal(pickRelayUrls({appId: 'a', relayRedundancy: 5}, defaults, 3).length, 5)
  assert.equal(pickRelayUrls({appId: 'a', relayRedundancy: 0}, defaults, 3).length, 1, 'at least one')
  assert.equal(pickRelayUrls({appId: 'a', relayRedundancy: 99}, defaults, 3).length, 10)

  // The shuffle is a permutation, stable per seed, and different apps spread over the relays.
  const shuffled = seededShuffle(defaults, 'seed')
  assert.deepEqual([...shuffled].sort(), [...defaults].sort())
  assert.deepEqual(seededShuffle(defaults, 'seed'), shuffled)
  assert.deepEqual(
    defaults,
    Array.from({length: 10}, (_, i) => `wss://relay${i}.example`),
    'input untouched',
  )
  const firstPicks = new Map()
  for (let i = 0; i < 1000; i++) {
    const [first] = seededShuffle(defaults, `app-${i}`)
    firstPicks.set(first, (firstPicks.get(first) ?? 0) + 1)
  }
  assert.equal(firstPicks.size, 10, 'every relay is some app’s first pick')
  for (const count of firstPicks.values()) assert.ok(count > 50 && count < 150, `spread evenly (${count} of 1000)`)
})
