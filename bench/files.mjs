// Files benchmark, two pages of headless Chromium with the local strategy:
// - room.sendFile of a FILES_BENCH_MIB (default 1024) MiB Blob to a receiver reading its stream
//   vs a bare RTCDataChannel sending the same Blob by slices between the same two pages,
//   alternated (rawVersusOurs); both sides' settings are printed with the figures
// - the receiver page's memory above its baseline during each transfer, raw and ours alike,
//   sampled back to back with performance.measureUserAgentSpecificMemory (JS heap and
//   ArrayBuffers; the server sends COOP/COEP so the page is cross-origin isolated), after a GC
//   for the baseline: the figure a streamed file must keep small
import {launch, rawVersusOurs, serveRoot} from './browser.mjs'

/** Bytes the page's memory measurement reports (JS heap and ArrayBuffers), or CDP's JS heap where unavailable. */
const memoryOf = async page =>
  (await page.evaluate(async () =>
    self.crossOriginIsolated && performance.measureUserAgentSpecificMemory
      ? (
          await performance.measureUserAgentSpecificMemory()
        ).bytes
      : 0,
  )) || (await page.metrics()).JSHeapUsedSize

/** Starts sampling page b's memory (baseline after a GC); the returned stop() resolves with the peak above it, in MiB. */
const sampleMemory = async b => {
  const session = await b.createCDPSession()
  await session.send('HeapProfiler.collectGarbage')
  const baseline = await memoryOf(b)
  let peak = baseline
  let sampling = true
  const sampler = (async () => {
    while (sampling) peak = Math.max(peak, await memoryOf(b).catch(() => 0))
  })()
  return async () => {
    sampling = false
    await sampler
    await session.detach().catch(() => {})
    return (peak - baseline) / 1024 / 1024
  }
}

const total = Number(process.env.FILES_BENCH_MIB ?? 1024) * 1024 * 1024
const rounds = Number(process.env.FILES_BENCH_ROUNDS ?? 3)

export const runFilesBench = async () => {
  const server = await serveRoot({isolated: true})
  const browser = await launch()
  try {
    const peaks = []
    const rawPeaks = []
    let isolated = false
    let settings
    const measured = await rawVersusOurs({
      browser,
      url: `${server.url}/bench/files-page.html`,
      rounds,
      total,
      watchRaw: async b => {
        settings ??= await b.evaluate(() => window.rawSettings)
        const stop = await sampleMemory(b)
        return async () => rawPeaks.push(await stop())
      },
      ours: async (a, b, round) => {
        const roomId = `bench-files-${round}-${Date.now()}`
        await Promise.all([b.evaluate(id => window.join(id), roomId), a.evaluate(id => window.join(id), roomId)])
        isolated = await b.evaluate(() => self.crossOriginIsolated && !!performance.measureUserAgentSpecificMemory)
        const stop = await sampleMemory(b)
        const got = b.evaluate(() => window.receiveFile())
        const ms = await a.evaluate((n, id) => window.sendFile(n, id), total, await b.evaluate(() => window.selfId))
        peaks.push(await stop())
        if ((await got) !== total) throw new Error('files bench: wrong byte count received')
        await Promise.all([a.evaluate(() => window.leave()), b.evaluate(() => window.leave())])
        return ms
      },
    })
    return {
      payloadMiB: total / 1024 / 1024,
      ...measured,
      settings,
      peakHeapMiB: Math.max(...peaks),
      rawPeakHeapMiB: Math.max(...rawPeaks),
      memoryMeasure: isolated ? 'measureUserAgentSpecificMemory' : 'CDP JSHeapUsedSize (no ArrayBuffers)',
      rounds: {...measured.rounds, peaks, rawPeaks},
    }
  } finally {
    await browser.close()
    server.close()
  }
}

export const print = result => {
  const f = n => n.toFixed(1)
  const kib = n => `${n / 1024} KiB`
  const {frame, highWater, lowWater, blobRead} = result.settings ?? {}
  console.log(`file streaming, ${result.payloadMiB} MiB Blob, local strategy (median of ${result.rounds.raw.length}):`)
  console.log(
    `  both: one reliable ordered data channel, ${kib(frame)} messages, write while bufferedAmount <= ${kib(highWater)}, else wait for bufferedamountlow (${kib(lowWater)})`,
  )
  console.log(`  raw:  Blob read by ${kib(blobRead)} slices and sent; nothing else (no hashing, no acks)`)
  console.log(
    '  ours: offer/accept, 63 KiB chunks one per frame, SHA-256 per chunk and of the whole on both sides (Worker),',
  )
  console.log(
    '        receiver reads a stream; a cumulative ack per 256 KiB taken; 4 MiB unacked window; done-acks batched',
  )
  console.log(`  raw RTCDataChannel   ${f(result.rawMBps)} MiB/s   (rounds: ${result.rounds.raw.map(f).join(', ')})`)
  console.log(`  room.sendFile        ${f(result.oursMBps)} MiB/s   (rounds: ${result.rounds.ours.map(f).join(', ')})`)
  console.log(`  ratio ours / raw     ${result.ratio.toFixed(2)}   (goal >= 0.95)`)
  console.log(
    `  receiver memory (${result.memoryMeasure}) above baseline: peak ${f(result.peakHeapMiB)} MiB (goal <= 64; rounds ${result.rounds.peaks.map(f).join(', ')}); raw receiver ${f(result.rawPeakHeapMiB)} MiB`,
  )
}

if (import.meta.url === `file://${process.argv[1]}`) print(await runFilesBench())
