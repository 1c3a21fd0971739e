import {expect} from '@open-wc/testing'
import {contentHash, manifestOf, type FileProgress, type SwarmSource} from '../src/core/index.js'
import {swarmActionId} from '../src/core/files/swarm.js'
import {chunkSizeFor} from '../src/core/files/index.js'
import {encodeChunk, encodeMessageHeader} from '../src/core/frame.js'
import {ValueKind} from '../src/core/codec.js'
import {Sha256} from '../src/core/files/sha256.js'
import {channelsPingedOn, flipBlobReads, leaveAndClose, joinedPeers, type Joined} from './helpers/rooms.js'
import {rejection, uniqueRoom, until} from './helpers/peers.js'
import {openExamples} from './helpers/examples.js'
import {screenshot} from './helpers/screenshot.js'
import {pseudoRandomBytes, sha256Of} from './helpers/content.js'

const MiB = 1024 * 1024

const content = (bytes: number) => pseudoRandomBytes(bytes, 12345)
const hashOf = sha256Of

/** Seeds the same bytes on every source (each its own Blob, made in its own page) and waits until `fetcher` heard of all. */
const seedOn = async (sources: Joined[], bytes: Uint8Array, fetcher: Joined, type = 'application/octet-stream') => {
  const hashes = await Promise.all(
    sources.map(s => s.room.seedFile(new s.peer.window.File([bytes], 'movie.bin', {type}) as File)),
  )
  expect(new Set(hashes).size).to.equal(1)
  const hash = hashes[0]!
  await until(() => fetcher.room.holdersOf(hash).length === sources.length, 'the sources to announce the file')
  return hash
}

describe('files: swarm download', () => {
  it('fetches from 3 sources at once; one leaving mid-way hands its ranges to the others; SHA-256 equal', async function () {
    this.timeout(120_000)
    // Each source serves at most 1 MiB/s, so 12 MiB takes a few seconds and the leave lands mid-way.
    const [a, b, c, d] = await joinedPeers(4, {swarmLimits: {serveBytesPerSecond: MiB}})
    const bytes = content(12 * MiB)
    const expected = new Sha256().update(bytes).hex()
    const hash = await seedOn([a, b, c], bytes, d)
    expect(a.room.heldFiles()).to.deep.equal([hash])
    const listed = d.room.swarmFiles()
    expect(listed).to.have.length(1)
    expect(listed[0]).to.deep.include({hash, name: 'movie.bin', size: 12 * MiB, here: false})
    expect([...listed[0]!.holders].sort()).to.deep.equal([a.id, b.id, c.id].sort())

    const progress: FileProgress[] = []
    let left = false
    let snapshot: SwarmSource[] = []
    const download = d.room.fetchFile(hash, {
      onProgress: p => {
        progress.push(p)
        if (!left && p.fraction! > 0.3) {
          left = true
          snapshot = download.sources()
          b.peer.close() // the tab closes: b leaves mid-way
        }
      },
    })
    expect((await download.manifest).size).to.equal(12 * MiB)
    const file = await download.file()
    expect(file.size).to.equal(12 * MiB)
    expect(file.name).to.equal('movie.bin')
    expect(await hashOf(file)).to.equal(expected)

    // All three served before b left; b's unfinished chunks came from a and c.
    expect(snapshot.every(s => s.state === 'serving' && s.bytes > 0)).to.equal(true)
    const sources = Object.fromEntries(download.sources().map(s => [s.peerId, s]))
    expect(sources[b.id]).to.deep.include({state: 'dropped', code: 'peer-left'})
    expect(sources[a.id]!.state).to.equal('done')
    expect(sources[c.id]!.state).to.equal('done')
    const total = Object.values(sources).reduce((n, s) => n + s.bytes, 0)
    expect(total).to.equal(12 * MiB)
    expect(sources[a.id]!.bytes + sources[c.id]!.bytes).to.be.above(12 * MiB * 0.6)
    expect(progress.at(-1)).to.deep.include({bytes: 12 * MiB, fraction: 1})
    // Progress at least every 1 % or 256 KiB (chunks are 1 % of the file, at most 256 KiB).
    const steps = progress.map((p, i) => p.bytes - (progress[i - 1]?.bytes ?? 0))
    expect(Math.max(...steps)).to.be.at.most(256 * 1024)

    // The fetcher now serves it too.
    await until(() => d.room.heldFiles().includes(hash), 'the fetcher to hold the file')

    // No source left holds it: a clear error, not a hang.
    const error = await rejection(c.room.fetchFile('0'.repeat(64)).done)
    expect(error?.code).to.equal('no-sources')
    expect(error?.message).to.contain('does not hold')
    await leaveAndClose([a, c, d])
  })

  it('a lying source (wrong bytes) is caught by the chunk hash, dropped, and its chunks fetched from the others', async function () {
    this.timeout(120_000)
    const [liar, b, c, d] = await joinedPeers(4, {swarmLimits: {serveBytesPerSecond: 2 * MiB}})
    const bytes = content(6 * MiB)
    const hash = await seedOn([liar, b, c], bytes, d)
    flipBlobReads(liar)
    const download = d.room.fetchFile(hash)
    const file = await download.file()
    expect(await hashOf(file)).to.equal(new Sha256().update(bytes).hex())
    const sources = Object.fromEntries(download.sources().map(s => [s.peerId, s]))
    expect(sources[liar.id]).to.deep.include({state: 'dropped', code: 'integrity', bytes: 0})
    expect(sources[liar.id]!.reason).to.contain('did not match')
    expect(sources[b.id]!.state).to.equal('done')
    expect(d.errors.filter(e => e.code === 'integrity' && e.peerId === liar.id)).to.have.length(1)
    await leaveAndClose([liar, b, c, d])
  })

  it('a forged manifest is rejected (it does not hash to the content hash); the honest source serves', async function () {
    this.timeout(60_000)
    const [forger, b, d] = await joinedPeers(3)
    const bytes = content(MiB)
    const hash = await seedOn([forger, b], bytes, d)
    // The forger rewrites what it sends on its data channels: the first chunk's digest (the
    // manifest's first 32 bytes) gets one byte flipped, as a modified client could.
    const first = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes.slice(0, chunkSizeFor(MiB))))
    const proto = forger.peer.window.RTCDataChannel.prototype
    const send = proto.send
    let forged = 0
    proto.send = function (this: RTCDataChannel, data: never) {
      const view = ArrayBuffer.isView(data)
        ? new Uint8Array((data as Uint8Array).buffer, (data as Uint8Array).byteOffset, (data as Uint8Array).byteLength)
        : data instanceof forger.peer.window.ArrayBuffer
          ? new Uint8Array(data)
          : undefined
      if (view)
        for (let at = 0; at + 32 <= view.length; at++)
          if (view[at] === first[0] && first.every((v, k) => view[at + k] === v)) {
            view[at + 5]! ^= 1
            forged++
            break
          }
      return send.call(this, data)
    }
    const download = d.room.fetchFile(hash, {sources: [forger.id, b.id]})
    const file = await download.file()
    proto.send = send
    expect(forged).to.be.at.least(1)
    expect(await hashOf(file)).to.equal(new Sha256().update(bytes).hex())
    const sources = Object.fromEntries(download.sources().map(s => [s.peerId, s]))
    expect(sources[forger.id]).to.deep.include({state: 'dropped', code: 'integrity', bytes: 0})
    expect(sources[forger.id]!.reason).to.contain('forged manifest')
    expect(sources[b.id]).to.deep.include({state: 'done', bytes: MiB})
    await leaveAndClose([forger, b, d])
  })

  it('files sent or received whole are served; a source can decline (onServe); with none left the fetch fails with no-sources', async function () {
    this.timeout(60_000)
    const [a, b, d] = await joinedPeers(3)
    const bytes = content(MiB)
    // Served without seedFile: a sent it whole to b, which took it with file().
    b.room.onFile(incoming => void incoming.file())
    const sent = new File([bytes], 'movie.bin')
    await a.room.sendFile(sent, b.id)
    const hash = await contentHash(await manifestOf(sent))
    await until(
      () => a.room.heldFiles().includes(hash) && b.room.heldFiles().includes(hash),
      'the sender and the receiver to serve the file',
    )
    await until(() => d.room.holdersOf(hash).length === 2, 'both to announce it')
    const asked: unknown[] = []
    a.room.onServe(request => {
      asked.push(request)
      return false
    })
    const download = d.room.fetchFile(hash)
    await download.done
    expect(asked).to.deep.equal([{peerId: d.id, hash, name: 'movie.bin', size: MiB}])
    const sources = Object.fromEntries(download.sources().map(s => [s.peerId, s]))
    expect(sources[a.id]).to.deep.include({state: 'dropped', code: 'declined'})
    expect(sources[b.id]).to.deep.include({state: 'done', bytes: MiB})
    b.room.onServe(() => false)
    d.room.unseedFile(hash)
    const error = await rejection(d.room.fetchFile(hash, {sources: [a.id, b.id]}).done)
    expect(error?.code).to.equal('no-sources')
    await leaveAndClose([a, b, d])
  })

  it('a peer flooding orphan swarm messages is reported a few times, then disconnected; others still fetch', async function () {
    this.timeout(60_000)
    const [a, b, c] = await joinedPeers(3)
    // The attacker writes raw frames on its data channel to c, as a modified client could.
    const toC = (await channelsPingedOn(a, c.id))[0]!
    const body = new TextEncoder().encode(JSON.stringify({t: 'get', q: 'no-such-fetch', i: 0}))
    const frame = (nonce: number) =>
      encodeChunk(nonce, 0, true, [
        encodeMessageHeader({total: body.byteLength, actionId: swarmActionId, kind: ValueKind.Json, meta: undefined}),
        body,
      ])
    for (let n = 0; n < 400 && toC.readyState === 'open'; n++) toC.send(frame(2_000_000 + n) as Uint8Array<ArrayBuffer>)
    await until(() => c.leaves.includes(a.id), 'c to disconnect the flooding peer')
    expect(c.errors.filter(e => e.code === 'malformed').length).to.be.within(1, 40)
    expect(c.errors.filter(e => e.code === 'flood')).to.have.length(1)
    // b still serves c.
    const hash = await b.room.seedFile(new Blob([content(100_000)]))
    await c.room.fetchFile(hash, {sources: [b.id]}).done
    await leaveAndClose([a, b, c])
  })

  it('sequential: a <video> fed through MediaSource starts playing before the last byte arrives', async function () {
    this.timeout(120_000)
    const type = 'video/webm;codecs=vp8'
    if (!MediaSource.isTypeSupported(type)) this.skip()
    // A 6 s WebM (VP8, 320x240) recorded with MediaRecorder from a canvas, kept as a fixture.
    const webm = new Uint8Array(await (await fetch('/test/fixtures/swarm-video.webm')).arrayBuffer())
    expect(webm.byteLength).to.be.above(200_000)

    // Three sources at a rate that makes the download take several seconds.
    const rate = Math.ceil(webm.byteLength / 3 / 4)
    const [a, b, c, d] = await joinedPeers(4, {swarmLimits: {serveBytesPerSecond: rate}})
    const hash = await seedOn([a, b, c], webm, d, 'video/webm')
    // Chromium defers loading media in a background tab (test files run side by side in tabs):
    // the screenshot command brings this tab to the front first.
    await screenshot('files-swarm-video')
    const win = d.peer.window
    const video = win.document.createElement('video')
    video.muted = true
    win.document.body.append(video)
    const source = new win.MediaSource()
    video.src = win.URL.createObjectURL(source)
    await new Promise(resolve => source.addEventListener('sourceopen', resolve, {once: true}))
    const buffer = source.addSourceBuffer(type)
    let received = 0
    let receivedWhenPlaying = -1
    const started = () => {
      if (receivedWhenPlaying < 0) receivedWhenPlaying = received
    }
    video.addEventListener('playing', started)
    video.addEventListener('timeupdate', () => video.currentTime > 0 && started())
    const download = d.room.fetchFile(hash, {sequential: true})
    const reader = download.stream().getReader()
    void video.play().catch(() => {})
    // Says where it stands if it is ever stuck, before mocha's timeout.
    const watchdog = setTimeout(
      () =>
        console.log(
          `swarm sequential stuck: ${JSON.stringify({received, ready: video.readyState, sources: download.sources()})}`,
        ),
      60_000,
    )
    for (;;) {
      const {value, done} = await reader.read()
      if (done) break
      received += value.byteLength
      buffer.appendBuffer(value)
      await new Promise((resolve, reject) => {
        buffer.addEventListener('updateend', resolve, {once: true})
        buffer.addEventListener('error', () => reject(new Error('the SourceBuffer refused the bytes')), {once: true})
      })
    }
    await download.done
    clearTimeout(watchdog)
    source.endOfStream()
    expect(received).to.equal(webm.byteLength)
    await until(() => receivedWhenPlaying >= 0, 'the video to play', 10_000)
    console.log(
      `swarm sequential: a ${webm.byteLength}-byte WebM started playing with ${receivedWhenPlaying} bytes in (${((100 * receivedWhenPlaying) / webm.byteLength).toFixed(0)} %)`,
    )
    expect(receivedWhenPlaying).to.be.below(webm.byteLength * 0.8)
    // All three sources took part.
    expect(download.sources().map(s => [s.state, s.bytes > 0, s.reason])).to.deep.equal([
      ['done', true, undefined],
      ['done', true, undefined],
      ['done', true, undefined],
    ])
    await leaveAndClose([a, b, c, d])
  })
})

describe('files example: swarm view', () => {
  it('a file two tabs seed is listed in a third with its holders; fetching it shows both sources and saves the same bytes', async function () {
    this.timeout(60_000)
    const pages = await openExamples(3, 'files/', uniqueRoom('swarm'))
    const [a, b, c] = pages
    await until(
      () => pages.every(p => (p.$('p2p-room') as unknown as {peers: string[]} | null)?.peers.length === 2),
      'three tabs to meet',
    )
    const bytes = content(3 * MiB)
    for (const page of [a, b]) {
      const input = page.$<HTMLInputElement>('#swarm-seed')!
      const files = new page.window.DataTransfer()
      files.items.add(new page.window.File([bytes], 'holiday.bin'))
      input.files = files.files
      input.dispatchEvent(new page.window.Event('change', {bubbles: true}))
    }
    const button = await until(
      () =>
        [...c.document.querySelectorAll<HTMLButtonElement>('#swarm-files button')].find(
          x => x.textContent === 'Fetch from 2',
        ),
      'the file listed with 2 holders',
    )
    expect(c.$('#swarm-files')!.textContent).to.contain('holiday.bin')
    button.click()
    const link = await until(() => c.$<HTMLAnchorElement>('#swarm-download a[download]'), 'the save link')
    expect(link.download).to.equal('holiday.bin')
    const got = new Uint8Array(await (await c.window.fetch(link.href)).arrayBuffer())
    expect(new Sha256().update(got).hex()).to.equal(new Sha256().update(bytes).hex())
    const rows = [...c.document.querySelectorAll('.swarm-sources tr')].slice(1)
    expect(rows.map(row => row.children[1]!.textContent)).to.deep.equal(['done', 'done'])
    c.$('#swarm-title')!.scrollIntoView()
    await screenshot('example-files-swarm')
    for (const page of pages) page.close()
  })
})
