import {expect} from '@open-wc/testing'
import type {PeerResult} from '../src/core/index.js'
import type {P2PAction} from '../src/elements/index.js'
import {closePeerPages, openRoomPeers} from './helpers/elements.js'
import {until} from './helpers/peers.js'

/** Resolves with the rejection of `promise` (fails the test if it resolves). */
const rejectionOf = async (promise: Promise<unknown>) => {
  try {
    await promise
  } catch (error) {
    return error as Error & {code?: string}
  }
  throw new Error('expected a rejection')
}

describe('<p2p-action mode="request">', () => {
  it('answers with its handler; request() and requestMany() ask from the element', async () => {
    const {peers} = await openRoomPeers(3, '<p2p-action name="price" mode="request"></p2p-action>')
    const [a, b, c] = peers as [(typeof peers)[0], (typeof peers)[0], (typeof peers)[0]]
    const ids = peers.map(p => p.$('p2p-room').selfId)
    b.$<P2PAction>('p2p-action').handler = async (data, peerId, metadata) => ({
      item: data,
      price: 3,
      from: peerId,
      currency: (metadata as {currency: string}).currency,
    })
    c.$<P2PAction>('p2p-action').handler = () => {
      throw new Error('out of stock')
    }
    const ask = a.$<P2PAction>('p2p-action')
    expect(await ask.request('tea', ids[1]!, {metadata: {currency: 'EUR'}})).to.deep.equal({
      item: 'tea',
      price: 3,
      from: ids[0],
      currency: 'EUR',
    })

    const error = await rejectionOf(ask.request('tea', ids[2]!))
    expect(error.code).to.equal('remote-error')
    expect(error.message).to.equal('out of stock')
    expect(a.seen('p2p-error').map(e => e.detail.code)).to.deep.equal(['remote-error'])

    const results = await ask.requestMany('coffee', undefined, {metadata: {currency: 'USD'}})
    expect((results.get(ids[1]!) as Extract<PeerResult, {status: 'fulfilled'}>).value).to.deep.equal({
      item: 'coffee',
      price: 3,
      from: ids[0],
      currency: 'USD',
    })
    expect(results.get(ids[2]!)?.status).to.equal('rejected')

    // A page whose element has no handler answers remote-error ("no handler"); setting one answers.
    const none = await rejectionOf(b.$<P2PAction>('p2p-action').request('x', ids[0]!))
    expect(none.code).to.equal('remote-error')
    expect(none.message).to.contain('no handler')
    a.$<P2PAction>('p2p-action').handler = data => `a got ${data}`
    await ask.updateComplete
    expect(await b.$<P2PAction>('p2p-action').request('y', ids[0]!)).to.equal('a got y')
    // Removing the handler stops answering.
    a.$<P2PAction>('p2p-action').handler = undefined
    await ask.updateComplete
    expect((await rejectionOf(b.$<P2PAction>('p2p-action').request('z', ids[0]!))).message).to.contain('no handler')
    closePeerPages(peers)
  })

  it('a timeout rejects with timeout and fires p2p-error; send() in request mode is refused', async () => {
    const {peers} = await openRoomPeers(2, '<p2p-action name="slow" mode="request"></p2p-action>')
    const [a, b] = peers as [(typeof peers)[0], (typeof peers)[0]]
    b.$<P2PAction>('p2p-action').handler = () => new Promise(() => {})
    const bId = b.$('p2p-room').selfId
    const error = await rejectionOf(a.$<P2PAction>('p2p-action').request('?', bId, {timeoutMs: 200}))
    expect(error.code).to.equal('timeout')
    await until(() => a.seen('p2p-error').length === 1, 'p2p-error')
    expect((await rejectionOf(a.$<P2PAction>('p2p-action').send('a message'))).code).to.equal('action-id')
    closePeerPages(peers)
  })
})
