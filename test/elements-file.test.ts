import {expect} from '@open-wc/testing'
import {closePeerPages, openElementsPeer, openRoomPeers, roomHtml, type ElementsPeer} from './helpers/elements.js'
import {until, uniqueRoom} from './helpers/peers.js'
import {axeViolations} from './helpers/axe.js'
import {screenshot} from './helpers/screenshot.js'

const shadowOf = (peer: ElementsPeer) => peer.$('p2p-file-send').shadowRoot!

const bytes = (n: number) => Uint8Array.from({length: n}, (_, i) => (i * 131 + 17) & 255)

/** Chooses files in a peer's widget the way a user does: through its file input. */
const choose = (peer: ElementsPeer, files: File[]) => {
  const input = shadowOf(peer).querySelector<HTMLInputElement>('input[type=file]')!
  const transfer = new peer.window.DataTransfer()
  for (const file of files) transfer.items.add(new peer.window.File([file], file.name, {type: file.type}))
  input.files = transfer.files
  input.dispatchEvent(new peer.window.Event('change'))
}

const text = (element: Element) => element.textContent!.replace(/\s+/g, ' ').trim()
const rows = (peer: ElementsPeer, list: 'sent' | 'received') => [
  ...shadowOf(peer).querySelectorAll<HTMLElement>(`[part~=${list}] [part~=file]`),
]
/** The problem the widget shows; fails the test if there is none. */
const message = (peer: ElementsPeer) => shadowOf(peer).querySelector('[part~=message]')!

describe('<p2p-file-send>', () => {
  it('a 5 MiB file goes to two peers whole, with progress reaching a done state on every side', async () => {
    const {peers} = await openRoomPeers(3, '<p2p-file-send multiple></p2p-file-send>')
    const [a, b, c] = peers as [ElementsPeer, ElementsPeer, ElementsPeer]
    const content = bytes(5 * 1024 * 1024)
    choose(a, [new File([content], 'holiday-photos.zip', {type: 'application/zip'})])

    for (const peer of [b, c]) {
      const received = await until(() => peer.seen('p2p-file-received')[0], 'the file to arrive')
      const {file, peerId} = received.detail
      expect(peerId).to.equal(a.$('p2p-room').selfId)
      expect(file.name).to.equal('holiday-photos.zip')
      // Not on the safe list: offered as bytes to download, never rendered in this origin.
      expect(file.type).to.equal('application/octet-stream')
      expect(file.size).to.equal(content.length)
      expect(new Uint8Array(await file.arrayBuffer())).to.deep.equal(content)
      const progress = peer.seen('p2p-file-progress').map(e => e.detail)
      expect(progress.every(d => d.direction === 'receive' && d.file.name === 'holiday-photos.zip')).to.equal(true)
      expect(progress.at(-1)!.fraction).to.equal(1)
      const [row] = rows(peer, 'received')
      expect(text(row!)).to.contain('holiday-photos.zip').and.contain('Download 5 MiB').and.contain('✓ Received')
      expect(row!.querySelector('a[download]')!.getAttribute('download')).to.equal('holiday-photos.zip')
    }
    await until(
      () =>
        rows(a, 'sent')[0]?.querySelectorAll('progress').length === 2 &&
        [...rows(a, 'sent')[0]!.querySelectorAll('progress')].every(p => p.value === 1),
      'both sender bars full',
    )
    const sent = a.seen('p2p-file-progress').map(e => e.detail)
    for (const peer of [b, c])
      expect(
        sent.filter(d => d.peerId === peer.$('p2p-room').selfId && d.direction === 'send').at(-1)!.fraction,
      ).to.equal(1)
    await until(() => text(rows(a, 'sent')[0]!).match(/✓ Sent/g)?.length === 2, 'both sends done')
    expect(a.seen('p2p-file-error')).to.have.length(0)
    await screenshot('file-send')
    for (const peer of [a, b]) expect(await axeViolations(peer, peer.$('p2p-file-send'))).to.deep.equal([])
    closePeerPages(peers)
  })

  it('a file over max-size is not sent: the widget says so and fires p2p-file-error', async () => {
    const {peers} = await openRoomPeers(2, '<p2p-file-send max-size="1000"></p2p-file-send>')
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    choose(a, [new File([bytes(5000)], 'big.bin')])
    const error = await until(() => a.seen('p2p-file-error')[0], 'p2p-file-error')
    expect(error.detail).to.deep.include({code: 'too-large'})
    expect(error.detail.file!.name).to.equal('big.bin')
    expect(text(message(a))).to.equal('big.bin is 4.9 KiB; files up to 1000 B can be sent.')
    expect(message(a).getAttribute('role')).to.equal('alert')
    expect(rows(b, 'received')).to.have.length(0)
    closePeerPages(peers)
  })

  it('a file the receiver refuses (over its max-message-size) shows why on the sender', async () => {
    const roomId = uniqueRoom('refuse')
    const a = await openElementsPeer(roomHtml(roomId, '<p2p-file-send></p2p-file-send>'))
    const b = await openElementsPeer(roomHtml(roomId, '<p2p-file-send max-receive-size="10000"></p2p-file-send>'))
    await until(() => a.$('p2p-room').peers.length === 1, 'peers to meet')
    choose(a, [new File([bytes(50_000)], 'report.pdf')])
    const error = await until(() => a.seen('p2p-file-error')[0], 'p2p-file-error')
    expect(error.detail.code).to.equal('too-large')
    expect(error.detail.peerId).to.equal(b.$('p2p-room').selfId)
    expect(text(message(a))).to.contain('report.pdf did not reach')
    expect(text(rows(a, 'sent')[0]!)).to.contain('too large for them')
    expect(b.seen('p2p-file-received')).to.have.length(0)
    closePeerPages([a, b])
  })

  it('with no one else in the room, choosing a file says it was not sent', async () => {
    const a = await openElementsPeer(roomHtml(uniqueRoom('alone'), '<p2p-file-send></p2p-file-send>'))
    await until(() => a.$('p2p-room').joined, 'the room to join')
    choose(a, [new File(['hello'], 'note.txt')])
    const error = await until(() => a.seen('p2p-file-error')[0], 'p2p-file-error')
    expect(error.detail.code).to.equal('no-peers')
    expect(text(message(a))).to.contain('No one else is in the room yet')
    closePeerPages([a])
  })

  it('with auto-download, a received file is saved at once under its name', async () => {
    const roomId = uniqueRoom('auto')
    const a = await openElementsPeer(roomHtml(roomId, '<p2p-file-send></p2p-file-send>'))
    const b = await openElementsPeer(roomHtml(roomId, '<p2p-file-send auto-download></p2p-file-send>'))
    const saved: {href: string; download: string}[] = []
    b.window.HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
      saved.push({href: this.href, download: this.download})
    }
    await until(() => a.$('p2p-room').peers.length === 1, 'peers to meet')
    choose(a, [new File(['minutes of the meeting'], 'minutes.txt', {type: 'text/plain'})])
    await until(() => saved.length === 1, 'the download')
    expect(saved[0]!.download).to.equal('minutes.txt')
    expect(await (await fetch(saved[0]!.href)).text()).to.equal('minutes of the meeting')
    closePeerPages([a, b])
  })

  it('a file whose sender leaves mid-way is marked as not arrived, on the receiver too', async () => {
    const {peers} = await openRoomPeers(2, '<p2p-file-send ask-above="100000000"></p2p-file-send>')
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    choose(a, [new File([bytes(20 * 1024 * 1024)], 'movie.mp4')])
    await until(
      () => b.seen('p2p-file-progress').some(e => e.detail.fraction > 0 && e.detail.fraction < 1),
      'the file to be part-way',
    )
    a.close()
    const error = await until(() => b.seen('p2p-file-error')[0], 'p2p-file-error on the receiver')
    expect(error.detail).to.deep.include({code: 'peer-left', peerId: a.$('p2p-room').selfId})
    expect(text(message(b))).to.contain('movie.mp4 did not arrive')
    expect(text(rows(b, 'received')[0]!)).to.contain('they left')
    expect(b.seen('p2p-file-received')).to.have.length(0)
    closePeerPages(peers)
  })

  it('sends to the peer chosen in “Send to” only', async () => {
    const {peers} = await openRoomPeers(3, '<p2p-file-send></p2p-file-send>')
    const [a, b, c] = peers as [ElementsPeer, ElementsPeer, ElementsPeer]
    const select = shadowOf(a).querySelector('select')!
    expect(select.options).to.have.length(3)
    select.value = c.$('p2p-room').selfId
    select.dispatchEvent(new a.window.Event('change'))
    choose(a, [new File(['for c'], 'c.txt')])
    await until(() => c.seen('p2p-file-received').length === 1, 'c to get it')
    expect(b.seen('p2p-file-received')).to.have.length(0)
    expect(rows(a, 'sent')[0]!.querySelectorAll('progress')).to.have.length(1)
    closePeerPages(peers)
  })

  it('a file above ask-above waits for Accept; Decline rejects the sender with "declined" and nothing arrives', async () => {
    const {peers} = await openRoomPeers(2, '<p2p-file-send ask-above="1000"></p2p-file-send>')
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    choose(a, [new File([bytes(5000)], 'first.bin')])
    const accept = await until(() => shadowOf(b).querySelector<HTMLButtonElement>('[part~=accept]'), 'the prompt')
    expect(text(rows(b, 'received')[0]!)).to.contain('wants to send first.bin (4.9 KiB)')
    expect(b.seen('p2p-file-progress')).to.have.length(0)
    accept.click()
    await until(() => b.seen('p2p-file-received').length === 1, 'the accepted file')
    choose(a, [new File([bytes(5000)], 'second.bin')])
    const decline = await until(
      () => shadowOf(b).querySelector<HTMLButtonElement>('[part~=decline]'),
      'the second prompt',
    )
    decline.click()
    const error = await until(() => a.seen('p2p-file-error')[0], 'the sender to hear')
    expect(error.detail.code).to.equal('declined')
    expect(text(rows(a, 'sent')[0]!)).to.contain('declined')
    expect(b.seen('p2p-file-received')).to.have.length(1)
    // Small files (up to ask-above) come without asking.
    choose(a, [new File([bytes(900)], 'small.bin')])
    await until(() => b.seen('p2p-file-received').length === 2, 'the small file')
    closePeerPages(peers)
  })

  it('Cancel on the receiver stops the transfer on both sides', async () => {
    const {peers} = await openRoomPeers(2, '<p2p-file-send ask-above="1000000000"></p2p-file-send>')
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    choose(a, [new File([bytes(30 * 1024 * 1024)], 'huge.bin')])
    await until(() => b.seen('p2p-file-progress').some(e => e.detail.fraction > 0.02), 'the file to be part-way')
    shadowOf(b).querySelector<HTMLButtonElement>('[part~=received] [part~=cancel]')!.click()
    const error = await until(() => a.seen('p2p-file-error')[0], 'the sender to hear')
    expect(error.detail.code).to.equal('cancelled')
    await until(() => text(rows(a, 'sent')[0]!).includes('cancelled'), 'the sender row')
    expect(text(rows(b, 'received')[0]!)).to.contain('cancelled')
    expect(b.seen('p2p-file-received')).to.have.length(0)
    closePeerPages(peers)
  })

  it('while a file flows both rows show its speed and time left; Cancel on the sender stops it on both sides', async () => {
    const {peers} = await openRoomPeers(2, '<p2p-file-send ask-above="1000000000"></p2p-file-send>')
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    choose(a, [new File([bytes(48 * 1024 * 1024)], 'long.bin')])
    const flowing = (row: HTMLElement | undefined) => !!row && /\/s/.test(text(row)) && text(row).includes('left')
    await until(() => flowing(rows(a, 'sent')[0]) && flowing(rows(b, 'received')[0]), 'speed and time left on both')
    shadowOf(a).querySelector<HTMLButtonElement>('[part~=sent] [part~=cancel]')!.click()
    await until(() => text(rows(b, 'received')[0]!).includes('cancelled'), 'the receiver row')
    await until(() => text(rows(a, 'sent')[0]!).includes('cancelled'), 'the sender row')
    expect(b.seen('p2p-file-received')).to.have.length(0)
    closePeerPages(peers)
  })

  it('received files keep only safe types for their blob URL, names lose control and bidi characters, rows are capped', async () => {
    const {peers} = await openRoomPeers(2, '<p2p-file-send max-rows="3" multiple></p2p-file-send>')
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    const revoked: string[] = []
    const revoke = b.window.URL.revokeObjectURL
    b.window.URL.revokeObjectURL = (url: string) => (revoked.push(url), revoke(url))
    const sent = [
      new File(['<script>alert(1)</script>'], 'page.html', {type: 'text/html'}),
      new File(['<svg xmlns="http://www.w3.org/2000/svg"/>'], 'logo.svg', {type: 'image/svg+xml'}),
      new File([bytes(100)], 'photo.png', {type: 'image/png'}),
      new File([bytes(10)], 'invoice\u202Efdp.exe', {type: 'application/pdf'}),
    ]
    choose(a, sent)
    await until(() => b.seen('p2p-file-received').length === 4, 'the four files')
    const got = b.seen('p2p-file-received').map(e => e.detail.file as File)
    expect(got.map(f => [f.name, f.type])).to.deep.equal([
      ['page.html', 'application/octet-stream'],
      ['logo.svg', 'application/octet-stream'],
      ['photo.png', 'image/png'],
      ['invoicefdp.exe', 'application/octet-stream'],
    ])
    // At most 3 rows; the first one went, and its object URL with it.
    const list = rows(b, 'received')
    expect(list).to.have.length(3)
    expect(list.map(row => row.dataset.file)).to.not.include('page.html')
    expect(revoked).to.have.length(1)
    const link = list[0]!.querySelector('a[download]')!
    expect(link.getAttribute('download')).to.equal('invoicefdp.exe')
    expect(text(list[0]!)).to.contain('Download 10 B')
    closePeerPages(peers)
  })
})
