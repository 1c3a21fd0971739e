import {expect} from '@open-wc/testing'
import {openPeer, openPeers, testConfig, uniqueRoom, until} from './helpers/peers.js'
import {servers} from './helpers/servers.js'
import {strategySuite} from './helpers/strategy-suite.js'

const entry = '/src/strategies/firebase.ts'
const config = async (url?: string) => ({...testConfig, appId: url ?? (await servers()).firebase})

/** Polls an async check until it holds (the test's own timeout bounds it). */
const eventually = async (check: () => Promise<boolean>) => {
  while (!(await check())) await new Promise(resolve => setTimeout(resolve, 100))
}

// Against firebase-server on 127.0.0.1 (test/servers/firebase.mjs), which speaks the
// Realtime Database protocol to the official firebase SDK.
describe('firebase strategy (Realtime Database)', () => {
  strategySuite({entry, config, server: 'firebase'})

  it('getOccupants lists the peers in a room without joining it, and drops those who leave', async () => {
    const observer = await openPeer(entry)
    const roomId = uniqueRoom()
    const occupants = async (): Promise<string[]> => (await observer.lib.getOccupants(await config(), roomId)).sort()
    expect(await occupants()).to.deep.equal([])

    const pages = await openPeers(3, entry)
    const rooms = await Promise.all(pages.map(async page => page.lib.joinRoom(await config(), roomId)))
    const ids = pages.map(page => page.lib.selfId as string)
    await until(() => rooms.every(room => Object.keys(room.getPeers()).length === 2), '3 peers to connect')
    await eventually(async () => (await occupants()).length === 3)
    expect(await occupants()).to.deep.equal([...ids].sort())
    expect(Object.keys(rooms[0].getPeers()), 'asking did not join').to.have.length(2)

    pages[2]!.close() // page gone: the database removes its entry when its connection drops
    await eventually(async () => (await occupants()).length === 2)
    expect(await occupants()).to.deep.equal([ids[0], ids[1]].sort())

    await rooms[1].leave() // leaving removes the entry at once
    await eventually(async () => (await occupants()).length === 1)
    expect(await occupants()).to.deep.equal([ids[0]])

    await rooms[0].leave()
    await eventually(async () => (await occupants()).length === 0)
    for (const page of [pages[0]!, pages[1]!, observer]) page.close()
  })
})
