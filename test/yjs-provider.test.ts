/**
 * The Yjs provider (p2p-elements/yjs) between separate pages meeting through the local MQTT
 * broker: documents converge, a late joiner catches up, an offline editor merges on return,
 * awareness comes and goes with peers, and garbage from a peer changes nothing.
 */
import {expect} from '@open-wc/testing'
import type * as YNS from 'yjs'
import type {P2PProvider as Provider} from '../src/yjs/index.js'
import {type TestPeer, openPeer, openPeers, testConfig, uniqueRoom, until} from './helpers/peers.js'
import {servers} from './helpers/servers.js'

type Lib = {
  Y: typeof YNS
  P2PProvider: typeof Provider
  joinRoom: (config: Record<string, unknown>, roomId: string) => any
  selfId: string
}
type Editor = {
  page: TestPeer<Lib>
  doc: YNS.Doc
  text: YNS.Text
  provider: Provider
  errors: any[]
  awareness: () => Provider['awareness']
}

const entry = '/test/fixtures/yjs-peer.ts'
let relayUrl = ''
const pages: TestPeer<Lib>[] = []

const open = async (count: number) => {
  const opened = await openPeers<Lib>(count, entry)
  pages.push(...opened)
  return opened
}

const config = (page: TestPeer<Lib>, roomId: string) => ({
  ...testConfig,
  relayUrls: [relayUrl],
  roomId,
  strategy: page.lib.joinRoom,
})

/** A doc on `page` synced through a provider, from a config (default) or a room joined first. */
const editor = (page: TestPeer<Lib>, roomId: string, {withRoom = false} = {}): Editor => {
  const {Y, P2PProvider, joinRoom} = page.lib
  const doc = new Y.Doc()
  const target = withRoom ? joinRoom({...testConfig, relayUrls: [relayUrl]}, roomId) : config(page, roomId)
  const provider = new P2PProvider(doc, target)
  const errors: any[] = []
  provider.on('error', error => errors.push(error))
  return {page, doc, text: doc.getText('t'), provider, errors, awareness: () => provider.awareness}
}

const converged = (editors: Editor[], what: string, check: (text: string) => boolean = () => true) =>
  until(() => {
    const texts = editors.map(e => e.text.toString())
    return texts.every(t => t === texts[0] && check(t))
  }, what)

describe('P2PProvider (p2p-elements/yjs)', () => {
  before(async () => {
    relayUrl = (await servers()).mqtt!
  })
  afterEach(() => {
    for (const page of pages.splice(0)) page.close()
  })

  it('two pages editing at once converge to the same text', async () => {
    const roomId = uniqueRoom('yjs-two')
    const [a, b] = (await open(2)).map(page => editor(page, roomId))
    a!.text.insert(0, 'hello from a. ')
    b!.text.insert(0, 'hello from b. ')
    await until(() => a!.provider.synced && b!.provider.synced, 'both providers synced')
    await converged([a!, b!], 'both edits on both pages', t => t.includes('from a') && t.includes('from b'))
    // After the first sync, every keystroke-sized edit travels as an update.
    a!.text.insert(a!.text.length, '!')
    b!.text.delete(0, 1)
    await converged([a!, b!], 'the later edits too', t => t.endsWith('!'))
    expect(a!.errors).to.deep.equal([])
    expect(b!.errors).to.deep.equal([])
  })

  it('three pages, each on a room it joined itself, converge', async () => {
    const roomId = uniqueRoom('yjs-three')
    const editors = (await open(3)).map(page => editor(page, roomId, {withRoom: true}))
    for (const [i, e] of editors.entries()) e.text.insert(0, `[${i}]`)
    await until(() => editors.every(e => e.provider.peers.length === 2 && e.provider.synced), 'a full mesh, synced')
    await converged(editors, 'all three edits everywhere', t => ['[0]', '[1]', '[2]'].every(s => t.includes(s)))
    const map = editors[1]!.doc.getMap('m')
    map.set('k', 42)
    await until(() => editors.every(e => e.doc.getMap('m').get('k') === 42), 'a map entry on every page')
  })

  it('a page joining late catches up with what the others wrote', async () => {
    const roomId = uniqueRoom('yjs-late')
    const [a, b] = (await open(2)).map(page => editor(page, roomId))
    for (let i = 0; i < 500; i++) (i % 2 ? a! : b!).text.insert(0, `line ${i}\n`)
    await converged([a!, b!], 'the first two agree', t => t.split('\n').length === 501)
    const [late] = await open(1)
    const started = performance.now()
    const c = editor(late!, roomId)
    let syncedAt = 0
    let metAt = 0
    c.provider.on('peers', () => (metAt ||= performance.now() - started))
    c.provider.on('synced', ({synced}) => synced && (syncedAt ||= performance.now() - started))
    await converged([a!, b!, c], 'the late joiner has every line', t => t.split('\n').length === 501)
    const caughtUp = performance.now() - started
    await until(() => syncedAt, 'its synced event')
    console.log(
      `yjs late joiner: ${a!.text.length} chars, ${a!.page.lib.Y.encodeStateAsUpdate(a!.doc).byteLength} bytes of state; first peer met ${Math.round(metAt)} ms, synced with both ${Math.round(syncedAt)} ms, text equal ${Math.round(caughtUp)} ms after new P2PProvider`,
    )
  })

  it('a page that edits while disconnected merges its edits when it reconnects', async () => {
    const roomId = uniqueRoom('yjs-offline')
    const [a, b] = (await open(2)).map(page => editor(page, roomId))
    a!.text.insert(0, 'shared start.')
    await converged([a!, b!], 'the start', t => t === 'shared start.')
    b!.awareness().setLocalStateField('name', 'b')
    await until(() => a!.awareness().getStates().get(b!.doc.clientID)?.name === 'b', 'b seen by a')

    const statuses: boolean[] = []
    b!.provider.on('status', ({connected}) => statuses.push(connected))
    b!.provider.disconnect()
    await until(() => a!.provider.peers.length === 0, 'a sees b leave')
    expect(a!.awareness().getStates().has(b!.doc.clientID), 'b gone from awareness').to.equal(false)
    b!.text.insert(b!.text.length, ' offline edit by b.')
    a!.text.insert(0, 'a meanwhile. ')
    expect(a!.text.toString()).to.not.include('offline')

    const started = performance.now()
    b!.provider.connect()
    await converged(
      [a!, b!],
      'both edits on both pages',
      t => t.includes('offline edit by b') && t.startsWith('a meanwhile'),
    )
    console.log(`yjs reconnect: converged ${Math.round(performance.now() - started)} ms after connect()`)
    expect(statuses).to.deep.equal([false, true])
    await until(() => a!.awareness().getStates().get(b!.doc.clientID)?.name === 'b', 'b back in a awareness')
  })

  it('peers see each other in awareness, and a peer that leaves is removed', async () => {
    const roomId = uniqueRoom('yjs-awareness')
    const editors = (await open(3)).map(page => editor(page, roomId))
    for (const [i, e] of editors.entries()) e.awareness().setLocalStateField('user', {name: `user ${i}`, cursor: i})
    const ids = editors.map(e => e.doc.clientID)
    await until(
      () => editors.every(e => ids.every((id, i) => e.awareness().getStates().get(id)?.user?.name === `user ${i}`)),
      'every page knows every user',
    )
    const [a, b, c] = editors
    const removed: number[] = []
    a!.awareness().on('change', ({removed: gone}: {removed: number[]}) => removed.push(...gone))
    c!.page.close()
    await until(() => !a!.awareness().getStates().has(c!.doc.clientID), 'c removed at a')
    await until(() => !b!.awareness().getStates().has(c!.doc.clientID), 'c removed at b')
    expect(removed).to.deep.equal([c!.doc.clientID])
    expect(a!.awareness().getStates().get(b!.doc.clientID)?.user?.name).to.equal('user 1')
  })

  it('garbage from a peer changes nothing, is reported, and the room keeps syncing', async () => {
    const roomId = uniqueRoom('yjs-garbage')
    const [victimPage, friendPage, attackerPage] = await open(3)
    const victim = editor(victimPage!, roomId, {withRoom: true})
    const friend = editor(friendPage!, roomId)
    victim.text.insert(0, 'safe text')
    victim.awareness().setLocalStateField('name', 'victim')
    friend.awareness().setLocalStateField('name', 'friend')
    await converged([victim, friend], 'the start', t => t === 'safe text')
    await until(() => victim.awareness().getStates().get(friend.doc.clientID)?.name === 'friend', 'friend seen')

    // The attacker is a room member with no provider, writing raw bytes on the provider's action.
    const attacker = attackerPage!.lib.joinRoom({...testConfig, relayUrls: [relayUrl]}, roomId)
    await until(() => Object.keys(attacker.getPeers()).length === 2, 'the attacker connected')
    const [send] = attacker.makeAction('yjs')
    const {Y} = attackerPage!.lib
    // A real update from an unrelated doc, to cut and corrupt.
    const other = new Y.Doc()
    other.getText('t').insert(0, 'INJECTED')
    const update = Y.encodeStateAsUpdate(other)
    const varUint = (n: number) => {
      const out = []
      while (n > 0x7f) out.push(0x80 | (n & 0x7f)), (n = Math.floor(n / 128))
      return [...out, n]
    }
    const frame = (...parts: (number[] | Uint8Array)[]) => new Uint8Array(parts.flatMap(p => [...p]))
    const json = (value: unknown) => [...new TextEncoder().encode(JSON.stringify(value))]
    const awarenessFor = (clientID: number, clock: number, state: unknown) => {
      const body = frame([1], varUint(clientID), varUint(clock), varUint(json(state).length), json(state))
      return frame([1], varUint(body.length), body)
    }
    let seed = 7
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 256
    const garbage: unknown[] = [
      'not binary',
      {type: 'sync'},
      new Uint8Array(0),
      new Uint8Array([9, 9, 9]), // unknown message type
      new Uint8Array([0, 7, 1, 0]), // unknown sync step
      frame([0, 2], varUint(update.length + 10), update), // length past the end
      frame([0, 2], varUint(update.length - 3), update.subarray(0, update.length - 3)), // truncated update
      frame(
        [0, 2],
        varUint(update.length),
        update.map((b, i) => (i > 2 ? b ^ 0x5a : b)),
      ), // corrupted update
      frame([0, 0], varUint(4), [0xff, 0xff, 0xff, 0xff]), // unreadable state vector
      frame([0, 2], varUint(update.length), update, [0]), // trailing bytes
      new Uint8Array([0, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // a length past 2^53
      awarenessFor(victim.doc.clientID, 1e6, null), // remove the victim's own state
      awarenessFor(friend.doc.clientID, 1e6, {name: 'forged'}), // speak for the friend
      frame([1, 7], [1, 1, 1, 3], [0x7b, 0x7b, 0x7b]), // awareness with invalid JSON
      frame([1, 2], [17, 0]), // more awareness entries than allowed
      awarenessFor(999, 1, {pad: 'x'.repeat(70_000)}), // awareness over 64 KiB
      ...Array.from({length: 40}, (_, i) => new Uint8Array(Array.from({length: 5 + i * 7}, random))),
    ]
    for (const message of garbage) await send(message, victim.page.lib.selfId)
    // Then one well-formed message, the attacker's own awareness: once it is in, all the garbage was read.
    await send(awarenessFor(4242, 1, {marker: true}), victim.page.lib.selfId)
    await until(() => victim.awareness().getStates().get(4242), 'the marker after the garbage')
    expect(victim.errors.length, 'one report per bad message').to.equal(garbage.length)
    expect(victim.errors.every(e => e.code === 'malformed')).to.equal(true)
    expect(victim.text.toString()).to.equal('safe text')
    expect(victim.awareness().getLocalState()?.name).to.equal('victim')
    expect(victim.awareness().getStates().get(friend.doc.clientID)?.name).to.equal('friend')

    // The room still syncs both ways.
    friend.text.insert(0, 'still ')
    victim.text.insert(victim.text.length, '!')
    await converged([victim, friend], 'later edits', t => t === 'still safe text!')
    expect(friend.errors).to.deep.equal([])
  })

  it('syncs over a <p2p-room>\u2019s room while the element still hears peers come and go', async () => {
    const roomId = uniqueRoom('yjs-element')
    type ElementsLib = Pick<Lib, 'Y' | 'P2PProvider'>
    const elementPages = await openPeers<ElementsLib>(2, '/test/fixtures/yjs-elements-peer.ts')
    pages.push(...(elementPages as unknown as TestPeer<Lib>[]))
    const sides = await Promise.all(
      elementPages.map(async page => {
        const element = page.window.document.createElement('p2p-room') as HTMLElement & {
          config: unknown
          peers: string[]
          ready: () => Promise<any>
        }
        element.setAttribute('app-id', testConfig.appId)
        element.setAttribute('room', roomId)
        element.setAttribute('strategy', 'mqtt')
        element.setAttribute('relay-urls', relayUrl)
        element.config = {rtcConfig: {iceServers: []}}
        const joins: string[] = []
        const leaves: string[] = []
        element.addEventListener('p2p-peer-join', (e: any) => joins.push(e.detail.peerId))
        element.addEventListener('p2p-peer-leave', (e: any) => leaves.push(e.detail.peerId))
        page.window.document.body.append(element)
        const doc = new page.lib.Y.Doc()
        const provider = new page.lib.P2PProvider(doc, await element.ready())
        return {page, element, doc, provider, joins, leaves}
      }),
    )
    const [a, b] = sides as [(typeof sides)[0], (typeof sides)[0]]
    a.doc.getText('t').insert(0, 'over the element')
    await until(() => b.doc.getText('t').toString() === 'over the element', 'the text at b')
    await until(() => a.joins.length === 1 && b.joins.length === 1, 'both elements saw the join')
    expect(a.provider.peers).to.deep.equal(a.element.peers)
    b.element.remove()
    await until(() => a.leaves.length === 1 && a.provider.peers.length === 0, 'element and provider saw b leave')
    expect(a.provider.awareness.getStates().has(b.doc.clientID)).to.equal(false)
  })

  it('a second provider on the same action of one room is refused, not mixed in', async () => {
    const roomId = uniqueRoom('yjs-twice')
    const page = await openPeer<Lib>(entry)
    pages.push(page)
    const {Y, P2PProvider, joinRoom} = page.lib
    const room = joinRoom({...testConfig, relayUrls: [relayUrl]}, roomId)
    const first = new P2PProvider(new Y.Doc(), room)
    const second = new P2PProvider(new Y.Doc(), room, {connect: false})
    const errors: any[] = []
    second.on('error', error => errors.push(error))
    second.connect()
    expect(errors.map(e => e.code)).to.deep.equal(['invalid-config'])
    const third = new P2PProvider(new Y.Doc(), room, {name: 'yjs-notes'})
    first.destroy()
    third.destroy()
  })
})
