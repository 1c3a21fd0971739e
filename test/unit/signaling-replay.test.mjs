// Replay, staleness, misdirection and session replacement, over real peer connections
// (node-datachannel) and the in-memory driver: the test taps the bus as a relay would,
// and signs forged messages with the real key of one peer (as that peer's stale or copied
// mail would be), so only the protocol's rules stand between them and the connection.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {RTCPeerConnection} from 'node-datachannel/polyfill'
import {createMemoryDriver} from '../../dist/lib/strategies/driver.js'
import {createIdentity, sign, toBase64Url} from '../../dist/lib/core/identity.js'
import {decrypt, deriveKey, encrypt, topicOf} from '../../dist/lib/core/crypto.js'
import {parseEnvelope, signedText} from '../../dist/lib/core/signaling.js'

const appId = 'replay-tests'
const password = 'pw'
const until = async (check, what, ms = 10_000) => {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

/** Two peers (separate module instances of the strategy) on one tapped bus; `made` counts peer connections. */
const setup = async () => {
  const bus = createMemoryDriver()
  const heard = []
  const tapped = {...bus, emit: (topic, data) => (heard.push({topic, data}), bus.emit(topic, data))}
  const made = {count: 0}
  class Counted extends RTCPeerConnection {
    constructor(...args) {
      super(...args)
      made.count++
    }
  }
  const roomId = `room-${Math.random().toString(36).slice(2)}`
  const config = {
    appId,
    password,
    driver: tapped,
    rtcPolyfill: Counted,
    rtcConfig: {iceServers: []},
    announceIntervalMs: 300,
  }
  const b = await createIdentity()
  const libA = await import(`../../dist/lib/strategies/driver.js?a=${roomId}`)
  const libB = await import(`../../dist/lib/strategies/driver.js?b=${roomId}`)
  const A = libA.joinRoom(config, roomId)
  const B = libB.joinRoom({...config, identity: b}, roomId)
  const joins = []
  const leaves = []
  A.onPeerJoin(id => joins.push(id))
  A.onPeerLeave(id => leaves.push(id))
  await until(() => A.getPeers()[b.id] && B.getPeers()[A.selfId], 'a and b to connect')
  const key = await deriveKey(appId, roomId, password)
  const roomTopic = await topicOf(appId, roomId)
  const aTopic = await topicOf(appId, roomId, A.selfId)
  const sessionOf = async id => {
    for (const {data} of heard) {
      const e = parseEnvelope(data).value
      if (e?.from === id) return JSON.parse(await decrypt(key, e.sealed)).session
    }
  }
  /** A message signed with b's real key: only the protocol's rules can stop it. */
  const asB = async (t, topic, inner) => {
    const ts = inner.ts ?? Date.now()
    const full = {t, from: b.id, to: inner.to ?? '', ts, session: 'N'.repeat(16), since: ts, peerSession: '', ...inner}
    const head = {
      v: 2,
      t,
      from: b.id,
      to: full.to,
      ts,
      key: b.publicKeyText,
      sealed: await encrypt(key, JSON.stringify(full)),
    }
    const sig = toBase64Url(await sign(b, new TextEncoder().encode(signedText(roomTopic, head))))
    bus.emit(topic, JSON.stringify({...head, sig}))
  }
  const done = async () => {
    await A.leave()
    await B.leave()
  }
  return {A, B, b, heard, made, joins, leaves, asB, sessionOf, roomTopic, aTopic, bus, done}
}

test('a stale announce of a newer session (signed by the real key, 200 s old) changes nothing; a fresh one replaces the connection', async () => {
  const {A, b, made, leaves, asB, roomTopic, done} = await setup()
  const connection = A.getPeers()[b.id]
  const before = made.count
  await asB('announce', roomTopic, {ts: Date.now() - 200_000, since: Date.now() - 200_000})
  await asB('announce', roomTopic, {ts: Date.now() + 200_000, since: Date.now() + 200_000 - 1})
  await sleep(500)
  assert.equal(A.getPeers()[b.id], connection)
  assert.equal(made.count, before)
  assert.deepEqual(leaves, [])
  // Positive control: the same message, fresh, is a newer session of b: a replaces its connection.
  await asB('announce', roomTopic, {})
  await until(() => made.count > before, 'a to offer to the newer session')
  await until(() => leaves.includes(b.id), 'the old connection to be replaced')
  await done()
})

test('copies of every message delivered again later change nothing', async () => {
  const {A, B, b, heard, made, joins, leaves, bus, done} = await setup()
  const connection = A.getPeers()[b.id]
  const before = made.count
  const copies = heard.slice()
  await sleep(300)
  for (const {topic, data} of copies) bus.emit(topic, data)
  await sleep(1500)
  for (const {topic, data} of copies) bus.emit(topic, data)
  await sleep(500)
  assert.equal(A.getPeers()[b.id], connection)
  assert.equal(connection.connectionState, 'connected')
  assert.equal(made.count, before)
  assert.deepEqual(joins, [b.id])
  assert.deepEqual(leaves, [])
  assert.ok(B.getPeers()[A.selfId])
  await done()
})

test('an offer sealed for another session, or addressed to another peer, is dropped', async () => {
  const {A, b, made, leaves, asB, aTopic, sessionOf, done} = await setup()
  const connection = A.getPeers()[b.id]
  const before = made.count
  const aSession = await sessionOf(A.selfId)
  assert.ok(aSession)
  const pc = new RTCPeerConnection({iceServers: []})
  pc.createDataChannel('x')
  await pc.setLocalDescription(await pc.createOffer())
  const sdp = {type: 'offer', sdp: pc.localDescription.sdp}
  // a session of a that is not the current one
  await asB('offer', aTopic, {to: A.selfId, peerSession: 'Q'.repeat(16), sdp})
  // a's current session, but addressed to someone else
  await asB('offer', aTopic, {to: 'Someone0Else00000000', peerSession: aSession, sdp})
  await sleep(800)
  assert.equal(A.getPeers()[b.id], connection)
  assert.equal(made.count, before)
  assert.deepEqual(leaves, [])
  pc.close()
  await done()
})

test('a message of another protocol version is reported once and changes nothing', async () => {
  const {A, b, made, roomTopic, bus, done} = await setup()
  const errors = []
  A.onError(error => errors.push(error))
  const before = made.count
  bus.emit(roomTopic, JSON.stringify({t: 'announce', peer: 'OldRelease0000000000'}))
  bus.emit(roomTopic, JSON.stringify({v: 3, t: 'announce'}))
  await sleep(300)
  assert.equal(errors.length, 1)
  assert.equal(errors[0].code, 'malformed')
  assert.match(errors[0].message, /version 1/)
  assert.equal(made.count, before)
  assert.ok(A.getPeers()[b.id])
  await done()
})
