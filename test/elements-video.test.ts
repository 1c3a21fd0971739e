import {expect} from '@open-wc/testing'
import {closePeerPages, openElementsPeer, openRoomPeers, roomHtml, type ElementsPeer} from './helpers/elements.js'
import {until, uniqueRoom} from './helpers/peers.js'
import {axeViolations} from './helpers/axe.js'
import {screenshot} from './helpers/screenshot.js'

const grid = (peer: ElementsPeer) => peer.$('p2p-video-grid')
const shadowOf = (peer: ElementsPeer) => grid(peer).shadowRoot!
const tiles = (peer: ElementsPeer) => [...shadowOf(peer).querySelectorAll<HTMLElement>('[part~=tile]')]
const remoteTiles = (peer: ElementsPeer) => tiles(peer).filter(tile => !tile.part.contains('self'))
const playing = (tile: HTMLElement) => {
  const video = tile.querySelector('video')!
  return video.videoWidth > 0 && !video.paused
}

describe('<p2p-video-grid>', () => {
  it('shows a playing, labelled tile for each of three peers, and removes one when its peer leaves', async () => {
    const {peers} = await openRoomPeers(3, '<p2p-video-grid video audio show-self mirror-self></p2p-video-grid>', '', {
      height: 440,
    })
    const [a, b, c] = peers as [ElementsPeer, ElementsPeer, ElementsPeer]
    grid(a).names = {[b.$('p2p-room').selfId]: 'Bea'}
    for (const peer of peers)
      await until(
        () => tiles(peer).length === 3 && tiles(peer).every(playing),
        'three playing tiles (self + two peers)',
      )

    const ids = (peer: ElementsPeer) => peer.$('p2p-room').selfId
    expect(
      remoteTiles(a)
        .map(tile => tile.dataset.peer)
        .sort(),
    ).to.deep.equal([ids(b), ids(c)].sort())
    const self = tiles(a).find(tile => tile.part.contains('self'))!
    expect(self.querySelector('video')!.muted).to.equal(true)
    expect(self.querySelector('figcaption')!.textContent).to.equal('You')
    expect(
      remoteTiles(a).every(tile => !tile.querySelector('video')!.muted || tile.querySelector('[part~=unmute]')),
    ).to.equal(true)
    const labels = remoteTiles(a).map(tile => tile.querySelector('figcaption')!.textContent)
    expect(labels).to.include('Bea').and.include(ids(c).slice(0, 6))
    await screenshot('video-grid')
    expect(await axeViolations(a, grid(a))).to.deep.equal([])

    c.close()
    for (const peer of [a, b]) await until(() => remoteTiles(peer).length === 1, 'c’s tile to go')
    expect(remoteTiles(a)[0]!.dataset.peer).to.equal(ids(b))
    closePeerPages(peers)
  })

  it('the camera button turns the camera track off and on, and says so with aria-pressed', async () => {
    const {peers} = await openRoomPeers(2, '<p2p-video-grid video audio show-self></p2p-video-grid>')
    const [a] = peers as [ElementsPeer]
    const button = await until(
      () => shadowOf(a).querySelector<HTMLButtonElement>('[part~=camera]'),
      'the camera button',
    )
    const mic = shadowOf(a).querySelector('[part~=mic]')!
    expect(mic.getAttribute('aria-pressed')).to.equal('true')
    expect(button.getAttribute('aria-pressed')).to.equal('true')
    button.click()
    await grid(a).updateComplete
    expect(grid(a).localStream!.getVideoTracks()[0]!.enabled).to.equal(false)
    expect(button.getAttribute('aria-pressed')).to.equal('false')
    button.click()
    await grid(a).updateComplete
    expect(grid(a).localStream!.getVideoTracks()[0]!.enabled).to.equal(true)
    closePeerPages(peers)
  })

  it('a stream given in the stream property is sent instead of asking for the camera', async () => {
    const {peers} = await openRoomPeers(2, '<p2p-video-grid></p2p-video-grid>')
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    const canvas = a.document.createElement('canvas')
    Object.assign(canvas, {width: 320, height: 240})
    const context = canvas.getContext('2d')!
    const paint = setInterval(() => {
      context.fillStyle = `hsl(${(Date.now() / 10) % 360} 70% 50%)`
      context.fillRect(0, 0, 320, 240)
    }, 30)
    grid(a).stream = canvas.captureStream(30)
    await until(() => remoteTiles(b).length === 1 && playing(remoteTiles(b)[0]!), 'b to play a’s canvas')
    expect(remoteTiles(b)[0]!.querySelector('video')!.videoWidth).to.equal(320)
    expect(tiles(a)).to.have.length(0) // no show-self
    clearInterval(paint)
    closePeerPages(peers)
  })

  it('a tile goes when its peer stops sending the stream', async () => {
    const {peers} = await openRoomPeers(2, '<p2p-video-grid></p2p-video-grid>')
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    const camera = await a.window.navigator.mediaDevices.getUserMedia({video: true})
    grid(a).stream = camera
    await until(() => remoteTiles(b).length === 1 && playing(remoteTiles(b)[0]!), 'b to play a’s camera')
    grid(a).stream = undefined
    await until(() => remoteTiles(b).length === 0, 'the tile to go')
    expect(b.$('p2p-room').peers).to.have.length(1)
    for (const track of camera.getTracks()) track.stop()
    closePeerPages(peers)
  })

  it('a denied camera shows a clear message in the grid and fires p2p-media-error', async () => {
    const a = await openElementsPeer(roomHtml(uniqueRoom('denied'), '<p2p-video-grid video></p2p-video-grid>'), {
      allow: "camera 'none'; microphone 'none'",
    })
    const error = await until(() => a.seen('p2p-media-error')[0], 'p2p-media-error')
    expect(error.detail.name).to.equal('NotAllowedError')
    const message = shadowOf(a).querySelector('[part~=message]')!
    expect(message.getAttribute('role')).to.equal('alert')
    expect(message.textContent).to.contain('Permission to use the camera was denied')
    closePeerPages([a])
  })
})
