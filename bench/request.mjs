// Request round trip vs ping, two headless Chromium pages on the local strategy: a request
// (a small JSON payload, echoed by the peer's handler) against `room.ping`, alternated in one
// run, so the ratio says what the request layer costs over the bare channel round trip.
import {launch, median, openPage, serveRoot} from './browser.mjs'

const rounds = 200
const warmup = 20

const percentile = (values, p) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]

export const runRequestBench = async () => {
  const server = await serveRoot()
  const browser = await launch()
  try {
    const url = `${server.url}/bench/request-page.html`
    const [a, b] = [await openPage(browser, url), await openPage(browser, url)]
    const roomId = `request-${Date.now()}`
    const [peerB] = await Promise.all([
      a.evaluate(id => window.join(id), roomId),
      b.evaluate(id => window.join(id), roomId),
    ])
    const {ping, request} = await a.evaluate((peerId, n, w) => window.measure(peerId, n, w), peerB, rounds, warmup)
    await Promise.all([a.evaluate(() => window.leave()), b.evaluate(() => window.leave())])
    const pingMs = median(ping)
    const requestMs = median(request)
    return {
      rounds,
      pingMs,
      requestMs,
      ratio: requestMs / pingMs,
      p95: {pingMs: percentile(ping, 0.95), requestMs: percentile(request, 0.95)},
    }
  } finally {
    await browser.close()
    server.close()
  }
}

export const print = result => {
  const f = n => n.toFixed(2)
  console.log(`request round trip vs ping, local strategy, ${result.rounds} of each alternated (median, p95):`)
  console.log(`  ping                 ${f(result.pingMs)} ms   p95 ${f(result.p95.pingMs)} ms`)
  console.log(`  request → reply      ${f(result.requestMs)} ms   p95 ${f(result.p95.requestMs)} ms`)
  console.log(`  ratio request / ping ${result.ratio.toFixed(2)}`)
}

if (import.meta.url === `file://${process.argv[1]}`) print(await runRequestBench())
