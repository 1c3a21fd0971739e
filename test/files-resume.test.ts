import {expect} from '@open-wc/testing'
import type {FileProgress, IncomingFile, Room} from '../src/core/index.js'
import {Sha256} from '../src/core/files/sha256.js'
import {openPeer, testConfig, uniqueRoom, until, type TestPeer} from './helpers/peers.js'

const MiB = 1024 * 1024
const coreOf = (page: TestPeer): Promise<any> => new page.window.Function('return import("/src/core/index.ts")')()

const content = (mib: number) => {
  const bytes = new Uint8Array(mib * MiB)
  let x = 7
  for (let i = 0; i < bytes.length; i++) bytes[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24
  return bytes
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
    const core = await coreOf(a)
    const json = await core.exportIdentity(await core.createIdentity({extractable: true}))
    const roomA: Room = a.lib.joinRoom({...testConfig, identity: await core.importIdentity(json)}, roomId)
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
    const core2 = await coreOf(a2)
    const roomA2: Room = a2.lib.joinRoom({...testConfig, identity: await core2.importIdentity(json)}, roomId)
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
})
