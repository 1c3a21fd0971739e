/**
 * `config.debug`: the join and signaling steps, in order, with the milliseconds since
 * joinRoom; `true` prints them with console.debug, a function receives them; off prints
 * nothing; junk on the relay adds no step. Peers are separate pages on the local strategy.
 */
import {expect} from '@open-wc/testing'
import {roomTopicOf} from '../src/core/index.js'
import type {DebugEntry} from '../src/core/index.js'
import {testConfig, uniqueRoom, until} from './helpers/peers.js'
import {openRoomPeer, rejoin, waitAllConnected, type RoomPeer} from './helpers/hostile.js'

const entry = '/src/strategies/local.ts'

const close = async (peers: RoomPeer[]) => {
  for (const peer of peers) {
    await peer.room.leave()
    peer.page.close()
  }
}

/** Captures what the page's own console.debug prints (the library runs in that page). */
const captureConsole = (peer: RoomPeer) => {
  const lines: string[] = []
  const console = peer.page.window.console
  const original = console.debug
  console.debug = (...args: unknown[]) => {
    lines.push(args.map(String).join(' '))
    original.apply(console, args)
  }
  return lines
}

/** Index of the first entry with `step` (and `peerId` if given); -1 if none. */
const first = (entries: DebugEntry[], step: string | RegExp, peerId?: string) =>
  entries.findIndex(
    e => (typeof step === 'string' ? e.step === step : step.test(e.step)) && (!peerId || e.peerId === peerId),
  )

describe('diagnostics: config.debug', function () {
  this.timeout(60_000)

  it('a function sink gets every join and signaling step in order, each with the ms since joinRoom', async () => {
    const roomId = uniqueRoom('debug')
    const logs = {a: [] as DebugEntry[], b: [] as DebugEntry[]}
    const [a, b] = await Promise.all([openRoomPeer(entry), openRoomPeer(entry)])
    rejoin(a!, roomId, {debug: (e: DebugEntry) => logs.a.push(e)})
    rejoin(b!, roomId, {debug: (e: DebugEntry) => logs.b.push(e)})
    try {
      await waitAllConnected([a!, b!], 'two peers to connect')
      await until(
        () => first(logs.a, 'handshake verified') >= 0 && first(logs.b, 'handshake verified') >= 0,
        'both to log the join',
      )
      for (const [name, log, other] of [
        ['a', logs.a, b!],
        ['b', logs.b, a!],
      ] as const) {
        const peerId = other.id()
        const steps = log.map(e => `${e.step}${e.peerId ? ` ${e.peerId.slice(0, 8)}` : ''}`)
        console.log(`${name}: ${steps.join(' | ')}`)
        const order = [
          first(log, 'join'),
          first(log, 'strategy connect'),
          first(log, 'announce sent'),
          first(log, /^(offer|answer) (sent|received)$/, peerId),
          first(log, 'ice connected', peerId),
          first(log, 'data channel open', peerId),
          first(log, 'handshake verified', peerId),
        ]
        expect(
          order.every(i => i >= 0),
          `${name}: every step is there (${order})`,
        ).to.equal(true)
        expect(
          [...order].sort((x, y) => x - y),
          `${name}: in order`,
        ).to.deep.equal(order)
        // One side offers and hears the answer, the other hears the offer and answers.
        const offered = first(log, 'offer sent', peerId) >= 0 && first(log, 'answer received', peerId) >= 0
        const answered = first(log, 'offer received', peerId) >= 0 && first(log, 'answer sent', peerId) >= 0
        expect(offered || answered, `${name}: an offer/answer exchange`).to.equal(true)
        const times = log.map(e => e.ms)
        expect(
          [...times].sort((x, y) => x - y),
          `${name}: times only grow`,
        ).to.deep.equal(times)
        expect(log[0]!.ms, `${name}: measured from joinRoom`).to.be.below(1_000)
        expect(log[0]!.line).to.match(new RegExp(`^p2p-elements \\[${roomId}\\] \\+\\d+\\.\\d ms join`))
        expect(log.every(e => e.roomId === roomId)).to.equal(true)
      }
    } finally {
      await close([a!, b!])
    }
  })

  it('debug: true prints the steps with console.debug; off, the library prints nothing; junk on the relay adds no step', async () => {
    const roomId = uniqueRoom('debug')
    const [a, b] = await Promise.all([openRoomPeer(entry), openRoomPeer(entry)])
    const printed = {a: captureConsole(a!), b: captureConsole(b!)}
    rejoin(a!, roomId, {debug: true})
    rejoin(b!, roomId)
    try {
      await waitAllConnected([a!, b!], 'two peers to connect')
      await until(() => printed.a.some(line => line.includes('handshake verified')), 'a to print the join')
      const mine = printed.a.filter(line => line.startsWith(`p2p-elements [${roomId}]`))
      expect(mine.length, 'a printed its steps').to.be.greaterThan(5)
      expect(mine[0]).to.match(/ms join: app "p2p-elements-tests", strategy local$/)
      expect(mine.some(line => / ms strategy connect: local$/.test(line))).to.equal(true)
      expect(
        printed.b.filter(line => line.includes('p2p-elements')),
        'b (no debug) printed nothing',
      ).to.deep.equal([])

      // An outsider posts junk on the room's channel: nothing it sends is a step.
      const before = printed.a.length
      const topic = await roomTopicOf(testConfig.appId, roomId)
      const channel = new BroadcastChannel(topic)
      const junk = [
        'not json',
        JSON.stringify({v: 2, t: 'announce', from: 'x', to: '', ts: Date.now(), key: 'k', sealed: 's', sig: 'g'}),
        JSON.stringify({v: 1, t: 'offer'}),
        JSON.stringify([1, 2, 3]),
      ]
      for (const message of junk) channel.postMessage(message)
      channel.close()
      await new Promise(resolve => setTimeout(resolve, 500))
      const after = printed.a.slice(before)
      expect(
        after.filter(line => / received/.test(line) && !line.includes(b!.id().slice(0, 8))),
        'no step for anything the outsider sent',
      ).to.deep.equal([])
    } finally {
      await close([a!, b!])
    }
  })
})
