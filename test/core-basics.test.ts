import {expect} from '@open-wc/testing'
import {openPeers, testConfig, uniqueRoom, until} from './helpers/peers.js'

describe('joinRoom with the local strategy', () => {
  it('two peers in separate pages find each other and exchange an action both ways', async () => {
    const [a, b] = await openPeers(2)
    const roomId = uniqueRoom()
    const roomA = a.lib.joinRoom(testConfig, roomId)
    const roomB = b.lib.joinRoom(testConfig, roomId)
    const joinedA: string[] = []
    roomA.onPeerJoin((id: string) => joinedA.push(id))
    const [sendA, getA] = roomA.makeAction('chat')
    const [sendB, getB] = roomB.makeAction('chat')
    const gotA: unknown[] = []
    const gotB: unknown[] = []
    getA((data: unknown, peerId: string) => gotA.push([data, peerId]))
    getB((data: unknown, peerId: string) => gotB.push([data, peerId]))
    await until(() => joinedA.length, 'a to see b join')
    expect(joinedA).to.deep.equal([b.lib.selfId])
    await until(() => Object.keys(roomB.getPeers()).length, 'b to see a')
    await sendA('hello from a')
    await sendB({n: 1})
    expect(gotB).to.deep.equal([['hello from a', a.lib.selfId]])
    expect(gotA).to.deep.equal([[{n: 1}, b.lib.selfId]])
    await roomA.leave()
    await roomB.leave()
    a.close()
    b.close()
  })
})
