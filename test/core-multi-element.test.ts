/**
 * `<p2p-room strategy="nostr mqtt" passive>`: the element joins through both networks as a
 * passive member and meets a page that joins with `p2p-elements/multi`.
 */
import {expect} from '@open-wc/testing'
import '../src/elements/define.js'
import type {P2PRoom} from '../src/elements/p2p-room.js'
import {joinCounted, peerIds} from './helpers/hostile.js'
import {testConfig, uniqueRoom, until} from './helpers/peers.js'
import {servers} from './helpers/servers.js'

describe('<p2p-room> over several strategies, passive', () => {
  it('joins through nostr and mqtt as a passive member and meets an announcing page', async () => {
    const {nostr, mqtt} = await servers()
    const roomId = uniqueRoom('multi-element')
    const strategyConfig = {nostr: {relayUrls: [nostr!]}, mqtt: {relayUrls: [mqtt!]}}
    const element = document.createElement('p2p-room') as P2PRoom
    element.setAttribute('app-id', testConfig.appId)
    element.setAttribute('room', roomId)
    element.setAttribute('strategy', 'nostr mqtt')
    element.setAttribute('passive', '')
    element.config = {rtcConfig: {iceServers: []}, strategyConfig}
    const joined: string[] = []
    let strategy = ''
    element.addEventListener('p2p-join', e => (strategy = (e as CustomEvent).detail.strategy))
    element.addEventListener('p2p-peer-join', e => joined.push((e as CustomEvent).detail.peerId))
    document.body.append(element)
    await element.ready()
    expect(strategy).to.equal('nostr mqtt')

    const page = await joinCounted('/src/multi/index.ts', roomId, {
      strategy: ['nostr', 'mqtt'],
      strategyConfig,
      announceIntervalMs: 300,
    })
    await until(() => joined.length === 1 && peerIds(page).length === 1, 'the element and the page to meet')
    expect(joined).to.deep.equal([page.id()])
    expect(page.joins).to.deep.equal([element.selfId])
    await page.room.leave()
    page.page.close()
    element.remove()
  })
})
