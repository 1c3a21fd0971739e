// The pure parts of request/response actions: what a peer's request and reply metadata may
// be, how errors map to requestMany statuses, and which timeouts are accepted.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {
  defaultRequestTimeoutMs,
  maxRemoteMessageChars,
  parseReplyMeta,
  parseRequestMeta,
  replyError,
  statusOf,
  timeoutOf,
} from '../../dist/lib/core/request.js'
import {P2PError} from '../../dist/lib/core/errors.js'

test('request metadata: an action id, a u32 id, optional app metadata and the cancel flag', () => {
  assert.deepEqual(parseRequestMeta({a: 'ask', r: 1}), {a: 'ask', r: 1})
  assert.deepEqual(parseRequestMeta({a: 'ask', r: 0xffffffff, m: {x: [1]}}), {a: 'ask', r: 0xffffffff, m: {x: [1]}})
  assert.deepEqual(parseRequestMeta({a: 'ask', r: 3, m: null}), {a: 'ask', r: 3, m: null})
  assert.deepEqual(parseRequestMeta({a: 'ask', r: 3, x: 1}), {a: 'ask', r: 3, x: 1})
  for (const meta of [
    undefined,
    null,
    'ask',
    [],
    {a: 'ask'},
    {r: 1},
    {a: '', r: 1},
    {a: 'x'.repeat(256), r: 1},
    {a: 7, r: 1},
    {a: 'ask', r: -1},
    {a: 'ask', r: 1.5},
    {a: 'ask', r: 2 ** 32},
    {a: 'ask', r: '1'},
    {a: 'ask', r: 1, x: true},
  ])
    assert.equal(parseRequestMeta(meta), undefined, JSON.stringify(meta))
})

test('reply metadata: an id, an optional error message (clipped) and a known error kind', () => {
  assert.deepEqual(parseReplyMeta({r: 9}), {r: 9})
  assert.deepEqual(parseReplyMeta({r: 9, e: 'no'}), {r: 9, e: 'no'})
  assert.deepEqual(parseReplyMeta({r: 9, e: 'busy', c: 'busy'}), {r: 9, e: 'busy', c: 'busy'})
  assert.deepEqual(parseReplyMeta({r: 9, e: 'none', c: 'no-handler'}), {r: 9, e: 'none', c: 'no-handler'})
  assert.equal(parseReplyMeta({r: 9, e: 'x'.repeat(10_000)}).e.length, maxRemoteMessageChars)
  for (const meta of [
    undefined,
    null,
    9,
    [9],
    {},
    {r: -1},
    {r: 1.5},
    {r: 2 ** 32},
    {r: 1, e: 7},
    {r: 1, e: {}},
    {r: 1, c: 'busy'},
    {r: 1, e: 'x', c: 'other'},
  ])
    assert.equal(parseReplyMeta(meta), undefined, JSON.stringify(meta))
})

test("an error reply rejects with remote-error and the handler's message; busy with rejected", () => {
  const remote = replyError({r: 1, e: 'ballot box is closed'}, 'peer-b')
  assert.ok(remote instanceof P2PError)
  assert.equal(remote.code, 'remote-error')
  assert.equal(remote.message, 'ballot box is closed')
  assert.equal(remote.peerId, 'peer-b')
  assert.equal(replyError({r: 1, e: 'none', c: 'no-handler'}, 'p').code, 'remote-error')
  assert.equal(replyError({r: 1, e: 'busy', c: 'busy'}, 'p').code, 'rejected')
})

test("requestMany statuses follow Trystero 0.25's: timeout, disconnected, rejected", () => {
  const status = code => statusOf(new P2PError(code, ''))
  assert.equal(status('timeout'), 'timeout')
  for (const code of ['peer-left', 'room-left', 'unknown-peer']) assert.equal(status(code), 'disconnected')
  for (const code of ['remote-error', 'rejected', 'too-large', 'malformed']) assert.equal(status(code), 'rejected')
})

test('timeoutMs: a number of ms >= 0 or Infinity; default 30 s; anything else is a config error', () => {
  assert.equal(timeoutOf(undefined), defaultRequestTimeoutMs)
  assert.equal(defaultRequestTimeoutMs, 30_000)
  assert.equal(timeoutOf(0), 0)
  assert.equal(timeoutOf(250), 250)
  assert.equal(timeoutOf(Number.POSITIVE_INFINITY), Number.POSITIVE_INFINITY)
  for (const bad of [-1, Number.NaN, '100', null, {}])
    assert.throws(
      () => timeoutOf(bad),
      error => error.code === 'invalid-config',
    )
})
