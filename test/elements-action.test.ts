import {expect} from '@open-wc/testing'
import type {P2PAction, P2PRoom} from '../src/elements/index.js'
import {closePeerPages, openElementsPeer, openRoomPeers, roomHtml, type ElementsPeer} from './helpers/elements.js'
import {until, uniqueRoom} from './helpers/peers.js'

/** Resolves with the rejection of `promise` (fails the test if it resolves). */
const rejectionOf = async (promise: Promise<unknown>) => {
  try {
    await promise
  } catch (error) {
    return error as Error & {code?: string}
  }
  throw new Error('expected a rejection')
}

describe('<p2p-action>', () => {
  it('every <p2p-action> of a name hears each message with its sender and metadata, inside the room or by for="id"', async () => {
    const roomId = uniqueRoom('action')
    const a = await openElementsPeer(
      `${roomHtml(roomId, '<p2p-action name="chat" id="inside"></p2p-action>', 'id="the-room"')}
       <p2p-action name="chat" for="the-room" id="outside"></p2p-action>
       <p2p-action name="other" for="the-room" id="other"></p2p-action>`,
    )
    const b = await openElementsPeer(roomHtml(roomId, '<p2p-action name="chat"></p2p-action>'))
    await until(() => b.$('p2p-room').peers.length === 1, 'peers to meet')
    const heard: Record<string, unknown[]> = {inside: [], outside: [], other: []}
    for (const id of Object.keys(heard))
      a.$(`#${id}`).addEventListener('p2p-data', ({detail: {data, peerId, metadata, from}}) =>
        heard[id]!.push({data, peerId, metadata, from: from.text}),
      )
    await b.$('p2p-action').send({text: 'hi'}, null, {lang: 'en'})
    await b.$('p2p-action').send('second')
    await until(() => heard.inside!.length === 2 && heard.outside!.length === 2, 'both listeners')
    const from = b.$('p2p-room').selfId
    expect(heard.inside).to.deep.equal([
      // `from` is the sender as the elements show it: no name given, so the start of its id.
      {data: {text: 'hi'}, peerId: from, metadata: {lang: 'en'}, from: from.slice(0, 6)},
      {data: 'second', peerId: from, metadata: undefined, from: from.slice(0, 6)},
    ])
    expect(heard.outside).to.deep.equal(heard.inside)
    expect(heard.other).to.deep.equal([])
    expect(a.$<P2PAction>('#outside').roomElement).to.equal(a.$('#the-room'))
    expect(a.warnings).to.deep.equal([])
    closePeerPages([a, b])
  })

  it('changing for moves an action to the other room: it hears that room only', async () => {
    const [first, second] = [uniqueRoom('first'), uniqueRoom('second')]
    const a = await openElementsPeer(
      `${roomHtml(first, '', 'id="one"')}${roomHtml(second, '', 'id="two"')}
       <p2p-action name="chat" for="one"></p2p-action>`,
    )
    const b = await openElementsPeer(roomHtml(first, '<p2p-action name="chat"></p2p-action>'))
    const c = await openElementsPeer(roomHtml(second, '<p2p-action name="chat"></p2p-action>'))
    const [one, two] = [a.$<P2PRoom>('#one'), a.$<P2PRoom>('#two')]
    await until(() => one.peers.length === 1 && two.peers.length === 1, 'both rooms to meet a peer')
    const action = a.$<P2PAction>('#stage > p2p-action')
    await b.$('p2p-action').send('to the first room')
    await until(() => a.seen('p2p-data').length === 1, 'the first room’s message')
    action.htmlFor = 'two'
    await action.updateComplete
    expect(action.roomElement).to.equal(two)
    expect(action.getAttribute('for')).to.equal('two')
    await b.$('p2p-action').send('not for the action any more') // resolves once a's room has it
    await c.$('p2p-action').send('to the second room')
    await until(() => a.seen('p2p-data').length === 2, 'the second room’s message')
    expect(a.seen('p2p-data').map(e => e.detail.data)).to.deep.equal(['to the first room', 'to the second room'])
    closePeerPages([a, b, c])
  })

  it('room="id" on a child still works in this release, with one deprecation warning per page', async () => {
    const roomId = uniqueRoom('deprecated')
    const a = await openElementsPeer(
      `${roomHtml(roomId, '', 'id="the-room"')}
       <p2p-action name="chat" room="the-room"></p2p-action>
       <p2p-peer-list room="the-room"></p2p-peer-list>`,
    )
    const b = await openElementsPeer(roomHtml(roomId, '<p2p-action name="chat"></p2p-action>'))
    await until(() => a.$('p2p-room').peers.length === 1, 'peers to meet')
    await b.$('p2p-action').send('still heard')
    const data = await until(() => a.seen('p2p-data')[0], 'the message')
    expect(data.target).to.equal(a.$('#stage > p2p-action'))
    expect(a.$('p2p-peer-list').roomElement).to.equal(a.$('#the-room'))
    expect(a.warnings).to.have.length(1)
    expect(a.warnings[0]).to.contain('room="the-room"').and.contain('deprecated').and.contain('for="the-room"')
    closePeerPages([a, b])
  })

  it('messages sent before the receiver’s room joined are not lost', async () => {
    const roomId = uniqueRoom('early')
    const b = await openElementsPeer(roomHtml(roomId, '<p2p-action name="hello"></p2p-action>'))
    // b greets every peer the moment it joins: before a's page has even rendered a listener.
    b.$('p2p-room').addEventListener('p2p-peer-join', event => b.$('p2p-action').send('welcome', event.detail.peerId))
    const a = await openElementsPeer(roomHtml(roomId, '<p2p-action name="hello"></p2p-action>'))
    const data = await until(() => a.seen('p2p-data')[0], 'the greeting')
    expect(data.detail.data).to.equal('welcome')
    closePeerPages([a, b])
  })

  it('p2p-progress fires while sending and receiving, each side ending at 1', async () => {
    const {peers} = await openRoomPeers(2, '<p2p-action name="bulk"></p2p-action>')
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    const payload = new Uint8Array(1024 * 1024).map((_, i) => i & 255)
    await a.$('p2p-action').send(payload, null, {name: 'bulk.bin'})
    await until(() => b.seen('p2p-data').length === 1, 'the data')
    const sent = a.seen('p2p-progress').map(e => e.detail)
    const received = b.seen('p2p-progress').map(e => e.detail)
    expect(sent.every(d => d.direction === 'send' && d.peerId === b.$('p2p-room').selfId)).to.equal(true)
    expect(sent.at(-1)!.fraction).to.equal(1)
    expect(received.every(d => d.direction === 'receive' && d.peerId === a.$('p2p-room').selfId)).to.equal(true)
    expect(received.at(-1)).to.deep.include({fraction: 1, metadata: {name: 'bulk.bin'}})
    expect(new Uint8Array(b.seen('p2p-data')[0]!.detail.data as ArrayBuffer)).to.deep.equal(payload)
    closePeerPages(peers)
  })

  it('a send that fails rejects with the core’s error and fires p2p-error', async () => {
    const {peers} = await openRoomPeers(2, '<p2p-action name="dm"></p2p-action>')
    const [a] = peers as [ElementsPeer]
    const rejection = await rejectionOf(a.$('p2p-action').send('hello?', 'no-such-peer'))
    expect(rejection.code).to.equal('unknown-peer')
    const detail = a.seen('p2p-error')[0]!.detail
    expect(detail).to.include({code: 'unknown-peer', peerId: 'no-such-peer'})
    closePeerPages(peers)
  })

  it('an action with no room fires p2p-error (code no-room) saying where to put it, and its sends reject so', async () => {
    const a = await openElementsPeer(
      '<p2p-action name="lost"></p2p-action><p2p-action name="astray" for="nowhere"></p2p-action>',
    )
    await until(() => a.seen('p2p-error').length === 2, 'a p2p-error from each action')
    const [lost, astray] = ['lost', 'astray'].map(
      name => a.seen('p2p-error').find(e => (e.target as P2PAction).name === name)!.detail,
    )
    expect(lost).to.include({code: 'no-room'})
    expect(lost!.message).to.contain('<p2p-room>').and.contain('for="id of a p2p-room"')
    expect(astray).to.include({code: 'no-room'})
    expect(astray!.message).to.contain('<p2p-room id="nowhere">').and.contain('for attribute')
    const rejection = await rejectionOf(a.$('p2p-action').send('anyone?'))
    expect(rejection).to.include({name: 'P2PError', code: 'no-room'})
    closePeerPages([a])
  })

  it('a send from an action without a name rejects with code action-id', async () => {
    const a = await openElementsPeer(roomHtml(uniqueRoom('nameless'), '<p2p-action></p2p-action>'))
    await until(() => a.$('p2p-action').roomElement, 'the action to find its room')
    const rejection = await rejectionOf(a.$('p2p-action').send('hello'))
    expect(rejection).to.include({name: 'P2PError', code: 'action-id'})
    expect(a.seen('p2p-error').map(e => e.detail.code)).to.deep.equal(['action-id'])
    closePeerPages([a])
  })
})
