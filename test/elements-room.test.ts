import {expect} from '@open-wc/testing'
import type {P2PRoom} from '../src/elements/index.js'
import {
  closePeerPages,
  nextEvent,
  openElementsPeer,
  openRoomPeers,
  roomHtml,
  testAppId,
  type ElementsPeer,
} from './helpers/elements.js'
import {until, uniqueRoom} from './helpers/peers.js'

const fakeCamera = (peerWindow: Window) => peerWindow.navigator.mediaDevices.getUserMedia({video: true})

describe('<p2p-room>', () => {
  it('joins from its attributes, fires p2p-join with who and where, and sees peers join', async () => {
    const {roomId, peers} = await openRoomPeers(2)
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    const roomA = a.$('p2p-room')
    const roomB = b.$('p2p-room')
    expect(roomA.joined).to.equal(true)
    expect(roomA.hasAttribute('joined')).to.equal(true)
    expect(roomA.selfId).to.be.a('string').with.length(20)
    expect(roomA.coreRoom!.getPeers()).to.have.key(roomB.selfId)
    expect(roomA.instance).to.equal(roomA.coreRoom)
    expect(roomA.peers).to.deep.equal([roomB.selfId])
    const join = a.seen('p2p-join')[0]!.detail
    expect(join).to.include({appId: testAppId, roomId, strategy: 'local', selfId: roomA.selfId})
    expect(join.room).to.equal(roomA.coreRoom)
    expect(a.seen('p2p-peer-join').map(e => e.detail.peerId)).to.deep.equal([roomB.selfId])
    const event = a.seen('p2p-peer-join')[0]!
    expect(event.bubbles && event.composed).to.equal(true)
    closePeerPages(peers)
  })

  it('a strategy set to undefined or removed (as frameworks do for "no value") means the default, nostr', async () => {
    const a = await openElementsPeer(roomHtml(uniqueRoom('default'), '', 'relay-urls="ws://127.0.0.1:1"'))
    const room = a.$('p2p-room')
    room.strategy = undefined as unknown as string // what a framework sets for "no value"
    const join = await until(() => a.seen('p2p-join').find(e => e.detail.strategy === 'nostr'), 'a nostr join')
    expect(join.detail.strategy).to.equal('nostr')
    expect(a.seen('p2p-error')).to.have.length(0)
    closePeerPages([a])
  })

  it('a different password keeps peers apart and fires p2p-join-error', async () => {
    const roomId = uniqueRoom('password')
    const a = await openElementsPeer(roomHtml(roomId, '', 'password="right"'))
    const b = await openElementsPeer(roomHtml(roomId, '', 'password="wrong"'))
    const joinErrors = () => [...a.seen('p2p-join-error'), ...b.seen('p2p-join-error')]
    const errors = await until(() => (joinErrors().length ? joinErrors() : undefined), 'a p2p-join-error')
    expect(errors[0]!.detail).to.include({appId: testAppId, roomId})
    expect(errors[0]!.detail.peerId).to.be.oneOf([a.$('p2p-room').selfId, b.$('p2p-room').selfId])
    expect(a.$('p2p-room').peers).to.deep.equal([])
    closePeerPages([a, b])
  })

  it('max-message-size refuses bigger messages: the sender’s promise rejects and the receiver fires p2p-error', async () => {
    const roomId = uniqueRoom('limit')
    const a = await openElementsPeer(roomHtml(roomId, '<p2p-action name="blob"></p2p-action>'))
    const b = await openElementsPeer(
      roomHtml(roomId, '<p2p-action name="blob"></p2p-action>', 'max-message-size="1000"'),
    )
    await until(() => a.$('p2p-room').peers.length === 1, 'peers to meet')
    expect(b.$('p2p-room').coreRoom).to.exist
    const rejection = await a
      .$('p2p-action')
      .send(new Uint8Array(5000))
      .then(
        () => undefined,
        (error: Error & {code?: string}) => error,
      )
    expect(rejection?.code).to.equal('too-large')
    expect(a.seen('p2p-error').map(e => e.detail.code)).to.include('too-large')
    const received = await until(() => b.seen('p2p-error')[0], 'p2p-error on the receiver')
    expect(received.detail.code).to.equal('too-large')
    expect(received.detail.peerId).to.equal(a.$('p2p-room').selfId)
    expect(b.seen('p2p-data')).to.have.length(0)
    await a.$('p2p-action').send('small is fine')
    await until(() => b.seen('p2p-data').length === 1, 'the small message')
    closePeerPages([a, b])
  })

  it('changing room leaves the old room and joins the new one', async () => {
    const {peers} = await openRoomPeers(2)
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    const otherRoom = uniqueRoom('other')
    const c = await openElementsPeer(roomHtml(otherRoom))
    const roomA = a.$('p2p-room')
    roomA.setAttribute('room', otherRoom)
    await until(() => b.seen('p2p-peer-leave').length === 1, 'b to see a leave')
    expect(b.seen('p2p-peer-leave')[0].detail.peerId).to.equal(roomA.selfId)
    await until(() => roomA.peers.length === 1 && roomA.peers[0] === c.$('p2p-room').selfId, 'a to meet c')
    expect(a.seen('p2p-leave')[0]!.detail.roomId).to.not.equal(otherRoom)
    expect(a.seen('p2p-join').at(-1)!.detail.roomId).to.equal(otherRoom)
    expect(b.$('p2p-room').peers).to.deep.equal([])
    closePeerPages([a, b, c])
  })

  it('removing the element from the page leaves the room', async () => {
    const {peers} = await openRoomPeers(2)
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    const roomA = a.$('p2p-room')
    const left: CustomEvent[] = []
    roomA.addEventListener('p2p-leave', event => left.push(event))
    roomA.remove()
    await until(() => b.seen('p2p-peer-leave').length === 1, 'b to see a leave')
    expect(roomA.joined).to.equal(false)
    expect(roomA.coreRoom).to.equal(undefined)
    expect(left).to.have.length(1)
    closePeerPages(peers)
  })

  it('moving the element within the page keeps it in the room', async () => {
    const {peers} = await openRoomPeers(2, '<p2p-action name="chat"></p2p-action>')
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    const roomA = a.$('p2p-room')
    const coreRoom = roomA.coreRoom
    a.document.body.append(roomA)
    // A message sent after the move and answered takes longer than the check the move schedules.
    await a.$('p2p-action').send('moved')
    await until(() => b.seen('p2p-data').length === 1, 'b to hear a after the move')
    await b.$('p2p-action').send('still here')
    await until(() => a.seen('p2p-data').length === 1, 'a to hear b after the move')
    expect(roomA.coreRoom).to.equal(coreRoom)
    expect(a.seen('p2p-leave')).to.have.length(0)
    expect(b.seen('p2p-peer-leave')).to.have.length(0)
    closePeerPages(peers)
  })

  it('two <p2p-room>s for the same room in one page share it: both get every event, and the last to go leaves', async () => {
    const roomId = uniqueRoom('shared')
    const a = await openElementsPeer(
      `${roomHtml(roomId, '<p2p-action name="chat"></p2p-action>', 'id="one"')}
       ${roomHtml(roomId, '<p2p-action name="chat"></p2p-action>', 'id="two"')}`,
    )
    const b = await openElementsPeer(roomHtml(roomId, '<p2p-action name="chat"></p2p-action>'))
    const [one, two] = [a.$<P2PRoom>('#one'), a.$<P2PRoom>('#two')]
    await until(() => one.peers.length === 1 && two.peers.length === 1, 'both elements to see b')
    expect(one.coreRoom).to.equal(two.coreRoom)
    const joins = a.seen('p2p-peer-join').map(e => (e.target as Element).id)
    expect(joins.sort()).to.deep.equal(['one', 'two'])
    await b.$('p2p-action').send('to both')
    await until(() => a.seen('p2p-data').length === 2, 'both actions to hear it')
    const oneLeft = nextEvent(one, 'p2p-leave', 'the first element to leave')
    one.remove()
    await oneLeft
    expect(two.joined).to.equal(true)
    expect(b.$('p2p-room').peers).to.have.length(1)
    await b.$('p2p-action').send('still here')
    await until(() => a.seen('p2p-data').length === 3, 'the second element to still hear')
    two.remove()
    await until(() => b.seen('p2p-peer-leave').length === 1, 'b to see a leave once both are gone')
    closePeerPages([a, b])
  })

  it('streams and tracks from peers fire p2p-stream and p2p-track with the sender and metadata', async () => {
    const {peers} = await openRoomPeers(2)
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    const camera = await fakeCamera(b.window)
    b.$('p2p-room').coreRoom!.addStream(camera, null, {kind: 'camera'})
    const stream = await until(() => a.seen('p2p-stream')[0], 'p2p-stream')
    expect(stream.detail.peerId).to.equal(b.$('p2p-room').selfId)
    expect(stream.detail.metadata).to.deep.equal({kind: 'camera'})
    expect(stream.detail.stream.getVideoTracks()).to.have.length(1)
    const track = a.seen('p2p-track')[0]!.detail
    expect(track.peerId).to.equal(b.$('p2p-room').selfId)
    expect(track.track.kind).to.equal('video')
    expect(track.metadata).to.deep.equal({kind: 'camera'})
    expect(a.$('p2p-room').streams.get(b.$('p2p-room').selfId)).to.deep.equal([stream.detail.stream])
    for (const t of camera.getTracks()) t.stop()
    closePeerPages(peers)
  })

  it('an unknown strategy fires p2p-error naming the valid ones', async () => {
    const a = await openElementsPeer(`<p2p-room app-id="x" room="y" strategy="carrier-pigeon"></p2p-room>`)
    const error = await until(() => a.seen('p2p-error')[0], 'p2p-error')
    expect(error.detail.message).to.contain('carrier-pigeon').and.contain('local').and.contain('driver')
    expect(error.detail.code).to.equal('invalid-config')
    expect(a.$('p2p-room').joined).to.equal(false)
    closePeerPages([a])
  })

  it('bad config (driver strategy without a driver) fires p2p-error that says what to pass', async () => {
    const a = await openElementsPeer(`<p2p-room app-id="x" room="y" strategy="driver"></p2p-room>`)
    const error = await until(() => a.seen('p2p-error')[0], 'p2p-error')
    expect(error.detail.message).to.contain('config.driver')
    expect(error.detail.code).to.equal('invalid-config')
    closePeerPages([a])
  })

  it('defining the elements twice does not throw, nor does a tag someone else defined first', async () => {
    const a = await openElementsPeer('')
    const again = await a.window.eval(`import('/src/elements/define.ts?second-bundle')`)
    expect(() => again.defineElements()).to.not.throw()
    const page = await openElementsPeer('')
    page.frame.remove()
    const frame = document.createElement('iframe')
    document.body.append(frame)
    const win = frame.contentWindow as Window & typeof globalThis
    win.customElements.define('p2p-peer-list', class extends win.HTMLElement {})
    const module = await win.eval(`import('/src/elements/define.ts')`)
    expect(win.customElements.get('p2p-room')).to.equal(module.P2PRoom)
    frame.remove()
    closePeerPages([a])
  })
})
