import {expect} from '@open-wc/testing'
import type {SwarmDownload} from '../src/core/index.js'
import {Sha256} from '../src/core/files/sha256.js'
import {flipBlobReads, leaveAndClose, joinedPeers, type Joined} from './helpers/rooms.js'
import {openPeers, testConfig, type TestRoomConfig, uniqueRoom, until} from './helpers/peers.js'
import {pseudoRandomBytes, sha256Of} from './helpers/content.js'

const MiB = 1024 * 1024

const content = (bytes: number) => pseudoRandomBytes(bytes, 4242)
const hashOf = sha256Of

/** Whether the byte ranges of the downloads together cover [0, size). */
const covered = (size: number, ...downloads: SwarmDownload[]) => {
  const ranges = downloads.flatMap(d => d.verifiedRanges()).sort((x, y) => x[0] - y[0])
  let reach = 0
  for (const [start, end] of ranges) {
    if (start > reach) return false
    reach = Math.max(reach, end)
  }
  return reach >= size
}
const verifiedBytes = (download: SwarmDownload) => download.verifiedRanges().reduce((n, [s, e]) => n + e - s, 0)

/** Pages joined to one room, each with its own config. */
const joinEach = async (configs: Partial<TestRoomConfig>[]): Promise<Joined[]> => {
  const pages = await openPeers(configs.length)
  const roomId = uniqueRoom('swarm-partial')
  const joined = pages.map((peer, k) => {
    const room = peer.lib.joinRoom({...testConfig, ...configs[k]}, roomId)
    const entry: Joined = {peer, room, id: peer.lib.selfId, joins: [], leaves: [], errors: []}
    room.onError(error => entry.errors.push(error))
    room.onPeerLeave(id => entry.leaves.push(id))
    return entry
  })
  await until(() => joined.every(p => Object.keys(p.room.getPeers()).length === configs.length - 1), 'pages to connect')
  return joined
}

const seed = async (source: Joined, bytes: Uint8Array, ...others: Joined[]) => {
  const hash = await source.room.seedFile(new source.peer.window.File([bytes], 'movie.bin') as File)
  await until(() => others.every(o => o.room.holdersOf(hash).includes(source.id)), 'the seed to be announced')
  return hash
}

describe('files: swarm download from members part-way through it', () => {
  it('two members downloading from one seed serve each other what they verified; the seed leaves and both finish from each other, SHA-256 equal', async function () {
    this.timeout(180_000)
    // The seed serves 1 MiB/s and the downloaders each other 256 KiB/s, so neither download can
    // finish before the seed leaves (once the two together hold every chunk).
    const [a, b, c] = await joinEach([
      {swarmLimits: {serveBytesPerSecond: MiB}},
      {swarmLimits: {serveBytesPerSecond: MiB / 4}},
      {swarmLimits: {serveBytesPerSecond: MiB / 4}},
    ])
    const size = 12 * MiB
    const bytes = content(size)
    const expected = new Sha256().update(bytes).hex()
    const hash = await seed(a, bytes, b, c)

    const atB = b.room.fetchFile(hash)
    await until(() => verifiedBytes(atB) >= 3 * MiB, 'b to be part-way')
    const atC = c.room.fetchFile(hash)
    // c asks b (a member part-way) as well as the seed.
    // c asks b (a member part-way) as well as the seed, and b serves it while its own download runs.
    await until(() => atC.sources().some(s => s.peerId === b.id && s.bytes > 0), 'b to serve c some of its chunks')
    expect(verifiedBytes(atB)).to.be.below(size)
    await until(() => covered(size, atB, atC), 'b and c to hold every chunk between them')
    expect(verifiedBytes(atC)).to.be.below(size)
    // b may have finished meanwhile (the wait above has no bound on its speed): then its seed is done, not dropped.
    const bDoneFirst = verifiedBytes(atB) === size
    a.peer.close() // the only whole source leaves

    const [fileB, fileC] = await Promise.all([atB.file(), atC.file()])
    expect(await hashOf(fileB)).to.equal(expected)
    expect(await hashOf(fileC)).to.equal(expected)
    const fromB = Object.fromEntries(atB.sources().map(s => [s.peerId, s]))
    const fromC = Object.fromEntries(atC.sources().map(s => [s.peerId, s]))
    if (bDoneFirst) expect(fromB[a.id]).to.deep.include({state: 'done'})
    else expect(fromB[a.id]).to.deep.include({state: 'dropped', code: 'peer-left'})
    expect(fromC[a.id]).to.deep.include({state: 'dropped', code: 'peer-left'})
    // c was filled in by b: every byte came from the seed or b, once. (b may have finished before
    // the seed left, or taken some chunks from c: either way from the seed and c only.)
    expect(fromC[b.id]!.bytes).to.be.above(0)
    expect(fromC[a.id]!.bytes + fromC[b.id]!.bytes).to.equal(size)
    expect(fromB[a.id]!.bytes + (fromB[c.id]?.bytes ?? 0)).to.equal(size)
    // Both now hold it whole.
    await until(() => b.room.heldFiles().includes(hash) && c.room.heldFiles().includes(hash), 'both to hold it')
    await leaveAndClose([b, c])
  })

  it('a partial source that sends wrong bytes is dropped with integrity, and its chunks come from the seed', async function () {
    this.timeout(120_000)
    const [a, liar, c] = await joinedPeers(3, {swarmLimits: {serveBytesPerSecond: 2 * MiB}})
    const size = 8 * MiB
    const bytes = content(size)
    const hash = await seed(a, bytes, liar, c)
    const atLiar = liar.room.fetchFile(hash)
    await until(() => verifiedBytes(atLiar) >= 3 * MiB, 'the liar to be part-way')
    flipBlobReads(liar) // every chunk it reads back to serve has one byte flipped
    const atC = c.room.fetchFile(hash)
    const file = await atC.file()
    expect(await hashOf(file)).to.equal(new Sha256().update(bytes).hex())
    const sources = Object.fromEntries(atC.sources().map(s => [s.peerId, s]))
    expect(sources[liar.id]).to.deep.include({state: 'dropped', code: 'integrity', bytes: 0})
    expect(sources[liar.id]!.reason).to.contain('did not match')
    expect(sources[a.id]!.state).to.equal('done')
    expect(c.errors.filter(e => e.code === 'integrity' && e.peerId === liar.id)).to.have.length(1)
    atLiar.cancel()
    await leaveAndClose([a, liar, c])
  })
})
