// Reliability of the overlay node (src/core/overlay/node.ts) over an in-memory transport that
// loses what a closing link carried: links close under traffic (churn), yet hop-by-hop acks
// and rerouting deliver every message; links are held to the cap; a frame for a member with
// no route waits (bounded) and is then reported undeliverable, not silently lost.
import {after, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {bytes, overlayNetwork, sleep, until} from './_overlay-net.mjs'

/** n nodes, everyone dialed the first; frames take 5 ms, acks are awaited 200 ms. */
const network = async (n, max, options = {}) => {
  const undeliverable = []
  const net = await overlayNetwork(n, max, {
    bootstrap: 'star',
    delayMs: 5,
    options: {scope: 'reliability', graceMs: 1000, ackTimeoutMs: 200, holdMs: options.holdMs ?? 2000},
    undeliverable: (from, to, reason, mine) => mine && undeliverable.push({from, to, reason}),
  })
  return {...net, undeliverable}
}

describe('overlay reliability', () => {
  const stops = []
  after(() => Promise.all(stops.map(stop => stop())))

  test('links closing under traffic lose nothing: 20 peers, cap 5, every pair message arrives once', async () => {
    const net = await network(20, 5)
    stops.push(net.stop)
    await until(() => [...net.nodes.values()].every(n => n.members().length === 19), 15_000, 'membership')
    // Churn: every 30 ms a random link closes (its frames in flight are lost) while all send.
    let churning = true
    let cuts = 0
    void (async () => {
      while (churning) {
        const a = net.ids[Math.floor(Math.random() * net.ids.length)]
        const [b] = net.links.get(a)
        if (b && net.links.get(a).size > 2 && net.links.get(b).size > 2) net.close(a, b), cuts++
        await sleep(30)
      }
    })()
    for (const a of net.ids) for (const b of net.ids) if (a !== b) await net.nodes.get(a).sendTo(b, bytes(`${a}>${b}`))
    const count = () => [...net.inbox.values()].reduce((sum, list) => sum + list.length, 0)
    await until(
      () => count() >= 380,
      20_000,
      () => `all 380 (got ${count()})`,
    ).finally(() => (churning = false))
    await sleep(300)
    assert.equal(count(), 380)
    for (const [id, list] of net.inbox) for (const m of list) assert.equal(m.text, `${m.from}>${id}`)
    assert.deepEqual(net.undeliverable, [])
    console.log(`20 peers cap 5: 380/380 delivered with ${cuts} links cut under traffic`)
    // Everyone dialed the first peer: once the grace period is over, links come down to the cap.
    await until(() => [...net.links.values()].every(l => l.size <= 5), 15_000, 'links within the cap')
  })

  test('a member with no route: the frame waits, then is reported undeliverable', async () => {
    const net = await network(3, 8, {holdMs: 500})
    stops.push(net.stop)
    await until(() => [...net.nodes.values()].every(n => n.members().length === 2), 5000, 'membership')
    const [a, b, c] = net.ids
    await sleep(100)
    // Isolate a: it still knows b and c as members, but has no link at all.
    for (const other of [b, c]) net.nodes.get(a).avoid(other), net.nodes.get(other).avoid(a)
    for (const other of [b, c]) net.close(a, other)
    await sleep(50)
    assert.equal(net.links.get(a).size, 0)
    await net.nodes.get(a).sendTo(b, bytes('nowhere to go'))
    assert.equal(net.nodes.get(a).pending(), 1, 'held, not dropped')
    await until(() => net.undeliverable.length === 1, 3000, 'the undeliverable report')
    assert.match(net.undeliverable[0].reason, /no route/)
    assert.equal(net.nodes.get(a).pending(), 0)
    // A link that comes up while a frame waits takes it.
    await net.nodes.get(a).sendTo(c, bytes('late route'))
    net.open(a, c)
    await until(() => net.inbox.get(c).some(m => m.text === 'late route'), 3000, 'delivery once linked')
  })
})
