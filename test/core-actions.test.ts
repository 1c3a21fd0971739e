import {expect} from '@open-wc/testing'
import type {DataPayload} from '../src/core/index.js'
import {leaveAndClose, joinedPeers} from './helpers/rooms.js'
import {checked, rejection, until} from './helpers/peers.js'

const bytes = (n: number) => Uint8Array.from({length: n}, (_, i) => (i * 31 + 7) & 255)

describe('actions', () => {
  it('three peers in one room each see the other two', async () => {
    const peers = await joinedPeers(3)
    for (const p of peers) {
      const others = peers
        .filter(o => o !== p)
        .map(o => o.id)
        .sort()
      expect(Object.keys(p.room.getPeers()).sort()).to.deep.equal(others)
      expect([...p.joins].sort()).to.deep.equal(others)
    }
    await leaveAndClose(peers)
  })

  it('every kind of value arrives as its own type', async () => {
    const [a, b] = await joinedPeers(2)
    const [send] = a.room.makeAction('values')
    const received: unknown[] = []
    b.room.makeAction('values')[1](data => received.push(data))
    const blob = new Blob([bytes(1000)])
    const values: DataPayload[] = [
      'plain text ✓ with unicode 🎉',
      '',
      42,
      -0.5,
      true,
      false,
      null,
      undefined,
      {nested: {list: [1, 'two', null]}, ok: true},
      [1, [2, [3]]],
    ]
    for (const value of values) await send(value)
    await send(bytes(300).buffer)
    await send(bytes(300))
    await send(new Float32Array([1.5, -2.25]))
    await send(new DataView(bytes(16).buffer, 4, 8))
    await send(blob)
    await until(() => received.length === values.length + 5, 'all values')
    expect(received.slice(0, values.length)).to.deep.equal(values)
    const binary = received.slice(values.length) as ArrayBuffer[]
    for (const value of binary) expect(Object.prototype.toString.call(value)).to.equal('[object ArrayBuffer]')
    expect([...new Uint8Array(binary[0]!)]).to.deep.equal([...bytes(300)])
    expect([...new Uint8Array(binary[1]!)]).to.deep.equal([...bytes(300)])
    expect([...new Float32Array(binary[2]!)]).to.deep.equal([1.5, -2.25])
    expect([...new Uint8Array(binary[3]!)]).to.deep.equal([...bytes(16).subarray(4, 12)])
    expect([...new Uint8Array(binary[4]!)]).to.deep.equal([...bytes(1000)])
    await leaveAndClose([a, b])
  })

  it('a targeted send reaches only its targets', async () => {
    const [a, b, c] = await joinedPeers(3)
    const got: Record<string, unknown[]> = {b: [], c: []}
    b.room.makeAction('dm')[1](data => got.b!.push(data))
    c.room.makeAction('dm')[1](data => got.c!.push(data))
    const [send] = a.room.makeAction('dm')
    await send('for b only', b.id)
    await send('for c in a list', [c.id])
    await send('for everyone', null)
    await until(() => got.b!.length === 2 && got.c!.length === 2, 'deliveries')
    expect(got.b).to.deep.equal(['for b only', 'for everyone'])
    expect(got.c).to.deep.equal(['for c in a list', 'for everyone'])
    await leaveAndClose([a, b, c])
  })

  it('5 MB of binary arrives whole, with metadata and progress on both sides ending at 1', async () => {
    const [a, b] = await joinedPeers(2)
    const payload = bytes(5 * 1024 * 1024)
    const meta = {name: 'big.bin', type: 'application/octet-stream'}
    const sendProgress: number[] = []
    const receiveProgress: [number, string, unknown][] = []
    let received: [ArrayBuffer, string, unknown] | undefined
    const [, onData, onProgress] = b.room.makeAction<ArrayBuffer>('file')
    onData((data, peerId, metadata) => (received = [data, peerId, metadata]))
    onProgress((fraction, peerId, metadata) => receiveProgress.push([fraction, peerId, metadata]))
    const [send] = a.room.makeAction<Uint8Array>('file')
    // `checked`: were the expect below to fail inside the library's callback, `until` would
    // fail the test at once with its message, instead of the send never settling.
    await send(
      payload,
      null,
      meta,
      checked((fraction, peerId) => {
        expect(peerId, 'progress names the receiving peer').to.equal(b.id)
        sendProgress.push(fraction)
      }),
    )
    await until(() => received, 'the file')
    const [data, from, metadata] = received!
    expect(from).to.equal(a.id)
    expect(metadata).to.deep.equal(meta)
    expect(data.byteLength).to.equal(payload.byteLength)
    expect(new Uint8Array(data)).to.deep.equal(payload)
    expect(sendProgress.length, 'an ack per MiB').to.be.greaterThan(4)
    expect(sendProgress.at(-1)).to.equal(1)
    expect(receiveProgress.at(-1)![0]).to.equal(1)
    expect(receiveProgress.every(([, peerId, m]) => peerId === a.id && (m as typeof meta).name === 'big.bin')).to.equal(
      true,
    )
    const ascending = (list: number[]) => list.every((v, i) => i === 0 || v >= list[i - 1]!)
    expect(ascending(sendProgress)).to.equal(true)
    expect(ascending(receiveProgress.map(([f]) => f))).to.equal(true)
    await leaveAndClose([a, b])
  })

  it('two actions sent concurrently both arrive intact', async () => {
    const [a, b] = await joinedPeers(2)
    const got: Record<string, ArrayBuffer> = {}
    b.room.makeAction<ArrayBuffer>('left')[1](data => (got.left = data))
    b.room.makeAction<ArrayBuffer>('right')[1](data => (got.right = data))
    const left = bytes(1_500_000)
    const right = bytes(1_200_000).map(v => 255 - v)
    await Promise.all([a.room.makeAction('left')[0](left), a.room.makeAction('right')[0](right)])
    expect(new Uint8Array(got.left!)).to.deep.equal(left)
    expect(new Uint8Array(got.right!)).to.deep.equal(right)
    await leaveAndClose([a, b])
  })

  it('makeAction is idempotent and offers named members as well as the tuple', async () => {
    const [a, b] = await joinedPeers(2)
    const action = a.room.makeAction('same')
    expect(a.room.makeAction('same')).to.equal(action)
    expect(action.send).to.equal(action[0])
    expect(action.onMessage).to.equal(action[1])
    expect(action.onReceiveProgress).to.equal(action[2])
    const got: unknown[] = []
    b.room.makeAction('same').onMessage(data => got.push(data))
    await action.send('named')
    expect(got).to.deep.equal(['named'])
    await leaveAndClose([a, b])
  })

  it('messages that arrive before anyone listens are kept for the first listener', async () => {
    const [a, b] = await joinedPeers(2)
    await a.room.makeAction('early')[0]('first')
    await a.room.makeAction('early')[0]('second')
    const got: unknown[] = []
    b.room.makeAction('early')[1](data => got.push(data))
    expect(got).to.deep.equal(['first', 'second'])
    await leaveAndClose([a, b])
  })

  it('ping resolves to a round-trip time in milliseconds', async () => {
    const [a, b] = await joinedPeers(2)
    const rtt = await a.room.ping(b.id)
    expect(rtt).to.be.a('number')
    expect(rtt).to.be.greaterThan(0)
    await leaveAndClose([a, b])
  })

  it('a ping to a peer that leaves before answering rejects with its id', async () => {
    const [a, b] = await joinedPeers(2)
    b.peer.window.RTCDataChannel.prototype.send = () => {} // b stops answering
    const pending = a.room.ping(b.id)
    b.peer.close()
    const error = await rejection(pending)
    expect(error?.code).to.equal('peer-left')
    expect(error?.peerId).to.equal(b.id)
    await leaveAndClose([a])
  })

  it('the driver strategy connects peers over a pub/sub object the app brings', async () => {
    const driverModule = await import('../src/strategies/driver.js')
    const bus = driverModule.createMemoryDriver()
    const peers = await joinedPeers(2, {driver: bus}, '/src/strategies/driver.ts')
    const got: unknown[] = []
    peers[1]!.room.makeAction('x')[1](data => got.push(data))
    await peers[0]!.room.makeAction('x')[0]({over: 'driver'})
    expect(got).to.deep.equal([{over: 'driver'}])
    await leaveAndClose(peers)
  })
})
