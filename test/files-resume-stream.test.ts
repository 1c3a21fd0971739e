import {expect} from '@open-wc/testing'
import type {IncomingFile, P2PError, Room} from '../src/core/index.js'
import {Sha256} from '../src/core/files/sha256.js'
import {joinedPeers, leaveAndClose, type Joined} from './helpers/rooms.js'
import {openPeer, rejection, testConfig, uniqueRoom, until, type TestPeer} from './helpers/peers.js'
import {joinAs, storedIdentity} from './helpers/identity.js'

const MiB = 1024 * 1024
/** Meet again soon after a link drops (the announce interval; not a limit on the test). */
const fastMeet = {announceIntervalMs: 300, announceMaxIntervalMs: 600}

/** Byte `n` of the test stream: the same on both sides, cheap to make and check. */
const byteAt = (n: number) => (n * 2654435761) >>> 24

/**
 * A ReadableStream of unknown length made in `page` (so the sender's own realm reads it), of
 * `mib` MiB in 100 KiB pieces (not a multiple of the chunk size), counting what was pulled.
 */
const makeSource = (page: TestPeer, mib: number) => {
  const total = mib * MiB
  const state = {pulled: 0}
  const RS = (page.window as unknown as {ReadableStream: typeof ReadableStream}).ReadableStream
  const stream = new RS<Uint8Array>(
    {
      pull: controller => {
        if (state.pulled >= total) return controller.close()
        const size = Math.min(100 * 1024, total - state.pulled)
        const piece = new Uint8Array(size)
        for (let k = 0; k < size; k++) piece[k] = byteAt(state.pulled + k)
        state.pulled += size
        controller.enqueue(piece)
      },
    },
    {highWaterMark: 0},
  )
  return {stream, state, total}
}

const expectedHash = (total: number) => {
  const bytes = new Uint8Array(total)
  for (let n = 0; n < total; n++) bytes[n] = byteAt(n)
  return new Sha256().update(bytes).hex()
}

/** Reads a stream, checking every byte in order as it comes; `gate` pauses the reader while set. */
const reader = (stream: ReadableStream<Uint8Array>) => {
  const state = {read: 0, wrong: -1, gate: undefined as Promise<void> | undefined}
  const hash = new Sha256()
  const done = (async () => {
    const r = stream.getReader()
    for (;;) {
      if (state.gate) await state.gate
      const {value, done} = await r.read()
      if (done) return hash.hex()
      for (let k = 0; k < value.byteLength; k++)
        if (value[k] !== byteAt(state.read + k) && state.wrong < 0) state.wrong = state.read + k
      hash.update(value)
      state.read += value.byteLength
    }
  })()
  done.catch(() => {})
  return {state, done}
}

const pcOf = (from: Joined, to: Joined) => from.room.getPeers()[to.id] as RTCPeerConnection

const meet = (a: Joined, b: Joined, what: string) =>
  until(() => a.room.getPeers()[b.id] && b.room.getPeers()[a.id], what)

/**
 * Page a sends a 64 MiB stream to page b, whose identity is stored (so a new page or room can
 * be b again, same id); resolves once b has read 2 MiB of it.
 */
const streamToIdentifiedReceiver = async () => {
  const roomId = uniqueRoom('stream-resume')
  const a = await openPeer()
  const roomA: Room = a.lib.joinRoom({...testConfig, ...fastMeet}, roomId)
  const b = await openPeer()
  const json = await storedIdentity(b)
  const roomB = await joinAs(b, json, {...testConfig, ...fastMeet}, roomId)
  const got: {taken?: ReturnType<typeof reader>; incoming?: IncomingFile} = {}
  roomB.onFile(file => {
    got.incoming = file
    got.taken = reader(file.stream())
    return true
  })
  const bId = roomB.selfId
  await until(() => roomA.getPeers()[bId], 'a and b to meet')
  const sending = roomA.sendFile(makeSource(a, 64).stream, bId)
  sending.catch(() => {})
  await until(() => got.taken && got.taken.state.read >= 2 * MiB, 'some of the stream to arrive')
  return {roomId, a, roomA, b, json, roomB, bId, sending, got}
}

describe('files: a stream send resumes after its connection drops', () => {
  it('the link is closed twice mid-stream (each side once): the stream goes on from the last verified chunk, every byte once, in order, SHA-256 equal; the sender holds at most its window', async function () {
    this.timeout(180_000)
    const [a, b] = await joinedPeers(2, fastMeet)
    const source = makeSource(a.peer, 24)
    let taken: ReturnType<typeof reader> | undefined
    let incoming: IncomingFile | undefined
    let release!: () => void
    b.room.onFile(file => {
      incoming = file
      taken = reader(file.stream())
      return true
    })
    const sending = a.room.sendFile(source.stream, b.id, {name: 'live.bin'})
    sending.catch(() => {})
    await until(() => taken && taken.state.read >= 4 * MiB, 'the first 4 MiB to be read')

    // Drop 1, with the reader paused: the sender fills its window and stops reading the source.
    taken!.state.gate = new Promise<void>(resolve => (release = resolve))
    pcOf(b, a).close()
    await until(() => !b.room.getPeers()[a.id] && !a.room.getPeers()[b.id], 'both to see the link go')
    const readAtDrop = taken!.state.read
    const pulledAtDrop = source.state.pulled
    // The sender never holds more than its window (4 MiB) plus the blocks it reads ahead.
    expect(pulledAtDrop - readAtDrop).to.be.below(6 * MiB)
    await meet(a, b, 'the peers to meet again')
    release()
    taken!.state.gate = undefined

    // Drop 2, from the sender's side, while chunks are in flight.
    await until(() => taken!.state.read >= readAtDrop + 3 * MiB, 'the stream to go on after the first drop')
    pcOf(a, b).close()
    await until(() => !b.room.getPeers()[a.id] && !a.room.getPeers()[b.id], 'both to see the link go again')
    expect(source.state.pulled - taken!.state.read).to.be.below(6 * MiB)
    await meet(a, b, 'the peers to meet again')

    const hash = await taken!.done
    await sending
    expect(taken!.state.wrong).to.equal(-1)
    expect(taken!.state.read).to.equal(source.total)
    expect(hash).to.equal(expectedHash(source.total))
    await incoming!.done
    expect(b.errors.filter(e => e.code !== 'peer-left')).to.deep.equal([])
    expect(a.errors.filter(e => e.code !== 'peer-left')).to.deep.equal([])
    await leaveAndClose([a, b])
  })

  it("the sender's page reloads mid-stream: the receiver's stream errors with resume-lost once it is back, not a hang", async function () {
    this.timeout(120_000)
    const roomId = uniqueRoom('stream-resume')
    const b = await openPeer()
    const roomB: Room = b.lib.joinRoom({...testConfig, ...fastMeet}, roomId)
    let taken: ReturnType<typeof reader> | undefined
    let incoming: IncomingFile | undefined
    roomB.onFile(file => {
      incoming = file
      taken = reader(file.stream())
      return true
    })
    const a = await openPeer()
    const json = await storedIdentity(a)
    const roomA = await joinAs(a, json, {...testConfig, ...fastMeet}, roomId)
    const aId = roomA.selfId
    await until(() => roomB.getPeers()[aId], 'a and b to meet')
    const source = makeSource(a, 64)
    void roomA.sendFile(source.stream, roomB.selfId).catch(() => {})
    await until(() => taken && taken.state.read >= 2 * MiB, 'some of the stream to arrive')
    taken!.state.gate = new Promise<void>(() => {}) // b stops reading: a's page goes mid-stream
    a.close()
    await until(() => !roomB.getPeers()[aId], 'b to see a go')

    const a2 = await openPeer()
    const roomA2 = await joinAs(a2, json, {...testConfig, ...fastMeet}, roomId)
    expect(roomA2.selfId).to.equal(aId)
    const error = (await incoming!.done.catch(e => e)) as P2PError
    // Its goodbye is queued behind the megabyte a's channel holds and dies with the page, so b
    // parks the stream and hears resume-lost once a is back; had the goodbye got through, b
    // would have failed it at once with peer-left. Either way a clear error, not a hang.
    expect(error.code).to.be.oneOf(['resume-lost', 'peer-left'])
    expect(error.peerId).to.equal(aId)
    await roomA2.leave()
    await roomB.leave()
    a2.close()
    b.close()
  })

  it("the receiver's page reloads mid-stream: the sender rejects peer-left (its goodbye) or, if that was lost, resume-lost once it is back", async function () {
    this.timeout(120_000)
    const {roomId, a, roomA, b, json, bId, sending} = await streamToIdentifiedReceiver()
    b.close()
    await until(() => !roomA.getPeers()[bId], 'a to see b go')
    const b2 = await openPeer()
    const roomB2 = await joinAs(b2, json, {...testConfig, ...fastMeet}, roomId)
    roomB2.onFile(() => true)
    const error = await rejection(sending)
    expect(error?.code).to.be.oneOf(['peer-left', 'resume-lost'])
    expect(error?.peerId).to.equal(bId)
    await roomB2.leave()
    await roomA.leave()
    a.close()
    b2.close()
  })

  it('the receiver leaves mid-stream: its stream errors room-left at leave(), the sender rejects peer-left at once (a goodbye is not waited for), and the same identity joins again cleanly', async function () {
    // A room that left has dropped its transfers (leave() settles everything pending): the
    // sender has no one to resume with, so its goodbye fails the send now, not after resumeMs.
    this.timeout(120_000)
    const {roomId, a, roomA, b, json, roomB, bId, sending, got} = await streamToIdentifiedReceiver()
    const left = performance.now()
    await roomB.leave()
    expect(((await got.incoming!.done.catch(e => e)) as P2PError).code).to.equal('room-left')
    const error = await rejection(sending)
    console.log(
      `stream-resume: the sender's send rejected ${(performance.now() - left).toFixed(0)} ms after the receiver's leave()`,
    )
    expect(error?.code).to.equal('peer-left')
    expect(error?.peerId).to.equal(bId)
    expect(roomA.getPeers()[bId]).to.equal(undefined)
    const roomB2 = await joinAs(b, json, {...testConfig, ...fastMeet}, roomId)
    expect(roomB2.selfId).to.equal(bId)
    await until(() => roomA.getPeers()[bId] && roomB2.getPeers()[roomA.selfId], 'the same identity to meet a again')
    await roomB2.leave()
    await roomA.leave()
    a.close()
    b.close()
  })
})
