// examples/crowd used as a person would: add members (each a frame of the page, a real peer of a
// max-connections="3" room, meeting through the harness's Nostr relay as `npm start`'s pages meet
// through its embedded one), watch the graph fill with members and direct links, send a message
// across and see its path light up. Screenshot: test-artifacts/example-crowd.png.
import {expect} from '@open-wc/testing'
import {uniqueRoom, until} from './helpers/peers.js'
import {servers} from './helpers/servers.js'
import {openExample, type ExamplePage} from './helpers/examples.js'
import {screenshot} from './helpers/screenshot.js'

type RoomElement = HTMLElement & {peers: string[]; selfId: string}

describe('examples: crowd', function () {
  this.timeout(180_000)
  let page: ExamplePage | undefined
  afterEach(() => page?.close())

  it('added members appear in the graph with their direct links, and a message’s path lights up', async () => {
    const {nostr} = await servers()
    page = await openExample('crowd/', uniqueRoom('crowd'), {relay: nostr}, 'width:100%;height:900px;border:0')
    const view = page
    const room = view.$<RoomElement>('p2p-room')!
    const add = view.$<HTMLButtonElement>('#add')!
    for (let i = 0; i < 2; i++) add.click() // 4 members in frames, 5 with this page (past a cap of 3)
    const total = 5
    const nodes = () => [...view.document.querySelectorAll<SVGGElement>('#graph [data-member]')]
    const links = () => [...view.document.querySelectorAll<SVGLineElement>('#graph [data-link]')]
    await until(
      () => room.peers?.length === total - 1 && nodes().length === total,
      `${total} members in the room and in the graph`,
      90_000,
    ).catch(error => {
      throw new Error(`${error.message} (room sees ${room.peers?.length}, graph has ${nodes().length})`)
    })
    const ids = new Set(nodes().map(node => node.dataset.member!))
    expect(ids.has(room.selfId), 'this page is a node').to.equal(true)
    expect(view.document.querySelector('#graph g.self')?.getAttribute('data-member')).to.equal(room.selfId)
    // Links join members in the graph, and they connect everyone (the overlay is one piece).
    await until(() => links().length >= total - 1, 'enough direct links to connect everyone', 30_000)
    const reach = new Set([room.selfId])
    const pairs = links().map(line => line.dataset.link!.split(' '))
    for (const [a, b] of pairs) expect(ids.has(a!) && ids.has(b!), `${a}–${b} joins two members`).to.equal(true)
    for (let grew = true; grew; ) {
      grew = false
      for (const [a, b] of pairs)
        if (reach.has(a!) !== reach.has(b!)) {
          reach.add(a!).add(b!)
          grew = true
        }
    }
    expect(reach.size, 'every member reachable along the links').to.equal(total)
    // This page's own links are what its room says are direct.
    const core = (room as unknown as {coreRoom: {peerInfo: (id: string) => {route: string} | undefined}}).coreRoom
    // (The graph as drawn now: a link may be pruned meanwhile, and the graph redraws.)
    await until(() => {
      const now = links().map(line => line.dataset.link!.split(' '))
      const mine = now.filter(pair => pair.includes(room.selfId)).map(pair => pair.find(id => id !== room.selfId))
      return mine.every(id => core.peerInfo(id!)?.route === 'direct')
    }, 'this page’s links to be its direct peers')

    // Send across until a relayed path shows (links are pruned toward the cap after a grace period).
    const send = view.$<HTMLButtonElement>('#send')!
    const path = view.$('#path')!
    let litNodes: string[] = []
    const start = performance.now()
    while (litNodes.length < 3) {
      if (performance.now() - start > 90_000) throw new Error(`no relayed path in 90 s (last: ${path.textContent})`)
      path.textContent = ''
      send.click()
      await until(() => /hops?, through/.test(path.textContent!), 'a path', 15_000)
      litNodes = [...view.document.querySelectorAll<SVGGElement>('#graph g.lit')].map(g => g.dataset.member!)
      if (litNodes.length < 3) await new Promise(resolve => setTimeout(resolve, 2000))
    }
    const hops = Number(/: (\d+) hops?/.exec(path.textContent!)![1])
    expect(hops).to.be.at.least(2)
    expect(litNodes.length).to.equal(hops + 1)
    // The hops of the path are lit lines (the direct links it crossed, as the graph now draws them).
    const litLines = view.document.querySelectorAll('#graph line.lit').length
    expect(litLines).to.be.within(1, hops)
    await screenshot('example-crowd')
  })
})
