import {expect} from '@open-wc/testing'
import type {PeerResult} from '../src/core/index.js'
import {ValueKind} from '../src/core/codec.js'
import {encodeChunk, encodeMessageHeader} from '../src/core/frame.js'
import {type Joined, joinedPeers, leaveAndClose} from './helpers/rooms.js'
import {rejection, until} from './helpers/peers.js'

const bytes = (n: number) => Uint8Array.from({length: n}, (_, i) => (i * 13 + 5) & 255)

/** A promise and its resolver, for a handler the test lets answer when it chooses. */
const gate = <T = void>() => {
  let open!: (value: T) => void
  const opened = new Promise<T>(resolve => (open = resolve))
  return {open, opened}
}

/** Rejections no one handled in these pages: a request must never leave one behind. */
const watchUnhandled = (peers: Joined[]) => {
  const seen: unknown[] = []
  for (const {peer} of peers) peer.window.addEventListener('unhandledrejection', event => seen.push(event.reason))
  return seen
}

/**
 * Every data channel of a peer's page, captured as the page sends on it; `forge` writes raw
 * frames on all of them, as a peer running a modified library would.
 */
const channelsOf = async (joined: Joined) => {
  const channels = new Set<RTCDataChannel>()
  const proto = joined.peer.window.RTCDataChannel.prototype
  const send = proto.send
  proto.send = function (this: RTCDataChannel, ...args: Parameters<RTCDataChannel['send']>) {
    channels.add(this)
    return send.apply(this, args as never)
  } as RTCDataChannel['send']
  await joined.room.makeAction('wake')[0]('so every channel is seen sending')
  return {
    forge: (frame: Uint8Array) => {
      for (const channel of channels) if (channel.readyState === 'open') channel.send(frame as Uint8Array<ArrayBuffer>)
    },
    count: () => channels.size,
  }
}

let forgedNonce = 0x7f00_0000
/** One whole message on a library action, as chunk frames with a nonce the page's own sender never uses. */
const message = (actionId: string, meta: unknown, body: Uint8Array, kind: number = ValueKind.Json, total?: number) =>
  encodeChunk(forgedNonce++, 0, true, [
    encodeMessageHeader({total: total ?? body.byteLength, actionId, kind, meta}),
    body,
  ])
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))

describe('request/response actions', () => {
  it('a request resolves with the peer’s reply; binary and metadata travel both ways', async () => {
    const peers = await joinedPeers(2)
    const [a, b] = peers
    const unhandled = watchUnhandled(peers)
    const heard: unknown[] = []
    b!.room.makeAction('double', {kind: 'request'}).onRequest((data, peerId, metadata) => {
      heard.push({data, peerId, metadata})
      return {doubled: (data as {n: number}).n * 2}
    })
    const double = a!.room.makeAction<{n: number}, {doubled: number}>('double', {kind: 'request'})
    expect(await double.request({n: 21}, b!.id, {metadata: {unit: 'apples'}})).to.deep.equal({doubled: 42})
    expect(heard).to.deep.equal([{data: {n: 21}, peerId: a!.id, metadata: {unit: 'apples'}}])

    // Trystero 0.25's form: options with target; the tuple works too.
    expect(await double.request({n: 5}, {target: b!.id, timeoutMs: 5_000})).to.deep.equal({doubled: 10})
    const [ask, onAsk] = double
    expect(ask).to.equal(double.request)
    expect(onAsk).to.equal(double.onRequest)
    expect(a!.room.makeAction('double', {kind: 'request'})).to.equal(double)

    // Binary in, binary out, and a handler assigned as a property (Trystero 0.25 style).
    const reverse = b!.room.makeAction<ArrayBuffer, Uint8Array>('reverse', {kind: 'request'})
    reverse.onRequest = data => new Uint8Array(data).reverse()
    const reply = await a!.room
      .makeAction<Uint8Array, ArrayBuffer>('reverse', {kind: 'request'})
      .request(bytes(100_000), b!.id)
    expect(Object.prototype.toString.call(reply)).to.equal('[object ArrayBuffer]')
    expect([...new Uint8Array(reply)]).to.deep.equal([...bytes(100_000).reverse()])

    // A handler given in the config, returning undefined, is an answer too.
    b!.room.makeAction('ack', {kind: 'request', onRequest: () => undefined})
    expect(await a!.room.makeAction('ack', {kind: 'request'}).request('x', b!.id)).to.equal(undefined)
    // A reply that cannot be encoded still answers: the asker hears why at once.
    b!.room.makeAction('bigint', {kind: 'request', onRequest: () => ({n: 1n})})
    const unsent = await rejection(a!.room.makeAction('bigint', {kind: 'request'}).request('x', b!.id))
    expect(unsent?.code).to.equal('remote-error')
    expect(unsent?.message).to.contain('could not be sent')
    expect(unhandled).to.deep.equal([])
    await leaveAndClose(peers)
  })

  it('requestMany maps each peer to its reply or its error: one handler throwing does not spoil the others', async () => {
    const peers = await joinedPeers(3)
    const [a, b, c] = peers
    b!.room.makeAction('vote', {kind: 'request'}).onRequest(() => 'yes')
    c!.room.makeAction('vote', {kind: 'request'}).onRequest(async () => {
      throw new Error('ballot box is closed')
    })
    const vote = a!.room.makeAction<string, string>('vote', {kind: 'request'})
    const seen: string[] = []
    const results = await vote.requestMany('shall we?', undefined, {onResult: r => seen.push(r.peerId)})
    expect([...results.keys()].sort()).to.deep.equal([b!.id, c!.id].sort())
    expect(results.get(b!.id)).to.deep.equal({peerId: b!.id, status: 'fulfilled', value: 'yes'})
    const failed = results.get(c!.id) as Extract<PeerResult, {status: 'rejected'}>
    expect(failed.status).to.equal('rejected')
    expect(failed.error.code).to.equal('remote-error')
    expect(failed.error.message).to.equal('ballot box is closed')
    expect(failed.error.peerId).to.equal(c!.id)
    expect(seen.sort()).to.deep.equal([b!.id, c!.id].sort())

    // The one request to c alone rejects the same way.
    const error = await rejection(vote.request('again?', c!.id))
    expect(error?.code).to.equal('remote-error')
    expect(error?.message).to.equal('ballot box is closed')

    // Trystero 0.25's form resolves with an array in targets order; an absent peer is 'disconnected'.
    const list = await vote.requestMany('listed', {targets: [c!.id, 'no-such-peer', b!.id]})
    expect(list.map(r => [r.peerId, r.status])).to.deep.equal([
      [c!.id, 'rejected'],
      ['no-such-peer', 'disconnected'],
      [b!.id, 'fulfilled'],
    ])
    await leaveAndClose(peers)
  })

  it('a request with no reply in timeoutMs rejects with timeout, and the peer’s handler is told to stop', async () => {
    const peers = await joinedPeers(2)
    const [a, b] = peers
    const unhandled = watchUnhandled(peers)
    let stopped = false
    b!.room
      .makeAction('slow', {kind: 'request'})
      .onRequest(
        (_data, _peerId, _meta, {signal}) =>
          new Promise(() => signal.addEventListener('abort', () => (stopped = true))),
      )
    const started = performance.now()
    const error = await rejection(a!.room.makeAction('slow', {kind: 'request'}).request('?', b!.id, {timeoutMs: 300}))
    expect(error?.code).to.equal('timeout')
    expect(error?.peerId).to.equal(b!.id)
    expect(performance.now() - started).to.be.greaterThan(290)
    await until(() => stopped, 'the handler’s signal to abort')
    expect(unhandled).to.deep.equal([])
    await leaveAndClose(peers)
  })

  it('aborting a request rejects it with aborted at once, before or while it waits', async () => {
    const peers = await joinedPeers(2)
    const [a, b] = peers
    const unhandled = watchUnhandled(peers)
    const answer = gate<string>()
    let aborted = false
    b!.room.makeAction('wait', {kind: 'request'}).onRequest((_d, _p, _m, {signal}) => {
      signal.addEventListener('abort', () => (aborted = true))
      return answer.opened
    })
    const wait = a!.room.makeAction('wait', {kind: 'request'})
    const early = new AbortController()
    early.abort()
    expect((await rejection(wait.request('x', b!.id, {signal: early.signal})))?.code).to.equal('aborted')
    expect((await rejection(wait.requestMany('x', null, {signal: early.signal})))?.code).to.equal('aborted')

    const controller = new AbortController()
    const pending = wait.request('y', b!.id, {signal: controller.signal})
    setTimeout(() => controller.abort(), 200)
    const error = await rejection(pending)
    expect(error?.code).to.equal('aborted')
    await until(() => aborted, 'the handler’s signal to abort')
    answer.open('too late') // b's late answer is not sent; nothing changes on a
    expect(await wait.request('z', b!.id)).to.equal('too late')
    expect(unhandled).to.deep.equal([])
    await leaveAndClose(peers)
  })

  it('a peer leaving rejects its pending requests with peer-left; a peer with no handler answers remote-error', async () => {
    const peers = await joinedPeers(3)
    const [a, b, c] = peers
    const unhandled = watchUnhandled(peers)
    b!.room.makeAction('hang', {kind: 'request'}).onRequest(() => new Promise(() => {}))
    const hang = a!.room.makeAction('hang', {kind: 'request'})
    const pending = [hang.request(1, b!.id, {timeoutMs: Number.POSITIVE_INFINITY}), hang.request(2, b!.id)].map(
      rejection,
    )
    const many = hang.requestMany(3, [b!.id])
    await new Promise(resolve => setTimeout(resolve, 200))
    await b!.room.leave()
    for (const p of pending) {
      const error = await p
      expect(error?.code).to.equal('peer-left')
      expect(error?.peerId).to.equal(b!.id)
    }
    expect((await many).get(b!.id)?.status).to.equal('disconnected')

    // c never made the action: after a short wait for a late handler, a hears there is none.
    const started = performance.now()
    const error = await rejection(hang.request('anyone?', c!.id))
    expect(error?.code).to.equal('remote-error')
    expect(error?.message).to.contain('no handler')
    expect(performance.now() - started).to.be.lessThan(5_000)
    // A handler registered within that wait still answers.
    const late = hang.request('late', c!.id)
    setTimeout(() => c!.room.makeAction('hang', {kind: 'request'}).onRequest(data => `got ${data}`), 300)
    expect(await late).to.equal('got late')

    // After leaving, requests reject at once.
    await a!.room.leave()
    expect((await rejection(hang.request('gone', c!.id)))?.code).to.equal('unknown-peer')
    expect(unhandled).to.deep.equal([])
    await leaveAndClose([c!])
    b!.peer.close()
    a!.peer.close()
  })

  it('forged, duplicate, malformed and oversized replies change nothing: only the asked peer’s one reply counts', async () => {
    const peers = await joinedPeers(3, {maxMessageSize: 1024 * 1024})
    const [a, b, c] = peers
    const unhandled = watchUnhandled(peers)
    const answer = gate<string>()
    b!.room.makeAction('q', {kind: 'request'}).onRequest(data => (data === 'first' ? answer.opened : `real ${data}`))
    const q = a!.room.makeAction<string, string>('q', {kind: 'request'})
    const first = q.request('first', b!.id)
    let settled = false
    first.finally(() => (settled = true)).catch(() => {})

    // c, a member of the room, forges replies for every plausible request id, in every shape.
    const outsider = await channelsOf(c!)
    expect(outsider.count()).to.equal(2)
    for (let r = 0; r < 8; r++) {
      outsider.forge(message('\u0000reply', {r}, json('forged')))
      outsider.forge(message('\u0000reply', {r, e: 'forged failure'}, new Uint8Array(0), ValueKind.Undefined))
      outsider.forge(message('\u0000reply', {r, e: 'busy', c: 'busy'}, new Uint8Array(0), ValueKind.Undefined))
    }
    for (const meta of [null, 'r', [1], {r: -1}, {r: '1'}, {r: 1.5}, {r: 1, e: 7}, {r: 1, c: 'busy'}, {r: 2 ** 32}])
      outsider.forge(message('\u0000reply', meta, json('malformed')))
    outsider.forge(message('\u0000reply', {r: 1}, json('x'), ValueKind.Json, 4 * 1024 * 1024)) // over a's 1 MiB cap
    outsider.forge(message('\u0000reply', {r: 1}, new TextEncoder().encode('{not json'))) // does not decode
    outsider.forge(message('\u0000reply', {r: 99_999}, json('unknown id')))
    await c!.room.ping(a!.id) // the forged frames are ahead of the pong on the same channel
    await new Promise(resolve => setTimeout(resolve, 100))
    expect(settled, 'the pending request still waits for b').to.equal(false)

    answer.open('answer from b')
    expect(await first).to.equal('answer from b')

    // b, the asked peer, sends a duplicate reply for the request already answered: ignored.
    const asked = await channelsOf(b!)
    asked.forge(message('\u0000reply', {r: 1}, json('duplicate')))
    expect(await q.request('second', b!.id)).to.equal('real second')

    // A reply too large for the asker: b hears it was refused and says so; a rejects.
    b!.room.makeAction('big', {kind: 'request'}).onRequest(() => bytes(2 * 1024 * 1024))
    const error = await rejection(a!.room.makeAction('big', {kind: 'request'}).request('?', b!.id))
    expect(error?.code).to.equal('remote-error')
    expect(error?.message).to.contain('could not be sent')

    expect(a!.errors.map(e => e.code).sort()).to.include.members(['malformed', 'too-large'])
    expect(a!.errors.every(e => e.peerId === c!.id || e.peerId === b!.id)).to.equal(true)
    expect(Object.keys(a!.room.getPeers()).sort(), 'everyone still connected').to.deep.equal([b!.id, c!.id].sort())
    expect(unhandled).to.deep.equal([])
    await leaveAndClose(peers)
  })

  it('a peer cannot make us run more than 32 of its requests at once: the rest are refused as busy', async () => {
    const peers = await joinedPeers(2)
    const [a, b] = peers
    const unhandled = watchUnhandled(peers)
    const release = gate()
    let running = 0
    let most = 0
    b!.room.makeAction('work', {kind: 'request'}).onRequest(async () => {
      most = Math.max(most, ++running)
      await release.opened
      running--
      return 'done'
    })
    const work = a!.room.makeAction('work', {kind: 'request'})
    const all = Array.from({length: 40}, (_, i) =>
      work.request(i, b!.id).then(
        value => ({value}),
        (error: {code: string}) => ({code: error.code}),
      ),
    )
    await until(() => running === 32, '32 handlers to run')
    await new Promise(resolve => setTimeout(resolve, 200))
    expect(most).to.equal(32)
    release.open()
    const outcomes = await Promise.all(all)
    expect(outcomes.filter(o => 'value' in o).length).to.equal(32)
    expect(outcomes.filter(o => 'code' in o).map(o => (o as {code: string}).code)).to.deep.equal(
      Array(8).fill('rejected'),
    )
    // Once answered, the slots are free again.
    expect(await work.request('after', b!.id)).to.equal('done')
    expect(unhandled).to.deep.equal([])
    await leaveAndClose(peers)
  })

  it('an id has one kind: a message action and a request action cannot share it', async () => {
    const peers = await joinedPeers(2)
    const [a] = peers
    a!.room.makeAction('chat')
    expect(() => a!.room.makeAction('chat', {kind: 'request'}))
      .to.throw()
      .with.property('code', 'action-id')
    a!.room.makeAction('ask', {kind: 'request'})
    expect(() => a!.room.makeAction('ask'))
      .to.throw()
      .with.property('code', 'action-id')
    expect(() => a!.room.makeAction('\u0000reply', {kind: 'request'}))
      .to.throw()
      .with.property('code', 'action-id')
    const error = await rejection(
      a!.room.makeAction('ask', {kind: 'request'}).request('x', peers[1]!.id, {timeoutMs: -1}),
    )
    expect(error?.code).to.equal('invalid-config')
    await leaveAndClose(peers)
  })
})
