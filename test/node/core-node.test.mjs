import {test} from 'node:test'
import assert from 'node:assert/strict'
import {startPeers as startBus} from './_bus.mjs'

const startPeers = (count, roomId) => startBus(new URL('./_ipc-peer.mjs', import.meta.url), count, roomId)

const joinedAll = peers =>
  Promise.all(peers.map(p => p.until(r => r.filter(x => x.kind === 'joined').length === peers.length - 1)))

const leaveAll = async peers => {
  const exited = peers.map(peer => new Promise(resolve => peer.child.once('exit', () => resolve(Date.now()))))
  for (const peer of peers) peer.child.send({type: 'leave'})
  await Promise.all(peers.map(peer => peer.until(r => r.some(x => x.kind === 'left'))))
  const left = Date.now()
  // No timer of ours outlives the room: the processes end by themselves, well before any
  // of the room's timeouts (connectTimeoutMs, peerTimeoutMs: 20 s) would have fired.
  const killer = setTimeout(() => {
    for (const peer of peers) peer.child.kill()
  }, 15_000)
  const exits = await Promise.all(exited)
  clearTimeout(killer)
  assert.ok(Math.max(...exits) - left < 10_000, `processes took ${Math.max(...exits) - left} ms to exit after leave()`)
}

test('two Node peers (rtcPolyfill: node-datachannel, driver strategy) exchange text and 3 MB of binary', async () => {
  const peers = startPeers(2, `node-${Date.now()}`)
  const [a, b] = peers
  await joinedAll(peers)
  for (const [self, other] of [
    [a, b],
    [b, a],
  ]) {
    self.child.send({type: 'send', text: `hello from ${self.id()}`})
    self.child.send({type: 'send', bytes: 3 * 1024 * 1024})
    self.child.send({type: 'ping', to: other.id()})
  }
  for (const [self, other] of [
    [a, b],
    [b, a],
  ]) {
    await self.until(
      r =>
        r.filter(x => x.kind === 'received').length === 2 &&
        r.filter(x => x.kind === 'sent').length === 2 &&
        r.some(x => x.kind === 'pong'),
    )
    const [text, binary] = self.reports.filter(r => r.kind === 'received')
    assert.deepEqual(text, {type: 'report', kind: 'received', peerId: other.id(), data: `hello from ${other.id()}`})
    assert.deepEqual(binary.data, {bytes: 3 * 1024 * 1024, at1000: 1000 & 255})
    assert.ok(self.reports.find(r => r.kind === 'pong').rtt > 0)
  }
  await leaveAll(peers)
})

test('a peer that stops reading does not stall a send to the others', async () => {
  const peers = startPeers(3, `slow-${Date.now()}`)
  const [sender, fast, slow] = peers
  await joinedAll(peers)
  // SIGSTOP freezes the slow peer whole (its WebRTC threads too): it reads nothing, its
  // receive window fills, and what we send it backs up in our buffer, as with a peer on a
  // bad link. The send goes to both peers at once.
  slow.child.kill('SIGSTOP')
  try {
    const bytes = 16 * 1024 * 1024
    const progressOf = id =>
      Math.max(0, ...sender.reports.filter(r => r.kind === 'progress' && r.peerId === id).map(r => r.fraction))
    sender.child.send({type: 'send', bytes})
    await sender.until(() => progressOf(fast.id()) === 1)
    await fast.until(r => r.some(x => x.kind === 'received'))
    assert.ok(progressOf(slow.id()) < 1, `the frozen peer has acknowledged ${progressOf(slow.id())}, not all`)
    slow.child.kill('SIGCONT')
    await sender.until(r => r.some(x => x.kind === 'sent'))
    const reports = await slow.until(r => r.some(x => x.kind === 'received'))
    assert.deepEqual(
      reports.find(x => x.kind === 'received').data,
      {bytes, at1000: 1000 & 255},
      'the slow peer gets it all once it reads again',
    )
  } finally {
    slow.child.kill('SIGCONT')
  }
  await leaveAll(peers)
})
