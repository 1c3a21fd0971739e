// People, not ids: every element names peers from their presence (<p2p-room name color>),
// follows a rename on the other side, marks "you", and tells two people with one name apart.
// The video grid lays out its tiles by area, shows camera-off and speaking states; the file
// widget's sender follows the receiver's acknowledgements and ends in a done state.
import {expect} from '@open-wc/testing'
import {closePeerPages, type ElementsPeer, openRoomPeers} from './helpers/elements.js'
import {until} from './helpers/peers.js'
import {screenshot} from './helpers/screenshot.js'

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))
const shadow = (peer: ElementsPeer, tag: string) => peer.$(tag)!.shadowRoot!
const idOf = (peer: ElementsPeer) => peer.$('p2p-room').selfId
const tileOf = (peer: ElementsPeer, peerId: string) =>
  shadow(peer, 'p2p-video-grid').querySelector<HTMLElement>(`[part~=tile][data-peer="${peerId}"]`)

describe('people in the elements', () => {
  it('a rename on the other side shows in the peer list, the video tile, the file widget and p2p-data; equal names get fingerprints', async () => {
    const {peers} = await openRoomPeers(
      2,
      '<p2p-peer-list></p2p-peer-list><p2p-video-grid video show-self></p2p-video-grid><p2p-file-send></p2p-file-send><p2p-action name="chat"></p2p-action>',
      '',
      {width: 520, height: 640},
    )
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    const shows = (name: string) => {
      const list = shadow(a, 'p2p-peer-list').querySelector(`[data-peer="${idOf(b)}"] [part~=name]`)?.textContent
      const tile = tileOf(a, idOf(b))?.querySelector('[part~=label]')?.textContent
      const option = [...shadow(a, 'p2p-file-send').querySelectorAll('option')].map(o => o.textContent)
      return list === name && tile === name && option.includes(name)
    }
    for (const name of ['Bea', 'Beatrice']) {
      b.$('p2p-room').name = name
      await until(() => shows(name), `"${name}" in a's list, tile and file widget`)
      await b.$('p2p-action').send(`hi from ${name}`)
      await until(() => a.seen('p2p-data').some(e => e.detail.data === `hi from ${name}`), 'the message')
      expect(a.seen('p2p-data').at(-1)!.detail.from.text).to.equal(name)
    }
    // This page is marked as you.
    const own = shadow(b, 'p2p-peer-list').querySelector('[part~=self]')!
    expect(own.querySelector('[part~=name]')!.textContent).to.equal('Beatrice')
    expect(own.querySelector('[part~=you]')!.textContent).to.equal('(you)')
    expect(tileOf(b, idOf(b))!.querySelector('[part~=label]')!.textContent).to.equal('Beatrice (you)')

    // Names are not unique: two Beatrices are told apart by the start of their ids.
    a.$('p2p-room').name = 'Beatrice'
    const tagged = `Beatrice · ${idOf(a).slice(0, 4)}`
    await until(
      () => shadow(b, 'p2p-peer-list').querySelector(`[data-peer="${idOf(a)}"] [part~=name]`)?.textContent === tagged,
      'the fingerprint after an equal name',
    )
    // Names from other people are shown as text, never markup.
    b.$('p2p-room').name = '<img src=x onerror=alert(1)>\u202eevil'
    await until(() => shows('<img src=x onerror=alert(1)>evil'), 'the hostile name as plain text')
    expect(shadow(a, 'p2p-peer-list').querySelector('img')).to.equal(null)
    await screenshot('people-rename')
    closePeerPages(peers)
  })

  it('the grid picks the column count with the largest tiles for 1, 2, 4 and 9 tiles at two sizes, keeping 16:9', async () => {
    const {peers} = await openRoomPeers(2, '<p2p-video-grid></p2p-video-grid>', '', {width: 480, height: 360})
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    const sender = b.$('p2p-room').coreRoom!
    const streams: MediaStream[] = []
    const addStreams = (count: number) => {
      for (let i = 0; i < count; i++) {
        const canvas = b.document.createElement('canvas')
        canvas.width = 64
        canvas.height = 36
        const context = canvas.getContext('2d')!
        context.fillStyle = `hsl(${streams.length * 40} 60% 50%)`
        context.fillRect(0, 0, 64, 36)
        const stream = canvas.captureStream(2)
        streams.push(stream)
        sender.addStream(stream)
      }
    }
    const sizes = [
      {width: 480, height: 360, columns: {1: 1, 2: 1, 4: 2, 9: 3}},
      {width: 1000, height: 700, columns: {1: 1, 2: 2, 4: 2, 9: 3}},
    ] as const
    for (const count of [1, 2, 4, 9] as const) {
      addStreams(count - streams.length)
      for (const size of sizes) {
        a.frame.style.width = `${size.width}px`
        a.frame.style.height = `${size.height}px`
        const grid = a.$('p2p-video-grid')
        const tiles = () => [...shadow(a, 'p2p-video-grid').querySelectorAll<HTMLElement>('[part~=tile]')]
        await until(
          () =>
            tiles().length === count &&
            grid.layout.tileWidth > 0 &&
            grid.layout.columns === size.columns[count] &&
            Math.abs(tiles()[0]!.getBoundingClientRect().width - grid.layout.tileWidth) < 1.5,
          `${count} tiles in ${size.columns[count]} columns at ${size.width}×${size.height}`,
        )
        await sleep(50)
        const boxes = tiles().map(tile => tile.getBoundingClientRect())
        const {tileWidth} = grid.layout
        for (const box of boxes) {
          expect(Math.abs(box.width - tileWidth), `tile width at ${size.width}, ${count} tiles`).to.be.below(1.5)
          expect(Math.abs(box.height - (box.width * 9) / 16)).to.be.below(1.5)
        }
        // As many tiles per row as the layout says, and the rows stay inside the grid's box.
        const rows = new Set(boxes.map(box => Math.round(box.top))).size
        expect(rows).to.equal(Math.ceil(count / size.columns[count]))
        const gridBox = shadow(a, 'p2p-video-grid').querySelector('[part~=grid]')!.getBoundingClientRect()
        expect(Math.max(...boxes.map(box => box.right))).to.be.at.most(gridBox.right + 0.5)
        expect(Math.max(...boxes.map(box => box.bottom)) - gridBox.top).to.be.at.most(size.height * 0.75 + 1)
        // At least one side is filled: the full width, or the full height of the box.
        const usedWidth = Math.max(...boxes.map(b => b.right)) - Math.min(...boxes.map(b => b.left))
        const usedHeight = Math.max(...boxes.map(b => b.bottom)) - gridBox.top
        expect(usedWidth >= gridBox.width - 8 || usedHeight >= size.height * 0.75 - 8 - rows * 2).to.equal(true)
        if (count === 9 && size.width === 1000) await screenshot('video-grid-9-tiles')
      }
    }
    closePeerPages(peers)
  })

  it('a peer that turns its camera off shows as its initials on its colour, and its mute as a badge', async () => {
    const {peers} = await openRoomPeers(2, '<p2p-video-grid video audio show-self></p2p-video-grid>', '', {
      width: 520,
      height: 420,
    })
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    Object.assign(b.$('p2p-room'), {name: 'Bea Lovelace', color: '#0f766e'})
    await until(() => tileOf(a, idOf(b))?.querySelector('video')?.videoWidth, 'b’s video at a')
    const camera = await until(
      () => shadow(b, 'p2p-video-grid').querySelector<HTMLButtonElement>('[part~=camera]'),
      'the camera button',
    )
    camera.click()
    await until(() => tileOf(a, idOf(b))?.part.contains('camera-off'), 'the camera-off tile at a')
    const tile = tileOf(a, idOf(b))!
    expect(tile.querySelector('[part~=initials]')!.textContent).to.equal('BL')
    expect(getComputedStyle(tile.querySelector('[part~=placeholder]')!).backgroundColor).to.equal('rgb(15, 118, 110)')
    expect(tile.querySelector('[part~=camera-off-badge]')).to.not.equal(null)
    expect(tile.querySelector('[part~=muted-badge]')).to.equal(null)
    shadow(b, 'p2p-video-grid').querySelector<HTMLButtonElement>('[part~=mic]')!.click()
    await until(() => tileOf(a, idOf(b))?.querySelector('[part~=muted-badge]'), 'the muted badge at a')
    // b's own tile says the same.
    expect(tileOf(b, idOf(b))!.part.contains('camera-off')).to.equal(true)
    await screenshot('video-camera-off')
    camera.click()
    await until(() => !tileOf(a, idOf(b))?.part.contains('camera-off'), 'the camera back on at a')
    closePeerPages(peers)
  })

  it('a tile is speaking while its audio has sound (an oscillator) and not while it is silent', async () => {
    const {peers} = await openRoomPeers(2, '<p2p-video-grid></p2p-video-grid>', '', {width: 420, height: 320})
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    const context = new b.window.AudioContext()
    await context.resume()
    const oscillator = context.createOscillator()
    const gain = context.createGain()
    const destination = context.createMediaStreamDestination()
    gain.gain.value = 0
    oscillator.connect(gain).connect(destination)
    oscillator.start()
    b.$('p2p-video-grid').stream = destination.stream
    const speaking = () => tileOf(a, idOf(b))?.hasAttribute('data-speaking')
    await until(() => tileOf(a, idOf(b)), 'b’s audio tile at a')
    await sleep(1200)
    expect(speaking(), 'silence is not speaking').to.equal(false)
    gain.gain.value = 0.5
    await until(speaking, 'speaking while the oscillator sounds')
    expect(tileOf(a, idOf(b))!.part.contains('speaking')).to.equal(true)
    await screenshot('video-speaking')
    gain.gain.value = 0
    await until(() => !speaking(), 'not speaking once silent again')
    oscillator.stop()
    await context.close()
    closePeerPages(peers)
  })

  it('the sender’s bar follows the receiver’s acks, shows speed and time left, and ends in a done state, in IEC units', async () => {
    // Above 10 MiB the receiver would first be asked (ask-above): this test is about the bar.
    const markup = '<p2p-file-send ask-above="104857600"></p2p-file-send>'
    const {peers} = await openRoomPeers(2, markup, '', {width: 520, height: 360})
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    const size = 20 * 1024 * 1024
    const file = new a.window.File([new Uint8Array(size)], 'big.bin', {type: 'application/octet-stream'})
    const statuses = new Set<string>()
    const status = (peer: ElementsPeer) =>
      shadow(peer, 'p2p-file-send').querySelector('[data-file="big.bin"] [part~=status]')?.textContent?.trim() ?? ''
    const timer = setInterval(() => statuses.add(status(a)), 50)
    const sent = a.$('p2p-file-send').sendFiles([file])
    await sent
    clearInterval(timer)
    const fractions = a
      .seen('p2p-file-progress')
      .filter(e => e.detail.direction === 'send')
      .map(e => e.detail.fraction)
    // One ack per MiB (16 chunks of 64 KiB) and one at the end: ~20 steps, never backwards.
    expect(fractions.length).to.be.at.least(18)
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1]!)).to.equal(true)
    expect(fractions[0]).to.be.below(0.1)
    expect(shadow(a, 'p2p-file-send').querySelector('[part~=file-size]')!.textContent).to.equal('20 MiB')
    await until(() => /^✓ Sent( · [\d.]+ (KiB|MiB|GiB)\/s)?$/.test(status(a)), 'the sender’s done state')
    await until(() => status(b).startsWith('✓ Received'), 'the receiver’s done state')
    expect(shadow(b, 'p2p-file-send').querySelector('[part~=download]')!.textContent).to.equal('Download 20 MiB')
    // While it moved, the sender saw a speed and a time left (after its first half second).
    const moving = [...statuses].filter(s => /^\d+% · [\d.]+ (KiB|MiB)\/s · .+ left$/.test(s))
    expect(moving.length, [...statuses].join(' | ')).to.be.at.least(1)
    await screenshot('file-done')
    closePeerPages(peers)
  })
})
