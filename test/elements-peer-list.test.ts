import {expect} from '@open-wc/testing'
import {closePeerPages, openElementsPeer, openRoomPeers, roomHtml, type ElementsPeer} from './helpers/elements.js'
import {axeViolations} from './helpers/axe.js'
import {screenshot} from './helpers/screenshot.js'
import {until, uniqueRoom} from './helpers/peers.js'

const rowsOf = (list: HTMLElement) => [...list.shadowRoot!.querySelectorAll<HTMLElement>('li[data-peer]')]

describe('<p2p-peer-list>', () => {
  it('lists the other peers with their names and live round-trip times', async () => {
    const {peers} = await openRoomPeers(3, '<p2p-peer-list></p2p-peer-list>')
    const [a, b, c] = peers as [ElementsPeer, ElementsPeer, ElementsPeer]
    const list = a.$('p2p-peer-list')
    const idB = b.$('p2p-room').selfId
    list.names = {[idB]: 'Bea', [a.$('p2p-room').selfId]: 'Ada'}
    const rows = () => rowsOf(list)
    await until(() => rows().length === 2 && rows().every(row => /\d+ ms/.test(row.textContent!)), 'two rows with RTTs')
    const text = rows().map(row =>
      [row.querySelector('[part~=name]'), row.querySelector('[part~=rtt]')]
        .map(part => part!.textContent!.trim())
        .join(' '),
    )
    expect(text.find(row => row.startsWith('Bea'))).to.match(/^Bea \d+ ms$/)
    expect(text.find(row => row.startsWith(c.$('p2p-room').selfId.slice(0, 6)))).to.match(/\d+ ms$/)
    expect(list.shadowRoot!.querySelector('[part~=self]')!.textContent).to.contain('Ada').and.contain('(you)')
    expect(await axeViolations(a, list)).to.deep.equal([])
    await screenshot('peer-list')
    expect(Object.keys(list.rtts).sort()).to.deep.equal([idB, c.$('p2p-room').selfId].sort())
    c.close()
    await until(() => rows().length === 1, 'c’s row to go')
    closePeerPages(peers)
  })

  it('a list outside the room shows the room its for attribute names', async () => {
    const roomId = uniqueRoom('list-for')
    const a = await openElementsPeer(
      `<p2p-peer-list for="the-room"></p2p-peer-list>${roomHtml(roomId, '', 'id="the-room"')}`,
    )
    const b = await openElementsPeer(roomHtml(roomId))
    const list = a.$('p2p-peer-list')
    await until(() => rowsOf(list).length === 1, 'a row for b')
    expect(rowsOf(list)[0]!.dataset.peer).to.equal(b.$('p2p-room').selfId)
    expect(list.roomElement).to.equal(a.$('#the-room'))
    expect(a.seen('p2p-error')).to.deep.equal([])
    expect(a.warnings).to.deep.equal([])
    closePeerPages([a, b])
  })
})
