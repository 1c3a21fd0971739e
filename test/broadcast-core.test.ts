import {expect} from '@open-wc/testing'
import {
  camera,
  closeNodes,
  framesDecoded,
  openReceiver,
  openSender,
  playing,
  relayTransport,
  seedDriver,
  sleep,
  type Node,
  type Transport,
} from './helpers/broadcast.js'
import {openPeers, testConfig, uniqueRoom, until} from './helpers/peers.js'
import {SeedMemoryDriver} from './helpers/broadcast.js'

const transports: (() => Transport)[] = [
  () => seedDriver(),
  () => relayTransport('mqtt'),
  () => relayTransport('nostr'),
]

for (const makeTransport of transports) {
  const transport = makeTransport()
  describe(`broadcast over ${transport.name}`, () => {
    it('one sender, six receivers: all decode frames, none connect to each other, verify refuses one, state and sync, send to one and all', async () => {
      const room = uniqueRoom('live')
      const sender = await openSender(makeTransport === transports[0] ? transport : makeTransport(), {
        verify: (_id: string, credentials: any) => credentials?.token !== 'bad',
      })
      const stream = await camera(sender.page)
      sender.node.start({stream, room, state: {title: 'talk', audio: false}, dataChannel: true})
      const receivers: Node[] = []
      for (let i = 0; i < 6; i++) receivers.push(await openReceiver(transport))
      const refused = await openReceiver(transport)
      for (const r of receivers) r.node.start({room, credentials: {token: 'good'}})
      refused.node.start({room, credentials: {token: 'bad'}})

      await until(() => receivers.every(r => r.events.connect!.length === 1), 'six receivers to connect')
      await Promise.all(receivers.map(r => playing(r)))
      for (const r of receivers) {
        const [connect] = r.events.connect!
        expect(connect.id).to.equal(sender.node.id)
        expect(connect.state).to.deep.equal({title: 'talk', audio: false})
        expect(r.events.stream![0].state).to.deep.equal({title: 'talk', audio: false})
        // Receivers hold one connection each: to the sender, never to each other.
        expect([...r.node.peers.keys()]).to.deep.equal([sender.node.id])
        expect(await framesDecoded(connect.peer)).to.be.greaterThan(0)
      }
      expect(sender.node.peers.size).to.equal(6)
      expect(sender.events.connect!.length).to.equal(6)

      // verify said no: an error with code 'rejected', and no connection or media, ever.
      await until(() => refused.events.error!.length, 'the refused receiver to hear no')
      expect(refused.events.error![0].error.code).to.equal('rejected')
      expect(refused.events.connect!.length + refused.events.stream!.length).to.equal(0)
      expect(refused.node.peers.size).to.equal(0)
      expect([...sender.node.peers.keys()]).not.to.include(refused.node.id)

      // Data channels: one message to all, one to a single receiver.
      await until(() => receivers.every(r => r.events.channel!.length === 1), 'data channels')
      sender.node.send({hello: 'all'})
      sender.node.send('just you', receivers[2]!.node.id)
      await until(() => receivers.every(r => r.events.message!.length >= 1), 'the message to all')
      await until(() => receivers[2]!.events.message!.length === 2, 'the message to one')
      await sleep(200)
      for (const [i, r] of receivers.entries()) {
        expect(r.events.message!.map(m => m.message)).to.deep.equal(
          i === 2 ? [{hello: 'all'}, 'just you'] : [{hello: 'all'}],
        )
        expect(r.events.message![0].id).to.equal(sender.node.id)
      }

      // sync: merged into the state, then replaced.
      sender.node.sync({audio: true}, true)
      await until(() => receivers.every(r => r.events.sync!.length === 1), 'the merged state')
      for (const r of receivers) expect(r.events.sync![0].state).to.deep.equal({title: 'talk', audio: true})
      sender.node.sync({title: 'break'})
      await until(() => receivers.every(r => r.events.sync!.length === 2), 'the replaced state')
      for (const r of receivers) {
        expect(r.events.sync![1]).to.deep.equal({id: sender.node.id, state: {title: 'break'}})
        expect(r.node.states.get(sender.node.id)).to.deep.equal({title: 'break'})
      }
      expect(refused.events.sync!.length + refused.events.message!.length).to.equal(0)

      // stop: every receiver sees its peer disposed.
      sender.node.stop()
      await until(() => receivers.every(r => r.events.dispose!.length === 1), 'dispose on every receiver')
      await until(() => sender.events.dispose!.length === 6, 'dispose of every peer on the sender')
      expect(sender.node.peers.size).to.equal(0)
      for (const t of stream.getTracks()) t.stop()
      closeNodes([sender, refused, ...receivers])
    })
  })
}

describe('broadcast: queue, restart, pings, outsiders', () => {
  it('messages sent before any channel opens are queued (queueSize, oldest dropped) and delivered once one opens', async () => {
    const transport = seedDriver()
    const room = uniqueRoom('queue')
    const sender = await openSender(transport, {queueSize: 2})
    sender.node.start({room}) // no stream: a data-only broadcast, channels always
    sender.node.send('one')
    sender.node.send({two: 2})
    sender.node.send([3])
    expect(sender.node.queued).to.equal(2)
    const receiver = await openReceiver(transport)
    receiver.node.start({room})
    await until(() => receiver.events.message!.length === 2, 'the queued messages')
    expect(receiver.events.message!.map(m => m.message)).to.deep.equal([{two: 2}, [3]])
    expect(sender.node.queued).to.equal(0)
    closeNodes([sender, receiver])
  })

  it('receivers reconnect to a restarted sender by pinging, when its own announcement is lost', async () => {
    const transport = seedDriver()
    const room = uniqueRoom('restart')
    const sender = await openSender(transport)
    const stream = await camera(sender.page)
    sender.node.start({stream, room, state: {n: 1}})
    const receivers = [
      await openReceiver(transport, {pingInterval: 0.5, pingAttempts: 20}),
      await openReceiver(transport, {pingInterval: 0.5, pingAttempts: 20}),
    ]
    for (const r of receivers) r.node.start({room})
    await Promise.all(receivers.map(r => playing(r)))
    const firstId = sender.node.id
    sender.node.stop()
    await until(() => receivers.every(r => r.events.dispose!.length === 1), 'dispose')
    // The restarted sender's "I am here" to receivers gets lost: only the receivers' pings can find it.
    transport.driver.drop = (namespace, message) => namespace === `receiver:${room}` && message?.type === 'invoke'
    sender.node.start({stream, room, state: {n: 2}})
    expect(sender.node.id).not.to.equal(firstId)
    await until(() => receivers.every(r => r.events.connect!.length === 2), 'receivers to reconnect', 15_000)
    for (const r of receivers) {
      expect(r.events.connect![1].id).to.equal(sender.node.id)
      expect(r.events.connect![1].state).to.deep.equal({n: 2})
      await playing(r, 'frames from the restarted sender')
    }
    for (const t of stream.getTracks()) t.stop()
    closeNodes([sender, ...receivers])
  })

  it('a receiver with nobody to watch pings pingAttempts times, pingInterval apart, then stops', async () => {
    const transport = seedDriver()
    const room = uniqueRoom('pings')
    const receiver = await openReceiver(transport, {pingInterval: 0.2, pingAttempts: 3})
    receiver.node.start({room})
    await sleep(1500)
    const invokes = () =>
      transport.driver.emitted.filter(e => e.namespace === `sender:${room}` && e.message.type === 'invoke')
    // One at start, then pingAttempts more.
    expect(invokes().length).to.equal(4)
    closeNodes([receiver])
  })

  it('an outsider on the driver without the key, and a replayed dispose, change nothing', async () => {
    const transport = seedDriver()
    const room = uniqueRoom('outsider')
    const sender = await openSender(transport)
    const stream = await camera(sender.page)
    sender.node.start({stream, room, dataChannel: true})
    const receiver = await openReceiver(transport)
    receiver.node.start({room})
    await playing(receiver)
    const senderId = sender.node.id
    // An outsider forges every kind of message, with the real ids, without the room key.
    for (const type of ['invoke', 'offer', 'answer', 'dispose', 'reject', 'adopt', 'lost']) {
      transport.driver.emit(['receiver', room], {type, id: senderId, sealed: 'AAAA.BBBB'})
      transport.driver.emit(['receiver', room, receiver.node.id], {type, id: senderId, sealed: 'x'})
      transport.driver.emit(['sender', room, senderId], {type, id: receiver.node.id, sealed: 'AAAA.BBBB'})
      transport.driver.emit(['sender', room], {type, id: 'intruder', sealed: 'AAAA.BBBB', sdp: 'v=0'})
      transport.driver.emit(['receiver', room, receiver.node.id], 'garbage')
    }
    // A recording of a real dispose from an earlier session of the same sender, replayed.
    sender.node.stop()
    await until(() => receiver.events.dispose!.length === 1, 'dispose')
    const recorded = transport.driver.emitted.filter(e => e.message?.type === 'dispose').at(-1)!.message
    sender.node.start({stream, room, dataChannel: true})
    await until(() => receiver.events.connect!.length === 2, 'reconnect')
    transport.driver.emit(['receiver', room], recorded)
    transport.driver.emit(['receiver', room], {...recorded, id: sender.node.id})
    await sleep(500)
    expect(receiver.events.dispose!.length).to.equal(1)
    expect(receiver.events.error!.length).to.equal(0)
    expect([...receiver.node.peers.keys()]).to.deep.equal([sender.node.id])
    expect(sender.node.peers.size).to.equal(1)
    sender.node.send('still here')
    await until(() => receiver.events.message!.length === 1, 'a message after the forgeries')
    for (const t of stream.getTracks()) t.stop()
    closeNodes([sender, receiver])
  })
})

describe('the driver strategy and seed-style drivers', () => {
  it('rooms meet over a seed-style driver (namespace arrays) passed unchanged to the driver strategy', async () => {
    const driver = new SeedMemoryDriver()
    const pages = await openPeers(2, '/src/strategies/driver.ts')
    const roomId = uniqueRoom('seed-room')
    const rooms = pages.map(page => page.lib.joinRoom({...testConfig, driver}, roomId))
    await until(() => rooms.every(room => Object.keys(room.getPeers()).length === 1), 'two peers to connect')
    // Every call went through as a namespace array: the driver joined them with ':'.
    expect(driver.emitted.length).to.be.greaterThan(0)
    const [send, onReceive] = rooms[1].makeAction('hi')
    const got: unknown[] = []
    rooms[0].makeAction('hi')[1]((data: unknown) => got.push(data))
    void onReceive
    await send('hello')
    await until(() => got.length, 'a message')
    for (const room of rooms) await room.leave()
    for (const page of pages) page.close()
  })

  it('a broadcast runs over the driver strategy given a seed-style driver', async () => {
    const driver = new SeedMemoryDriver()
    const transport = {
      name: 'driver strategy',
      options: async (page: any) => ({strategy: await page.lib.loadStrategy('driver'), config: {driver}}),
    }
    const room = uniqueRoom('driver-strategy')
    const sender = await openSender(transport)
    const stream = await camera(sender.page)
    sender.node.start({stream, room})
    const receiver = await openReceiver(transport)
    receiver.node.start({room})
    await playing(receiver)
    // Topics are hashes: the room name never reaches this driver.
    expect(driver.emitted.some(e => e.namespace.includes(room) || JSON.stringify(e.message).includes(room))).to.equal(
      false,
    )
    for (const t of stream.getTracks()) t.stop()
    closeNodes([sender, receiver])
  })
})
