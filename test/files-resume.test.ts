import {expect} from '@open-wc/testing'
import type {FileProgress, IncomingFile, Room} from '../src/core/index.js'
import {Sha256} from '../src/core/files/sha256.js'
import {openPeer, testConfig, uniqueRoom, until, type PeerLib, type TestPeer} from './helpers/peers.js'
import {pseudoRandomBytes} from './helpers/content.js'
import {joinAs, storedIdentity} from './helpers/identity.js'

const MiB = 1024 * 1024

const content = (mib: number) => pseudoRandomBytes(mib * MiB, 7)

/** Reloads a peer's page for real (location.reload) and resolves with it once its entry loaded again. */
const reload = async (peer: TestPeer): Promise<TestPeer> => {
  const loaded = new Promise<void>(resolve =>
    peer.frame.addEventListener(
      'load',
      () => {
        const win = peer.frame.contentWindow as unknown as {ready?: boolean} & Window
        if (win.ready) return resolve()
        win.addEventListener('peer-ready', () => resolve())
      },
      {once: true},
    ),
  )
  peer.window.location.reload()
  await loaded
  const win = peer.frame.contentWindow as unknown as TestPeer['window']
  return {...peer, window: win, lib: (win as unknown as {lib: PeerLib}).lib}
}

describe('files: resume', () => {
  it('a transfer cut by closing the sender page resumes from its last verified chunk when the page comes back with the same identity', async function () {
    this.timeout(120_000)
    const roomId = uniqueRoom('resume')
    const bytes = content(24)
    const expected = new Sha256().update(bytes).hex()
    const file = new File([bytes], 'film.mkv', {type: 'video/x-matroska', lastModified: 1_700_000_000_000})

    const b = await openPeer()
    const roomB: Room = b.lib.joinRoom(testConfig, roomId)
    const offers: IncomingFile[] = []
    const files: File[] = []
    const progressB: FileProgress[] = []
    roomB.onFile(incoming => {
      offers.push(incoming)
      incoming.onProgress(p => progressB.push(p))
      incoming.file().then(
        f => files.push(f),
        () => {},
      )
    })

    const a = await openPeer()
    const json = await storedIdentity(a)
    const roomA = await joinAs(a, json, testConfig, roomId)
    const aId = roomA.selfId
    await until(() => Object.keys(roomB.getPeers()).includes(aId), 'a and b to meet')
    void roomA.sendFile(file, roomB.selfId).catch(() => {})
    await until(() => progressB.some(p => p.bytes >= 6 * MiB), 'a quarter to arrive')
    a.close()
    await until(() => !Object.keys(roomB.getPeers()).includes(aId), 'b to see a go')
    const held = progressB.at(-1)!.bytes
    expect(held).to.be.below(24 * MiB)

    // The same identity comes back in a new page and sends the same file again.
    const a2 = await openPeer()
    const roomA2 = await joinAs(a2, json, testConfig, roomId)
    expect(roomA2.selfId).to.equal(aId)
    await until(() => Object.keys(roomB.getPeers()).includes(aId), 'a to be back')
    const progressA2: FileProgress[] = []
    await roomA2.sendFile(
      new File([bytes], 'film.mkv', {type: 'video/x-matroska', lastModified: 1_700_000_000_000}),
      roomB.selfId,
      {
        onProgress: p => progressA2.push(p),
      },
    )
    await until(() => files.length === 1, 'the resumed file')
    expect(offers).to.have.length(2)
    expect((await offers[0]!.done.catch(e => e)).code).to.equal('peer-left')
    expect(offers[1]!.resumedFrom).to.be.at.least(held - 4 * MiB)
    expect(offers[1]!.resumedFrom).to.be.above(0)
    // Only what b lacked moved the second time.
    expect(progressA2[0]!.bytes).to.be.above(offers[1]!.resumedFrom)
    expect(progressA2.length).to.be.below(progressB.length)
    const got = new Uint8Array(await files[0]!.arrayBuffer())
    expect(got.byteLength).to.equal(bytes.byteLength)
    expect(new Sha256().update(got).hex()).to.equal(expected)
    await roomA2.leave()
    await roomB.leave()
    a2.close()
    b.close()
  })

  it('a transfer cut by reloading the receiver page resumes from its last committed chunk when it comes back with the same identity', async function () {
    this.timeout(120_000)
    const roomId = uniqueRoom('resume-receiver')
    const bytes = content(24)
    const expected = new Sha256().update(bytes).hex()
    const film = () => new File([bytes], 'film.mkv', {type: 'video/x-matroska', lastModified: 1_700_000_000_000})

    let b = await openPeer()
    const json = await storedIdentity(b)
    const joinB = (peer: TestPeer) => joinAs(peer, json, testConfig, roomId)
    const roomB: Room = await joinB(b)
    const bId = roomB.selfId
    const progressB: FileProgress[] = []
    roomB.onFile(incoming => {
      incoming.onProgress(p => progressB.push(p))
      incoming.file().catch(() => {})
    })

    const a = await openPeer()
    const roomA: Room = a.lib.joinRoom(testConfig, roomId)
    await until(() => Object.keys(roomA.getPeers()).includes(bId), 'a and b to meet')
    const first = roomA.sendFile(film(), bId).catch(e => e)
    await until(() => progressB.some(p => p.bytes >= 12 * MiB), 'half to arrive')
    const held = progressB.at(-1)!.bytes
    b = await reload(b)
    expect((await first).code).to.equal('peer-left')

    // The reloaded page, same identity: it finds its committed segments and resumes from them.
    const roomB2: Room = await joinB(b)
    expect(roomB2.selfId).to.equal(bId)
    const offers: IncomingFile[] = []
    const files: File[] = []
    roomB2.onFile(incoming => {
      offers.push(incoming)
      incoming.file().then(
        f => files.push(f),
        () => {},
      )
    })
    await until(() => Object.keys(roomA.getPeers()).includes(bId), 'b to be back')
    const progressA: FileProgress[] = []
    await roomA.sendFile(film(), bId, {onProgress: p => progressA.push(p)})
    await until(() => files.length === 1, 'the resumed file')
    expect(offers).to.have.length(1)
    // Segments commit every 4 MiB (rounded up to whole chunks): at most that much of what b had verified is sent again.
    expect(offers[0]!.resumedFrom).to.be.above(0)
    expect(offers[0]!.resumedFrom).to.be.at.least(held - 4 * MiB - 256 * 1024)
    expect(progressA[0]!.bytes).to.be.above(offers[0]!.resumedFrom)
    const got = new Uint8Array(await files[0]!.arrayBuffer())
    expect(got.byteLength).to.equal(bytes.byteLength)
    expect(new Sha256().update(got).hex()).to.equal(expected)

    await roomA.leave()
    await roomB2.leave()
    a.close()
    b.close()
  })
})
