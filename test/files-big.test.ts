import {expect} from '@open-wc/testing'
import {Sha256} from '../src/core/files/sha256.js'
import {openPeer, testConfig, uniqueRoom, until} from './helpers/peers.js'

const MiB = 1024 * 1024

/** `mib` MiB of bytes that differ in every MiB, as a Blob (held by the browser, not the JS heap). */
const bigBlob = (mib: number) => {
  const parts: Uint8Array[] = []
  for (let m = 0; m < mib; m++) {
    const part = new Uint8Array(MiB)
    const words = new Uint32Array(part.buffer)
    let x = m * 2654435761 + 1
    for (let i = 0; i < words.length; i++) words[i] = x = (x * 1103515245 + 12345) >>> 0
    parts.push(part)
  }
  return new Blob(parts as Uint8Array<ArrayBuffer>[], {type: 'application/octet-stream'})
}

const hashBlob = async (blob: Blob) => {
  const hash = new Sha256()
  for (let at = 0; at < blob.size; at += 4 * MiB)
    hash.update(new Uint8Array(await blob.slice(at, at + 4 * MiB).arrayBuffer()))
  return hash.hex()
}

type Report =
  | {t: 'ready'; selfId: string; isolated: boolean; baseline: number}
  | {t: 'done'; hash: string; bytes: number; baseline: number; peak: number; samples: number}
  | {t: 'error'; message: string}

describe('files: 256 MiB', () => {
  it('a 256 MiB file streams between two pages with SHA-256 equal and the receiver memory bounded (measureUserAgentSpecificMemory, cross-origin isolated)', async function () {
    this.timeout(600_000)
    const started = performance.now()
    const roomId = uniqueRoom('big')
    const name = `files-big-${roomId}`
    const reports: Report[] = []
    const channel = new BroadcastChannel(name)
    channel.onmessage = ({data}) => reports.push(data as Report)
    const query = new URLSearchParams({
      channel: name,
      entry: '/src/strategies/local.ts',
      room: roomId,
      config: JSON.stringify(testConfig),
    })
    // Its own window: a page can be cross-origin isolated only at the top (COOP), not in an iframe here.
    window.open(`/test/fixtures/isolated-receiver.html?${query}`, '_blank', 'popup,width=320,height=240')
    const ready = (await until(() => reports.find(r => r.t !== 'done'), 'the isolated receiver', 30_000)) as Report
    if (ready.t === 'error') throw new Error(ready.message)
    expect(ready).to.include({t: 'ready', isolated: true})
    const receiverId = (ready as {selfId: string}).selfId

    const a = await openPeer()
    const room = a.lib.joinRoom(testConfig, roomId)
    const blob = bigBlob(256)
    // Hashed here while it streams (the JS hash of 256 MiB takes a while on a loaded machine).
    const expected = hashBlob(blob)
    try {
      await until(() => Object.keys(room.getPeers()).includes(receiverId), 'the pages to meet', 30_000)
      const sending = performance.now()
      await room.sendFile(blob, receiverId, {name: 'big.bin'})
      const done = await until(() => reports.find(r => r.t === 'done' || r.t === 'error'), 'the receiver', 60_000)
      if (done.t === 'error') throw new Error(done.message)
      const {hash, bytes, baseline, peak, samples} = done as Extract<Report, {t: 'done'}>
      const growth = (peak - baseline) / MiB
      const seconds = (performance.now() - sending) / 1000
      console.log(
        `files-big: 256 MiB in ${seconds.toFixed(1)} s (${(256 / seconds).toFixed(1)} MiB/s); receiver memory ` +
          `+${growth.toFixed(1)} MiB over ${samples} samples; whole test ${((performance.now() - started) / 1000).toFixed(0)} s`,
      )
      expect(bytes).to.equal(256 * MiB)
      expect(hash).to.equal(await expected)
      expect(samples).to.be.above(0)
      // A window of 4 MiB per side and a few blocks in flight: far below the file's size.
      expect(growth).to.be.below(64)
    } finally {
      channel.postMessage({t: 'close'})
      await room.leave()
      a.close()
      channel.close()
    }
  })
})
