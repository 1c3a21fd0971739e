import {test} from 'node:test'
import assert from 'node:assert/strict'
import {fork} from 'node:child_process'

/** Peers are separate Node processes; this process is their pub/sub bus. */
const startPeers = (count, roomId) => {
  const peers = Array.from({length: count}, () => {
    const child = fork(new URL('./_ipc-peer.mjs', import.meta.url), [roomId], {stdio: 'inherit'})
    const reports = []
    let wake = () => {}
    child.on('message', message => {
      if (message.type === 'publish')
        for (const other of peers) other.child.send({type: 'deliver', topic: message.topic, data: message.data})
      else reports.push(message), wake()
    })
    const until = async check => {
      while (!check(reports)) await new Promise(resolve => (wake = resolve))
    }
    return {child, reports, until}
  })
  return peers
}

test('two Node peers (rtcPolyfill: node-datachannel, driver strategy) exchange text and 3 MB of binary', async () => {
  const [a, b] = startPeers(2, `node-${Date.now()}`)
  const done = r => r.filter(x => x.kind === 'received').length === 2 && r.some(x => x.kind === 'sent')
  await Promise.all([a.until(done), b.until(done)])
  for (const [self, other] of [[a, b], [b, a]]) {
    const otherId = other.reports.find(r => r.kind === 'joined').selfId
    const [text, binary] = self.reports.filter(r => r.kind === 'received')
    assert.equal(text.data, `hello from ${otherId}`)
    assert.equal(text.peerId, otherId)
    assert.deepEqual(binary.data, {bytes: 3 * 1024 * 1024, at1000: 1000 & 255})
    assert.ok(self.reports.find(r => r.kind === 'sent').rtt > 0)
  }
  const exited = [a, b].map(peer => new Promise(resolve => peer.child.once('exit', () => resolve(Date.now()))))
  for (const peer of [a, b]) peer.child.send({type: 'leave'})
  await Promise.all([a.until(r => r.some(x => x.kind === 'left')), b.until(r => r.some(x => x.kind === 'left'))])
  const left = Date.now()
  // No timer of ours outlives the room: the processes end by themselves, well before any
  // of the room's timeouts (connectTimeoutMs, peerTimeoutMs: 20 s) would have fired.
  const killer = setTimeout(() => [a, b].forEach(peer => peer.child.kill()), 15_000)
  const exits = await Promise.all(exited)
  clearTimeout(killer)
  assert.ok(Math.max(...exits) - left < 10_000, `processes took ${Math.max(...exits) - left} ms to exit after leave()`)
})
