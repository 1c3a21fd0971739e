import {expect} from '@open-wc/testing'
import {executeServerCommand} from '@web/test-runner-commands'
import type {PeerInfo, Room} from '../src/core/index.js'
import {openPeers, rejection, testConfig, uniqueRoom, until, type TestPeer} from './helpers/peers.js'

// Rooms past a full mesh (README "Big rooms"): 12 pages capped at 3 direct connections each.
// Real RTCPeerConnections between separate iframes, the local (BroadcastChannel) strategy.
// Every pair exchanges targeted messages; 5 MB payloads go round a ring of relayed pairs (each
// member sends one to a member it reaches only through others, and receives one the same way:
// every member receives 5 MB intact from a relayed sender, 60 MB in all, not 132 x 5 MB).

type Member = {peer: TestPeer; room: Room; id: string; joins: string[]; leaves: string[]}
const size = 12
const cap = 3

const bytes = (n: number, seed = 7) => Uint8Array.from({length: n}, (_, i) => (i * 31 + seed) & 255)
const info = (m: Member, id: string) => (m.room as Room & {peerInfo: (id: string) => PeerInfo}).peerInfo(id)
const directCount = (m: Member) => Object.values(m.room.getPeers()).filter(Boolean).length
/** RTCPeerConnections of a page that are not closed (what the cap is about). */
const liveConnections = (m: Member) =>
  ((m.peer.window as unknown as {liveRtc?: () => number}).liveRtc?.() ?? Number.NaN) as number

const countConnections = (peer: TestPeer) => {
  const win = peer.window as unknown as Window & {
    RTCPeerConnection: typeof RTCPeerConnection
    liveRtc?: () => number
    connectedRtc?: () => number
  }
  const made: RTCPeerConnection[] = []
  const Original = win.RTCPeerConnection
  win.RTCPeerConnection = class extends Original {
    constructor(config?: RTCConfiguration) {
      super(config)
      made.push(this)
    }
  } as typeof RTCPeerConnection
  win.liveRtc = () => made.filter(pc => pc.connectionState !== 'closed').length
  win.connectedRtc = () => made.filter(pc => pc.connectionState === 'connected').length
}
/** RTCPeerConnections of a page that are connected (live ones also count the offer signaling keeps ready, issue 10). */
const connectedConnections = (m: Member) =>
  ((m.peer.window as unknown as {connectedRtc?: () => number}).connectedRtc?.() ?? Number.NaN) as number

/** Samples every page's live RTCPeerConnections: the most seen, and how long each page was above `bound`. */
const sampleConnections = (members: Member[], bound: number) => {
  const most = members.map(() => 0)
  const above = members.map(() => 0)
  const spells = members.map(() => 0)
  const since: (number | undefined)[] = members.map(() => undefined)
  let longest = 0
  const step = 100
  const timer = setInterval(() => {
    const now = performance.now()
    members.forEach((m, i) => {
      const live = connectedConnections(m)
      most[i] = Math.max(most[i]!, live)
      if (live > bound) {
        above[i]! += step
        since[i] ??= now
        longest = Math.max(longest, now - since[i]!)
      } else if (since[i] !== undefined) {
        spells[i]!++
        since[i] = undefined
      }
    })
  }, step)
  return {
    stop: () => clearInterval(timer),
    report: () =>
      `most connected RTCPeerConnections per page ${most.join(',')}; ms above ${bound} per page ${above.join(',')} in ${spells.reduce((a, b) => a + b, 0)} spells, longest spell ${longest.toFixed(0)} ms`,
  }
}

/** A perfect matching of members to relayed targets (Kuhn's algorithm): a ring of relayed pairs, if one exists. */
const relayedRing = (members: Member[]) => {
  const owner = new Map<Member, Member>()
  const targets = (m: Member) => members.filter(o => o !== m && info(m, o.id)?.route === 'relayed')
  const augment = (m: Member, seen: Set<Member>): boolean => {
    for (const o of targets(m)) {
      if (seen.has(o)) continue
      seen.add(o)
      const held = owner.get(o)
      if (!held || augment(held, seen)) return (owner.set(o, m), true)
    }
    return false
  }
  for (const m of members) augment(m, new Set())
  return [...owner].map(([to, from]) => [from, to] as const)
}

const join = async (count: number, config: Record<string, unknown> = {}): Promise<Member[]> => {
  const pages = await openPeers(count)
  const roomId = uniqueRoom('mesh')
  const members: Member[] = []
  for (const peer of pages) {
    countConnections(peer)
    const room = peer.lib.joinRoom({...testConfig, maxConnections: cap, ...config}, roomId)
    const member: Member = {peer, room, id: peer.lib.selfId, joins: [], leaves: []}
    room.onPeerJoin(id => member.joins.push(id))
    room.onPeerLeave(id => member.leaves.push(id))
    members.push(member)
    opened.push(member)
    // Members arrive one after another, as people do.
    await new Promise(resolve => setTimeout(resolve, 150))
  }
  await until(
    () => members.every(m => Object.keys(m.room.getPeers()).length === count - 1),
    `${count} members to see each other`,
    60_000,
  )
  return members
}

/** Waits for every member to be within `bound` direct links, saying where they are if not. */
const pruned = (members: Member[], bound = cap + 2) =>
  until(
    () => members.every(m => directCount(m) <= bound),
    `links to be pruned toward the cap (direct links now ${members.map(directCount).join(',')})`,
    40_000,
  ).catch(error => {
    throw new Error(`${error.message}; direct links ${members.map(directCount).join(',')}`)
  })

/** Members of the running test, closed after it whatever happened (a failed test leaves no pages behind). */
const opened: Member[] = []
const close = async (members: Member[]) => {
  for (const m of members) {
    if (opened.includes(m)) opened.splice(opened.indexOf(m), 1)
    await m.room.leave().catch(() => {})
    m.peer.close()
  }
}

describe('rooms past a full mesh', function () {
  this.timeout(360_000)
  // Chromium refuses new RTCPeerConnections past 500 alive in a process, closed ones counted
  // until garbage collected; 12 pages dialing and pruning make hundreds a test, and these
  // iframes share one process (with other test files' pages, on a busy machine): collect.
  afterEach(async () => {
    await close([...opened])
    await executeServerCommand('collect-garbage')
  })

  it('every member joins, direct or relayed, and actions, pings and requests cross hops', async () => {
    const members = await join(size)
    const joined = performance.now()
    // Past the grace period, links neither side chose are pruned down toward the cap.
    await pruned(members)
    const sampled = sampleConnections(members, cap)
    for (const m of members) {
      const others = members.filter(o => o !== m).map(o => o.id)
      expect([...new Set(m.joins)].sort()).to.deep.equal([...others].sort())
      expect(m.joins.length, 'each member joins once').to.equal(size - 1)
      expect(m.leaves, 'a pruned link is not a leave').to.deep.equal([])
      for (const id of others) expect(['direct', 'relayed']).to.include(info(m, id)?.route)
    }
    const relayedPairs = members.flatMap(m =>
      members.filter(o => o !== m && info(m, o.id)?.route === 'relayed').map(o => [m, o] as const),
    )
    expect(relayedPairs.length, 'some members are reached through others').to.be.greaterThan(0)
    for (const [m, o] of relayedPairs) expect(info(m, o.id)!.hops).to.be.at.least(2)
    const direct = members.map(directCount)
    const live = members.map(liveConnections)
    const connected = members.map(connectedConnections)
    const hops = relayedPairs.map(([m, o]) => info(m, o.id)!.hops)
    console.log(
      `mesh: ${size} members, cap ${cap}: direct links per member ${direct.join(',')}, live RTCPeerConnections ${live.join(',')} (connected ${connected.join(',')}), relayed pairs ${relayedPairs.length}/${size * (size - 1)}, hops max ${Math.max(...hops)}`,
    )

    // Every pair exchanges a targeted message; the receiver knows the true sender.
    const heard = new Map<string, string[]>()
    for (const m of members) {
      heard.set(m.id, [])
      m.room.makeAction<string>('hello')[1]((data, from) => heard.get(m.id)!.push(`${from}:${data}`))
    }
    await Promise.all(
      members.flatMap(m =>
        members.filter(o => o !== m).map(o => m.room.makeAction<string>('hello')[0](`to ${o.id}`, o.id)),
      ),
    )
    for (const m of members) {
      const expected = members.filter(o => o !== m).map(o => `${o.id}:to ${m.id}`)
      expect([...heard.get(m.id)!].sort()).to.deep.equal(expected.sort())
    }

    // A broadcast reaches everyone exactly once, over the overlay.
    const all = new Map<string, number>()
    for (const m of members) m.room.makeAction<string>('all')[1](() => all.set(m.id, (all.get(m.id) ?? 0) + 1))
    await members[0]!.room.makeAction<string>('all')[0]('to everyone')
    await until(() => all.size === size - 1, 'the broadcast to reach every member')
    await new Promise(resolve => setTimeout(resolve, 500))
    expect([...all.values()]).to.deep.equal(Array(size - 1).fill(1))

    // 5 MB round a ring of relayed pairs: each member sends one to a member it reaches only
    // through others and gets one the same way, whole, from the true sender, with progress.
    const ring = relayedRing(members)
    console.log(`mesh: 5 MB ring over ${ring.length} relayed pairs of ${size} members`)
    expect(ring.length, 'most members send 5 MB to a relayed member').to.be.at.least(size - 2)
    const payload = (m: Member) => bytes(5_000_000, members.indexOf(m))
    const got = new Map<string, {from: string; data: ArrayBuffer}[]>()
    const receiving = new Map<string, number[]>()
    for (const m of members) {
      got.set(m.id, [])
      receiving.set(m.id, [])
      const [, onBig, onBigProgress] = m.room.makeAction<ArrayBuffer>('big')
      onBig((data, from) => got.get(m.id)!.push({from, data}))
      onBigProgress(fraction => receiving.get(m.id)!.push(fraction))
    }
    const sending = new Map<string, number[]>()
    const ringStart = performance.now()
    // One send at a time (60 MB sealed and relayed on a 2-core CI machine that runs another
    // test file alongside). A send that rejects 'no-route' (its stream got no credit for 20 s:
    // a route broken and not healed in time) or 'peer-left' (below) is sent again once, as the
    // error says to; the log counts those.
    const sendTimes: string[] = []
    let resent = 0
    // A rejected send may still have arrived (its last acks lost with the route): sent again,
    // the member may get it twice, as an app that sends again must expect.
    const resentTo = new Set<string>()
    for (const [m, o] of ring) {
      sending.set(m.id, [])
      const began = performance.now()
      const once = () =>
        rejection(
          m.room.makeAction<Uint8Array>('big')[0](payload(m), o.id, undefined, fraction =>
            sending.get(m.id)!.push(fraction),
          ),
        )
      let error = await once()
      // 'peer-left': the sender's overlay took the target for gone (its heartbeats late behind
      // the bulk on a loaded machine); it comes back with its next heartbeat, so send again once.
      if (error?.code === 'no-route' || error?.code === 'peer-left') {
        resent++
        resentTo.add(o.id)
        if (error.code === 'peer-left') await until(() => info(m, o.id) !== undefined, 'the target back', 30_000)
        error = await once()
      }
      sendTimes.push(`${((performance.now() - began) / 1000).toFixed(1)}${error ? ` (${error.code})` : ''}`)
      if (error)
        console.log(`mesh: 5 MB ring send failed (${error.message}); sends so far (s): ${sendTimes.join(', ')}`)
      if (error) throw error
    }
    const ringMs = performance.now() - ringStart
    for (const [m, o] of ring) {
      const arrived = got.get(o.id)!
      const copies = resentTo.has(o.id) && arrived.length === 2 ? 2 : 1
      expect(
        arrived.map(a => a.from),
        `${o.id} got one 5 MB payload (two if sent again), from ${m.id}`,
      ).to.deep.equal(Array(copies).fill(m.id))
      for (const {data} of arrived) expect(new Uint8Array(data)).to.deep.equal(payload(m))
      expect(sending.get(m.id)!.at(-1)).to.equal(1)
      expect(receiving.get(o.id)!.at(-1)).to.equal(1)
      expect(receiving.get(o.id)!.length).to.be.greaterThan(10)
    }
    console.log(
      `mesh: 5 MB ring: ${ring.length} x 5 MB relayed in ${(ringMs / 1000).toFixed(1)} s (${((ring.length * 5) / (ringMs / 1000)).toFixed(1)} MB/s; each send s: ${sendTimes.join(', ')}; sent again after no-route or peer-left: ${resent})`,
    )
    const [m, o] = relayedPairs[0]!

    // A request crosses hops and its reply comes back.
    o.room.makeAction('double', {kind: 'request'}).onRequest = (data: unknown) => (data as number) * 2
    expect(await m.room.makeAction<number, number>('double', {kind: 'request'}).request(21, o.id)).to.equal(42)

    // Ping measures the relayed round trip.
    const directPair = members.flatMap(a => members.filter(b => info(a, b.id)?.route === 'direct').map(b => [a, b]))[0]!
    const times = async (a: Member, b: Member) => {
      const list: number[] = []
      for (let i = 0; i < 7; i++) list.push(await a.room.ping(b.id))
      return list.sort((x, y) => x - y)[3]!
    }
    const directMs = await times(directPair[0]!, directPair[1]!)
    const relayedHops = info(m, o.id)!.hops
    const relayedMs = await times(m, o)
    console.log(
      `mesh: ping direct ${directMs.toFixed(1)} ms, relayed (${relayedHops} hops) ${relayedMs.toFixed(1)} ms, ratio ${(relayedMs / directMs).toFixed(1)}`,
    )
    expect(relayedMs).to.be.greaterThan(0)
    sampled.stop()
    console.log(
      `mesh: while the room worked: ${sampled.report()}; direct links now ${members.map(directCount).join(',')}`,
    )
    // Settling at the cap: measured and printed (timing belongs in bench/); the test holds the cap + 2 bound above.
    const settling = performance.now()
    const settled = await until(() => members.every(m => directCount(m) <= cap), 'links at the cap', 30_000).then(
      () => true,
      () => false,
    )
    console.log(
      `mesh: ${settled ? `every member at <= ${cap} direct links ${((performance.now() - joined) / 1000).toFixed(0)} s after the last join (${((performance.now() - settling) / 1000).toFixed(1)} s more after the traffic)` : `not all at <= ${cap} direct links 30 s after the traffic`}: ${members.map(directCount).join(',')}, connected RTCPeerConnections ${members.map(connectedConnections).join(',')}`,
    )
    await close(members)
  })

  it('a relaying member that tampers with what it relays changes nothing a receiver accepts', async () => {
    // 9 pages: 72 notes through a tamperer (110 with 12 pages ran past the test's 180 s on a loaded machine).
    const members = await join(9)
    await pruned(members)
    // The most linked member turns hostile: it flips one bit of every sealed or signed payload it sends on.
    const hostile = [...members].sort((a, b) => directCount(b) - directCount(a))[0]!
    let tampered = 0
    const channel = (hostile.peer.window as unknown as {RTCDataChannel: typeof RTCDataChannel}).RTCDataChannel
    const send = channel.prototype.send
    const marks = ['"c":"', '"p":"'].map(mark => new TextEncoder().encode(mark))
    channel.prototype.send = function (this: RTCDataChannel, data: never) {
      const view = data as unknown as Uint8Array
      if (view instanceof Uint8Array || ArrayBuffer.isView(view)) {
        const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice()
        for (const mark of marks)
          for (let i = 0; i + mark.length + 12 < bytes.length; i++)
            if (mark.every((byte, j) => bytes[i + j] === byte)) {
              const at = i + mark.length + 8
              bytes[at] = bytes[at] === 65 ? 66 : 65
              tampered++
              break
            }
        return send.call(this, bytes as never)
      }
      return send.call(this, data)
    } as typeof send
    const honest = members.filter(m => m !== hostile)
    const heard: string[] = []
    for (const m of honest) m.room.makeAction<string>('note')[1]((data, from) => heard.push(`${from}>${m.id}:${data}`))
    const sends = honest.flatMap(m =>
      honest
        .filter(o => o !== m)
        .map(o => ({text: `${m.id}>${o.id}:note`, done: m.room.makeAction<string>('note')[0]('note', o.id)})),
    )
    const broadcasts = new Map<string, number>()
    for (const m of honest)
      m.room.makeAction<string>('everyone')[1](
        (data, from) =>
          data === 'hi' && from === honest[0]!.id && broadcasts.set(m.id, (broadcasts.get(m.id) ?? 0) + 1),
      )
    await honest[0]!.room.makeAction<string>('everyone')[0]('hi')
    const results = await Promise.all(sends.map(({done}) => rejection(done)))
    await new Promise(resolve => setTimeout(resolve, 500))
    // Whatever arrived is exactly what its true sender sent; nothing arrived twice or altered.
    const sent = new Set(sends.map(({text}) => text))
    for (const line of heard) expect(sent.has(line), `delivered as sent: ${line}`).to.equal(true)
    expect(new Set(heard).size).to.equal(heard.length)
    // Sends that resolved were delivered; the rest were refused clearly (their route ran through the tamperer).
    sends.forEach(({text}, i) => {
      if (!results[i]) expect(heard).to.include(text)
      // no-route: its route ran through the tamperer; peer-left: its direct link was pruned or cut mid-send
      else expect(['no-route', 'peer-left']).to.include(results[i]!.code)
    })
    expect([...broadcasts.values()].every(n => n === 1)).to.equal(true)
    console.log(
      `mesh: tampering relay flipped ${tampered} payloads; ${heard.length}/${sends.length} notes delivered intact, ${results.filter(Boolean).length} refused (no-route), broadcast reached ${broadcasts.size}/${honest.length - 1} honest members once`,
    )
    expect(tampered).to.be.greaterThan(0)
    channel.prototype.send = send
    await close(members)
  })

  it('a relaying member that leaves mid-transfer: the send completes or rejects clearly, never hangs', async () => {
    const members = await join(size)
    await pruned(members)
    const pair = members
      .flatMap(m => members.filter(o => o !== m && info(m, o.id)?.route === 'relayed').map(o => [m, o] as const))
      .sort((a, b) => info(b[0], b[1].id)!.hops - info(a[0], a[1].id)!.hops)[0]!
    const [from, to] = pair
    let got: ArrayBuffer | undefined
    to.room.makeAction<ArrayBuffer>('large')[1](data => (got = data))
    const big = bytes(4_000_000, 3)
    const sending = from.room.makeAction<Uint8Array>('large')[0](big, to.id)
    // Leave: one of the sender's direct neighbours (a relaying member) closes its page.
    await new Promise(resolve => setTimeout(resolve, 300))
    const relay = members.find(m => m !== to && info(from, m.id)?.route === 'direct')!
    relay.peer.close()
    opened.splice(opened.indexOf(relay), 1)
    const started = performance.now()
    const error = await rejection(sending)
    const rest = members.filter(m => m !== relay)
    console.log(
      `mesh: relay left mid-transfer: ${error ? `rejected ${error.code} (${error.message})` : 'completed'} ${(performance.now() - started).toFixed(0)} ms after`,
    )
    if (error) expect(['no-route', 'peer-left']).to.include(error.code)
    else expect(new Uint8Array((await until(() => got, 'the large message')) as ArrayBuffer)).to.deep.equal(big)
    // The room heals: the member is reachable again (direct or relayed), and a message crosses.
    await until(() => from.room.getPeers()[to.id] !== undefined, 'the member to be reachable again', 30_000)
    let after: string | undefined
    to.room.makeAction<string>('after')[1](data => (after = data))
    await from.room.makeAction<string>('after')[0]('still here', to.id)
    await until(() => after, 'a message after the relay left')
    await close(rest)
  })
})
