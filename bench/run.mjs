// `npm run bench`: builds, then runs every benchmark in bench/ and prints its figures.
// Throughput is reported as a ratio to a bare RTCDataChannel measured in the same run,
// because absolute figures swing with machine load.
import {existsSync} from 'node:fs'
import {ensureDependencies, root} from '../scripts/setup.mjs'

process.chdir(root)
ensureDependencies()
const {build} = await import('../esbuild.mjs')
const sizes = await build({quiet: true})

console.log('== core (two headless Chromium pages)')
const {runCoreBench, printCoreBench} = await import('./core.mjs')
printCoreBench(await runCoreBench())

// Strategy benchmarks, each against real local servers; then the load on p2p-elements/relay.
for (const [file, name] of [
  ['./strategies.mjs', 'runStrategyBench'],
  ['./managed-strategies.mjs', 'runManagedStrategyBench'],
  ['./join-stages.mjs', 'runJoinStagesBench'],
  ['./broadcast.mjs', 'runBroadcastBench'],
  ['./unreliable.mjs', 'runUnreliableBench'],
  ['./relay-load.mjs', 'runRelayLoadBench'],
  ['./request.mjs', 'runRequestBench'],
  ['./files.mjs', 'runFilesBench'],
  ['./files-swarm.mjs', 'runFilesSwarmBench'],
  ['./relay-msgs.mjs', 'runRelayMsgsBench'],
]) {
  if (!existsSync(new URL(file, import.meta.url))) continue
  console.log(`\n== ${file.slice(2, -4)}`)
  const module = await import(file)
  const result = await module[name]()
  if (module.print) module.print(result)
  else console.log(JSON.stringify(result, null, 2))
}

console.log('\n== bundle sizes (minified ESM, brotli)')
for (const [file, size] of Object.entries(sizes))
  console.log(`  ${file.padEnd(44)} ${(size.brotli / 1024).toFixed(1)} KiB`)
