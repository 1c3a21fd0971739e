// Files benchmark, two pages of headless Chromium with the local strategy:
// - room.sendFile of a FILES_BENCH_MIB (default 256) MiB Blob to a receiver reading its stream
//   (window, per-chunk and whole SHA-256 on both sides) vs a bare RTCDataChannel sending the
//   same Blob by slices, between the same two pages, alternated
// - the receiver page's JS heap above its baseline during the transfer (CDP JSHeapUsedSize,
//   sampled every 100 ms), the figure a streamed file must keep small
import {launch, median, openPage, serveRoot} from './browser.mjs'

const total = Number(process.env.FILES_BENCH_MIB ?? 256) * 1024 * 1024
const rounds = Number(process.env.FILES_BENCH_ROUNDS ?? 3)

const heapOf = async page => (await page.metrics()).JSHeapUsedSize

export const runFilesBench = async () => {
  const server = await serveRoot()
  const browser = await launch()
  try {
    const url = `${server.url}/bench/files-page.html`
    const raw = []
    const ours = []
    const peaks = []
    for (let round = 0; round < rounds; round++) {
      const [a, b] = [await openPage(browser, url), await openPage(browser, url)]
      const receiving = b.evaluate(n => window.rawReceive(n), total)
      raw.push(await a.evaluate(n => window.rawSend(n), total))
      await receiving
      const roomId = `bench-files-${round}-${Date.now()}`
      await Promise.all([b.evaluate(id => window.join(id), roomId), a.evaluate(id => window.join(id), roomId)])
      const session = await b.createCDPSession()
      await session.send('HeapProfiler.collectGarbage')
      const baseline = await heapOf(b)
      let peak = baseline
      const sampler = setInterval(async () => (peak = Math.max(peak, await heapOf(b).catch(() => 0))), 100)
      const got = b.evaluate(() => window.receiveFile())
      ours.push(await a.evaluate((n, id) => window.sendFile(n, id), total, await b.evaluate(() => window.selfId)))
      clearInterval(sampler)
      if ((await got) !== total) throw new Error('files bench: wrong byte count received')
      peaks.push((peak - baseline) / 1024 / 1024)
      await Promise.all([a.evaluate(() => window.leave()), b.evaluate(() => window.leave())])
      await a.close()
      await b.close()
    }
    const mbps = ms => total / 1024 / 1024 / (ms / 1000)
    const rawMBps = median(raw.map(mbps))
    const oursMBps = median(ours.map(mbps))
    return {
      payloadMiB: total / 1024 / 1024,
      rawMBps,
      oursMBps,
      ratio: oursMBps / rawMBps,
      peakHeapMiB: Math.max(...peaks),
      rounds: {raw: raw.map(mbps), ours: ours.map(mbps), peaks},
    }
  } finally {
    await browser.close()
    server.close()
  }
}

export const print = result => {
  const f = n => n.toFixed(1)
  console.log(`file streaming, ${result.payloadMiB} MiB Blob, local strategy (median of ${result.rounds.raw.length}):`)
  console.log(`  raw RTCDataChannel   ${f(result.rawMBps)} MiB/s   (rounds: ${result.rounds.raw.map(f).join(', ')})`)
  console.log(`  room.sendFile        ${f(result.oursMBps)} MiB/s   (rounds: ${result.rounds.ours.map(f).join(', ')})`)
  console.log(`  ratio ours / raw     ${result.ratio.toFixed(2)}   (goal >= 0.95)`)
  console.log(
    `  receiver JS heap above baseline: peak ${f(result.peakHeapMiB)} MiB (goal <= 64; rounds ${result.rounds.peaks.map(f).join(', ')})`,
  )
}

if (import.meta.url === `file://${process.argv[1]}`) print(await runFilesBench())
