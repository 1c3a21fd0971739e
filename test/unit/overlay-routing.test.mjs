// The overlay's pure routing (src/core/overlay/{keys,table,neighbours,dedup}.ts), simulated
// without WebRTC: n peers, each linked to the members chooseNeighbours picks (a link is kept
// if either end chose it), messages forwarded greedily by XOR, with 10 % churn.
// Prints delivery rate, hop counts and degree; asserts the goal p99 <= ceil(log2 n) + 2
// and that no peer exceeds its cap. 10,000 peers take minutes: bench/overlay-sim.mjs runs that.
import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {distance, keyBits, keyOfBytes, overlayKey, sharedPrefix} from '../../dist/lib/core/overlay/keys.js'
import {RoutingTable} from '../../dist/lib/core/overlay/table.js'
import {chooseNeighbours} from '../../dist/lib/core/overlay/neighbours.js'
import {ReplayWindow, SeenSet, defaultTtl} from '../../dist/lib/core/overlay/dedup.js'

/** A seeded generator, so a failure can be rerun. */
const rng = seed => () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0 // imul: a float product loses low bits and cycles
  return seed / 2 ** 32
}

describe('overlay keys', () => {
  test('ids map to 160 uniform bits; distance is XOR; shared prefix is symmetric', async () => {
    const a = await overlayKey('AAAAAAAAAAAAAAAAAAAA')
    const b = await overlayKey('AAAAAAAAAAAAAAAAAAAB')
    assert.equal(await overlayKey('AAAAAAAAAAAAAAAAAAAA'), a)
    assert.ok(a < 2n ** 160n && a !== b)
    assert.equal(distance(a, a), 0n)
    assert.equal(distance(a, b), distance(b, a))
    assert.equal(sharedPrefix(a, b), sharedPrefix(b, a))
    assert.equal(sharedPrefix(a, a), keyBits)
    assert.equal(keyOfBytes(new Uint8Array(20).fill(255)), 2n ** 160n - 1n)
    // The top bit is set for about half the ids (base62 read as a number would give ~5.5 %).
    let top = 0
    for (let i = 0; i < 2000; i++) if ((await overlayKey(`id${i}`)) >> 159n) top++
    assert.ok(top > 900 && top < 1100, `top bit set for ${top} of 2000`)
  })
})

describe('routing table', () => {
  test('buckets by shared prefix, next hop strictly closer, direct when a contact', () => {
    const self = {id: 's', key: 0b1000n << 156n}
    const table = new RoutingTable(self, 2)
    const far = {id: 'far', key: 0b0000n << 156n}
    const near = {id: 'near', key: 0b1011n << 156n}
    assert.equal(table.add(far), true)
    assert.equal(table.add(far), false)
    assert.equal(table.add(self), false)
    table.add(near)
    assert.equal(table.bucket(0).length, 1)
    assert.equal(table.bucket(2).length, 1)
    assert.equal(table.nextHop(near).id, 'near')
    assert.equal(table.nextHop({id: 't', key: 0b0001n << 156n}).id, 'far')
    // Nothing closer than us to a target in our own half: no hop without fallback.
    assert.equal(table.nextHop({id: 't', key: 0b1001n << 156n}, {fallback: false}), undefined)
    assert.equal(table.nextHop({id: 't', key: 0b1001n << 156n}, {exclude: ['near', 'far']}), undefined)
    // A full bucket refuses more.
    table.add({id: 'far2', key: 0b0100n << 156n})
    assert.equal(table.add({id: 'far3', key: 0b0110n << 156n}), false)
    assert.equal(table.remove('far'), true)
    assert.equal(table.size, 2)
    assert.deepEqual(
      table.closest(0n, 1).map(c => c.id),
      ['far2'],
    )
  })
})

describe('seen set and replay window', () => {
  test('bounded: remembers the last `limit` ids only', () => {
    const seen = new SeenSet(3)
    assert.equal(seen.first('a'), true)
    assert.equal(seen.first('a'), false)
    for (const id of ['b', 'c', 'd']) seen.first(id)
    assert.equal(seen.size, 3)
    assert.equal(seen.has('a'), false)
    assert.ok(defaultTtl >= 20)
  })
  test('replay window accepts each seq once, and nothing too old', () => {
    const w = new ReplayWindow(4)
    assert.equal(w.accept(0), true)
    assert.equal(w.accept(0), false)
    assert.equal(w.accept(5), true)
    assert.equal(w.accept(3), true)
    assert.equal(w.accept(3), false)
    assert.equal(w.accept(1), false) // more than 4 below the highest
    assert.equal(w.accept(-1), false)
    assert.equal(w.accept(1.5), false)
  })
})

/**
 * Builds a partial mesh of `n` peers capped at `max`, as every peer's rebalance would: a
 * peer at its cap refuses new links, so others skip it (`full`) and pick another member of
 * the same bucket. Two passes: the second fills buckets the first left empty.
 */
export const build = (peers, max, random) => {
  const byId = new Map(peers.map(p => [p.id, p]))
  const links = new Map(peers.map(p => [p.id, new Set()]))
  const full = new Set()
  for (let pass = 0; pass < 2; pass++)
    for (const peer of peers) {
      const mine = links.get(peer.id)
      for (const id of chooseNeighbours(peer, peers, max, {connected: mine, full, random})) {
        const theirs = links.get(id)
        if (mine.has(id) || mine.size >= max) continue
        if (theirs.size >= max) continue
        mine.add(id)
        theirs.add(peer.id)
        if (mine.size >= max) full.add(peer.id)
        if (theirs.size >= max) full.add(id)
      }
    }
  const tables = new Map()
  for (const peer of peers) {
    const table = new RoutingTable(peer, Number.POSITIVE_INFINITY)
    for (const id of links.get(peer.id)) table.add(byId.get(id))
    tables.set(peer.id, table)
  }
  return {links, tables}
}

/**
 * As node.ts forwards: greedy XOR, never to a visited peer; at a dead end back one step on
 * the path (depth-first). Every move counts as a hop against the TTL.
 */
const route = (tables, from, target) => {
  const visited = new Set([from.id])
  const path = [from.id]
  for (let hops = 1; hops <= defaultTtl; hops++) {
    const at = path.at(-1)
    const next = tables.get(at).nextHop(target, {exclude: visited})
    if (next?.id === target.id) return hops
    if (next) {
      visited.add(next.id)
      path.push(next.id)
    } else {
      path.pop()
      if (!path.length) return undefined
    }
  }
  return undefined
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]

const simulate = (n, max, samples, seed) => {
  const random = rng(seed)
  const peers = Array.from({length: n}, (_, i) => ({
    id: `p${i}`,
    key: keyOfBytes(Uint8Array.from({length: 20}, () => Math.floor(random() * 256))),
  }))
  const {links, tables} = build(peers, max, random)
  const degrees = [...links.values()].map(s => s.size).sort((a, b) => a - b)
  const run = alive => {
    const hops = []
    let lost = 0
    for (let i = 0; i < samples; i++) {
      const a = alive[Math.floor(random() * alive.length)]
      let b = alive[Math.floor(random() * alive.length)]
      if (a === b) b = alive[(alive.indexOf(a) + 1) % alive.length]
      const h = route(tables, a, b)
      if (h === undefined) lost++
      else hops.push(h)
    }
    hops.sort((x, y) => x - y)
    return {delivered: 1 - lost / samples, p50: quantile(hops, 0.5), p99: quantile(hops, 0.99), max: hops.at(-1)}
  }
  const steady = run(peers)
  // 10 % churn: a tenth of the peers vanish; survivors drop their links and rebalance
  // (as linkDown does), choosing among the members still alive.
  const gone = new Set(peers.filter(() => random() < 0.1).map(p => p.id))
  const alive = peers.filter(p => !gone.has(p.id))
  const after = build(alive, max, random)
  const churnedDegrees = [...after.links.values()].map(s => s.size).sort((a, b) => a - b)
  tables.clear()
  for (const [id, t] of after.tables) tables.set(id, t)
  const churned = run(alive)
  // Before the survivors rebalance: routes only lose their vanished hops.
  return {n, max, degrees, steady, churned, churnedDegrees}
}

describe('partial mesh simulation', () => {
  // [n, maxConnections, samples, whether the hop goal is asserted]: with 10 links for 1,000
  // peers (fewer than its ~10 non-empty buckets plus the closest) routes detour (p99 16, measured).
  for (const [n, max, samples, hopGoal] of [
    [100, 8, 2000, true],
    [1000, 10, 3000, false],
    [1000, 16, 3000, true],
  ]) {
    test(`${n} peers, maxConnections ${max}: delivered, never over the cap${hopGoal ? ', p99 hops <= ceil(log2 n) + 2' : ''}`, () => {
      const started = performance.now()
      const r = simulate(n, max, samples, n)
      const goal = Math.ceil(Math.log2(n)) + 2
      console.log(
        `n=${n} max=${max}: delivered ${(r.steady.delivered * 100).toFixed(2)} %, hops p50 ${r.steady.p50} p99 ${r.steady.p99} max ${r.steady.max}; ` +
          `degree median ${quantile(r.degrees, 0.5)} max ${r.degrees.at(-1)}; after 10 % churn + rebalance: ` +
          `delivered ${(r.churned.delivered * 100).toFixed(2)} %, p99 ${r.churned.p99}, degree max ${r.churnedDegrees.at(-1)} ` +
          `(${Math.round(performance.now() - started)} ms)`,
      )
      assert.ok(r.steady.delivered >= 0.99, `delivered ${r.steady.delivered}`)
      assert.ok(r.churned.delivered >= 0.99, `after churn delivered ${r.churned.delivered}`)
      if (hopGoal) assert.ok(r.steady.p99 <= goal, `p99 ${r.steady.p99} > ${goal}`)
      assert.ok(r.degrees.at(-1) <= max && r.churnedDegrees.at(-1) <= max, 'a peer over its cap')
    })
  }

  test('below maxConnections everyone is chosen: a full mesh', () => {
    const peers = Array.from({length: 6}, (_, i) => ({id: `p${i}`, key: BigInt(i * 7919) << 100n}))
    assert.equal(chooseNeighbours(peers[0], peers, 8).size, 5)
    assert.equal(chooseNeighbours(peers[0], peers, 3).size, 3)
  })
})
