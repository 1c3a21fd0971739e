import {expect} from '@open-wc/testing'
import {executeServerCommand} from '@web/test-runner-commands'
import type {FileProgress, IncomingFile, P2PError} from '../src/core/index.js'
import {Sha256} from '../src/core/files/sha256.js'
import {fileActionId} from '../src/core/files/index.js'
import {encodeChunk, encodeMessageHeader} from '../src/core/frame.js'
import {ValueKind} from '../src/core/codec.js'
import {channelsPingedOn, leaveAndClose, joinedPeers} from './helpers/rooms.js'
import {rejection, until} from './helpers/peers.js'

const MiB = 1024 * 1024

/** `mib` MiB of bytes that differ in every MiB, as a Blob (held by the browser, not the JS heap). */
const bigBlob = (mib: number) => {
  const parts: Uint8Array[] = []
  for (let m = 0; m < mib; m++) {
    const part = new Uint8Array(MiB)
    let x = m * 2654435761 + 1
    for (let i = 0; i < MiB; i += 4) {
      x = (x * 1103515245 + 12345) >>> 0
      part[i] = x & 255
      part[i + 1] = (x >>> 8) & 255
      part[i + 2] = (x >>> 16) & 255
      part[i + 3] = x >>> 24
    }
    parts.push(part)
  }
  return new Blob(parts as Uint8Array<ArrayBuffer>[], {type: 'video/mp4'})
}

const hashBlob = async (blob: Blob) => {
  const hash = new Sha256()
  for (let at = 0; at < blob.size; at += 4 * MiB)
    hash.update(new Uint8Array(await blob.slice(at, at + 4 * MiB).arrayBuffer()))
  return hash.hex()
}

const heap = () => (performance as unknown as {memory?: {usedJSHeapSize: number}}).memory?.usedJSHeapSize ?? 0
/** The JS heap in use right after a full garbage collection (the test runner's collect-garbage command): live memory only. */
const liveHeap = async () => {
  await executeServerCommand('collect-garbage')
  return heap()
}

describe('files: streaming', () => {
  it('a 64 MiB file streams to a reader with SHA-256 equal, memory bounded, progress acked on both sides', async function () {
    this.timeout(180_000)
    const [a, b] = await joinedPeers(2)
    const blob = bigBlob(64)
    const expected = await hashBlob(blob)
    const offers: IncomingFile[] = []
    const receiverProgress: FileProgress[] = []
    let got = ''
    let bytes = 0
    let peakHeap = 0
    // Live heap, after a GC, at the start and every 8 MiB read: what the transfer holds, not
    // garbage a loaded machine has not collected yet (the raw peak is printed too).
    let peakLive = 0
    const baseline = await liveHeap()
    b.room.onFile(file => {
      offers.push(file)
      const stream = file.stream()
      file.onProgress(p => receiverProgress.push(p))
      void (async () => {
        const hash = new Sha256()
        const reader = stream.getReader()
        for (;;) {
          const {value, done} = await reader.read()
          if (done) break
          hash.update(value)
          const before = bytes
          bytes += value.byteLength
          peakHeap = Math.max(peakHeap, heap())
          if (Math.floor(bytes / (8 * MiB)) > Math.floor(before / (8 * MiB)))
            peakLive = Math.max(peakLive, await liveHeap())
        }
        got = hash.hex()
      })()
      return true
    })
    const senderProgress: FileProgress[] = []
    await a.room.sendFile(blob, b.id, {
      name: 'big.mp4',
      metadata: {album: 'summer'},
      onProgress: p => senderProgress.push(p),
    })
    await until(() => got, 'the reader to finish')
    await offers[0]!.done
    expect(got).to.equal(expected)
    expect(bytes).to.equal(64 * MiB)
    expect(offers[0]).to.deep.include({peerId: a.id, name: 'big.mp4', type: 'video/mp4', size: 64 * MiB})
    expect(offers[0]!.metadata).to.deep.equal({album: 'summer'})
    // Every 256 KiB on both sides (1 % of 64 MiB is more than that), with speed and time left.
    for (const progress of [senderProgress, receiverProgress]) {
      expect(progress.length).to.be.at.least(256)
      const steps = progress.map((p, i) => p.bytes - (progress[i - 1]?.bytes ?? 0))
      expect(Math.max(...steps)).to.be.at.most(256 * 1024)
      expect(progress.at(-1)).to.deep.include({bytes: 64 * MiB, fraction: 1, secondsLeft: 0})
      expect(progress.some(p => p.bytesPerSecond > 0)).to.equal(true)
    }
    const growth = (peakLive - baseline) / MiB
    console.log(
      `files: 64 MiB streamed; live JS heap (after GC) ${(baseline / MiB).toFixed(1)} MiB → peak ${(peakLive / MiB).toFixed(1)} MiB (+${growth.toFixed(1)} MiB; without GC the peak was +${((peakHeap - baseline) / MiB).toFixed(1)} MiB; all three pages share one heap)`,
    )
    // Live heap (not ArrayBuffer backing stores, which files-big measures): below the 64 MiB
    // that holding the file would add.
    if (baseline) expect(growth).to.be.below(64)
    await leaveAndClose([a, b])
  })

  it('a file taken with file() is assembled (OPFS where present) and verified; a ReadableStream source works too', async function () {
    this.timeout(60_000)
    const [a, b] = await joinedPeers(2)
    const files: File[] = []
    b.room.onFile(async file => {
      file.file().then(f => files.push(f))
      return true
    })
    const blob = bigBlob(8)
    await a.room.sendFile(blob, b.id)
    await until(() => files.length === 1, 'the file')
    expect(files[0]!.size).to.equal(8 * MiB)
    expect(files[0]!.type).to.equal('video/mp4')
    expect(await hashBlob(files[0]!)).to.equal(await hashBlob(blob))

    // A stream of unknown length, in odd-sized pieces.
    const text = 'x'.repeat(700_001)
    const source = new Blob([text]).stream()
    await a.room.sendFile(source, b.id, {name: 'log.txt', type: 'text/plain'})
    await until(() => files.length === 2, 'the streamed file')
    expect(files[1]!.name).to.equal('log.txt')
    expect(await files[1]!.text()).to.equal(text)
    await leaveAndClose([a, b])
  })
})

describe('files: consent and limits', () => {
  it('the receiver sees name, size and metadata first; a decline rejects the sender with "declined" and no bytes flow', async () => {
    const [a, b] = await joinedPeers(2)
    const seen: {size?: number; metadata?: unknown}[] = []
    b.room.onFile(async file => {
      seen.push({size: file.size, metadata: file.metadata})
      await new Promise(resolve => setTimeout(resolve, 50))
      return false
    })
    const progress: FileProgress[] = []
    const error = await rejection(
      a.room.sendFile(bigBlob(2), b.id, {metadata: {why: 'test'}, onProgress: p => progress.push(p)}),
    )
    expect(error).to.deep.include({code: 'declined', peerId: b.id})
    expect(seen).to.deep.equal([{size: 2 * MiB, metadata: {why: 'test'}}])
    expect(progress).to.have.length(0)

    // No onFile at all: declined too.
    b.room.onFile(undefined)
    expect((await rejection(a.room.sendFile(new Blob(['hi']), b.id)))?.code).to.equal('declined')
    await leaveAndClose([a, b])
  })

  it('over maxFileBytes, over the metadata cap, over the per-peer concurrency cap: refused with a code', async () => {
    const [a, b] = await joinedPeers(2, {fileLimits: {maxFileBytes: 100_000, maxConcurrentPerPeer: 2}})
    let release!: () => void
    const gate = new Promise<void>(resolve => (release = resolve))
    const asked: Array<number | undefined> = []
    b.room.onFile(async file => {
      asked.push(file.size)
      await gate
      return true
    })
    expect((await rejection(a.room.sendFile(new Blob([new Uint8Array(100_001)]), b.id)))?.code).to.equal('too-large')
    // A stream of unknown length over the limit is cancelled once it passes it.
    const endless = new ReadableStream<Uint8Array>({pull: c => c.enqueue(new Uint8Array(64 * 1024))})
    const streaming = a.room.sendFile(endless, b.id)
    expect(
      (await rejection(a.room.sendFile(new Blob(['x']), b.id, {metadata: {pad: 'x'.repeat(5000)}})))?.code,
    ).to.equal('too-large')
    const pending = [a.room.sendFile(new Blob(['one']), b.id)]
    // Both in b's hands, waiting for its answer: the cap of 2 is reached.
    await until(() => asked.includes(undefined) && asked.includes(3), 'b to be asked about the stream and "one"')
    expect((await rejection(a.room.sendFile(new Blob(['three']), b.id)))?.code).to.equal('busy')
    release()
    await Promise.all(pending)
    const error = (await rejection(streaming)) as P2PError
    expect(error.code).to.equal('cancelled')
    expect(error.message).to.contain('limit')
    await leaveAndClose([a, b])
  })

  it('either side can cancel: the other side rejects with "cancelled"', async function () {
    this.timeout(60_000)
    const [a, b] = await joinedPeers(2)
    let incoming: IncomingFile | undefined
    b.room.onFile(file => {
      incoming = file
      file.onProgress(p => p.bytes > MiB && file.cancel('changed my mind'))
    })
    const error = await rejection(a.room.sendFile(bigBlob(16), b.id))
    expect(error?.code).to.equal('cancelled')
    expect(error?.message).to.contain('changed my mind')
    expect((await rejection(incoming!.done))?.code).to.equal('cancelled')

    const controller = new AbortController()
    let second: IncomingFile | undefined
    b.room.onFile(file => {
      second = file
      file.onProgress(p => p.bytes > MiB && controller.abort())
    })
    expect((await rejection(a.room.sendFile(bigBlob(16), b.id, {signal: controller.signal})))?.code).to.equal(
      'cancelled',
    )
    expect((await rejection(second!.done))?.code).to.equal('cancelled')
    await leaveAndClose([a, b])
  })

  it('a peer flooding orphan file messages is reported a few times, then disconnected; others are unaffected', async function () {
    this.timeout(60_000)
    const [a, b, c] = await joinedPeers(3)
    // The attacker writes raw frames on its data channels, as a modified client could: record
    // every channel its page sends on, then make it send (a ping).
    const channels = await channelsPingedOn(a, c.id, b.id)
    expect(channels.length).to.equal(2)
    const body = new TextEncoder().encode(JSON.stringify({t: 'ack', id: 'no-such-transfer', i: 0, bytes: 0}))
    const frame = (nonce: number) =>
      encodeChunk(nonce, 0, true, [
        encodeMessageHeader({total: body.byteLength, actionId: fileActionId, kind: ValueKind.Json, meta: undefined}),
        body,
      ])
    // Only the channel to c: the one whose ping went first.
    const toC = channels[0]!
    for (let n = 0; n < 400 && toC.readyState === 'open'; n++) toC.send(frame(1_000_000 + n) as Uint8Array<ArrayBuffer>)
    await until(() => c.leaves.includes(a.id), 'c to disconnect the flooding peer')
    const malformed = c.errors.filter(e => e.code === 'malformed')
    expect(malformed.length).to.be.within(1, 40)
    expect(c.errors.filter(e => e.code === 'flood')).to.have.length(1)
    // b and c still trade files.
    c.room.onFile(() => true)
    await b.room.sendFile(new Blob(['still fine']), c.id)
    await leaveAndClose([a, b, c])
  })
})
