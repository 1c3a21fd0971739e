// The relay's pure parts (src/relay/nip01.ts, limits.ts): what a client message may be,
// which events a filter matches, and the keys limits per address are counted under.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {addressKey, isEphemeralKind, matchesFilter, readClientMessage} from '../../dist/lib/relay/index.js'
import {createBucket, take} from '../../dist/lib/relay/limits.js'

const limits = {maxFilters: 2, maxFilterValues: 3}
const hex = n => 'a'.repeat(n)
const event = {
  id: hex(64),
  pubkey: hex(64),
  sig: hex(128),
  kind: 25_713,
  created_at: 1_700_000_000,
  content: '',
  tags: [
    ['x', 'room'],
    ['t', 'one'],
    ['t', 'two'],
  ],
}

test('well-formed EVENT, REQ and CLOSE messages are read; anything else is invalid with a reason', () => {
  assert.deepEqual(readClientMessage(['EVENT', event], limits), {type: 'EVENT', event})
  assert.deepEqual(readClientMessage(['REQ', 's', {kinds: [1]}], limits), {
    type: 'REQ',
    id: 's',
    filters: [{kinds: [1]}],
  })
  assert.deepEqual(readClientMessage(['CLOSE', 's'], limits), {type: 'CLOSE', id: 's'})
  const invalid = [
    [{}, /JSON array/],
    [[], /JSON array/],
    [[42], /JSON array/],
    [['AUTH', {}], /unsupported message type "AUTH"/],
    [['EVENT', event, event], /exactly one event/],
    [['EVENT', {...event, id: 'A'.repeat(64)}], /^id must be 64 lowercase hex/],
    [['EVENT', {...event, sig: hex(127)}], /^sig must/],
    [['EVENT', {...event, kind: 1.5}], /^kind must/],
    [['EVENT', {...event, kind: 70_000}], /^kind must/],
    [['EVENT', {...event, created_at: -1}], /^created_at/],
    [['EVENT', {...event, tags: [['x', 1]]}], /^tags must/],
    [['EVENT', {...event, content: null}], /^content must/],
    [['EVENT', null], /an event must be an object/],
    [['REQ', '', {}], /subscription id/],
    [['REQ', 'x'.repeat(65), {}], /subscription id/],
    [['REQ', 's'], /at least one filter/],
    [['REQ', 's', {}, {}, {}], /3 filters \(at most 2\)/],
    [['REQ', 's', {'#x': ['1', '2', '3', '4']}], /#x has 4 values/],
    [['REQ', 's', {kinds: ['1']}], /kinds must hold integers/],
    [['REQ', 's', {'#x': ['x'.repeat(257)]}], /#x values are at most 256 characters/],
    [['REQ', 's', {since: -5}], /since must be/],
    [['REQ', 's', {'#xy': ['a']}], /unknown filter field/],
    [['REQ', 's', []], /a filter must be an object/],
    [['CLOSE', 7], /subscription id/],
  ]
  for (const [message, reason] of invalid) {
    const read = readClientMessage(message, limits)
    assert.equal(read.type, 'invalid', JSON.stringify(message).slice(0, 80))
    assert.match(read.reason, reason)
  }
  // The id of a bad event, and the id of a bad REQ, come back so the answer can name them.
  assert.equal(readClientMessage(['EVENT', {...event, sig: 'x'}], limits).eventId, event.id)
  assert.equal(readClientMessage(['REQ', 's', {}, {}, {}], limits).subscriptionId, 's')
})

test('filters match as NIP-01 says, tag conditions included', () => {
  const cases = [
    [{}, true],
    [{kinds: [25_713]}, true],
    [{kinds: [1]}, false],
    [{ids: [event.id]}, true],
    [{authors: [hex(63)]}, false],
    [{since: 1_700_000_000, until: 1_700_000_000}, true],
    [{since: 1_700_000_001}, false],
    [{'#x': ['room']}, true],
    [{'#x': ['other', 'room']}, true],
    [{'#x': ['other']}, false],
    [{'#t': ['two']}, true],
    [{'&t': ['one', 'two']}, true],
    [{'&t': ['one', 'three']}, false],
    [{kinds: [25_713], '#x': ['room'], '#t': ['nope']}, false],
  ]
  for (const [filter, expected] of cases) assert.equal(matchesFilter(event, filter), expected, JSON.stringify(filter))
  assert.equal(isEphemeralKind(20_000), true)
  assert.equal(isEphemeralKind(29_999), true)
  assert.equal(isEphemeralKind(30_000), false)
  assert.equal(isEphemeralKind(1), false)
})

test('limits per address count IPv4 (mapped or not) as is and IPv6 by its /64', () => {
  assert.equal(addressKey('203.0.113.7'), '203.0.113.7')
  assert.equal(addressKey('::ffff:203.0.113.7'), '203.0.113.7')
  assert.equal(addressKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64')
  assert.equal(addressKey('2001:db8:1:2::9'), '2001:db8:1:2::/64')
  assert.equal(addressKey('2001:DB8:0001:0002:ffff::1'), '2001:db8:1:2::/64')
  assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64')
  assert.equal(addressKey('::1'), '0:0:0:0::/64')
})

test('a token bucket gives its burst, then its rate', () => {
  const bucket = createBucket(3, 0)
  assert.deepEqual(
    [1, 2, 3, 4].map(() => take(bucket, 2, 3, 0)),
    [true, true, true, false],
  )
  assert.equal(take(bucket, 2, 3, 400), false, '0.8 of a token after 400 ms at 2/s')
  assert.equal(take(bucket, 2, 3, 500), true, 'one token after 500 ms')
  assert.deepEqual(
    [1, 2, 3, 4].map(() => take(bucket, 2, 3, 60_000)),
    [true, true, true, false],
    'never more than the burst',
  )
})
