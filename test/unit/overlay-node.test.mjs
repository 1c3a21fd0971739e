// The overlay node (src/core/overlay/node.ts) over an in-memory transport: 12 peers capped at
// 3 links each learn all members, reach relayed members end to end, broadcast reaches each
// member once, a relaying peer that tampers or forges changes nothing, and a relay leaving
// lets routes heal. Real crypto (WebCrypto), real timers; no WebRTC.
import {after, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {bytes, overlayNetwork, until} from './_overlay-net.mjs'

/** A link opens when either asks, if both are under the cap; each knows the one before (a chain). */
const network = (n, max, {tamper} = {}) => overlayNetwork(n, max, {capLinks: true, tamper})

describe('overlay node', () => {
  const cleanups = []
  after(() => Promise.all(cleanups.map(f => f())))

  test('12 peers, maxConnections 3: all see all, targeted messages arrive across hops, broadcast once each', async () => {
    const net = await network(12, 3)
    cleanups.push(net.stop)
    await until(() => [...net.nodes.values()].every(node => node.members().length === 11), 15_000, 'membership')
    // Let the neighbour choice settle first.
    await new Promise(r => setTimeout(r, 500))
    for (const links of net.links.values()) assert.ok(links.size <= 3)
    let relayed = 0
    for (const a of net.ids) for (const b of net.ids) if (a !== b) await net.nodes.get(a).sendTo(b, bytes(`${a}->${b}`))
    await until(() => net.ids.every(id => net.inbox.get(id).length === 11), 10_000, 'all pairs')
    for (const id of net.ids) {
      const got = net.inbox.get(id)
      assert.deepEqual(new Set(got.map(m => m.from)).size, 11)
      for (const m of got) assert.equal(m.text, `${m.from}->${id}`)
      relayed += got.filter(m => m.hops > 1).length
      for (const other of net.ids)
        if (other !== id) {
          const info = net.nodes.get(id).info(other)
          assert.equal(info.route, net.links.get(id).has(other) ? 'direct' : 'relayed')
        }
    }
    assert.ok(relayed > 0, 'some messages were relayed')
    for (const id of net.ids) net.inbox.get(id).length = 0
    await net.nodes.get(net.ids[0]).broadcast(bytes('to all'))
    await until(() => net.ids.slice(1).every(id => net.inbox.get(id).length >= 1), 5000, 'broadcast')
    await new Promise(r => setTimeout(r, 200))
    for (const id of net.ids.slice(1))
      assert.deepEqual(net.inbox.get(id), [{from: net.ids[0], text: 'to all', broadcast: true}])
    assert.equal(net.inbox.get(net.ids[0]).length, 0)
    console.log(`12 peers cap 3: ${relayed} of 132 pair messages relayed`)
  })

  test('a hostile relay that alters, re-addresses, forges or replays changes nothing', async () => {
    let hostile
    let hostileCapture
    const net = await network(8, 2, {
      tamper: (from, _to, message) => {
        if (from !== hostile || message.k !== 'route') return message
        if (hostileCapture && message.s.f === hostile) return (hostileCapture(message), message)
        const c = message.s.c
        return {...message, s: {...message.s, c: c.slice(0, 3) + (c[3] === 'A' ? 'B' : 'A') + c.slice(4)}}
      },
    })
    cleanups.push(net.stop)
    await until(() => [...net.nodes.values()].every(node => node.members().length === 7), 15_000, 'membership')
    // The hostile peer is one that relays: a middle peer with two links.
    hostile = net.ids.find(id => net.links.get(id).size === 2)
    let sent = 0
    for (const a of net.ids)
      for (const b of net.ids)
        if (a !== b && a !== hostile && b !== hostile) sent++, await net.nodes.get(a).sendTo(b, bytes('x'))
    await new Promise(r => setTimeout(r, 500))
    const received = net.ids.reduce((sum, id) => sum + net.inbox.get(id).length, 0)
    assert.ok(received < sent, 'some frames went through the hostile peer')
    assert.ok(net.dropped.includes('forged or replayed sealed frame'))
    for (const id of net.ids) for (const m of net.inbox.get(id)) assert.equal(m.text, 'x')
    // The hostile peer forges a frame "from" another member: it can only seal with its own key.
    const victim = net.ids.find(id => id !== hostile)
    const target = net.ids.find(id => id !== hostile && id !== victim && net.links.get(hostile).has(id))
    const sealedByHostile = []
    hostileCapture = m => sealedByHostile.push(m)
    await net.nodes.get(hostile).sendTo(target, bytes('forged'))
    await new Promise(r => setTimeout(r, 100))
    const frame = sealedByHostile.find(m => m.to === target)
    assert.ok(frame, 'captured the hostile frame')
    const forged = {...frame, s: {...frame.s, f: victim, n: frame.s.n + 1000}}
    await net.nodes.get(target).receive(hostile, forged)
    assert.equal(net.inbox.get(target).filter(m => m.from === victim && m.text === 'forged').length, 0)
  })

  test('replayed sealed frame dropped at the receiver', async () => {
    const copies = []
    const net = await network(3, 1, {
      tamper: (from, to, message) => {
        if (message.k === 'route') copies.push({from, to, message})
        return message
      },
    })
    cleanups.push(net.stop)
    // A chain a-b-c with cap 2 would be needed for relaying; cap 1 only links a-b. Use a direct pair.
    const [a, b] = net.ids
    await until(() => net.nodes.get(a).isMember(b), 5000, 'member')
    await net.nodes.get(a).sendTo(b, bytes('once'))
    await until(() => net.inbox.get(b).length === 1, 5000, 'delivery')
    const copy = copies.find(c => c.to === b)
    // Replayed as if a fresh frame relayed by a: the seen-set and the replay window drop it.
    await net.nodes.get(b).receive(a, structuredClone(copy.message))
    await net.nodes.get(b).receive(a, {...structuredClone(copy.message), s: {...copy.message.s, iv: copy.message.s.iv}})
    assert.equal(net.inbox.get(b).length, 1)
  })

  test('a relaying peer leaves: routes heal through the others', async () => {
    const net = await network(8, 3)
    cleanups.push(net.stop)
    await until(() => [...net.nodes.values()].every(node => node.members().length === 7), 15_000, 'membership')
    const [first] = net.ids
    const far = net.ids.find(id => id !== first && !net.links.get(first).has(id))
    assert.ok(far, 'a relayed peer exists')
    // The relay the first hop would use leaves (a goodbye, then its links close).
    const relay = [...net.links.get(first)][0]
    await net.nodes.get(relay).stop()
    await new Promise(r => setTimeout(r, 50)) // the goodbye drains, as room.leave() lets it
    for (const other of [...net.links.get(relay)]) net.close(relay, other)
    net.nodes.delete(relay)
    await until(() => net.nodes.get(first).members().length === 6, 10_000, 'leave seen')
    await until(() => [...net.nodes.keys()].every(id => net.links.get(id).size > 0), 5000, 'relinked')
    await new Promise(r => setTimeout(r, 300))
    const target = far === relay ? net.ids.find(id => id !== first && id !== relay) : far
    await net.nodes.get(first).sendTo(target, bytes('after the relay left'))
    await until(() => net.inbox.get(target).some(m => m.text === 'after the relay left'), 5000, 'healed route')
  })
})
