// A hostile peer that links to PeerRelay peers properly (its own identity, a valid proof) and
// then sends malformed, oversized, forged and replayed frames changes nothing for the others:
// 8 honest peers in 2 processes still know exactly each other (no forged member, no forged
// goodbye believed), every pair message arrives once and unaltered, no process crashes.
// The attacker is this test process speaking the link protocol (src/peer-relay/index.ts) by hand.
import {after, before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import WebSocket from 'ws'
import {createIdentity, sign, toBase64Url} from '../../dist/lib/core/identity.js'
import {createSealer} from '../../dist/lib/core/overlay/seal.js'
import {poll, sleep, startProcess} from './_peer-relay-net.mjs'

const scope = 'peer-relay'
const enc = value => new TextEncoder().encode(JSON.stringify(value))

/** Links to `url` as a real member would, and keeps what the honest peer sends it. */
const hostileLink = async (identity, card, url) => {
  const ws = new WebSocket(url)
  const heard = []
  let up
  const ready = new Promise(resolve => (up = resolve))
  ws.on('message', async raw => {
    const message = JSON.parse(String(raw))
    if (message.k === 'hi') {
      const sig = toBase64Url(await sign(identity, enc(['link', scope, message.nonce])))
      ws.send(JSON.stringify({k: 'auth', card, sig}))
    } else if (message.k === 'auth') setTimeout(up, 200)
    else if (message.k === 'o') heard.push(message.m)
  })
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  ws.send(JSON.stringify({k: 'hi', nonce: toBase64Url(crypto.getRandomValues(new Uint8Array(16)))}))
  await ready
  const closed = new Promise(resolve => ws.once('close', resolve))
  return {ws, heard, closed, o: m => ws.send(JSON.stringify({k: 'o', m}))}
}

describe('PeerRelay: a hostile linked peer', () => {
  const processes = []
  let ids = []
  before(async () => {
    const first = await startProcess({count: 4, listen: true, bootstrap: [], chain: true, maxConnections: 4})
    processes.push(
      first,
      await startProcess({count: 4, listen: true, bootstrap: [first.peers[0].url], maxConnections: 4}),
    )
    ids = processes.flatMap(p => p.ids)
  })
  after(() => Promise.all(processes.map(p => p.stop())))
  const lists = () => Promise.all(processes.map(p => p.ask({cmd: 'peers'}, 'peers')))

  test('malformed, oversized, forged and replayed frames change nothing for the others', async () => {
    assert.ok(await poll(async () => (await lists()).every(l => l.members.every(n => n === 7)), 30_000), 'membership')
    const identity = await createIdentity()
    const {card} = await createSealer(identity, scope)
    const url = processes[0].peers[0].url
    // Malformed frames: each closes the link (or is dropped), nothing else happens.
    for (const junk of ['not json', 'null', '[]', '"text"', '{"k":"o"}', JSON.stringify({k: 'x'})]) {
      const link = await hostileLink(identity, card, url)
      link.ws.send(junk)
      await Promise.race([link.closed, sleep(300)])
      link.ws.terminate()
    }
    const link = await hostileLink(identity, card, url)
    const victim = ids[3]
    const target = ids[5]
    const gossip = link.heard.find(m => m.k === 'gossip')
    assert.ok(gossip, 'the honest peer sent its member list')
    const victimEntry = gossip.e.find(e => e.id === victim)
    const bad = [
      null,
      7,
      {k: 'route'},
      {k: 'route', to: 5, s: 'x'},
      {k: 'route', to: target, ttl: 'x', v: 'no', p: {}, s: {f: victim, t: target, n: 0, iv: 'AAAA', c: 'AAAA'}, i: 1},
      {k: 'route', to: target, ttl: 3, h: 0, v: Array(50_000).fill(1), p: [], s: {f: victim}, i: 2},
      {k: 'gossip', e: 'x'},
      {k: 'gossip', e: [null, 1, 'x', {id: victim}, {id: victim, seq: 'x', alive: 'yes'}]},
      {k: 'gossip', e: Array(300).fill(victimEntry)},
      {k: 'flood', ttl: 5, h: 0, g: {f: victim, n: 1, p: 'AAAA', s: 'AAAA'}},
      {k: 'flood', g: null},
      {k: 'ack', i: 'x'},
      {k: 'ack', i: 123456},
      {k: 'want', y: 'maybe', full: 1},
    ]
    for (const m of bad) link.o(m)
    // Forged: a goodbye "from" the victim with a higher seq, signed by the attacker's key; the
    // victim's entry carrying the attacker's card; a member "Eve" whose id is not her key's.
    const forgedSig = toBase64Url(await sign(identity, enc(['member', scope, victim, victimEntry.seq + 5, false])))
    link.o({
      k: 'gossip',
      e: [{...victimEntry, seq: victimEntry.seq + 5, alive: false, data: {...victimEntry.data, sig: forgedSig}}],
    })
    link.o({k: 'gossip', e: [{id: victim, seq: victimEntry.seq + 6, alive: true, data: {card, sig: forgedSig}}]})
    link.o({
      k: 'gossip',
      e: [
        {
          id: 'EveEveEveEveEveEve00',
          seq: 1,
          alive: true,
          data: {card: {...card, id: 'EveEveEveEveEveEve00'}, sig: forgedSig},
        },
      ],
    })
    // Forged sealed frame "from" the victim, random ciphertext.
    link.o({
      k: 'route',
      to: target,
      ttl: 5,
      h: 0,
      v: [],
      p: [],
      s: {f: victim, t: target, n: 99, iv: toBase64Url(new Uint8Array(12)), c: toBase64Url(new Uint8Array(40))},
      i: 3,
    })
    // Replayed: everything the honest peer sent, sent back many times.
    for (let i = 0; i < 20; i++) for (const m of link.heard) link.o(m)
    // Oversized: a 2 MiB frame closes the link.
    link.ws.send('x'.repeat(2 * 1024 * 1024))
    await Promise.race([link.closed, sleep(3000)])
    link.ws.terminate()

    await sleep(1000)
    const after = await lists()
    assert.ok(
      after.every(l => l.members.every(n => n === 7)),
      `members unchanged: ${after.map(l => l.members)}`,
    )
    for (const p of processes) p.send({cmd: 'sendAll', targets: ids, tag: 'after-attack'})
    let stats = []
    await poll(async () => {
      stats = await Promise.all(processes.map(p => p.ask({cmd: 'stats', tag: 'after-attack'}, 'stats')))
      return stats.reduce((sum, s) => sum + s.got, 0) >= 56
    }, 20_000)
    assert.equal(
      stats.reduce((sum, s) => sum + s.got, 0),
      56,
    )
    assert.equal(
      stats.reduce((sum, s) => sum + s.bad, 0),
      0,
    )
    for (const p of processes) assert.ok(!p.reports.some(r => r.kind === 'unhandled'), 'no unhandled rejection')
    const received = processes.flatMap(p => p.reports.filter(r => r.kind === 'received'))
    assert.equal(received.length, 0, 'no forged message was delivered')
  })
})
