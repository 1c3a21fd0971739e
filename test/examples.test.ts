// The plain-HTML examples, used as a person would: two tabs of each (two iframes here), doing
// the thing the example is for, with a screenshot of both tabs at the end (test-artifacts/).
// Chat meets through the harness's Nostr relay (test/servers/nostr.mjs), as `npm start`'s
// pages meet through its embedded one; the others over BroadcastChannel (`?strategy=local`).
import {expect} from '@open-wc/testing'
import {uniqueRoom, until} from './helpers/peers.js'
import {servers} from './helpers/servers.js'
import {
  closeAll,
  frameStyle,
  openExample,
  openExamples,
  type ExamplePage,
  type as typeInto,
  untilText,
} from './helpers/examples.js'
import {screenshot} from './helpers/screenshot.js'

type RoomElement = HTMLElement & {peers: string[]; selfId: string; joined: boolean}

const roomOf = (page: ExamplePage) => page.$<RoomElement>('p2p-room')!
const shadow = (page: ExamplePage, tag: string) => page.$(tag)!.shadowRoot!
const untilPeers = (pages: ExamplePage[], count = pages.length - 1) =>
  until(() => pages.every(page => roomOf(page)?.peers?.length === count), `every page seeing ${count} peer(s)`)

describe('examples', () => {
  let pages: ExamplePage[] = []
  afterEach(() => closeAll(pages))

  it('gallery: links every example, and every link opens a page', async () => {
    const [gallery] = (pages = [
      await openExample('', uniqueRoom(), {strategy: 'local'}, 'width:100%;height:900px;border:0'),
    ])
    const links = [...gallery.document.querySelectorAll<HTMLAnchorElement>('.gallery a')]
    const names = links.map(link => new URL(link.href).pathname.split('/').at(-2))
    expect(names).to.deep.equal([
      'chat',
      'files',
      'video',
      'live',
      'cursors',
      'big-room',
      'crowd',
      'no-build',
      'collab',
      'react',
      'vue',
      'svelte',
      'angular',
    ])
    for (const link of links) {
      const response = await fetch(link.href)
      expect(response.status, link.href).to.equal(200)
      expect(await response.text()).to.include('<script type="module"')
    }
    await screenshot('example-gallery')
  })

  it('chat: names and messages typed in one tab appear in the other, over a Nostr relay', async () => {
    const {nostr} = await servers()
    pages = await openExamples(2, 'chat/', uniqueRoom('chat'), {relay: nostr}, frameStyle(760))
    const [ada, bob] = pages
    expect(roomOf(ada).getAttribute('relay-urls')).to.equal(nostr)
    await untilPeers(pages)

    typeInto(ada.$<HTMLInputElement>('#name')!, 'Ada')
    typeInto(bob.$<HTMLInputElement>('#name')!, 'Bob')
    // Who is here: each tab's peer list names the other.
    await until(() => shadow(bob, 'p2p-peer-list').textContent?.includes('Ada'), 'Ada in Bob’s peer list')
    await until(() => shadow(ada, 'p2p-peer-list').textContent?.includes('Bob'), 'Bob in Ada’s peer list')

    typeInto(ada.$<HTMLInputElement>('#message')!, 'Hello Bob, this came straight from my tab')
    ada.$<HTMLButtonElement>('#message-form button')!.click()
    const line = await untilText(bob, '#messages li', 'Hello Bob, this came straight from my tab')
    expect(line.querySelector('b')?.textContent).to.equal('Ada')

    typeInto(bob.$<HTMLInputElement>('#message')!, 'Hi Ada!')
    bob.$<HTMLButtonElement>('#message-form button')!.click()
    await untilText(ada, '#messages li', 'Hi Ada!')
    expect(ada.$<HTMLInputElement>('#message')!.value).to.equal('')
    await screenshot('example-chat')
  })

  it('files: a file chosen in one tab is listed in the other with a download link to the same bytes', async () => {
    pages = await openExamples(2, 'files/', uniqueRoom('files'))
    const [sender, receiver] = pages
    await untilPeers(pages)

    const content = 'Peer-to-peer, end to end encrypted.\n'.repeat(2000)
    const view = sender.window
    const picker = await until(
      () => shadow(sender, 'p2p-file-send').querySelector<HTMLInputElement>('input[type=file]'),
      'the file picker',
    )
    const files = new view.DataTransfer()
    files.items.add(new view.File([content], 'notes.txt', {type: 'text/plain'}))
    picker.files = files.files
    picker.dispatchEvent(new view.Event('change', {bubbles: true}))

    const link = await until(
      () =>
        shadow(receiver, 'p2p-file-send').querySelector<HTMLAnchorElement>(
          '[part~=received] [data-file="notes.txt"] a[download]',
        ),
      'notes.txt listed with a download link',
    )
    expect(link.download).to.equal('notes.txt')
    expect(await (await receiver.window.fetch(link.href)).text()).to.equal(content)
    await untilText(receiver, '#log li', 'notes.txt')
    await until(
      () =>
        shadow(sender, 'p2p-file-send')
          .querySelector('[part~=sent] [data-file="notes.txt"] [part~=status]')
          ?.textContent?.includes('✓ Sent'),
      'the sender seeing its done state',
    )
    await screenshot('example-files')
  })

  it('video: two tabs each see the other’s camera playing, and the buttons mute and turn the camera off', async () => {
    pages = await openExamples(2, 'video/', uniqueRoom('video'), {strategy: 'local'}, frameStyle(860))
    await untilPeers(pages)
    const remoteVideo = (page: ExamplePage) =>
      shadow(page, 'p2p-video-grid').querySelector<HTMLVideoElement>('figure[part~=tile]:not([part~=self]) video')
    for (const page of pages)
      await until(() => {
        const video = remoteVideo(page)
        return video && video.readyState >= 2 && video.videoWidth > 0 && !video.paused
      }, 'a playing remote video tile')
    // Playing means frames keep coming: time moves on.
    for (const page of pages) {
      const start = remoteVideo(page)!.currentTime
      await until(() => remoteVideo(page)!.currentTime > start + 0.2, 'the remote video advancing')
    }
    for (const page of pages)
      expect(shadow(page, 'p2p-video-grid').querySelectorAll('figure[part~=tile]').length).to.equal(2) // self + the other

    const [a] = pages
    const grid = shadow(a, 'p2p-video-grid')
    const mic = grid.querySelector<HTMLButtonElement>('[part~=mic]')!
    const camera = grid.querySelector<HTMLButtonElement>('[part~=camera]')!
    expect(mic.getAttribute('aria-pressed')).to.equal('true')
    mic.click()
    camera.click()
    await until(
      () => mic.getAttribute('aria-pressed') === 'false' && camera.getAttribute('aria-pressed') === 'false',
      'mic and camera off',
    )
    const local = (a.$('p2p-video-grid') as HTMLElement & {localStream: MediaStream}).localStream
    expect(local.getTracks().every(track => !track.enabled)).to.equal(true)
    camera.click() // camera back on for the screenshot
    await screenshot('example-video')
  })

  it('cursors: a pointer moving in one tab moves in the other, and dots are shared, also with a latecomer', async () => {
    const room = uniqueRoom('cursors')
    pages = await openExamples(2, 'cursors/', room)
    const [mover, watcher] = pages
    await untilPeers(pages)
    const board = mover.$('#board')!
    const moveTo = (x: number, y: number) => {
      const box = board.getBoundingClientRect()
      const at = {clientX: box.left + box.width * x, clientY: box.top + box.height * y, bubbles: true}
      board.dispatchEvent(new mover.window.PointerEvent('pointermove', at))
      return at
    }
    const cursor = () => watcher.$(`.cursor[data-peer="${roomOf(mover).selfId}"]`)
    moveTo(0.25, 0.5)
    await until(() => cursor()?.style.left === '25%', 'the cursor at 25% in the other tab')
    moveTo(0.75, 0.3)
    await until(() => cursor()?.style.left === '75%' && cursor()?.style.top === '30%', 'the cursor moved to 75%, 30%')

    const click = moveTo(0.5, 0.5)
    board.dispatchEvent(new mover.window.MouseEvent('click', click))
    await until(() => watcher.$('.stamp'), 'the dot in the other tab')

    const latecomer = await openExample('cursors/', room)
    pages.push(latecomer)
    await until(() => latecomer.$('.stamp'), 'the dot reaching a tab that joined later')
    latecomer.close()
    pages.pop()
    moveTo(0.6, 0.6)
    await screenshot('example-cursors')
  })

  it('no-build: a reaction tapped in one tab floats up in the other', async () => {
    pages = await openExamples(2, 'no-build/', uniqueRoom('reactions'))
    const [a, b] = pages
    await untilPeers(pages)
    await until(() => b.$('#count')?.textContent?.includes('1 other tab'), 'the peer count')
    const party = [...a.document.querySelectorAll<HTMLButtonElement>('#buttons button')].find(
      button => button.textContent === '🎉',
    )!
    party.click()
    await untilText(b, '#stage span', '🎉')
    await screenshot('example-no-build')
  })
})
