import {expect} from '@open-wc/testing'
import {closePeerPages, openElementsPeer, type ElementsPeer} from './helpers/elements.js'
import {until, uniqueRoom} from './helpers/peers.js'
import {servers} from './helpers/servers.js'

/** For each strategy: the local server it uses and the <p2p-room> attributes that point at it. */
const setups: Record<string, {server: string; attributes: (url: string) => string}> = {
  nostr: {server: 'nostr', attributes: url => `app-id="p2p-elements-tests" relay-urls="${url}"`},
  mqtt: {server: 'mqtt', attributes: url => `app-id="p2p-elements-tests" relay-urls="${url}"`},
  torrent: {server: 'tracker', attributes: url => `app-id="p2p-elements-tests" relay-urls="${url}"`},
  supabase: {server: 'supabase', attributes: url => `app-id="${url}" supabase-key="test-anon-key"`},
  firebase: {server: 'firebase', attributes: url => `app-id="${url}" root-path="elements-tests"`},
  ipfs: {server: 'libp2p', attributes: url => `app-id="p2p-elements-tests" relay-urls="${url}"`},
  // A `npm run peer -- --listen` Node peer (test/servers/peer-listen.mjs); relay-urls is read as `bootstrap`.
  bootstrap: {server: 'peer-listen', attributes: url => `app-id="p2p-elements-tests" relay-urls="${url}"`},
}

/**
 * Pages load the built bundle when there is one (`npm test` builds first): what users load,
 * with each strategy's dependencies bundled. Without a build, the sources through the dev server.
 */
const page = async () =>
  (await fetch('/dist/p2p-elements.js', {method: 'HEAD'})).ok ? '/test/fixtures/elements-bundle.html' : undefined

describe('<p2p-room strategy="…">', () => {
  for (const [strategy, {server, attributes}] of Object.entries(setups))
    it(`peers meet and talk over ${strategy} configured by attributes alone`, async function () {
      const url = (await servers())[server]
      const {strategyNames} = await import('../src/elements/strategies.js')
      if (!url || !(strategyNames as string[]).includes(strategy)) return this.skip()
      const html = `<p2p-room strategy="${strategy}" room="${uniqueRoom(strategy)}" ${attributes(url)}>
        <p2p-action name="hello"></p2p-action></p2p-room>`
      const options = {page: await page()}
      const peers = [await openElementsPeer(html, options), await openElementsPeer(html, options)]
      const [a, b] = peers as [ElementsPeer, ElementsPeer]
      const errors = () => [...a.seen('p2p-error'), ...b.seen('p2p-error')].map((e: CustomEvent) => e.detail.message)
      const met = () => a.$('p2p-room').peers.length === 1 && b.$('p2p-room').peers.length === 1
      await until(() => met() || errors().length, `peers to meet over ${strategy}`)
      expect(errors()).to.deep.equal([])
      await a.$('p2p-action').send(`hello over ${strategy}`)
      const data = await until(() => b.seen('p2p-data')[0], 'the message')
      expect(data.detail).to.deep.include({data: `hello over ${strategy}`, peerId: a.$('p2p-room').selfId})
      expect(errors()).to.deep.equal([])
      closePeerPages(peers)
    })
})
