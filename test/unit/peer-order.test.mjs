// Who initiates (src/core/signaling.ts): of two peers, the one whose id sorts last (plain
// string comparison) makes the offer and the other answers, whichever of them joined first.
// Two signaling instances meet over an in-memory bus, with fake peers that record the calls.
import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {deriveKey} from '../../dist/lib/core/crypto.js'
import {randomId} from '../../dist/lib/core/ids.js'
import {startSignaling} from '../../dist/lib/core/signaling.js'

const createBus = () => {
  const topics = new Map()
  return {
    subscribe: (topic, onMessage) => {
      if (!topics.has(topic)) topics.set(topic, new Set())
      topics.get(topic).add(onMessage)
      return () => topics.get(topic).delete(onMessage)
    },
    publish: (topic, message) => {
      for (const handler of [...(topics.get(topic) ?? [])]) queueMicrotask(() => handler(message))
    },
    close: () => {},
  }
}

/** What signaling needs of a Peer, recording which side of the handshake it played. */
const fakePeer = (selfId, peerId, calls) => ({
  id: peerId,
  isOpen: false,
  isClosed: false,
  expireUnlessOpen: () => {},
  createOffer: async () => {
    calls.push([selfId, 'offer', peerId])
    return {type: 'offer', sdp: `offer ${selfId}>${peerId}`}
  },
  acceptOffer: async offer => {
    calls.push([selfId, 'answer', peerId, offer.sdp])
    return {type: 'answer', sdp: `answer ${selfId}>${peerId}`}
  },
  acceptAnswer: async answer => void calls.push([selfId, 'complete', peerId, answer.sdp]),
  close() {
    this.isClosed = true
  },
})

const key = await deriveKey('unit', 'order')

const join = (bus, selfId, calls, joinErrors) => {
  const peers = new Map()
  return startSignaling({
    signaling: bus,
    selfId,
    key,
    roomTopic: 'room',
    selfTopic: `peer:${selfId}`,
    peerTopic: async peerId => `peer:${peerId}`,
    announceIntervalMs: 60_000,
    announceMaxIntervalMs: 60_000,
    connectTimeoutMs: 20_000,
    peer: peerId => peers.get(peerId),
    createPeer: peerId => {
      const peer = fakePeer(selfId, peerId, calls)
      peers.set(peerId, peer)
      return peer
    },
    joinError: (...args) => joinErrors.push(args),
  })
}

/** Runs the handshake between `first` (joins first) and `second` and returns who did what. */
const handshake = async (first, second) => {
  const bus = createBus()
  const calls = []
  const joinErrors = []
  const rooms = [join(bus, first, calls, joinErrors)]
  await new Promise(resolve => setImmediate(resolve))
  rooms.push(join(bus, second, calls, joinErrors))
  // WebCrypto seals on a worker thread: poll until the initiator took the answer (or 5 s passed).
  const deadline = Date.now() + 5000
  while (!calls.some(([, step]) => step === 'complete') && Date.now() < deadline)
    await new Promise(resolve => setTimeout(resolve, 2))
  for (const room of rooms) room.stop()
  assert.deepEqual(joinErrors, [])
  return calls
}

describe('the peer whose id sorts last initiates', () => {
  const pairs = [
    ['A', 'B'],
    ['B', 'a'], // upper case sorts before lower case
    ['10', '9'], // by characters, not by number
    ['abc', 'abcd'], // a prefix sorts first
    ['0000000000000000000A', '0000000000000000000a'],
    [randomId(20), randomId(20)],
    [randomId(20), randomId(20)],
  ]
  for (const [x, y] of pairs) {
    const [low, high] = x < y ? [x, y] : [y, x]
    for (const [first, second] of [
      [low, high],
      [high, low],
    ])
      test(`${first} joins, then ${second}: ${high} offers, ${low} answers`, async () => {
        const calls = await handshake(first, second)
        assert.deepEqual(calls, [
          [high, 'offer', low],
          [low, 'answer', high, `offer ${high}>${low}`],
          [high, 'complete', low, `answer ${low}>${high}`],
        ])
      })
  }
})

test('selfId-style ids are 20 alphanumeric characters and do not repeat', () => {
  const ids = Array.from({length: 10_000}, () => randomId(20))
  assert.ok(ids.every(id => /^[0-9A-Za-z]{20}$/.test(id)))
  assert.equal(new Set(ids).size, ids.length)
})
