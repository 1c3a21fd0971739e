// Files benchmark, two pages of headless Chromium with the local strategy:
// - room.sendFile of a FILES_BENCH_MIB (default 256) MiB Blob to a receiver reading its stream
//   (window, per-chunk and whole SHA-256 on both sides) vs a bare RTCDataChannel sending the
//   same Blob by slices, between the same two pages, alternated
// - the receiver page's memory above its baseline during the transfer, sampled back to back
//   with performance.measureUserAgentSpecificMemory (JS heap and ArrayBuffers; the server
//   sends COOP/COEP so the page is cross-origin isolated), the figure a streamed file must keep small
import {createServer} from 'node:http'
import {readFile} from 'node:fs/promises'
import {extname, join, normalize} from 'node:path'
import {root} from '../scripts/setup.mjs'
import {launch, median, openPage} from './browser.mjs'

const types = {'.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript'}
/** The project root, cross-origin isolated, so pages can call performance.measureUserAgentSpecificMemory. */
const serveIsolated = () =>
  new Promise(resolve => {
    const server = createServer(async (request, response) => {
      const path = normalize(decodeURIComponent(new URL(request.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '')
      try {
        const body = await readFile(join(root, path))
        response.writeHead(200, {
          'content-type': types[extname(path)] ?? 'application/octet-stream',
          'cross-origin-opener-policy': 'same-origin',
          'cross-origin-embedder-policy': 'require-corp',
        })
        response.end(body)
      } catch {
        response.writeHead(404).end()
      }
    })
    server.listen(0, '127.0.0.1', () =>
      resolve({url: `http://127.0.0.1:${server.address().port}`, close: () => server.close()}),
    )
  })

/** Bytes the page's memory measurement reports (JS heap and ArrayBuffers), or CDP's JS heap where unavailable. */
const memoryOf = async page =>
  (await page.evaluate(async () =>
    self.crossOriginIsolated && performance.measureUserAgentSpecificMemory
      ? (
          await performance.measureUserAgentSpecificMemory()
        ).bytes
      : 0,
  )) || (await page.metrics()).JSHeapUsedSize

const total = Number(process.env.FILES_BENCH_MIB ?? 256) * 1024 * 1024
const rounds = Number(process.env.FILES_BENCH_ROUNDS ?? 3)

export const runFilesBench = async () => {
  const server = await serveIsolated()
  const browser = await launch()
  try {
    const url = `${server.url}/bench/files-page.html`
    const raw = []
    const ours = []
    const peaks = []
    let isolated = false
    for (let round = 0; round < rounds; round++) {
      const [a, b] = [await openPage(browser, url), await openPage(browser, url)]
      const receiving = b.evaluate(n => window.rawReceive(n), total)
      raw.push(await a.evaluate(n => window.rawSend(n), total))
      await receiving
      const roomId = `bench-files-${round}-${Date.now()}`
      await Promise.all([b.evaluate(id => window.join(id), roomId), a.evaluate(id => window.join(id), roomId)])
      const session = await b.createCDPSession()
      await session.send('HeapProfiler.collectGarbage')
      isolated = await b.evaluate(() => self.crossOriginIsolated && !!performance.measureUserAgentSpecificMemory)
      const baseline = await memoryOf(b)
      let peak = baseline
      let sampling = true
      const sampler = (async () => {
        while (sampling) peak = Math.max(peak, await memoryOf(b).catch(() => 0))
      })()
      const got = b.evaluate(() => window.receiveFile())
      ours.push(await a.evaluate((n, id) => window.sendFile(n, id), total, await b.evaluate(() => window.selfId)))
      sampling = false
      await sampler
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
      memoryMeasure: isolated ? 'measureUserAgentSpecificMemory' : 'CDP JSHeapUsedSize (no ArrayBuffers)',
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
    `  receiver memory (${result.memoryMeasure}) above baseline: peak ${f(result.peakHeapMiB)} MiB (goal <= 64; rounds ${result.rounds.peaks.map(f).join(', ')})`,
  )
}

if (import.meta.url === `file://${process.argv[1]}`) print(await runFilesBench())
