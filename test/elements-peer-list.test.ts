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
    // A full mesh: every badge says direct.
    expect(rows().map(row => row.querySelector('[part~=route]')?.textContent?.trim())).to.deep.equal([
      'direct',
      'direct',
    ])
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

  it('past max-connections, each row says direct or relayed with its hops, and follows the route', async function () {
    this.timeout(120_000)
    const {peers} = await openRoomPeers(6, '<p2p-peer-list></p2p-peer-list>', 'max-connections="2"')
    const badge = (row: HTMLElement) => row.querySelector<HTMLElement>('[part~=route]')
    const lists = peers.map(peer => peer.$('p2p-peer-list'))
    // Every row has a badge that matches room.peerInfo, once links are pruned toward the cap.
    const agree = () =>
      lists.every((list, i) =>
        rowsOf(list).every(row => {
          const info = peers[i]!.$('p2p-room').coreRoom!.peerInfo(row.dataset.peer!)
          const shown = badge(row)
          return (
            !!info &&
            shown?.dataset.route === info.route &&
            shown.dataset.hops === String(info.hops) &&
            shown.textContent!.trim() === (info.route === 'direct' ? 'direct' : `relayed · ${info.hops} hops`)
          )
        }),
      )
    const relayedRows = () => lists.flatMap(list => rowsOf(list).filter(row => badge(row)?.dataset.route === 'relayed'))
    await until(() => relayedRows().length > 0 && agree(), 'relayed rows whose badges match peerInfo', 90_000)
    for (const row of relayedRows()) {
      expect(Number(badge(row)!.dataset.hops)).to.be.at.least(2)
      expect(badge(row)!.title).to.match(/^relayed through other members, \d+ hops$/)
    }
    for (const list of lists) expect(rowsOf(list).length).to.equal(5)
    const [first] = lists
    expect(await axeViolations(peers[0]!, first!)).to.deep.equal([])
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
