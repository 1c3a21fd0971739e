// The relay strategies (nostr, mqtt, torrent) on their local test servers, in headless
// Chromium:
// - time from joinRoom to onPeerJoin: two fresh pages join a room at once (so each join
//   includes connecting to the relay); median of several joins;
// - relay messages each connected peer publishes: three peers connect, then the servers
//   count what the room's topics receive over a window (GET /stats, see test/servers/).
//
// The steady-state rate is one announce per peer per `announceMaxIntervalMs` (60 s by
// default). Measuring that at the defaults takes minutes (the backoff ramp alone is
// 2+4+8+16+32 s), so the rate runs with the ceiling scaled down (1 s) and reports messages
// per peer per ceiling period, which is the per-minute figure at the 60 s default. Set
// BENCH_FULL_RATE=1 to measure at the real defaults instead (about 4 minutes per strategy).
//
//   node bench/strategies.mjs            (BENCH_ONLY=nostr,mqtt for a subset)
import {createServer} from 'node:http'
import {fileURLToPath} from 'node:url'
import {dirname, join} from 'node:path'
import * as esbuild from 'esbuild'
import {formatJoins, launch, openPage, summarizeMs} from './browser.mjs'
import {browserBundle} from '../scripts/bundle-options.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Joins per strategy: enough for a stable median, few enough to keep the run short. */
const joinsPerStrategy = 7
/** Peers in the rate room: more than two, to show the rate does not grow per connected peer. */
const ratePeers = 3

const allStrategies = [
  {name: 'nostr', server: 'nostr'},
  {name: 'mqtt', server: 'mqtt'},
  {name: 'torrent', server: 'tracker'},
]
/** BENCH_ONLY=mqtt (comma-separated) runs only those. */
const strategies = process.env.BENCH_ONLY
  ? allStrategies.filter(({name}) => process.env.BENCH_ONLY.split(',').includes(name))
  : allStrategies

const page = `<!doctype html><meta charset="utf-8"><script type="module">
  const lib = await import('./' + new URLSearchParams(location.search).get('strategy') + '.js')
  let room
  window.join = (config, roomId) => new Promise(resolve => {
    const start = performance.now()
    room = lib.joinRoom(config, roomId)
    room.onPeerJoin(() => resolve(performance.now() - start))
  })
  window.peerCount = () => Object.keys(room?.getPeers() ?? {}).length
  window.leave = () => room?.leave()
  window.selfId = lib.selfId
  window.ready = true
</script>`

/** Serves the bench page and each strategy bundled from src/ (no build needed). */
const serveBundles = async () => {
  const bundles = {}
  for (const {name} of strategies) {
    const result = await esbuild.build({
      ...browserBundle,
      entryPoints: [join(root, `src/strategies/${name}.ts`)],
      write: false,
    })
    bundles[`/${name}.js`] = result.outputFiles[0].text
  }
  const server = createServer((request, response) => {
    const path = new URL(request.url, 'http://x').pathname
    const script = bundles[path]
    response.writeHead(200, {'content-type': script ? 'text/javascript' : 'text/html'})
    response.end(script ?? page)
  })
  await new Promise(done => server.listen(0, '127.0.0.1', done))
  return {url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close()}
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

const stats = async relayUrl => (await fetch(new URL('/stats', relayUrl.replace(/^ws/, 'http')))).json()

export async function runStrategyBench({
  joins = joinsPerStrategy,
  full = !!process.env.BENCH_FULL_RATE,
  // Scaled-down announce backoff for the rate (see the top of this file); the defaults with `full`.
  announceIntervalMs = full ? 2_000 : 100,
  announceMaxIntervalMs = full ? 60_000 : 1_000,
  windowMs = full ? 120_000 : 10_000,
} = {}) {
  const {roomTopicOf, topicOf} = await import('../dist/lib/core/index.js').catch(async () => {
    // Not built yet: bundle the two helpers we need from src/.
    const result = await esbuild.build({
      stdin: {contents: `export {roomTopicOf, topicOf} from './src/core/index.ts'`, resolveDir: root, loader: 'ts'},
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'neutral',
      logLevel: 'warning',
    })
    return import(`data:text/javascript,${encodeURIComponent(result.outputFiles[0].text)}`)
  })
  const site = await serveBundles()
  const browser = await launch()
  const results = {}
  try {
    for (const {name, server: serverName} of strategies) {
      const relay = await (await import(`../test/servers/${serverName}.mjs`)).start()
      const url = `${site.url}?strategy=${name}`
      const appId = 'p2p-elements-bench'
      try {
        // Time to onPeerJoin: fresh pages each round, so every join connects to the relay.
        const times = []
        for (let i = 0; i < joins; i++) {
          const tabs = [await openPage(browser, url), await openPage(browser, url)]
          const config = {appId, relayUrls: [relay.url], rtcConfig: {iceServers: []}}
          const roomId = `bench-${name}-${i}-${Math.random().toString(36).slice(2, 8)}`
          const both = await Promise.all(tabs.map(tab => tab.evaluate((c, r) => window.join(c, r), config, roomId)))
          times.push(Math.max(...both))
          await Promise.all(tabs.map(tab => tab.evaluate(() => window.leave())))
          await Promise.all(tabs.map(tab => tab.close()))
        }

        // Steady-state publish rate of connected peers.
        const tabs = []
        for (let i = 0; i < ratePeers; i++) tabs.push(await openPage(browser, url))
        const config = {
          appId,
          relayUrls: [relay.url],
          rtcConfig: {iceServers: []},
          announceIntervalMs,
          announceMaxIntervalMs,
        }
        const roomId = `bench-rate-${name}-${Math.random().toString(36).slice(2, 8)}`
        await Promise.all(tabs.map(tab => tab.evaluate((c, r) => window.join(c, r), config, roomId)))
        // Polling by interval: background tabs get no animation frames, puppeteer's default.
        for (const tab of tabs)
          await tab.waitForFunction(n => window.peerCount() === n, {timeout: 60_000, polling: 100}, ratePeers - 1)
        // Let the backoff reach its ceiling: the ramp sums to under twice the ceiling.
        await sleep(2 * announceMaxIntervalMs)
        const ids = await Promise.all(tabs.map(tab => tab.evaluate(() => window.selfId)))
        const topics = [
          await roomTopicOf(appId, roomId),
          ...(await Promise.all(ids.map(id => topicOf(appId, roomId, id)))),
        ]
        const count = async () => {
          const {byTopic} = await stats(relay.url)
          return topics.reduce((sum, topic) => sum + (byTopic[topic] ?? 0), 0)
        }
        const before = await count()
        const start = performance.now()
        await sleep(windowMs)
        const messages = (await count()) - before
        const elapsed = performance.now() - start
        const stillConnected = (await Promise.all(tabs.map(tab => tab.evaluate(() => window.peerCount())))).every(
          n => n === ratePeers - 1,
        )
        await Promise.all(tabs.map(tab => tab.evaluate(() => window.leave())))
        await Promise.all(tabs.map(tab => tab.close()))

        const perPeerPerCeiling = messages / ratePeers / (elapsed / announceMaxIntervalMs)
        results[name] = {
          join: summarizeMs(times),
          rate: {
            peers: ratePeers,
            windowMs: Math.round(elapsed),
            messages,
            announceMaxIntervalMs,
            perPeerPerCeiling: Number(perPeerPerCeiling.toFixed(2)),
            // Measured with this run's ceiling; with the default ceiling (60 s) it equals perPeerPerCeiling.
            perPeerPerMinute: Number((messages / ratePeers / (elapsed / 60_000)).toFixed(2)),
            stillConnected,
          },
        }
      } finally {
        await relay.stop()
      }
    }
  } finally {
    await browser.close()
    site.close()
  }
  return results
}

export const print = results => {
  console.log('time from joinRoom to onPeerJoin, two fresh pages joining at once (includes connecting to the relay):')
  for (const [name, r] of Object.entries(results)) console.log(formatJoins(name, r.join))
  console.log('relay messages published per connected peer, steady state:')
  for (const [name, {rate}] of Object.entries(results))
    console.log(
      `  ${name.padEnd(8)} ${rate.perPeerPerCeiling} per announceMaxIntervalMs (${rate.messages} messages from ${rate.peers} peers in ${rate.windowMs} ms ` +
        `at a ${rate.announceMaxIntervalMs} ms ceiling, ${rate.perPeerPerMinute}/min there) -> ${rate.perPeerPerCeiling} per minute at the default 60 s ceiling` +
        (rate.stillConnected ? '' : '   (peers lost their connections during the window!)'),
    )
}

if (import.meta.url === `file://${process.argv[1]}`) print(await runStrategyBench())
