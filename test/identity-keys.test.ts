import {expect} from '@open-wc/testing'
import {openPeer, openPeers, testConfig, uniqueRoom, until, type TestPeer} from './helpers/peers.js'
import {servers} from './helpers/servers.js'
import {idOfKey, toBase64Url} from '../src/core/identity.js'

const entry = '/src/strategies/mqtt.ts'
/** The core module instance the page's strategy uses (same URL, so the same instance). */
const coreOf = (page: TestPeer): Promise<any> => new page.window.Function('return import("/src/core/index.ts")')()

let relayUrls: string[]
before(async () => {
  relayUrls = [(await servers()).mqtt!]
})

const config = () => ({...testConfig, relayUrls, relayRedundancy: 1})

/** Stores a value in the page's IndexedDB (structured clone: CryptoKeys go in as they are). */
const idb = (page: TestPeer, op: 'put' | 'get', value?: unknown) =>
  new Promise<any>((resolve, reject) => {
    const open = page.window.indexedDB.open('identity-test', 1)
    open.onupgradeneeded = () => open.result.createObjectStore('keys')
    open.onerror = () => reject(open.error)
    open.onsuccess = () => {
      const store = open.result.transaction('keys', 'readwrite').objectStore('keys')
      const request = op === 'put' ? store.put(value, 'me') : store.get('me')
      request.onsuccess = () => (open.result.close(), resolve(request.result))
      request.onerror = () => reject(request.error)
    }
  })

const reload = (page: TestPeer) =>
  new Promise<void>(resolve => {
    const onLoad = () => {
      page.frame.removeEventListener('load', onLoad)
      const win = page.frame.contentWindow as any
      const done = () => {
        page.window = win
        page.lib = win.lib
        resolve()
      }
      if (win.ready) done()
      else win.addEventListener('peer-ready', done)
    }
    page.frame.addEventListener('load', onLoad)
    page.window.location.reload()
  })

describe('identity', () => {
  it('a peer id is the hash of the public key the peer proved it holds, and getPeerKey returns that key', async () => {
    const [a, b] = await openPeers(2, entry)
    const roomId = uniqueRoom('identity')
    const roomA = a!.lib.joinRoom(config(), roomId)
    const roomB = b!.lib.joinRoom(config(), roomId)
    expect(roomA.selfId).to.equal(a!.lib.selfId)
    expect(roomA.selfId).to.match(/^[0-9A-Za-z]{20}$/)
    await until(() => roomA.getPeers()[roomB.selfId] && roomB.getPeers()[roomA.selfId], 'a and b to connect')
    const key: CryptoKey = roomA.getPeerKey(roomB.selfId)
    expect(key.type).to.equal('public')
    const raw = new Uint8Array(await crypto.subtle.exportKey('raw', key))
    expect(await idOfKey(raw)).to.equal(roomB.selfId)
    expect(roomA.getPeerKey('nobodyHere0000000000')).to.equal(undefined)
    await roomA.leave()
    await roomB.leave()
    a!.close()
    b!.close()
  })

  it('an identity kept in IndexedDB gives the same peer id after a reload, and peers see that id', async () => {
    const [a, b] = await openPeers(2, entry)
    const roomId = uniqueRoom('persist')
    const identity = await (await coreOf(a!)).createIdentity()
    await idb(a!, 'put', identity)
    await reload(a!)
    const stored = await idb(a!, 'get')
    expect(stored.id).to.equal(identity.id)
    expect(a!.lib.selfId).not.to.equal(identity.id)
    const roomA = a!.lib.joinRoom({...config(), identity: stored}, roomId)
    expect(roomA.selfId).to.equal(identity.id)
    const roomB = b!.lib.joinRoom(config(), roomId)
    const joined: string[] = []
    roomB.onPeerJoin((id: string) => joined.push(id))
    await until(() => joined.includes(identity.id), 'b to see the stored id join')
    const raw = new Uint8Array(await crypto.subtle.exportKey('raw', roomB.getPeerKey(identity.id)))
    expect(toBase64Url(raw)).to.equal(identity.publicKeyText)
    await roomA.leave()
    await roomB.leave()
    a!.close()
    b!.close()
  })

  it('an extractable identity survives export to JSON and import', async () => {
    const page = await openPeer(entry)
    const core = await coreOf(page)
    const identity = await core.createIdentity({extractable: true})
    const json = JSON.parse(JSON.stringify(await core.exportIdentity(identity)))
    const again = await core.importIdentity(json)
    expect(again.id).to.equal(identity.id)
    expect(again.publicKeyText).to.equal(identity.publicKeyText)
    let refused: any
    await core.exportIdentity(await core.createIdentity()).catch((e: unknown) => (refused = e))
    expect(refused?.code).to.equal('invalid-config')
    let forged: any
    const other = await core.exportIdentity(await core.createIdentity({extractable: true}))
    await core.importIdentity({...json, privateKey: other.privateKey}).catch((e: unknown) => (forged = e))
    expect(forged?.code).to.equal('invalid-config')
    page.close()
  })

  it('rooms open at the same time use different ids; a room joined after another left reuses selfId', async () => {
    const page = await openPeer(entry)
    const first = page.lib.joinRoom(config(), uniqueRoom('one'))
    const second = page.lib.joinRoom(config(), uniqueRoom('two'))
    expect(first.selfId).to.equal(page.lib.selfId)
    expect(second.selfId).to.match(/^[0-9A-Za-z]{20}$/)
    expect(second.selfId).not.to.equal(first.selfId)
    await first.leave()
    const third = page.lib.joinRoom(config(), uniqueRoom('three'))
    expect(third.selfId).to.equal(page.lib.selfId)
    await second.leave()
    await third.leave()
    page.close()
  })
})
