// The diagnostics hint (src/core/stats.ts) is a pure function of a peer's facts; readStats
// turns a getStats() report into those facts. Fixtures: stats Chromium reported here
// (test/unit/fixtures/stats-*.json: host candidates on this machine, and a relay-only
// connection through the local TURN server of test/servers/hostile-turn.mjs), and facts
// written for the cases a machine without NAT cannot produce.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {candidateTypesOf, peerHint, readStats} from '../../dist/lib/core/stats.js'

const fixture = name => JSON.parse(readFileSync(new URL(`./fixtures/stats-${name}.json`, import.meta.url), 'utf8'))

/** Facts as getPeerStats builds them, from a report and what the room knows. */
const facts = (report, extra = {}) => ({
  peerId: 'peer',
  state: 'connected',
  iceState: 'connected',
  localCandidateTypes: ['host'],
  remoteCandidateTypes: ['host'],
  turnConfigured: false,
  relayOnly: false,
  ...readStats(report),
  ...extra,
})

const candidate = (type, address = '203.0.113.7') => ({type, protocol: 'udp', address, port: 5000})
const connected = (local, remote, extra = {}) => ({
  peerId: 'peer',
  state: 'connected',
  iceState: 'connected',
  local,
  remote,
  bytesSent: 0,
  bytesReceived: 0,
  localCandidateTypes: [local.type],
  remoteCandidateTypes: [remote.type],
  turnConfigured: false,
  relayOnly: false,
  ...extra,
})
const failed = extra => ({
  peerId: 'peer',
  state: 'failed',
  iceState: 'failed',
  bytesSent: 0,
  bytesReceived: 0,
  localCandidateTypes: [],
  remoteCandidateTypes: [],
  turnConfigured: false,
  relayOnly: false,
  ...extra,
})

test('readStats: the selected pair of a real host connection (the transport names it), its RTT and byte counters', () => {
  const read = readStats(fixture('host'))
  assert.equal(read.local.type, 'host')
  assert.equal(read.remote.type, 'host')
  assert.equal(read.local.protocol, 'udp')
  assert.equal(read.local.address, 'fd00::2', 'the pair the transport selected, not the other one that is waiting')
  assert.equal(read.rttMs, 7)
  assert.equal(read.bytesSent, 107330)
  assert.ok(read.bytesReceived > 0)
  assert.equal(read.media, undefined, 'no media: no loss figures')
})

test('readStats: a relay-only connection through the local TURN server', () => {
  const read = readStats(fixture('turn'))
  assert.equal(read.local.type, 'relay')
  assert.equal(read.remote.type, 'relay')
  assert.equal(read.local.relayProtocol, 'udp')
  assert.match(read.local.url, /^turn:127\.0\.0\.1:\d+/)
  assert.equal(read.rttMs, 15)
})

test('readStats: a Firefox-style report (no transport, the pair marked selected) and inbound media loss summed over tracks', () => {
  const read = readStats([
    {
      id: 'p1',
      type: 'candidate-pair',
      state: 'succeeded',
      nominated: true,
      localCandidateId: 'l1',
      remoteCandidateId: 'r1',
      bytesSent: 1,
      bytesReceived: 1,
    },
    {
      id: 'p2',
      type: 'candidate-pair',
      selected: true,
      localCandidateId: 'l2',
      remoteCandidateId: 'r2',
      bytesSent: 10,
      bytesReceived: 20,
      totalRoundTripTime: 0.3,
      responsesReceived: 3,
    },
    {id: 'l2', type: 'local-candidate', candidateType: 'srflx', protocol: 'udp', address: '198.51.100.1', port: 1},
    {id: 'r2', type: 'remote-candidate', candidateType: 'prflx', protocol: 'udp', address: '198.51.100.2', port: 2},
    {id: 'a', type: 'inbound-rtp', kind: 'audio', packetsReceived: 900, packetsLost: 50},
    {id: 'v', type: 'inbound-rtp', kind: 'video', packetsReceived: 1000, packetsLost: 50},
  ])
  assert.equal(read.local.type, 'srflx')
  assert.equal(read.remote.type, 'prflx')
  assert.equal(read.bytesSent, 10)
  assert.equal(read.bytesReceived, 20)
  assert.ok(Math.abs(read.rttMs - 100) < 1e-9)
  assert.deepEqual(read.media, {packetsReceived: 1900, packetsLost: 100, lossFraction: 0.05})
})

test('readStats: an empty or strange report gives no pair and zero bytes, never an exception', () => {
  assert.deepEqual(readStats([]), {
    local: undefined,
    remote: undefined,
    rttMs: undefined,
    bytesSent: 0,
    bytesReceived: 0,
    media: undefined,
  })
  const odd = readStats([{type: 'transport', selectedCandidatePairId: 'gone', bytesSent: 'x'}, null].filter(Boolean))
  assert.equal(odd.local, undefined)
  assert.equal(odd.bytesSent, 0)
})

test('candidateTypesOf: the candidate types an SDP offers, each once', () => {
  const sdp = [
    'v=0',
    'a=candidate:1 1 udp 2113937151 192.0.2.2 5000 typ host generation 0',
    'a=candidate:2 1 udp 2113939711 fd00::2 5001 typ host generation 0',
    'a=candidate:3 1 udp 41885439 127.0.0.1 6000 typ relay raddr 0.0.0.0 rport 0',
    'a=candidate:4 1 udp 1677729535 198.51.100.1 7000 typ srflx raddr 192.0.2.2 rport 5000',
  ].join('\r\n')
  assert.deepEqual(candidateTypesOf(sdp), ['host', 'srflx', 'relay'])
  assert.deepEqual(candidateTypesOf(undefined), [])
})

test('hint: host to host on this machine says "connected directly on your local network"', () => {
  const hint = peerHint(facts(fixture('host')))
  assert.equal(hint.kind, 'direct-local')
  assert.match(hint.hint, /^Connected directly on your local network\.$/)
})

test('hint: the real TURN connection says the peer reaches you only through TURN, naming the server and the relay-only policy', () => {
  const hint = peerHint(
    facts(fixture('turn'), {
      localCandidateTypes: ['relay'],
      remoteCandidateTypes: ['relay'],
      turnConfigured: true,
      relayOnly: true,
    }),
  )
  assert.equal(hint.kind, 'turn')
  assert.match(hint.hint, /^This peer reaches you only through TURN \(both sides use a TURN server\)/)
  assert.match(hint.hint, /relayed paths only/)
})

test('hint: relayed on one side only names which side relays', () => {
  const mine = peerHint(
    connected({...candidate('relay', '198.51.100.9'), url: 'turn:turn.example.com:3478'}, candidate('srflx')),
  )
  assert.equal(mine.kind, 'turn')
  assert.match(mine.hint, /only through TURN \(through your TURN server \(turn:turn\.example\.com:3478\)\)/)
  const theirs = peerHint(connected(candidate('srflx'), candidate('relay')))
  assert.match(theirs.hint, /through its TURN server/)
})

test('hint: through NAT, still peer to peer', () => {
  for (const [local, remote] of [
    ['srflx', 'srflx'],
    ['host', 'srflx'],
    ['prflx', 'host'],
  ]) {
    const hint = peerHint(connected(candidate(local), candidate(remote, '198.51.100.3')))
    assert.equal(hint.kind, 'direct-nat', `${local}/${remote}`)
    assert.match(hint.hint, /peer to peer through NAT/)
  }
})

test('hint: host to host on public addresses of different networks is direct, not "local network"', () => {
  const hint = peerHint(connected(candidate('host', '203.0.113.7'), candidate('host', '198.51.100.3')))
  assert.equal(hint.kind, 'direct-local')
  assert.match(hint.hint, /neither side is behind NAT/)
  const lan = peerHint(connected(candidate('host', '192.168.1.4'), candidate('host', '192.168.1.9')))
  assert.match(lan.hint, /local network/)
})

test('hint: no TURN configured and the connection failed', () => {
  const hint = peerHint(failed({localCandidateTypes: ['host'], remoteCandidateTypes: ['host', 'srflx']}))
  assert.equal(hint.kind, 'failed-no-turn')
  assert.match(hint.hint, /^No TURN configured and the connection failed/)
  assert.match(hint.hint, /config\.turnConfig/)
})

test('hint: TURN configured but it gave no relay address, or it did and the connection still failed', () => {
  const unreachable = peerHint(failed({turnConfigured: true, localCandidateTypes: ['host']}))
  assert.equal(unreachable.kind, 'failed-turn-unreachable')
  assert.match(unreachable.hint, /URL, username and credential/)
  const stillFailed = peerHint(failed({turnConfigured: true, relayOnly: true, localCandidateTypes: ['relay']}))
  assert.equal(stillFailed.kind, 'failed')
  assert.match(stillFailed.hint, /even through TURN/)
})

test('hint: connecting (warning when relay-only without TURN), and reconnecting after the path dropped', () => {
  const base = {
    peerId: 'p',
    iceState: 'checking',
    bytesSent: 0,
    bytesReceived: 0,
    localCandidateTypes: [],
    remoteCandidateTypes: [],
  }
  assert.deepEqual(peerHint({...base, state: 'connecting', turnConfigured: false, relayOnly: false}), {
    kind: 'connecting',
    hint: 'Connecting…',
  })
  assert.match(peerHint({...base, state: 'connecting', turnConfigured: false, relayOnly: true}).hint, /will fail/)
  const down = peerHint({
    ...base,
    state: 'disconnected',
    iceState: 'disconnected',
    turnConfigured: false,
    relayOnly: false,
  })
  assert.equal(down.kind, 'reconnecting')
})

test('hint: media loss above 5% and a round trip above 300 ms add a sentence each; small ones add nothing', () => {
  const path = [candidate('host', '192.168.1.4'), candidate('host', '192.168.1.9')]
  const lossy = peerHint(
    connected(...path, {media: {packetsReceived: 900, packetsLost: 100, lossFraction: 0.1}, rttMs: 450}),
  )
  assert.equal(lossy.kind, 'direct-local')
  assert.equal(
    lossy.hint,
    'Connected directly on your local network. Media is losing 10% of its packets: expect choppy audio or video. The round trip is slow (450 ms).',
  )
  const fine = peerHint(
    connected(...path, {media: {packetsReceived: 990, packetsLost: 10, lossFraction: 0.01}, rttMs: 20}),
  )
  assert.equal(fine.hint, 'Connected directly on your local network.')
})

test('hint: pure, the same facts give the same words, and the facts are not changed', () => {
  const input = facts(fixture('turn'), {turnConfigured: true})
  const copy = structuredClone(input)
  assert.deepEqual(peerHint(input), peerHint(copy))
  assert.deepEqual(input, copy)
})
