import {expect} from '@open-wc/testing'
import {closePeerPages, openElementsPeer, testAppId, type ElementsPeer} from './helpers/elements.js'
import {frameStyle} from './helpers/examples.js'
import {uniqueRoom, until} from './helpers/peers.js'
import {screenshot} from './helpers/screenshot.js'

const broadcastHtml = (room: string, attributes = '') =>
  `<p2p-broadcast app-id="${testAppId}" room="${room}" strategy="local" ${attributes}></p2p-broadcast>`

const noStun = {iceServers: []}

/** A page holding one <p2p-broadcast>, recording its events (they bubble and are composed). */
const openBroadcast = async (room: string, attributes: string, setup?: (el: any, peer: ElementsPeer) => void) => {
  // The element starts a microtask after it is connected: set its properties in the same task.
  const peer = await openElementsPeer('')
  for (const name of [
    'connect',
    'dispose',
    'error',
    'stream',
    'message',
    'channel',
    'sync',
    'viewers',
    'verify',
    'start',
    'stop',
  ])
    peer.seen(`p2p-broadcast-${name}`)
  const stage = peer.document.querySelector('#stage')!
  stage.innerHTML = broadcastHtml(room, attributes)
  const el = peer.$('p2p-broadcast')
  el.config = noStun
  setup?.(el, peer)
  return {peer, el}
}

const videoOf = (el: any) => el.shadowRoot.querySelector('video') as HTMLVideoElement

describe('<p2p-broadcast>', () => {
  it('send and receive: viewers play the stream and see the state, the sender counts them, verify (cancelable) refuses one, viewers come back after a restart', async () => {
    const room = uniqueRoom('element')
    const sender = await openBroadcast(room, 'mode="send" video-bitrate="300"', (el, peer) => {
      el.state = {title: 'Morning talk'}
      peer.document.addEventListener('p2p-broadcast-verify', (event: CustomEvent) => {
        if (event.detail.credentials === 'intruder') event.preventDefault()
      })
    })
    const stream = await sender.peer.window.navigator.mediaDevices.getUserMedia({
      video: {width: 160, height: 120, frameRate: 15},
    })
    sender.el.stream = stream
    await sender.el.start()
    expect(sender.el.live).to.equal(true)
    expect(sender.peer.seen('p2p-broadcast-start')[0]!.detail.mode).to.equal('send')

    const viewers = [await openBroadcast(room, ''), await openBroadcast(room, '')]
    const intruder = await openBroadcast(room, 'credentials="intruder"')
    for (const viewer of viewers) {
      await until(() => videoOf(viewer.el)?.videoWidth > 0, 'the broadcast playing in a viewer')
      await until(
        () => viewer.el.shadowRoot.querySelector('[part="state"]')?.textContent.includes('Morning talk'),
        'the state shown',
      )
    }
    await until(() => sender.el.viewers === 2, 'two viewers counted')
    expect(sender.el.shadowRoot.querySelector('[part="viewers"]').textContent).to.include('2 watching')
    await until(() => intruder.peer.seen('p2p-broadcast-error').length, 'the intruder refused')
    expect(intruder.peer.seen('p2p-broadcast-error')[0]!.detail.code).to.equal('rejected')
    expect(intruder.peer.seen('p2p-broadcast-stream').length).to.equal(0)
    const verifies = sender.peer.seen('p2p-broadcast-verify')
    expect(verifies.filter(e => e.defaultPrevented).length).to.equal(1)

    // sync and send reach the viewers as events; the state list follows.
    sender.el.sync({title: 'Q&A'}, true)
    sender.el.send('hello viewers')
    for (const viewer of viewers) {
      await until(() => viewer.peer.seen('p2p-broadcast-sync').length, 'a sync event')
      await until(() => viewer.peer.seen('p2p-broadcast-message').length, 'a message event')
      expect(viewer.peer.seen('p2p-broadcast-message')[0]!.detail.message).to.equal('hello viewers')
      await until(
        () => viewer.el.shadowRoot.querySelector('[part="state"]')?.textContent.includes('Q&A'),
        'the new state shown',
      )
    }

    // The sender stops and starts again: viewers reconnect by themselves.
    sender.el.stop()
    expect(sender.el.live).to.equal(false)
    for (const viewer of viewers) await until(() => viewer.peer.seen('p2p-broadcast-dispose').length, 'dispose')
    await sender.el.start()
    for (const viewer of viewers) {
      await until(() => viewer.peer.seen('p2p-broadcast-stream').length === 2, 'the stream again', 15_000)
      await until(() => videoOf(viewer.el)?.videoWidth > 0, 'playing again')
    }
    for (const t of stream.getTracks()) t.stop()
    closePeerPages([sender.peer, intruder.peer, ...viewers.map(v => v.peer)])
  })

  it('the live example: one tab broadcasts its camera, three watch, with a viewer counter (screenshot)', async () => {
    const room = uniqueRoom('live')
    const open = async (mode?: string) => {
      const frame = document.createElement('iframe')
      const params = new URLSearchParams({room, strategy: 'local', ...(mode ? {mode} : {})})
      frame.src = `/examples/live/?${params}`
      frame.allow = 'camera; microphone; autoplay'
      frame.style.cssText = frameStyle(560)
      const loaded = new Promise(resolve => frame.addEventListener('load', resolve, {once: true}))
      document.body.append(frame)
      await loaded
      return frame
    }
    const broadcaster = await open('send')
    const watchers = [await open(), await open(), await open()]
    const elementOf = (frame: HTMLIFrameElement) => frame.contentDocument!.querySelector('p2p-broadcast') as any
    // The pages run as served, default ICE servers included: public STUN names do not resolve
    // here, so gathering ends at once with host candidates (no restart with another config).
    for (const frame of watchers)
      await until(() => videoOf(elementOf(frame))?.videoWidth > 0, 'the broadcast playing in a watcher', 20_000)
    await until(
      () => broadcaster.contentDocument!.getElementById('status')!.textContent!.includes('3 viewers'),
      'the counter at 3',
    )
    expect(elementOf(broadcaster).viewers).to.equal(3)
    // Relayed viewers paint a moment after their first frame: wait until every video has played a second.
    for (const frame of watchers)
      await until(() => videoOf(elementOf(frame)).currentTime > 1, 'a second of video in every watcher')
    await screenshot('broadcast-live')
    for (const frame of [broadcaster, ...watchers]) frame.remove()
  })
})
