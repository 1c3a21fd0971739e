// Presence in the core: what a peer says about itself (name, colour...) reaches every peer
// on join and on change, is capped, and nothing a hostile peer sends on the presence action
// (wrong shapes, oversize, a flood) changes more than its own, coalesced, display state.
import {expect} from '@open-wc/testing'
import type {P2PError, PeerId, Presence} from '../src/core/index.js'
import {joinedPeers, leaveAndClose} from './helpers/rooms.js'
import {openPeers, testConfig, uniqueRoom, until} from './helpers/peers.js'

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

describe('presence', () => {
  it('reaches every peer on join and on change, and getPresence reads it on both sides', async () => {
    const peers = await joinedPeers(3)
    const [a, b, c] = peers as [(typeof peers)[0], (typeof peers)[0], (typeof peers)[0]]
    const heard: [Presence, PeerId][] = []
    b.room.onPresence((state, peerId) => heard.push([state, peerId]))
    a.room.setPresence({name: 'Ada', color: '#b4236b'})
    await until(
      () => b.room.getPresence(a.id)?.name === 'Ada' && c.room.getPresence(a.id)?.name === 'Ada',
      'Ada everywhere',
    )
    expect(a.room.getPresence(a.id)).to.deep.equal({name: 'Ada', color: '#b4236b'})
    expect(heard).to.deep.equal([[{name: 'Ada', color: '#b4236b'}, a.id]])

    a.room.setPresence({name: 'Ada L.'})
    await until(() => b.room.getPresence(a.id)?.name === 'Ada L.', 'the rename at b')
    expect(b.room.getPresence(a.id)).to.deep.equal({name: 'Ada L.'}) // replaced, not merged
    await leaveAndClose(peers)
  })

  it('a peer that joins later hears the presence set before it came, and the others hear its own', async () => {
    const [first, second] = await openPeers(2)
    const roomId = uniqueRoom()
    const a = first!.lib.joinRoom(testConfig, roomId)
    a.setPresence({name: 'Early'})
    const b = second!.lib.joinRoom(testConfig, roomId)
    b.setPresence({name: 'Late'})
    await until(() => b.getPresence(first!.lib.selfId)?.name === 'Early', 'the newcomer hearing the earlier state')
    await until(() => a.getPresence(second!.lib.selfId)?.name === 'Late', 'the earlier peer hearing the newcomer')
    await Promise.all([a.leave(), b.leave()])
    first!.close()
    second!.close()
  })

  it('refuses state it will not send: over 1 KiB, not an object, not JSON', async () => {
    const [a, b] = await joinedPeers(2)
    const throws = (state: unknown) => {
      try {
        a!.room.setPresence(state as Presence)
      } catch (error) {
        return (error as P2PError).code
      }
      return 'no error'
    }
    expect(throws({name: 'x'.repeat(1100)})).to.equal('too-large')
    expect(throws('Ada')).to.equal('invalid-config')
    expect(throws(['Ada'])).to.equal('invalid-config')
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(throws(cyclic)).to.equal('invalid-config')
    expect(a!.room.getPresence(a!.id)).to.equal(undefined)
    await leaveAndClose([a!, b!])
  })

  it('a hostile peer’s junk, oversize state and floods change nothing but its own coalesced state', async () => {
    const [victim, honest, attacker] = (await joinedPeers(3)) as [any, any, any]
    const heard: [Presence, PeerId][] = []
    victim.room.onPresence((state: Presence, peerId: PeerId) => heard.push([state, peerId]))
    honest.room.setPresence({name: 'Honest'})
    await until(() => victim.room.getPresence(honest.id)?.name === 'Honest', 'the honest name')

    // The attacker runs modified code: it writes on the library's presence action directly.
    const win = attacker.peer.window
    const startsWith = win.String.prototype.startsWith
    win.String.prototype.startsWith = () => false
    const [send] = attacker.room.makeAction('\u0000presence')
    win.String.prototype.startsWith = startsWith
    for (const junk of [
      'Mallory',
      ['Mallory'],
      {v: 1, state: 'Mallory'},
      {v: 2, state: {name: 'Mallory'}},
      {v: 1, state: {name: 'M'.repeat(5000)}},
      {v: 1, state: null},
      42,
    ])
      await send(junk)
    await sleep(300)
    expect(victim.room.getPresence(attacker.id)).to.equal(undefined)
    expect(heard.filter(([, id]) => id === attacker.id)).to.deep.equal([])
    const reports = victim.errors.filter((e: P2PError) => e.peerId === attacker.id)
    expect(reports.map((e: P2PError) => e.code)).to.deep.equal(['malformed']) // once, not once per message

    // A flood: 500 updates as fast as the channel takes them.
    const start = performance.now()
    await Promise.all(Array.from({length: 500}, (_, i) => send({v: 1, state: {name: `Mallory ${i}`}})))
    const took = performance.now() - start
    await until(() => victim.room.getPresence(attacker.id)?.name === 'Mallory 499', 'the last state winning')
    const calls = heard.filter(([, id]) => id === attacker.id).length
    // At most one callback per 100 ms per peer, plus the first and the trailing one.
    expect(calls).to.be.at.most(Math.ceil((took + 400) / 100) + 2)
    expect(calls).to.be.below(50)

    // The room still works, and nobody else's presence moved.
    expect(victim.room.getPresence(honest.id)).to.deep.equal({name: 'Honest'})
    const [say, onSay] = honest.room.makeAction('say')
    const got: string[] = []
    victim.room.makeAction('say')[1]((text: string) => got.push(text))
    void onSay
    await say('still here')
    await until(() => got.includes('still here'), 'a message after the flood')
    expect(Object.keys(victim.room.getPeers()).sort()).to.deep.equal([honest.id, attacker.id].sort())
    await leaveAndClose([victim, honest, attacker])
  })

  it('forgets a peer’s presence when it leaves, and keeps library action ids for the library', async () => {
    const [a, b] = await joinedPeers(2)
    b!.room.setPresence({name: 'Leaving'})
    await until(() => a!.room.getPresence(b!.id)?.name === 'Leaving', 'the name')
    await b!.room.leave()
    await until(() => !a!.room.getPeers()[b!.id], 'b gone')
    expect(a!.room.getPresence(b!.id)).to.equal(undefined)
    expect(() => a!.room.makeAction('\u0000presence')).to.throw(/reserved/)
    b!.peer.close()
    await a!.room.leave()
    a!.peer.close()
  })
})
