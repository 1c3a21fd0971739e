// Where a join's time goes, stage by stage, and how fast a leave -> rejoin meets again.
//
// Two pages, each in its own browser context (nothing shared, as two users), join one room
// at the same moment with `rtcConfig: {iceServers: []}` and `relayRedundancy: 1`, on:
//   nostr-stock  a stock @nostr-relay/core relay (its own fan-out, which ignores tag filters)
//   nostr-ours   our relay (scripts/relays/nostr-relay.mjs: fan-out by filter)
//   mqtt         aedes, as it ships
//   torrent      bittorrent-tracker, as it ships
// Everything is observed from outside the core, so the figures do not depend on its code:
// crypto.subtle is wrapped (key derivation), WebSocket (relay socket open), the strategy's
// Signaling publish/subscribe (first announce out, first relay message in, each message
// kind), and RTCPeerConnection through `rtcPolyfill` (offer, answer, ICE, channel open).
// Each stage is the time from joinRoom on the page where the stage happens (the later
// page when both have it); the figure printed is the median over the runs.
//
// Rejoin: two pages meet, then one leaves and joins again at once, 20 rounds, the page that
// rejoins alternating so both id orders are measured; time from the rejoin call until both
// sides see each other again (median, max, and rounds that never met within 15 s).
//
//   node bench/join-stages.mjs     (BENCH_ONLY=mqtt,nostr-ours; BENCH_JOIN_RUNS=7; BENCH_REJOIN_ROUNDS=20;
//                                   BENCH_TRACE=1 every step of both pages; BENCH_PROFILE=1 a CPU profile of each page)
import {createServer} from 'node:http'
import os from 'node:os'
import {fileURLToPath} from 'node:url'
import {dirname, join} from 'node:path'
import * as esbuild from 'esbuild'
import {WebSocketServer} from 'ws'
import {NostrRelay} from '@nostr-relay/core'
import {EventRepository, LogLevel} from '@nostr-relay/common'
import {Validator} from '@nostr-relay/validator'
import {formatJoins, formatTable, launch, median, summarizeMs} from './browser.mjs'
import {browserBundle} from '../scripts/bundle-options.mjs'
import {listen, stopper} from '../scripts/relays/listen.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Joins per relay: enough for a stable median, few enough to keep `npm run bench` short. */
const joinRuns = Number(process.env.BENCH_JOIN_RUNS) || 7
/** Leave -> rejoin rounds per relay, as the issue asks. */
const rejoinRounds = Number(process.env.BENCH_REJOIN_ROUNDS) || 20
/** A join or rejoin that has not met by then counts as failed (and the run goes on). */
const meetTimeoutMs = 15_000

/** Stages in the order a join goes through them: [key in the page's record, label]. */
const stages = [
  ['key', 'key derivation'],
  ['socketNew', 'relay socket created'],
  ['socket', 'relay socket open'],
  ['announce', 'first announce out'],
  ['relayIn', 'first relay message in'],
  ['offerOut', 'offer sent (initiator)'],
  ['offerIn', 'offer in (responder)'],
  ['answerOut', 'answer sent (responder)'],
  ['answerIn', 'answer applied (initiator)'],
  ['ice', 'ICE connected'],
  ['channel', 'channel open'],
  ['join', 'onPeerJoin'],
]

/** A stock @nostr-relay/core relay: no fan-out of ours, ephemeral events only need no store. */
class NoStore extends EventRepository {
  isSearchSupported = () => false
  upsert = () => ({isDuplicate: false})
  find = () => []
  deleteByDeletionRequest = async () => {}
  destroy = async () => {}
}
const startStockNostr = async () => {
  const relay = new NostrRelay(new NoStore(), {logLevel: LogLevel.ERROR})
  const validator = new Validator()
  const server = createServer((_, response) => response.writeHead(426).end())
  const wss = new WebSocketServer({server, maxPayload: 256 * 1024})
  wss.on('connection', (socket, request) => {
    relay.handleConnection(socket, request.socket.remoteAddress)
    socket.on('message', async data => {
      try {
        await relay.handleMessage(socket, await validator.validateIncomingMessage(data))
      } catch (error) {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(['NOTICE', `invalid: ${error.message}`]))
      }
    })
    socket.on('error', () => socket.terminate())
    socket.on('close', () => relay.handleDisconnect(socket))
  })
  const port = await listen(server, 0)
  return {url: `ws://127.0.0.1:${port}`, stop: stopper({server, wss, after: () => relay.destroy()})}
}

const fromTestServer = name => async () => (await import(`../test/servers/${name}.mjs`)).start()

const allRelays = [
  {name: 'nostr-stock', strategy: 'nostr', start: startStockNostr},
  {name: 'nostr-ours', strategy: 'nostr', start: fromTestServer('nostr')},
  {name: 'mqtt', strategy: 'mqtt', start: fromTestServer('mqtt')},
  {name: 'torrent', strategy: 'torrent', start: fromTestServer('tracker')},
]
const relays = process.env.BENCH_ONLY
  ? allRelays.filter(({name}) => process.env.BENCH_ONLY.split(',').includes(name))
  : allRelays

// The page: instruments before importing the library, then exposes join/leave/record.
const page = `<!doctype html><meta charset="utf-8"><script type="module">
  const now = () => performance.timeOrigin + performance.now()
  let marks = {}, start = 0, connections = 0
  const mark = name => (marks[name] ??= now() - start)
  // BENCH_TRACE: every step with its wall time, to see the critical path across both pages.
  let trace = []
  const note = (what, ms) => trace.push([now(), what, ms])
  try {
    new PerformanceObserver(list => { for (const e of list.getEntries()) trace.push([performance.timeOrigin + e.startTime, 'longtask', Math.round(e.duration)]) })
      .observe({type: 'longtask', buffered: false})
  } catch {}
  for (const method of ['sign', 'verify', 'encrypt', 'decrypt', 'digest', 'importKey', 'generateKey']) {
    const original = crypto.subtle[method].bind(crypto.subtle)
    crypto.subtle[method] = async (...args) => {
      const t0 = now()
      try { return await original(...args) } finally { note('subtle.' + method, Math.round((now() - t0) * 10) / 10) }
    }
  }

  // Key derivation: PBKDF2/HKDF through WebCrypto (deriveKey or deriveBits).
  const subtle = crypto.subtle
  for (const method of ['deriveKey', 'deriveBits']) {
    const original = subtle[method].bind(subtle)
    subtle[method] = async (...args) => {
      const result = await original(...args)
      mark('key')
      return result
    }
  }
  // Relay sockets.
  const NativeWebSocket = WebSocket
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args)
      mark('socketNew')
      note('ws new')
      this.addEventListener('open', () => (mark('socket'), note('ws open')))
      this.addEventListener('message', event => note('ws in ' + String(event.data).slice(0, 24)))
    }
    send(data) {
      note('ws out ' + String(data).slice(0, 24))
      super.send(data)
    }
  }
  // Peer connections, through rtcPolyfill.
  class RTC extends RTCPeerConnection {
    constructor(...args) {
      super(...args)
      connections++
      note('pc new')
      this.addEventListener('icecandidate', event => note('candidate ' + (event.candidate?.type ?? 'end')))
      this.addEventListener('connectionstatechange', () => note('pc ' + this.connectionState))
      this.addEventListener('iceconnectionstatechange', () =>
        ['connected', 'completed'].includes(this.iceConnectionState) && mark('ice'))
      this.addEventListener('connectionstatechange', () => this.connectionState === 'closed' && connections--)
    }
    createDataChannel(...args) {
      const channel = super.createDataChannel(...args)
      channel.addEventListener('open', () => (mark('channel'), note('channel open')))
      return channel
    }
    async createOffer(...args) { const t0 = now(); const r = await super.createOffer(...args); note('createOffer', Math.round(now() - t0)); return r }
    async createAnswer(...args) { const t0 = now(); const r = await super.createAnswer(...args); note('createAnswer', Math.round(now() - t0)); return r }
    async setLocalDescription(...args) { const t0 = now(); await super.setLocalDescription(...args); note('setLocal', Math.round(now() - t0)) }
    async setRemoteDescription(description) {
      const t0 = now()
      await super.setRemoteDescription(description)
      note('setRemote ' + description?.type, Math.round(now() - t0))
      mark(description?.type === 'offer' ? 'offerIn' : 'answerIn')
    }
    close() {
      if (this.connectionState !== 'closed') connections--
      super.close()
    }
  }

  const lib = await import('./' + new URLSearchParams(location.search).get('strategy') + '.js')
  // The strategy's Signaling, wrapped: what goes out and what comes in, by message kind.
  const published = new Set()
  const kindOf = text => { try { return JSON.parse(text)?.t } catch { return undefined } }
  const strategy = {
    ...lib.strategy,
    connect: (config, context) => {
      const signaling = lib.strategy.connect(config, context)
      return {
        subscribe: (topic, onMessage) => signaling.subscribe(topic, text => {
          if (!published.has(text)) mark('relayIn'), note('in ' + kindOf(text)) // not our own echo
          onMessage(text)
        }),
        publish: (topic, text) => {
          published.add(text)
          note('out ' + kindOf(text))
          if (topic === context.roomTopic) mark('announce')
          const kind = kindOf(text)
          if (kind === 'offer') mark('offerOut')
          if (kind === 'answer') mark('answerOut')
          signaling.publish(topic, text)
        },
        close: () => signaling.close(),
      }
    },
  }
  const joinRoom = lib.createJoinRoom(strategy)
  const identity = lib.createIdentity ? await lib.createIdentity() : undefined
  let room
  window.join = (config, roomId) => {
    marks = {}
    trace = []
    start = now()
    note('joinRoom')
    room = joinRoom({...config, rtcPolyfill: RTC, ...(identity ? {identity} : {})}, roomId)
    window.seen = new Set()
    room.onPeerJoin(id => { mark('join'); note('onPeerJoin'); window.metAt = now(); window.seen.add(id); changed() })
    room.onPeerLeave(id => { window.seen.delete(id); changed() })
    return start
  }
  window.record = () => marks
  window.trace = () => trace
  window.met = () => window.seen?.size === 1
  // Waiting is event-driven: a CDP poll every few ms would load the very pages being timed.
  const waiters = new Set()
  const changed = () => { for (const waiter of waiters) waiter() }
  window.until = (peers, ms) => new Promise(resolve => {
    const done = result => { waiters.delete(check); clearTimeout(timer); resolve(result) }
    const check = () => (window.seen?.size ?? 0) === peers && done(true)
    const timer = setTimeout(() => done(false), ms)
    waiters.add(check)
    check()
  })
  window.peerIds = () => Object.keys(room?.getPeers() ?? {})
  window.connections = () => connections
  window.leave = () => room?.leave()
  // The yardstick: two connections in this page, offer and answer handed over directly (no
  // relay, no library), until both channels are open. It tells how fast this machine does
  // WebRTC right now, so a join figure can be read against the load it was measured under.
  window.yardstick = async () => {
    const t0 = performance.now()
    const [a, b] = [new RTCPeerConnection({iceServers: []}), new RTCPeerConnection({iceServers: []})]
    a.onicecandidate = e => e.candidate && b.addIceCandidate(e.candidate).catch(() => {})
    b.onicecandidate = e => e.candidate && a.addIceCandidate(e.candidate).catch(() => {})
    const open = channel => new Promise(resolve => channel.addEventListener('open', resolve))
    const opened = Promise.all([a, b].map(pc => open(pc.createDataChannel('y', {negotiated: true, id: 0}))))
    await a.setLocalDescription(await a.createOffer())
    await b.setRemoteDescription(a.localDescription)
    await b.setLocalDescription(await b.createAnswer())
    await a.setRemoteDescription(b.localDescription)
    await opened
    a.close(), b.close()
    return performance.now() - t0
  }
  window.ready = true
</script>`

// The floor: what two isolated pages need on this machine, right now, to open a channel through
// a relay with nothing of ours: a bare WebSocket fan-out relay (no signatures, no crypto), the
// offer's connection made before the socket opens, candidates trickled. Whoever hears the other's
// hello (or its reply) offers if its id sorts lower. A join's median over this floor's is what
// our library, the relay's own checks and its client cost.
const floorPage = `<script>
window.floor = port => new Promise(resolve => {
  const t0 = performance.now()
  const id = Math.random().toString(36).slice(2)
  const make = () => {
    const made = new RTCPeerConnection({iceServers: []})
    made.createDataChannel('floor', {negotiated: true, id: 0}).onopen = () => resolve(performance.now() - t0)
    // Candidates from before the offer are in its SDP; later ones are trickled.
    made.onicecandidate = event => event.candidate && pc === made && send({t: 'candidate', candidate: event.candidate.toJSON()})
    return made
  }
  const ahead = make()
  ahead.setLocalDescription()
  let pc
  const ws = new WebSocket('ws://127.0.0.1:' + port)
  const send = message => ws.readyState === 1 && ws.send(JSON.stringify({from: id, ...message}))
  ws.onopen = () => send({t: 'hello'})
  ws.onmessage = async event => {
    const m = JSON.parse(event.data)
    if (m.from === id) return
    if (m.t === 'hello') send({t: 'reply'})
    if ((m.t === 'hello' || m.t === 'reply') && id < m.from && !pc) {
      pc = ahead
      await pc.setLocalDescription()
      send({t: 'offer', sdp: pc.localDescription.sdp})
    }
    if (m.t === 'offer') {
      ahead.close()
      pc = make()
      await pc.setRemoteDescription({type: 'offer', sdp: m.sdp})
      await pc.setLocalDescription()
      send({t: 'answer', sdp: pc.localDescription.sdp})
    }
    if (m.t === 'answer') await pc.setRemoteDescription({type: 'answer', sdp: m.sdp})
    if (m.t === 'candidate') await pc?.addIceCandidate(m.candidate).catch(() => {})
  }
})
window.ready = true
</script>`

const startFloorRelay = async () => {
  const server = createServer((_, response) => response.writeHead(426).end())
  const wss = new WebSocketServer({server})
  wss.on('connection', socket =>
    socket.on('message', data => {
      for (const client of wss.clients) client.send(String(data))
    }),
  )
  const port = await listen(server, 0)
  return {port, stop: stopper({server, wss})}
}

/** Floor joins: fresh isolated pages each run, as the joins; ms until both channels are open. */
const runFloor = async (browser, url) => {
  const relay = await startFloorRelay()
  const times = []
  try {
    for (let i = 0; i < joinRuns; i++) {
      const pages = [await openIsolated(browser, `${url}floor`), await openIsolated(browser, `${url}floor`)]
      const both = await Promise.race([
        Promise.all(pages.map(({tab}) => tab.evaluate(port => window.floor(port), relay.port))),
        new Promise(resolve => setTimeout(resolve, meetTimeoutMs)),
      ])
      if (both) times.push(Math.max(...both))
      for (const {close} of pages) await close()
    }
  } finally {
    await relay.stop()
  }
  return summarizeMs(times)
}

/** Serves the page and, per strategy, a bundle of the strategy plus the core's createJoinRoom. */
const serveBundles = async () => {
  const bundles = {}
  for (const strategy of new Set(relays.map(relay => relay.strategy))) {
    const result = await esbuild.build({
      ...browserBundle,
      stdin: {
        contents: `export * from './src/strategies/${strategy}.ts'\nexport {createJoinRoom, createIdentity} from './src/core/index.ts'`,
        resolveDir: root,
        loader: 'ts',
      },
      write: false,
      // BENCH_PROFILE reads function names off the profile.
      ...(process.env.BENCH_PROFILE ? {minify: false, keepNames: true} : {}),
    })
    bundles[`/${strategy}.js`] = result.outputFiles[0].text
  }
  const server = createServer((request, response) => {
    const script = bundles[new URL(request.url, 'http://x').pathname]
    response.writeHead(200, {'content-type': script ? 'text/javascript' : 'text/html'})
    response.end(script ?? (request.url === '/floor' ? floorPage : page))
  })
  await new Promise(done => server.listen(0, '127.0.0.1', done))
  return {url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close()}
}

/** A page in a browser context of its own. */
const openIsolated = async (browser, url) => {
  const context = await browser.createBrowserContext()
  const tab = await context.newPage()
  tab.on('pageerror', error => console.error('page error:', error.message))
  await tab.goto(url)
  await tab.waitForFunction('window.ready === true')
  return {tab, close: () => context.close()}
}

const waitMet = (tab, ms = meetTimeoutMs) => tab.evaluate(ms => window.until(1, ms), ms).catch(() => false)

/** Both pages' steps in one timeline, ms from the earlier joinRoom (BENCH_TRACE=1). */
const printTrace = (name, run, traces) => {
  const zero = Math.min(...traces.map(trace => trace.find(([, what]) => what === 'joinRoom')?.[0] ?? Infinity))
  const rows = traces.flatMap((trace, page) => trace.map(([t, what, ms]) => [t - zero, page, what, ms]))
  rows.sort((a, b) => a[0] - b[0])
  console.log(`trace ${name} run ${run}:`)
  for (const [t, page, what, ms] of rows)
    console.log(
      `  ${t.toFixed(1).padStart(8)} ${page ? '        ' : ''}${page ? 'B' : 'A'} ${what}${ms !== undefined ? ` (${ms} ms)` : ''}`,
    )
}

/** BENCH_PROFILE=1: a CPU profile of each page from just before joinRoom until it met (CDP Profiler). */
const startProfile = async tab => {
  const session = await tab.createCDPSession()
  await session.send('Profiler.enable')
  await session.send('Profiler.setSamplingInterval', {interval: 200})
  await session.send('Profiler.start')
  return async () => {
    const {profile} = await session.send('Profiler.stop')
    await session.detach()
    return profile
  }
}
/** Self time by function, and the busiest stretches, of one profile. */
const printProfile = (label, {nodes, samples, timeDeltas, startTime}) => {
  const byId = new Map(nodes.map(node => [node.id, node]))
  const self = new Map()
  const parent = new Map()
  for (const node of nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const total = new Map()
  let t = startTime
  const busy = []
  for (let k = 0; k < samples.length; k++) {
    t += timeDeltas[k]
    const node = byId.get(samples[k])
    const name = `${node.callFrame.functionName || '(anon)'} ${node.callFrame.url.split('/').pop()}:${node.callFrame.lineNumber}`
    const dt = (timeDeltas[k + 1] ?? 0) / 1000
    self.set(name, (self.get(name) ?? 0) + dt)
    if (!['(idle)', '(program)', '(garbage collector)'].includes(node.callFrame.functionName)) busy.push(t / 1000)
    const names = new Set()
    for (let id = samples[k]; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id).callFrame
      names.add(`${f.functionName || '(anon)'} ${f.url.split('/').pop()}:${f.lineNumber}`)
    }
    for (const n of names) total.set(n, (total.get(n) ?? 0) + dt)
  }
  const top = map => [...map].sort((a, b) => b[1] - a[1]).slice(0, 25)
  console.log(`profile ${label}: ${((t - startTime) / 1000).toFixed(0)} ms, self time:`)
  for (const [n, ms] of top(self)) console.log(`  ${ms.toFixed(1).padStart(7)} ${n}`)
  console.log('  total (inclusive):')
  for (const [n, ms] of top(total)) console.log(`  ${ms.toFixed(1).padStart(7)} ${n}`)
}

const loadNow = () => os.loadavg()[0].toFixed(1)

const runJoins = async (browser, url, relayUrl, name) => {
  const runs = []
  const yardsticks = []
  let failed = 0
  for (let i = 0; i < joinRuns; i++) {
    const pages = [await openIsolated(browser, url), await openIsolated(browser, url)]
    const config = {appId: 'p2p-elements-bench', relayUrls: [relayUrl], relayRedundancy: 1, rtcConfig: {iceServers: []}}
    const roomId = `bench-stages-${name}-${i}-${Math.random().toString(36).slice(2, 8)}`
    const profilers = process.env.BENCH_PROFILE ? await Promise.all(pages.map(({tab}) => startProfile(tab))) : []
    await Promise.all(pages.map(({tab}) => tab.evaluate((c, r) => window.join(c, r), config, roomId)))
    const met = (await Promise.all(pages.map(({tab}) => waitMet(tab)))).every(Boolean)
    for (const [page, stop] of profilers.entries()) printProfile(`${name} run ${i} page ${'AB'[page]}`, await stop())
    const records = await Promise.all(pages.map(({tab}) => tab.evaluate(() => window.record())))
    if (process.env.BENCH_TRACE)
      printTrace(name, i, await Promise.all(pages.map(({tab}) => tab.evaluate(() => window.trace()))))
    if (met) {
      const run = {}
      for (const [key] of stages) {
        const times = records.map(record => record[key]).filter(t => t !== undefined)
        if (times.length) run[key] = Math.max(...times)
      }
      runs.push(run)
    } else failed++
    await Promise.all(pages.map(({tab}) => tab.evaluate(() => window.leave())))
    yardsticks.push(await pages[0].tab.evaluate(() => window.yardstick()))
    await Promise.all(pages.map(page => page.close()))
  }
  const breakdown = {}
  for (const [key] of stages) {
    const times = runs.map(run => run[key]).filter(t => t !== undefined)
    if (times.length) breakdown[key] = Math.round(median(times))
  }
  return {
    breakdown,
    runs: runs.length,
    failed,
    joins: runs.map(run => Math.round(run.join)),
    yardstickMs: Math.round(median(yardsticks)),
    load: loadNow(),
  }
}

const runRejoins = async (browser, url, relayUrl, name) => {
  const pages = [await openIsolated(browser, url), await openIsolated(browser, url)]
  const config = {appId: 'p2p-elements-bench', relayUrls: [relayUrl], relayRedundancy: 1, rtcConfig: {iceServers: []}}
  const roomId = `bench-rejoin-${name}-${Math.random().toString(36).slice(2, 8)}`
  const times = []
  let missed = 0
  let leftOpen = 0
  try {
    await Promise.all(pages.map(({tab}) => tab.evaluate((c, r) => window.join(c, r), config, roomId)))
    if (!(await Promise.all(pages.map(({tab}) => waitMet(tab)))).every(Boolean)) return {error: 'first join never met'}
    for (let round = 0; round < rejoinRounds; round++) {
      const [mover, stayer] = round % 2 ? pages : [pages[1], pages[0]]
      await mover.tab.evaluate(() => window.leave())
      // The stayer sees the leave (a goodbye frame) before the mover is back.
      await stayer.tab.evaluate(ms => window.until(0, ms), meetTimeoutMs).catch(() => {})
      const started = await mover.tab.evaluate((c, r) => window.join(c, r), config, roomId)
      const met = (await Promise.all([waitMet(mover.tab), waitMet(stayer.tab)])).every(Boolean)
      if (!met) {
        missed++
        continue
      }
      const both = await Promise.all(pages.map(({tab}) => tab.evaluate(() => window.metAt)))
      times.push(Math.max(...both) - started)
      const open = await Promise.all(pages.map(({tab}) => tab.evaluate(() => window.connections())))
      leftOpen = Math.max(leftOpen, ...open.map(n => n - 1))
    }
  } finally {
    await Promise.all(pages.map(({tab}) => tab.evaluate(() => window.leave()).catch(() => {})))
    await Promise.all(pages.map(page => page.close()))
  }
  return {
    rounds: rejoinRounds,
    met: times.length,
    missed,
    medianMs: times.length ? Math.round(median(times)) : undefined,
    maxMs: times.length ? Math.round(Math.max(...times)) : undefined,
    extraConnections: leftOpen,
  }
}

export async function runJoinStagesBench() {
  const site = await serveBundles()
  const browser = await launch()
  const results = {}
  try {
    results.floor = await runFloor(browser, site.url)
    for (const relay of relays) {
      const server = await relay.start()
      const url = `${site.url}?strategy=${relay.strategy}`
      try {
        results[relay.name] = {
          join: await runJoins(browser, url, server.url, relay.name),
          rejoin: await runRejoins(browser, url, server.url, relay.name),
        }
      } finally {
        await server.stop()
      }
    }
  } finally {
    await browser.close()
    site.close()
  }
  return results
}

export const print = results => {
  const {floor} = results
  const names = Object.keys(results).filter(name => name !== 'floor')
  console.log(
    `join stage breakdown: ms from joinRoom, median of ${joinRuns} runs, two isolated pages joining at once, ` +
      'iceServers [], relayRedundancy 1',
  )
  console.log(
    formatTable('stage', [...stages, ['runs', 'runs met / failed']], names, (name, key) =>
      key === 'runs' ? `${results[name].join.runs}/${results[name].join.failed}` : results[name].join.breakdown[key],
    ),
  )
  console.log(
    'joins, joinRoom -> onPeerJoin on both pages; yardstick: two connections in one page, no relay, to channel open (same run):',
  )
  for (const name of names) {
    const {joins, yardstickMs, load} = results[name].join
    if (!joins.length) continue
    const summary = summarizeMs(joins)
    const overFloor = floor.medianMs ? `, join/floor ${(summary.medianMs / floor.medianMs).toFixed(2)}` : ''
    console.log(
      `${formatJoins(name, summary, 12)}   yardstick ${yardstickMs} ms, join/yardstick ${(summary.medianMs / yardstickMs).toFixed(1)}${overFloor}, load ${load}`,
    )
  }
  console.log(
    'floor: the same two isolated pages with nothing of ours (bare fan-out relay, no crypto, offer made ahead, trickled ICE), to channel open:',
  )
  console.log(formatJoins('floor', floor, 12))
  console.log(`rejoin: leave -> rejoin -> both sides see each other again, ${rejoinRounds} rounds, both id orders:`)
  for (const name of names) {
    const r = results[name].rejoin
    if (r.error) console.log(`  ${name.padEnd(12)} ${r.error}`)
    else
      console.log(
        `  ${name.padEnd(12)} median ${String(r.medianMs ?? '-').padStart(5)} ms   max ${String(r.maxMs ?? '-').padStart(5)} ms   ` +
          `met ${r.met}/${r.rounds}${r.missed ? `, ${r.missed} never met within ${meetTimeoutMs / 1000} s` : ''}` +
          `${r.extraConnections ? `, up to ${r.extraConnections} extra RTCPeerConnection(s) left open` : ''}`,
      )
  }
}

if (import.meta.url === `file://${process.argv[1]}`) print(await runJoinStagesBench())
