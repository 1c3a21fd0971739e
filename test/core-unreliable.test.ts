import {expect} from '@open-wc/testing'
import {datagramBurst, datagramRate, encodeDatagram, maxDatagramBytes} from '../src/core/unreliable.js'
import {type Joined, joinedPeers, leaveAndClose} from './helpers/rooms.js'
import {rejection, until} from './helpers/peers.js'

const utf8 = new TextEncoder()

/**
 * Unreliable messages may be lost (the first ones go before the receiver's end of the channel
 * exists): sends with `attempt` every 30 ms until `arrived()`, within 10 s.
 */
const sendUntil = async (attempt: () => Promise<unknown>, arrived: () => boolean, what: string) => {
  const start = performance.now()
  while (!arrived()) {
    if (performance.now() - start > 10_000) throw new Error(`timed out waiting for ${what}`)
    await attempt()
    await new Promise(resolve => setTimeout(resolve, 30))
  }
}
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))
const bytes = (n: number) => Uint8Array.from({length: n}, (_, i) => (i * 31 + 7) & 255)

/**
 * A channel with the unreliable channel's id on `from`'s connection to `to`, written by the
 * test, not the library: what a modified or hostile peer can put on the wire. `from` must not
 * have made an unreliable action itself (its library would own id 1 then).
 */
const rawChannel = async (from: Joined, to: Joined) => {
  const pc = from.room.getPeers()[to.id]!
  const channel = pc.createDataChannel('raw', {negotiated: true, id: 1, ordered: false, maxRetransmits: 0})
  channel.binaryType = 'arraybuffer'
  if (channel.readyState !== 'open') await new Promise(resolve => channel.addEventListener('open', resolve))
  return channel
}
/** A well-formed datagram, as the library writes it (JSON value kind). */
const datagram = (seq: number, actionId: string, value: unknown, meta?: unknown) =>
  encodeDatagram(
    seq,
    utf8.encode(actionId),
    2,
    meta === undefined ? new Uint8Array(0) : utf8.encode(JSON.stringify(meta)),
    utf8.encode(JSON.stringify(value)),
  )

describe('unreliable actions', () => {
  it('deliver values of every kind with metadata, and the option is fixed per id', async () => {
    const peers = await joinedPeers(2)
    const [a, b] = peers
    const got: [unknown, string, unknown][] = []
    b!.room.makeAction('cursor', {reliable: false})[1]((data, peerId, meta) => got.push([data, peerId, meta]))
    const [send] = a!.room.makeAction('cursor', {reliable: false})
    const values = [{x: 0.25, y: 0.5}, 'text ✓', 42, null, [1, 2]]
    // The first datagrams may go before b's end of the channel exists: send until one lands.
    await sendUntil(
      () => send({x: 0, y: 0}, null, {warm: true}),
      () => got.length > 0,
      'a first datagram',
    )
    got.length = 0
    for (const value of values) {
      await send(value, b!.id, {n: values.indexOf(value)})
      await until(() => got.length === values.indexOf(value) + 1, `value ${JSON.stringify(value)}`)
    }
    expect(got.map(([data]) => data)).to.deep.equal(values)
    expect(got.every(([, peerId]) => peerId === a!.id)).to.equal(true)
    expect(got.map(([, , meta]) => (meta as {n: number}).n)).to.deep.equal([0, 1, 2, 3, 4])
    await send(bytes(100))
    await until(() => got.length === values.length + 1, 'binary')
    expect([...new Uint8Array(got.at(-1)![0] as ArrayBuffer)]).to.deep.equal([...bytes(100)])

    // Made again without options: the same action. With the other delivery: a clear error.
    expect(a!.room.makeAction('cursor')).to.equal(a!.room.makeAction('cursor', {reliable: false}))
    expect(() => a!.room.makeAction('cursor', {reliable: true}))
      .to.throw()
      .with.property('code', 'invalid-config')
    a!.room.makeAction('chat')
    expect(() => a!.room.makeAction('chat', {reliable: false}))
      .to.throw()
      .with.property('code', 'invalid-config')
    expect(() => a!.room.makeAction('z', {reliable: 'no' as never}))
      .to.throw()
      .with.property('code', 'invalid-config')
    expect(a!.errors).to.deep.equal([])
    expect(b!.errors).to.deep.equal([])
    await leaveAndClose(peers)
  })

  it('reject a message over one datagram with too-large, before sending anything', async () => {
    const peers = await joinedPeers(2)
    const [a, b] = peers
    const got: number[] = []
    b!.room.makeAction<ArrayBuffer>('big', {reliable: false})[1](data => got.push(data.byteLength))
    const [send] = a!.room.makeAction('big', {reliable: false})
    // Header: version, seq, id length, "big", kind, meta length = 12 bytes.
    const room = maxDatagramBytes - 12
    await sendUntil(
      () => send(bytes(room)),
      () => got.length > 0,
      'the largest datagram',
    )
    expect(got[0]).to.equal(room)
    const count = got.length
    const error = await rejection(send(bytes(room + 1)))
    expect(error?.code).to.equal('too-large')
    expect(error?.message).to.contain(`${maxDatagramBytes}`)
    expect((await rejection(send('x', null, {note: 'y'.repeat(2000)})))?.code).to.equal('too-large')
    expect((await rejection(send(bytes(1 << 20))))?.code).to.equal('too-large')
    // Explicit targets that are not in the room: unknown-peer, as for reliable actions.
    expect((await rejection(send('x', 'no-such-peer')))?.code).to.equal('unknown-peer')
    await sleep(300)
    expect(got.length, 'nothing over the limit was sent').to.equal(count)
    await leaveAndClose(peers)
  })

  it('latest wins: a receiver never delivers an older message after a newer one', async () => {
    const peers = await joinedPeers(3)
    const [a, b, c] = peers
    // From the library: a burst, sent back to back, arrives in increasing order, gaps allowed.
    const fromA: number[] = []
    const fromC: string[] = []
    b!.room.makeAction<number>('state', {reliable: false})[1]((n, peerId) =>
      peerId === a!.id ? fromA.push(n) : fromC.push(n as unknown as string),
    )
    const [send] = a!.room.makeAction<number>('state', {reliable: false})
    await sendUntil(
      () => send(-1),
      () => fromA.length > 0,
      'a first datagram',
    )
    for (let i = 0; i < 300; i++) void send(i)
    await until(() => fromA.at(-1) === 299, 'the last of the burst')
    expect(fromA.slice(1).every((n, i) => i === 0 || n > fromA[i]!)).to.equal(true)

    // Sequence numbers chosen by hand (c writes the channel itself): older ones are dropped,
    // including across the u32 wrap, and each sender has its own order.
    const raw = await rawChannel(c!, b!)
    const steps: [number, string, boolean][] = [
      [5, 's5', true],
      [3, 's3', false],
      [7, 's7', true],
      [6, 's6', false],
      [7, 's7 again', false],
      [8, 's8', true],
      [0x8000_0000, 'half way round', true],
      [0xffff_ffff, 'last u32', true],
      [0, 'wrapped to 0', true],
      [0xffff_fffe, 'before the wrap', false],
      [2, 's2 after the wrap', true],
    ]
    for (const [seq, label, delivered] of steps) {
      raw.send(datagram(seq, 'state', label))
      if (delivered) await until(() => fromC.at(-1) === label, label)
    }
    await sleep(200)
    expect(fromC).to.deep.equal(steps.filter(([, , delivered]) => delivered).map(([, label]) => label))
    await leaveAndClose(peers)
  })

  it('an action the other side has not made (or an older peer without the channel) is dropped quietly', async () => {
    const peers = await joinedPeers(2)
    const [a, b] = peers
    const got: unknown[] = []
    const [send] = a!.room.makeAction('late', {reliable: false})
    const [sendReliable] = a!.room.makeAction('chat')
    const chat: unknown[] = []
    b!.room.makeAction('chat')[1](data => chat.push(data))
    // b has no unreliable action at all: no channel on its side, its browser drops the datagrams.
    for (let i = 0; i < 20; i++) await send({i})
    await sendReliable('still here')
    await until(() => chat.length === 1, 'the reliable message')
    // b has an unreliable action, but not this one: dropped without an error.
    b!.room.makeAction('other', {reliable: false})[1](data => got.push(data))
    for (let i = 0; i < 20; i++) await send({i}), await sleep(5)
    await sleep(200)
    expect(got).to.deep.equal([])
    // Once b makes it, the next messages arrive.
    b!.room.makeAction('late', {reliable: false})[1](data => got.push(data))
    await sendUntil(
      () => send('now'),
      () => got.length > 0,
      'a message once both made it',
    )
    expect(got[0]).to.equal('now')
    expect(a!.errors).to.deep.equal([])
    expect(b!.errors).to.deep.equal([])
    await leaveAndClose(peers)
  })

  it('keep arriving while 32 MiB goes over the reliable channel', async () => {
    const peers = await joinedPeers(2)
    const [a, b] = peers
    let file: ArrayBuffer | undefined
    const cursors: number[] = []
    let duringFile = 0
    b!.room.makeAction<ArrayBuffer>('file')[1](data => (file = data))
    b!.room.makeAction<number>('cursor', {reliable: false})[1](n => {
      cursors.push(n)
      if (!file) duringFile++
    })
    const [sendCursor] = a!.room.makeAction<number>('cursor', {reliable: false})
    await sendUntil(
      () => sendCursor(-1),
      () => cursors.length > 0,
      'a first datagram',
    )
    const payload = bytes(32 * 1024 * 1024)
    let sent = false
    const transfer = a!.room
      .makeAction('file')[0](payload)
      .then(() => (sent = true))
    // Started: the first MiB is in the channel's buffer before the cursors go.
    await sleep(50)
    let i = 0
    while (!sent) {
      await sendCursor(i++)
      await sleep(16)
    }
    await transfer
    await until(() => file, 'the file')
    expect(file!.byteLength).to.equal(payload.byteLength)
    expect(new Uint8Array(file!)).to.deep.equal(payload)
    expect(i, 'the transfer took a while').to.be.greaterThan(5)
    expect(duringFile, 'cursor updates delivered while the file was still arriving').to.be.greaterThan(i / 2)
    await leaveAndClose(peers)
  })

  it('a hostile peer’s datagrams change nothing: malformed, oversize, unknown ids, floods', async () => {
    const peers = await joinedPeers(3)
    const [a, b, evil] = peers
    const fromA: unknown[] = []
    const fromEvil: unknown[] = []
    const chat: unknown[] = []
    b!.room.makeAction('cursor', {reliable: false})[1]((data, peerId) =>
      (peerId === evil!.id ? fromEvil : fromA).push(data),
    )
    b!.room.makeAction('chat')[1](data => chat.push(data))
    const [sendCursor] = a!.room.makeAction('cursor', {reliable: false})
    await sendUntil(
      () => sendCursor('a0'),
      () => fromA.length > 0,
      'a first datagram from a',
    )
    const raw = await rawChannel(evil!, b!)

    const valid = datagram(10, 'cursor', 'ok')
    const junk: (string | Uint8Array)[] = [
      'a text frame',
      new Uint8Array(0),
      new Uint8Array([1]),
      Uint8Array.of(2, ...valid.subarray(1)), // another version
      Uint8Array.of(1, 0, 0, 0, 1, 0, 2, 0, 0), // empty action id
      Uint8Array.of(1, 0, 0, 0, 1, 200, 99, 2, 0, 0), // id longer than the datagram
      Uint8Array.of(1, 0, 0, 0, 1, 2, 0xff, 0xfe, 2, 0, 0), // id not UTF-8
      encodeDatagram(11, utf8.encode('cursor'), 9, new Uint8Array(0), new Uint8Array(0)), // unknown kind
      Uint8Array.of(
        ...encodeDatagram(12, utf8.encode('cursor'), 2, new Uint8Array(0), new Uint8Array(0)).subarray(0, 13),
        0xff,
        0xff,
      ), // meta length past the end
      encodeDatagram(13, utf8.encode('cursor'), 2, utf8.encode('{not json'), utf8.encode('1')), // meta not JSON
      encodeDatagram(14, utf8.encode('cursor'), 2, new Uint8Array(0), utf8.encode('{not json')), // value not JSON
      datagram(15, 'cursor', 'x'.repeat(maxDatagramBytes)), // over one datagram
      new Uint8Array(64 * 1024), // a big frame
    ]
    for (const frame of junk) raw.send(frame as never)
    // Unknown action ids, many: nothing kept for any of them.
    for (let i = 0; i < 300; i++) raw.send(datagram(100 + i, `unknown-${i}`, i))
    await sleep(1200) // the bucket refills
    raw.send(valid)
    await until(() => fromEvil.includes('ok'), 'the one valid datagram')
    await sleep(200)
    expect(fromEvil, 'only the well-formed datagram was delivered').to.deep.equal(['ok'])

    // A flood of well-formed datagrams: at most a burst plus the rate per second get through.
    await sleep(600) // the bucket refills
    fromEvil.length = 0
    const start = performance.now()
    for (let i = 0; i < 5000; i++) raw.send(datagram(1000 + i, 'cursor', i))
    await until(() => fromEvil.length > 0, 'the first of the flood')
    let count = -1
    while (count !== fromEvil.length) (count = fromEvil.length), await sleep(300)
    const seconds = (performance.now() - start) / 1000
    expect(fromEvil.length).to.be.greaterThan(0)
    expect(fromEvil.length, 'a flood is cut to the rate').to.be.at.most(datagramBurst + datagramRate * seconds + 1)
    expect(fromEvil.length).to.be.lessThan(5000)

    // a's datagrams and reliable messages still arrive; b's room lost nobody; at most one report.
    const [sendChat] = a!.room.makeAction('chat')
    await sendChat('after the attack')
    await until(() => chat.includes('after the attack'), 'a reliable message after the attack')
    await sendUntil(
      () => sendCursor('a1'),
      () => fromA.includes('a1'),
      'a datagram from a after the attack',
    )
    expect(Object.keys(b!.room.getPeers()).sort()).to.deep.equal([a!.id, evil!.id].sort())
    expect(b!.errors.length, 'one report for the malformed datagrams, not one each').to.be.at.most(1)
    expect(b!.errors.every(error => error.code === 'malformed' && error.peerId === evil!.id)).to.equal(true)
    expect(a!.errors).to.deep.equal([])
    await leaveAndClose(peers)
  })
})
