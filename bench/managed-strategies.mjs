// Time from joinRoom to onPeerJoin for the supabase, firebase and ipfs strategies, on their
// local test servers: a newcomer page joins a room where another page already is. Two
// headless Chromium pages, the built bundles (dist/NAME.js), median of several joins.
//
//   node bench/managed-strategies.mjs
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {formatJoins, launch, openPage, serveRoot, summarizeMs} from './browser.mjs'
import {root} from '../scripts/setup.mjs'

/** Joins per strategy: enough for a stable median, few enough to keep the run short. */
const joinsPerStrategy = 7
/** Time the first page is given to settle in the room before the newcomer joins. */
const settleMs = 500

const strategies = [
  {name: 'supabase', server: 'supabase', config: url => ({appId: url, supabaseKey: 'bench-anon-key'})},
  {name: 'firebase', server: 'firebase', config: url => ({appId: url})},
  {name: 'ipfs', server: 'libp2p', config: url => ({appId: 'p2p-elements-bench', relayUrls: [url]})},
]

export async function runManagedStrategyBench({joins = joinsPerStrategy} = {}) {
  process.chdir(root)
  if (strategies.some(({name}) => !existsSync(`dist/${name}.js`))) {
    const {build} = await import('../esbuild.mjs')
    await build({quiet: true})
  }
  const site = await serveRoot()
  const browser = await launch()
  const results = {}
  try {
    for (const {name, server: serverName, config} of strategies) {
      const server = await (await import(`../test/servers/${serverName}.mjs`)).start()
      // One after the other: opening the two ipfs pages at once sometimes never finished loading one.
      const page = `${site.url}/bench/managed-page.html?strategy=${name}`
      const host = await openPage(browser, page)
      const newcomer = await openPage(browser, page)
      const roomConfig = {...config(server.url), rtcConfig: {iceServers: []}}
      const times = []
      for (let i = 0; i < joins; i++) {
        const roomId = `bench-${name}-${i}-${Math.random().toString(36).slice(2, 8)}`
        await host.evaluate((c, r) => window.join(c, r), roomConfig, roomId)
        await new Promise(resolve => setTimeout(resolve, settleMs))
        times.push(await newcomer.evaluate((c, r) => window.timeJoin(c, r), roomConfig, roomId))
        await Promise.all([host.evaluate(() => window.leave()), newcomer.evaluate(() => window.leave())])
      }
      results[name] = summarizeMs(times)
      await Promise.all([host.close(), newcomer.close()])
      await server.stop()
    }
  } finally {
    await browser.close()
    site.close()
  }
  return results
}

export const print = results => {
  console.log('  time to onPeerJoin for a newcomer (local servers, two Chromium pages)')
  for (const [name, summary] of Object.entries(results)) console.log(formatJoins(name, summary, 10))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.chdir(root)
  const {build} = await import('../esbuild.mjs')
  await build({quiet: true}) // fresh bundles: this is what is measured
  print(await runManagedStrategyBench())
}
