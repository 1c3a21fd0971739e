import {expect} from '@open-wc/testing'
import {closeAll, openElementsPeer, openRoomPeers, roomHtml} from './helpers/elements.js'
import {axeViolations} from './helpers/axe.js'
import {screenshot} from './helpers/screenshot.js'
import {until, uniqueRoom} from './helpers/peers.js'

describe('<p2p-action>', () => {
  it('every <p2p-action> of a name hears each message with its sender and metadata, inside the room or by room="id"', async () => {
    const roomId = uniqueRoom('action')
    const a = await openElementsPeer(
      `${roomHtml(roomId, '<p2p-action name="chat" id="inside"></p2p-action>', 'id="the-room"')}
       <p2p-action name="chat" room="the-room" id="outside"></p2p-action>
       <p2p-action name="other" room="the-room" id="other"></p2p-action>`,
    )
    const b = await openElementsPeer(roomHtml(roomId, '<p2p-action name="chat"></p2p-action>'))
    await until(() => b.$('p2p-room').peers.length === 1, 'peers to meet')
    const heard: Record<string, unknown[]> = {inside: [], outside: [], other: []}
    for (const id of Object.keys(heard))
      a.$(`#${id}`).addEventListener('p2p-data', (event: CustomEvent) => heard[id]!.push(event.detail))
    await b.$('p2p-action').send({text: 'hi'}, null, {lang: 'en'})
    await b.$('p2p-action').send('second')
    await until(() => heard.inside!.length === 2 && heard.outside!.length === 2, 'both listeners')
    const from = b.$('p2p-room').selfId
    expect(heard.inside).to.deep.equal([
      {data: {text: 'hi'}, peerId: from, metadata: {lang: 'en'}},
      {data: 'second', peerId: from, metadata: undefined},
    ])
    expect(heard.outside).to.deep.equal(heard.inside)
    expect(heard.other).to.deep.equal([])
    closeAll([a, b])
  })

  it('messages sent before the receiver’s room joined are not lost', async () => {
    const roomId = uniqueRoom('early')
    const b = await openElementsPeer(roomHtml(roomId, '<p2p-action name="hello"></p2p-action>'))
    // b greets every peer the moment it joins: before a's page has even rendered a listener.
    b.$('p2p-room').addEventListener('p2p-peer-join', (event: CustomEvent) =>
      b.$('p2p-action').send('welcome', event.detail.peerId),
    )
    const a = await openElementsPeer(roomHtml(roomId, '<p2p-action name="hello"></p2p-action>'))
    const data = await until(() => a.seen('p2p-data')[0], 'the greeting')
    expect(data.detail.data).to.equal('welcome')
    closeAll([a, b])
  })

  it('p2p-progress fires while sending and receiving, each side ending at 1', async () => {
    const {peers} = await openRoomPeers(2, '<p2p-action name="bulk"></p2p-action>')
    const [a, b] = peers as [any, any]
    const payload = new Uint8Array(1024 * 1024).map((_, i) => i & 255)
    await a.$('p2p-action').send(payload, null, {name: 'bulk.bin'})
    await until(() => b.seen('p2p-data').length === 1, 'the data')
    const sent = a.seen('p2p-progress').map((e: CustomEvent) => e.detail)
    const received = b.seen('p2p-progress').map((e: CustomEvent) => e.detail)
    expect(sent.every((d: any) => d.direction === 'send' && d.peerId === b.$('p2p-room').selfId)).to.equal(true)
    expect(sent.at(-1).fraction).to.equal(1)
    expect(received.every((d: any) => d.direction === 'receive' && d.peerId === a.$('p2p-room').selfId)).to.equal(true)
    expect(received.at(-1)).to.deep.include({fraction: 1, metadata: {name: 'bulk.bin'}})
    expect(new Uint8Array(b.seen('p2p-data')[0].detail.data)).to.deep.equal(payload)
    closeAll(peers)
  })

  it('a send that fails rejects with the core’s error and fires p2p-error', async () => {
    const {peers} = await openRoomPeers(2, '<p2p-action name="dm"></p2p-action>')
    const [a] = peers as [any]
    let rejection: any
    await a
      .$('p2p-action')
      .send('hello?', 'no-such-peer')
      .catch((error: unknown) => (rejection = error))
    expect(rejection.code).to.equal('unknown-peer')
    const detail = a.seen('p2p-error')[0].detail
    expect(detail).to.include({code: 'unknown-peer', peerId: 'no-such-peer'})
    closeAll(peers)
  })

  it('an action with no room around it fires p2p-error saying where to put it', async () => {
    const a = await openElementsPeer('<p2p-action name="lost"></p2p-action>')
    const error = await until(() => a.seen('p2p-error')[0], 'p2p-error')
    expect(error.detail.message).to.contain('<p2p-room>')
    closeAll([a])
  })
})

describe('<p2p-peer-list>', () => {
  it('lists the other peers with their names and live round-trip times', async () => {
    const {peers} = await openRoomPeers(3, '<p2p-peer-list></p2p-peer-list>')
    const [a, b, c] = peers as [any, any, any]
    const list = a.$('p2p-peer-list')
    const idB = b.$('p2p-room').selfId
    list.names = {[idB]: 'Bea', [a.$('p2p-room').selfId]: 'Ada'}
    const rows = () => [...list.shadowRoot.querySelectorAll('li[data-peer]')] as HTMLElement[]
    await until(() => rows().length === 2 && rows().every(row => /\d+ ms/.test(row.textContent!)), 'two rows with RTTs')
    const text = rows().map(row => row.textContent!.replace(/\s+/g, ' ').trim())
    expect(text.find(row => row.startsWith('Bea'))).to.match(/^Bea \d+ ms$/)
    expect(text.find(row => row.startsWith(c.$('p2p-room').selfId.slice(0, 6)))).to.match(/\d+ ms$/)
    expect(list.shadowRoot.querySelector('[part~=self]').textContent).to.contain('Ada').and.contain('(you)')
    expect(await axeViolations(a, list)).to.deep.equal([])
    await screenshot('peer-list')
    expect(Object.keys(list.rtts).sort()).to.deep.equal([idB, c.$('p2p-room').selfId].sort())
    c.close()
    await until(() => rows().length === 1, 'c’s row to go')
    closeAll(peers)
  })
})
