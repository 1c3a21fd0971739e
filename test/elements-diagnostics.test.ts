import {expect} from '@open-wc/testing'
import {closePeerPages, openRoomPeers, type ElementsPeer} from './helpers/elements.js'
import {axeViolations} from './helpers/axe.js'
import {screenshot} from './helpers/screenshot.js'
import {until} from './helpers/peers.js'
import {servers} from './helpers/servers.js'

const rowsOf = (element: HTMLElement) => [...element.shadowRoot!.querySelectorAll<HTMLElement>('tr[data-peer]')]
const cell = (row: HTMLElement, part: string) =>
  (row.querySelector(`[part~=${part}]`) ??
    row.nextElementSibling!.querySelector(`[part~=${part}]`))!.textContent!.trim()
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

describe('<p2p-diagnostics>', () => {
  // The config's 60 s test timeout is enough.
  it('renders one row per peer (path, RTT, rates, loss, hint) in an accessible table, refreshed about every second', async () => {
    const {peers} = await openRoomPeers(3, '<p2p-diagnostics></p2p-diagnostics>')
    const [a, b, c] = peers as [ElementsPeer, ElementsPeer, ElementsPeer]
    try {
      const element = a.$('p2p-diagnostics')
      const ids = [b, c].map(peer => peer.$('p2p-room').selfId).sort()
      // Rates need two samples: wait for the second refresh.
      await until(
        () => rowsOf(element).length === 2 && rowsOf(element).every(row => /\/s$/.test(cell(row, 'up'))),
        'two rows with rates',
      )
      expect(
        rowsOf(element)
          .map(row => row.dataset.peer)
          .sort(),
        'a row per peer',
      ).to.deep.equal(ids)
      for (const row of rowsOf(element)) {
        expect(cell(row, 'path')).to.equal('host ↔ host · UDP')
        expect(cell(row, 'rtt')).to.match(/^\d+ ms$/)
        expect(cell(row, 'down')).to.match(/\/s$/)
        expect(cell(row, 'loss'), 'no media: no loss figure').to.equal('–')
        expect(cell(row, 'hint')).to.equal('Connected directly on your local network.')
        expect(row.dataset.hint).to.equal('direct-local')
        expect(row.querySelector('th')!.getAttribute('scope'), 'the peer cell heads its row').to.equal('row')
      }
      const root = element.shadowRoot!
      expect(root.querySelector('caption')!.textContent!.trim()).to.equal('Connections')
      expect([...root.querySelectorAll('thead th')].map(th => th.getAttribute('scope'))).to.deep.equal(
        Array(6).fill('col'),
      )
      expect(root.querySelector('[part~=signaling]')!.textContent).to.match(/Signaling:\s*local/)
      expect(await axeViolations(a, element)).to.deep.equal([])
      await screenshot('diagnostics')

      // It refreshes on its own, about once a second.
      const before = element.updatedAt
      await until(() => element.updatedAt > before, 'the next refresh', 3_000)
      const period = element.updatedAt - before
      expect(period, `refreshed after ${Math.round(period)} ms`).to.be.below(2_500)
      expect(Object.keys(element.stats).sort()).to.deep.equal(ids)

      c.close()
      await until(() => rowsOf(element).length === 1, 'c’s row to go')
    } finally {
      closePeerPages(peers)
    }
  })

  it('through a local TURN server (relay-only ICE) the row says relay and the hint says the peer is reached only through TURN', async () => {
    const {peers} = await openRoomPeers(2, '<p2p-diagnostics></p2p-diagnostics>')
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    try {
      const turn = (await servers())['hostile-turn']!
      // A new config rejoins: both pages meet again, through TURN only.
      for (const peer of peers)
        peer.$('p2p-room').config = {
          rtcConfig: {iceServers: [{urls: turn, username: 'u', credential: 'p'}], iceTransportPolicy: 'relay'},
        }
      const element = a.$('p2p-diagnostics')
      const otherId = () => b.$('p2p-room').selfId
      await until(
        () => rowsOf(element).find(row => row.dataset.peer === otherId() && row.dataset.hint === 'turn'),
        'a relayed row',
      )
      const row = rowsOf(element).find(row => row.dataset.peer === otherId())!
      expect(cell(row, 'path')).to.equal('relay ↔ relay · UDP')
      expect(cell(row, 'hint')).to.match(/^This peer reaches you only through TURN/)
      expect(row.querySelector('[part~=path]')!.getAttribute('title')).to.match(/relay \(a TURN server\)/)
    } finally {
      closePeerPages(peers)
    }
  })

  it('stops its timer when removed from the page and starts it again when put back', async () => {
    const {peers} = await openRoomPeers(2, '<p2p-diagnostics interval="300"></p2p-diagnostics>')
    const [a] = peers as [ElementsPeer, ElementsPeer]
    try {
      const element = a.$('p2p-diagnostics')
      await until(() => rowsOf(element).length === 1, 'a row')
      expect(element.running).to.equal(true)
      const parent = element.parentElement!
      element.remove()
      expect(element.running, 'stopped once detached').to.equal(false)
      await sleep(50) // a refresh that was in flight settles
      const last = element.updatedAt
      await sleep(1_200) // four periods
      expect(element.updatedAt, 'no refresh while detached').to.equal(last)
      parent.append(element)
      await until(() => element.running && element.updatedAt > last, 'refreshing again once back in the room')
      expect(rowsOf(element).length).to.equal(1)
    } finally {
      closePeerPages(peers)
    }
  })

  it('the debug attribute of <p2p-room> prints the join and signaling steps with console.debug', async () => {
    const {peers} = await openRoomPeers(2)
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    try {
      const lines: string[] = []
      const console = a.window.console
      console.debug = (...args: unknown[]) => void lines.push(args.map(String).join(' '))
      const room = a.$('p2p-room')
      expect(lines, 'silent without the attribute').to.deep.equal([])
      room.setAttribute('debug', '')
      // Changing it rejoins; the steps of that join are printed.
      await until(() => lines.some(line => line.includes('handshake verified')), 'the rejoin to be printed')
      expect(lines[0]).to.match(/^p2p-elements \[elements-[a-z0-9]+\] \+\d+\.\d ms join/)
      expect(lines.some(line => line.includes('strategy connect: local'))).to.equal(true)
      expect(lines.some(line => line.includes(`data channel open ${b.$('p2p-room').selfId.slice(0, 8)}`))).to.equal(
        true,
      )
    } finally {
      closePeerPages(peers)
    }
  })
})
