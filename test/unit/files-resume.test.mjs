// Stream resume's checks on what a peer claims (src/core/files/stream-resume.ts), driven through
// its real state machine with index.ts's side replaced by a record of what it would do.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {Kept, createStreamResume} from '../../dist/lib/core/files/stream-resume.js'
import {P2PError} from '../../dist/lib/core/errors.js'

const resumeMs = 60_000

/** A sender and receiver side: index.ts's maps, and every message, resend, failure and junk report. */
const setup = () => {
  const outgoing = new Map()
  const incoming = new Map()
  const log = {said: [], resent: [], failedIn: [], junk: []}
  const streams = createStreamResume({
    outgoing: () => outgoing.values(),
    outgoingById: id => outgoing.get(id),
    incoming: () => incoming.values(),
    incomingOf: (peerId, id) => incoming.get(`${peerId}/${id}`),
    say: (peerId, message) => log.said.push({peerId, ...message}),
    resend: (peerId, id, chunk) => log.resent.push({peerId, id, i: chunk.i}),
    failIn: (transfer, error) => {
      incoming.delete(`${transfer.peerId}/${transfer.id}`)
      log.failedIn.push({id: transfer.id, code: error.code})
    },
    junk: (peerId, what) => log.junk.push({peerId, what}),
    resumeMs: () => resumeMs,
  })
  return {outgoing, incoming, log, streams}
}

/** A running stream send to `peerId`: chunk sizes as given, the first `acked` acknowledged. */
const sending = (ctx, {id = 'tx', peerId = 'bob', sizes = [10, 10, 10, 10, 7], acked = 0, end = false} = {}) => {
  const keep = new Kept()
  keep.running = true
  for (const [i, size] of sizes.entries()) keep.add(i, new Uint8Array(size), `h${i}`)
  if (end) keep.end = {size: keep.sentBytes, hash: 'whole'}
  const transfer = {id, peerId, acked: 0, ackedBytes: 0, lastHeard: 0, keep, woken: 0, finished: undefined}
  transfer.wake = () => transfer.woken++
  transfer.finish = error => {
    transfer.finished = error ?? 'done'
    ctx.outgoing.delete(id)
  }
  ctx.outgoing.set(id, transfer)
  if (acked) assert.equal(ctx.streams.ack(transfer, acked - 1, keep.bytesBefore(acked)), true)
  return transfer
}

const drop = (ctx, transfer, code = 'peer-left') =>
  ctx.streams.parkOut(transfer, new P2PError(code, 'the link dropped', transfer.peerId))

test('Kept names the bytes before each chunk boundary it still holds, and nothing else', () => {
  const keep = new Kept()
  for (const [i, size] of [5, 7, 3].entries()) keep.add(i, new Uint8Array(size), '')
  assert.deepEqual(
    [0, 1, 2, 3].map(i => keep.bytesBefore(i)),
    [0, 5, 12, 15],
  )
  assert.equal(keep.bytesBefore(4), undefined)
  keep.release(2)
  assert.equal(keep.bytesBefore(1), undefined, 'a boundary before the oldest kept chunk is not known')
  assert.deepEqual(
    [2, 3].map(i => keep.bytesBefore(i)),
    [12, 15],
  )
  keep.release(3)
  assert.equal(keep.bytesBefore(3), 15)
})

test('a good resume resends the kept chunks from its point, counts the lost acks, and wakes the send', () => {
  const ctx = setup()
  const transfer = sending(ctx, {acked: 1, end: true})
  assert.equal(drop(ctx, transfer), true)
  ctx.streams.onMessage('bob', {t: 'resume', id: 'tx', from: 3, taken: 2, bytes: 20, ended: false})
  assert.deepEqual(
    ctx.log.resent.map(chunk => chunk.i),
    [3, 4],
  )
  assert.equal(transfer.acked, 2)
  assert.equal(transfer.ackedBytes, 20)
  assert.equal(transfer.keep.chunks[0].i, 2, 'the chunks the receiver took are released')
  assert.equal(transfer.keep.parkedAt, undefined)
  assert.deepEqual(ctx.log.said, [{peerId: 'bob', t: 'end', id: 'tx', size: 47, hash: 'whole'}])
  assert.equal(transfer.woken, 1)
  assert.equal(transfer.finished, undefined)
  assert.deepEqual(ctx.log.junk, [])
})

test('a resume for a stream this side never sent is answered resume-lost, then counted as junk', () => {
  const ctx = setup()
  sending(ctx)
  for (let n = 0; n < 40; n++)
    ctx.streams.onMessage('eve', {t: 'resume', id: `never-${n}`, from: 0, taken: 0, bytes: 0})
  assert.deepEqual(ctx.log.resent, [])
  const answers = ctx.log.said.filter(message => message.peerId === 'eve')
  assert.equal(answers.length, 32, 'answers to ids it does not hold are bounded')
  assert.ok(answers.every(message => message.t === 'fail' && message.code === 'resume-lost'))
  assert.equal(ctx.log.junk.length, 8)
  // Ids that are not strings, or absurdly long, are answered the same way (trimmed), never thrown on.
  const other = setup()
  for (const id of [undefined, 5, {}, 'x'.repeat(10_000)]) other.streams.onMessage('eve', {t: 'resume', id})
  assert.equal(other.log.said.length, 4)
  assert.ok(other.log.said.every(message => message.code === 'resume-lost' && message.id.length <= 32))
})

test("a resume from another peer (another identity) for someone's parked stream gets nothing of it", () => {
  const ctx = setup()
  const transfer = sending(ctx, {acked: 1})
  drop(ctx, transfer)
  ctx.streams.onMessage('eve', {t: 'resume', id: 'tx', from: 1, taken: 1, bytes: 10})
  assert.deepEqual(ctx.log.resent, [])
  assert.equal(ctx.log.said.length, 1)
  assert.equal(ctx.log.said[0].peerId, 'eve')
  assert.equal(ctx.log.said[0].code, 'resume-lost')
  assert.notEqual(transfer.keep.parkedAt, undefined, 'the stream stays parked for its own peer')
  assert.equal(transfer.acked, 1)
  assert.equal(transfer.finished, undefined)
  // Its own peer still resumes it.
  ctx.streams.onMessage('bob', {t: 'resume', id: 'tx', from: 1, taken: 1, bytes: 10})
  assert.deepEqual(
    ctx.log.resent.map(chunk => `${chunk.peerId}:${chunk.i}`),
    ['bob:1', 'bob:2', 'bob:3', 'bob:4'],
  )
})

test('a resume for a stream that did not drop is junk and resends nothing', () => {
  const ctx = setup()
  const transfer = sending(ctx)
  ctx.streams.onMessage('bob', {t: 'resume', id: 'tx', from: 0, taken: 0, bytes: 0})
  assert.deepEqual(ctx.log.resent, [])
  assert.equal(ctx.log.junk.length, 1)
  assert.equal(transfer.finished, undefined)
  // Nor a second resume after a good one (the stream is no longer parked).
  drop(ctx, transfer)
  ctx.streams.onMessage('bob', {t: 'resume', id: 'tx', from: 0, taken: 0, bytes: 0})
  const resent = ctx.log.resent.length
  ctx.streams.onMessage('bob', {t: 'resume', id: 'tx', from: 0, taken: 0, bytes: 0})
  assert.equal(ctx.log.resent.length, resent)
  assert.equal(ctx.log.junk.length, 2)
})

test('a resume point outside what was sent, or off a chunk boundary, cancels the stream as malformed', () => {
  // Chunks of 10, 10, 10, 10, 7 bytes sent; chunk 0 acked.
  const bad = [
    {from: 6, taken: 1, bytes: 10, why: 'from past the chunks sent'},
    {from: 5, taken: 6, bytes: 47, why: 'taken past the chunks sent'},
    {from: 1, taken: 0, bytes: 0, why: 'taken before what was acked'},
    {from: 1, taken: 2, bytes: 20, why: 'from before taken'},
    {from: 2, taken: 2, bytes: 15, why: 'bytes not at the boundary of the chunks taken'},
    {from: 2, taken: 2, bytes: 30, why: 'bytes of more chunks than taken'},
    {from: 2, taken: 2, bytes: 48, why: 'bytes past what was sent'},
    {from: 2, taken: 2, bytes: 10, why: 'bytes of fewer chunks than taken'},
    {from: 1.5, taken: 1, bytes: 10, why: 'from not an integer'},
    {from: '2', taken: 1, bytes: 10, why: 'from a string'},
    {from: 2, taken: 1, bytes: Number.NaN, why: 'bytes NaN'},
    {from: 2, taken: -1, bytes: 10, why: 'taken negative'},
    {from: 2, taken: 2 ** 60, bytes: 20, why: 'taken unsafe'},
    {taken: 1, bytes: 10, why: 'from missing'},
  ]
  for (const {why, ...point} of bad) {
    const ctx = setup()
    const transfer = sending(ctx, {acked: 1})
    drop(ctx, transfer)
    assert.doesNotThrow(() => ctx.streams.onMessage('bob', {t: 'resume', id: 'tx', ...point}), why)
    assert.deepEqual(ctx.log.resent, [], why)
    assert.equal(transfer.finished?.code, 'malformed', why)
    assert.equal(ctx.log.said.at(-1)?.t, 'cancel', why)
    assert.equal(transfer.acked, 1, `${why}: the acks it claims are not taken`)
  }
  // The edges that are right: nothing taken since the ack, and everything taken.
  for (const point of [
    {from: 1, taken: 1, bytes: 10},
    {from: 5, taken: 5, bytes: 47},
  ]) {
    const ctx = setup()
    const transfer = sending(ctx, {acked: 1})
    drop(ctx, transfer)
    ctx.streams.onMessage('bob', {t: 'resume', id: 'tx', ...point})
    assert.equal(transfer.finished, undefined, JSON.stringify(point))
    assert.equal(transfer.acked, point.taken)
  }
})

test('acks for a kept stream must name a chunk sent and its exact byte count; stale ones are ignored', () => {
  const ctx = setup()
  const transfer = sending(ctx, {acked: 2})
  const ack = (i, bytes) => ctx.streams.ack(transfer, i, bytes)
  assert.equal(ack(0, 10), true, 'a stale ack (before acked) is ignored')
  assert.equal(transfer.acked, 2)
  assert.equal(ack(5, 47), false, 'past the chunks sent')
  assert.equal(ack(3, 39), false, 'bytes off the boundary')
  assert.equal(ack(3, 47), false, 'bytes of more chunks')
  assert.equal(ack(3, '40'), false)
  assert.equal(ack(Number.NaN, 40), false)
  assert.equal(transfer.acked, 2)
  assert.equal(ack(3, 40), true, 'an ack may skip chunks whose acks were lost')
  assert.equal(transfer.acked, 4)
  assert.equal(transfer.ackedBytes, 40)
  assert.deepEqual(
    transfer.keep.chunks.map(chunk => chunk.i),
    [4],
  )
  assert.equal(ack(4, 47), true)
  assert.equal(transfer.keep.chunks.length, 0)
  assert.equal(ack(4, 47), true, 'the same ack again is stale')
  assert.equal(ack(5, 47), false)
})

test('a peer that does not come back within resumeMs fails the stream with the drop; a late resume gets resume-lost', () => {
  const ctx = setup()
  const transfer = sending(ctx, {acked: 1})
  drop(ctx, transfer)
  const at = transfer.keep.parkedAt
  ctx.streams.sweep(at + resumeMs)
  assert.equal(transfer.finished, undefined, 'still within resumeMs')
  ctx.streams.sweep(at + resumeMs + 1)
  assert.equal(transfer.finished?.code, 'peer-left')
  assert.equal(ctx.outgoing.size, 0)
  // The peer comes back too late: nothing is held for it, its resume is told so.
  ctx.streams.peerJoined('bob')
  assert.deepEqual(ctx.log.said, [], 'no "held" for a stream given up')
  ctx.streams.onMessage('bob', {t: 'resume', id: 'tx', from: 1, taken: 1, bytes: 10})
  assert.deepEqual(ctx.log.resent, [])
  assert.equal(ctx.log.said.length, 1)
  assert.equal(ctx.log.said[0].t, 'fail')
  assert.equal(ctx.log.said[0].code, 'resume-lost')
})

test('only a running stream parks, and never when this side left the room', () => {
  const ctx = setup()
  const transfer = sending(ctx)
  assert.equal(drop(ctx, transfer, 'room-left'), false)
  transfer.keep.running = false
  assert.equal(drop(ctx, transfer), false, 'not accepted yet: the caller fails it')
  const blob = {id: 'b', peerId: 'bob', acked: 0, ackedBytes: 0, lastHeard: 0, finish() {}}
  assert.equal(ctx.streams.parkOut(blob, new P2PError('peer-left', '')), false, 'a Blob resumes by its content key')
})

/** A running incoming stream from `peerId`: `taken` chunks written, `hashing` more with the hasher, `early` ahead. */
const receiving = (ctx, {id = 'rx', peerId = 'alice', taken = 2, hashing = 1, early = [4, 5], size} = {}) => {
  const transfer = {
    id,
    peerId,
    offer: {size},
    state: 'running',
    nextIndex: taken,
    nextHashed: taken + hashing,
    received: taken * 10,
    heldBytes: (hashing + early.length) * 10,
    early: new Map([...Array(hashing)].map((_, k) => [taken + k, {bytes: new Uint8Array(10)}])),
    lastHeard: 0,
  }
  for (const i of early) transfer.early.set(i, {bytes: new Uint8Array(10)})
  ctx.incoming.set(`${peerId}/${id}`, transfer)
  return transfer
}

test('a receiver parks a stream on a drop and, when the peer is back, asks from the first chunk not with the hasher', () => {
  const ctx = setup()
  const transfer = receiving(ctx)
  assert.equal(ctx.streams.parkIn(transfer, new P2PError('peer-left', '')), true)
  ctx.streams.peerJoined('mallory')
  assert.deepEqual(ctx.log.said, [], 'another peer joining resumes nothing')
  ctx.streams.peerJoined('alice')
  assert.deepEqual(ctx.log.said, [{peerId: 'alice', t: 'resume', id: 'rx', from: 3, taken: 2, bytes: 20, ended: false}])
  assert.deepEqual([...transfer.early.keys()], [2], 'chunks ahead of the hasher are dropped: they come again')
  assert.equal(transfer.heldBytes, 10)
  assert.equal(transfer.parkedAt, undefined)
  // A sized transfer (a Blob) is not parked here: it resumes by its content key.
  const sized = receiving(ctx, {id: 'sized', size: 100})
  assert.equal(ctx.streams.parkIn(sized, new P2PError('peer-left', '')), false)
  assert.equal(ctx.streams.parkIn(receiving(ctx, {id: 'left'}), new P2PError('room-left', '')), false)
})

test('a receiver whose sender does not come back within resumeMs fails the stream with the drop', () => {
  const ctx = setup()
  const transfer = receiving(ctx)
  ctx.streams.parkIn(transfer, new P2PError('timeout', 'the link dropped'))
  ctx.streams.sweep(transfer.parkedAt + resumeMs)
  assert.deepEqual(ctx.log.failedIn, [])
  ctx.streams.sweep(transfer.parkedAt + resumeMs + 1)
  assert.deepEqual(ctx.log.failedIn, [{id: 'rx', code: 'timeout'}])
})

test('"held" from a sender: silent for a stream still here, "done" for one finished, else resume-lost, bounded', () => {
  const ctx = setup()
  receiving(ctx)
  ctx.streams.finished('alice', 'finished')
  ctx.streams.onMessage('alice', {t: 'held', id: 'rx'})
  assert.deepEqual(ctx.log.said, [])
  ctx.streams.onMessage('alice', {t: 'held', id: 'finished'})
  assert.deepEqual(ctx.log.said, [{peerId: 'alice', t: 'done', id: 'finished'}])
  ctx.streams.onMessage('bob', {t: 'held', id: 'finished'})
  assert.equal(ctx.log.said.at(-1).code, 'resume-lost', "another peer does not learn of alice's stream")
  for (let n = 0; n < 40; n++) ctx.streams.onMessage('bob', {t: 'held', id: `x${n}`})
  assert.equal(ctx.log.said.filter(message => message.peerId === 'bob').length, 32)
  assert.equal(ctx.log.junk.length, 9)
  // Its count starts again when it joins again (a real peer's answers after a rejoin).
  ctx.streams.peerJoined('bob')
  ctx.streams.onMessage('bob', {t: 'held', id: 'y'})
  assert.equal(ctx.log.said.at(-1).code, 'resume-lost')
})
