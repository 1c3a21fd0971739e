import {expect} from '@open-wc/testing'
import {closePeerPages, openElementsPeer, roomHtml, type ElementsPeer} from './helpers/elements.js'
import {until, uniqueRoom} from './helpers/peers.js'

const bundle = '/dist/p2p-elements.js'

describe('the p2p-elements.js bundle', () => {
  it('a page with one script tag gets working elements, and loads only the strategy it uses', async function () {
    if (!(await fetch(bundle, {method: 'HEAD'})).ok) return this.skip() // not built: `npm run build`
    const roomId = uniqueRoom('bundle')
    const page = '/test/fixtures/elements-bundle.html'
    const html = roomHtml(roomId, '<p2p-action name="hi"></p2p-action><p2p-peer-list></p2p-peer-list>')
    const peers = [await openElementsPeer(html, {page}), await openElementsPeer(html, {page})]
    const [a, b] = peers as [ElementsPeer, ElementsPeer]
    await until(() => a.$('p2p-room').peers.length === 1, 'peers to meet')
    await a.$('p2p-action').send('from the bundle')
    await until(() => b.seen('p2p-data')[0]?.detail.data === 'from the bundle', 'the message')
    const loaded = a.window.performance
      .getEntriesByType('resource')
      .map((entry: PerformanceEntry) => new URL(entry.name).pathname)
      .filter((path: string) => path.startsWith('/dist/'))
    expect(loaded.some((path: string) => /\/chunks\/local-/.test(path))).to.equal(true)
    for (const other of ['nostr', 'mqtt', 'torrent', 'supabase', 'firebase', 'ipfs', 'driver'])
      expect(
        loaded.some((path: string) => path.includes(`/chunks/${other}-`)),
        `${other} chunk loaded`,
      ).to.equal(false)
    expect(loaded.some((path: string) => path.startsWith('/src/'))).to.equal(false)
    closePeerPages(peers)
  })
})
