// Swarm benchmark, four pages of headless Chromium with the local strategy: three sources seed
// the same FILES_SWARM_MIB (default 16) MiB file, every member's upload capped at the same
// FILES_SWARM_RATE (default 2) MiB/s (swarmLimits.serveBytesPerSecond), and a fourth fetches it
// with room.fetchFile from one source, then from all three, alternated for FILES_SWARM_ROUNDS
// (default 2) rounds. The figure is the ratio of the two in the same run (goal >= 2.5x).
import {execSync} from 'node:child_process'
import {launch, median, openPage, serveRoot} from './browser.mjs'

const MiB = 1024 * 1024
const total = Number(process.env.FILES_SWARM_MIB ?? 16) * MiB
const rate = Number(process.env.FILES_SWARM_RATE ?? 2) * MiB
const rounds = Number(process.env.FILES_SWARM_ROUNDS ?? 2)

const waitFor = async (check, what, ms = 30_000) => {
  const start = Date.now()
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`files-swarm bench: timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

export const runFilesSwarmBench = async () => {
  const server = await serveRoot()
  const browser = await launch()
  try {
    const url = `${server.url}/bench/files-swarm-page.html`
    const pages = []
    for (let i = 0; i < 4; i++) pages.push(await openPage(browser, url))
    const [fetcher, ...sources] = pages
    const roomId = `bench-swarm-${Date.now()}`
    for (const page of pages) await page.evaluate((id, r) => window.join(id, r), roomId, rate)
    await waitFor(
      async () => (await Promise.all(pages.map(p => p.evaluate(() => window.peerCount())))).every(n => n === 3),
      'four members to connect',
    )
    const ids = await Promise.all(sources.map(p => p.evaluate(() => window.selfId)))
    const hashes = await Promise.all(sources.map(p => p.evaluate(n => window.seed(n), total)))
    if (new Set(hashes).size !== 1) throw new Error('files-swarm bench: the sources hold different content')
    const hash = hashes[0]
    await waitFor(() => fetcher.evaluate(h => window.holders(h) === 3, hash), 'the seeds to be announced')
    const one = []
    const three = []
    let shares
    for (let round = 0; round < rounds; round++) {
      const single = await fetcher.evaluate((h, s) => window.fetchFrom(h, s), hash, [ids[0]])
      const swarm = await fetcher.evaluate((h, s) => window.fetchFrom(h, s), hash, ids)
      if (single.size !== total || swarm.size !== total) throw new Error('files-swarm bench: wrong size fetched')
      one.push(single.ms)
      three.push(swarm.ms)
      shares = swarm.sources.map(s => s.bytes / total)
    }
    await Promise.all(pages.map(p => p.evaluate(() => window.leave())))
    const mbps = ms => total / MiB / (ms / 1000)
    const oneMBps = median(one.map(mbps))
    const threeMBps = median(three.map(mbps))
    return {
      payloadMiB: total / MiB,
      rateMiBps: rate / MiB,
      oneMBps,
      threeMBps,
      ratio: threeMBps / oneMBps,
      shares,
      rounds: {one: one.map(mbps), three: three.map(mbps)},
      load: execSync('uptime')
        .toString()
        .trim()
        .replace(/.*load/, 'load'),
    }
  } finally {
    await browser.close()
    server.close()
  }
}

export const print = result => {
  const f = n => n.toFixed(2)
  console.log(
    `swarm download, ${result.payloadMiB} MiB, each source's upload capped at ${result.rateMiBps} MiB/s, local strategy (median of ${result.rounds.one.length}; ${result.load}):`,
  )
  console.log(`  1 source    ${f(result.oneMBps)} MiB/s   (rounds: ${result.rounds.one.map(f).join(', ')})`)
  console.log(`  3 sources   ${f(result.threeMBps)} MiB/s   (rounds: ${result.rounds.three.map(f).join(', ')})`)
  console.log(
    `  ratio 3 / 1 ${f(result.ratio)}x   (goal >= 2.5; last swarm round's shares: ${result.shares.map(s => `${Math.round(s * 100)} %`).join(', ')})`,
  )
}

if (import.meta.url === `file://${process.argv[1]}`) print(await runFilesSwarmBench())
