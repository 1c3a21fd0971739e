// The elements' fan-out (src/elements/fan-out.ts) over a stand-in core room that keeps one
// callback per registrar, as the real one does ("latest wins"): every listener hears every
// call, each core callback and each action is registered once per core room, and the last
// listener to go is told to leave. Uses the built library (dist/lib, from `npm run build`).
import {test} from 'node:test'
import assert from 'node:assert/strict'

const {joinShared} = await import('../../dist/lib/elements/fan-out.js')

/** A core room that remembers its latest callbacks and counts registrations, and a joinRoom giving one per room id. */
const fakeCore = () => {
  const rooms = new Map()
  const makeRoom = onJoinError => {
    const latest = {}
    const registrations = {}
    const actions = {}
    const register = name => callback => {
      latest[name] = callback
      registrations[name] = (registrations[name] ?? 0) + 1
    }
    return {
      latest,
      registrations,
      actions,
      onJoinError,
      onPeerJoin: register('peerJoin'),
      onPeerLeave: register('peerLeave'),
      onPeerStream: register('stream'),
      onPeerTrack: register('track'),
      onError: register('error'),
      makeAction: name => {
        if (name.length > 10) throw Object.assign(new Error(`action id "${name}" is too long`), {code: 'action-id'})
        const entry = (actions[name] ??= {made: 0})
        entry.made++
        return [() => {}, callback => void (entry.onMessage = callback), callback => void (entry.onProgress = callback)]
      },
    }
  }
  const joinRoom = (_config, roomId, onJoinError) => {
    if (!rooms.has(roomId)) rooms.set(roomId, makeRoom(onJoinError))
    return rooms.get(roomId)
  }
  return {joinRoom, rooms}
}

/** A listener that records what it hears, tagged with its name. */
const recorder = (name, heard) =>
  Object.fromEntries(
    ['peerJoin', 'peerLeave', 'stream', 'track', 'error', 'joinError', 'data', 'progress'].map(event => [
      event,
      (...args) => heard.push([name, event, ...args]),
    ]),
  )

test('two listeners of one core room both hear every callback, registered once', () => {
  const {joinRoom} = fakeCore()
  const heard = []
  const one = joinShared(joinRoom, {appId: 'a'}, 'r', recorder('one', heard))
  const two = joinShared(joinRoom, {appId: 'a'}, 'r', recorder('two', heard))
  assert.equal(one.coreRoom, two.coreRoom)
  const core = one.coreRoom
  assert.deepEqual(core.registrations, {peerJoin: 1, peerLeave: 1, stream: 1, track: 1, error: 1})
  core.latest.peerJoin('p1')
  core.latest.peerLeave('p1')
  core.latest.error('oops')
  core.onJoinError({peerId: 'p2', error: 'bad password'})
  assert.deepEqual(heard, [
    ['one', 'peerJoin', 'p1'],
    ['two', 'peerJoin', 'p1'],
    ['one', 'peerLeave', 'p1'],
    ['two', 'peerLeave', 'p1'],
    ['one', 'error', 'oops'],
    ['two', 'error', 'oops'],
    ['one', 'joinError', {peerId: 'p2', error: 'bad password'}],
    ['two', 'joinError', {peerId: 'p2', error: 'bad password'}],
  ])
})

test('an action is bound once per core room, and its messages and progress reach every listener with its name', () => {
  const {joinRoom} = fakeCore()
  const heard = []
  const one = joinShared(joinRoom, {appId: 'a'}, 'r', recorder('one', heard))
  const two = joinShared(joinRoom, {appId: 'a'}, 'r', recorder('two', heard))
  one.bindAction('chat')
  two.bindAction('chat')
  one.bindAction('chat')
  const chat = one.coreRoom.actions.chat
  assert.equal(chat.made, 1)
  chat.onMessage('hi', 'p1', {lang: 'en'})
  chat.onProgress(0.5, 'p1', undefined)
  assert.deepEqual(heard, [
    ['one', 'data', 'chat', 'hi', 'p1', {lang: 'en'}],
    ['two', 'data', 'chat', 'hi', 'p1', {lang: 'en'}],
    ['one', 'progress', 'chat', 0.5, 'p1', undefined],
    ['two', 'progress', 'chat', 0.5, 'p1', undefined],
  ])
})

test('an action name the core refuses is reported to every listener, and not marked bound', () => {
  const {joinRoom} = fakeCore()
  const heard = []
  const one = joinShared(joinRoom, {appId: 'a'}, 'r', recorder('one', heard))
  joinShared(joinRoom, {appId: 'a'}, 'r', recorder('two', heard))
  one.bindAction('much-too-long-a-name')
  assert.deepEqual(
    heard.map(([name, event, error]) => [name, event, error.code]),
    [
      ['one', 'error', 'action-id'],
      ['two', 'error', 'action-id'],
    ],
  )
  one.bindAction('much-too-long-a-name')
  assert.equal(heard.length, 4)
})

test('release says when the last listener went; a listener that went hears nothing more', () => {
  const {joinRoom} = fakeCore()
  const heard = []
  const one = joinShared(joinRoom, {appId: 'a'}, 'r', recorder('one', heard))
  const two = joinShared(joinRoom, {appId: 'a'}, 'r', recorder('two', heard))
  assert.equal(one.release(), false)
  one.coreRoom.latest.peerJoin('p1')
  assert.deepEqual(heard, [['two', 'peerJoin', 'p1']])
  assert.equal(two.release(), true)
  assert.equal(two.release(), false, 'a second release is a no-op')
  one.coreRoom.latest.peerJoin('p2')
  assert.equal(heard.length, 1)
})

test('rooms with different ids have separate listeners', () => {
  const {joinRoom} = fakeCore()
  const heard = []
  const one = joinShared(joinRoom, {appId: 'a'}, 'first', recorder('one', heard))
  const two = joinShared(joinRoom, {appId: 'a'}, 'second', recorder('two', heard))
  assert.notEqual(one.coreRoom, two.coreRoom)
  one.coreRoom.latest.peerJoin('p1')
  two.coreRoom.latest.peerLeave('p2')
  assert.deepEqual(heard, [
    ['one', 'peerJoin', 'p1'],
    ['two', 'peerLeave', 'p2'],
  ])
})
