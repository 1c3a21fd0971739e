// Cursor-update latency, reliable vs unreliable action (issue 14.3), two headless Chromium
// pages with the local strategy: 60 updates/s on each kind of action while a 64 MiB file goes
// the same way on the reliable channel, and the same with no file (the yardstick).
// Latency is send -> receive callback; the pages share one clock.
import puppeteer from 'puppeteer-core'
import {chromiumArgs, findChromium} from '../scripts/chromium.mjs'
import {serveRoot} from './browser.mjs'

const fileBytes = 64 * 1024 * 1024
const hz = 60
const idleMs = 3_000
const rounds = 3

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
}
const summarize = (samples, sent) => {
  const ms = samples.map(s => s.ms)
  return {medianMs: quantile(ms, 0.5), p95Ms: quantile(ms, 0.95), received: ms.length, sent}
}

export const runUnreliableBench = async () => {
  const server = await serveRoot()
  // Timers in pages that are not in front must keep their 60 Hz.
  const args = [
    ...chromiumArgs(),
    '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows',
  ]
  const browser = await puppeteer.launch({executablePath: findChromium(), headless: true, args})
  const open = async () => {
    const page = await browser.newPage()
    page.on('pageerror', error => console.error('page error:', error.message))
    await page.goto(`${server.url}/bench/unreliable-page.html`)
    await page.waitForFunction('window.ready === true')
    return page
  }
  try {
    const [a, b] = [await open(), await open()]
    const roomId = `unreliable-${Date.now()}`
    await Promise.all([a.evaluate(id => window.join(id), roomId), b.evaluate(id => window.join(id), roomId)])
    const modes = ['reliable', 'unreliable']
    const collected = {idle: {reliable: [], unreliable: []}, loaded: {reliable: [], unreliable: []}}
    const sent = {idle: 0, loaded: 0}
    const transferMs = []
    const lag = {idle: [], loaded: []}
    // Warm-up: both ends of the unreliable channel exist, the first datagrams are not timed.
    await a.evaluate(hz => window.run({hz, ms: 500, modes: ['reliable', 'unreliable']}), hz)
    await new Promise(resolve => setTimeout(resolve, 300))
    // One 64 MiB transfer untimed: the first one in a page runs slower (allocation, JIT).
    await a.evaluate(options => window.run(options), {hz, bytes: fileBytes, modes: []})
    await b.evaluate(() => window.take())
    for (let round = 0; round < rounds; round++) {
      // Idle and loaded alternate, so drift in machine load hits both alike.
      for (const load of ['idle', 'loaded']) {
        const result = await a.evaluate(
          options => window.run(options),
          load === 'idle' ? {hz, ms: idleMs, modes} : {hz, bytes: fileBytes, modes},
        )
        await new Promise(resolve => setTimeout(resolve, 500)) // the last updates land
        const {samples, lags} = await b.evaluate(() => window.take())
        lag[load].push(...lags)
        sent[load] += result.sent
        if (load === 'loaded') transferMs.push(result.ms)
        for (const sample of samples) collected[load][sample.mode].push(sample)
      }
    }
    // Where a message stops fitting one SCTP packet (and so one loss can drop it whole).
    const packets = {}
    for (const size of [1000, 1150, 1163, 1170, 1200, 1400, 2400])
      packets[size] = await a.evaluate(size => window.packetsPerMessage(size), size)
    await Promise.all([a.evaluate(() => window.leave()), b.evaluate(() => window.leave())])
    const result = {hz, fileMiB: fileBytes / 1024 / 1024, rounds, transferMs, packets}
    for (const load of ['idle', 'loaded'])
      result[load] = Object.fromEntries(modes.map(mode => [mode, summarize(collected[load][mode], sent[load])]))
    result.receiverLag = Object.fromEntries(
      Object.entries(lag).map(([load, ms]) => [load, {medianMs: quantile(ms, 0.5), p95Ms: quantile(ms, 0.95)}]),
    )
    result.ratio = {
      median: result.loaded.reliable.medianMs / result.loaded.unreliable.medianMs,
      p95: result.loaded.reliable.p95Ms / result.loaded.unreliable.p95Ms,
    }
    return result
  } finally {
    await browser.close()
    server.close()
  }
}

export const print = result => {
  const f = n => n.toFixed(1)
  const line = (label, s) =>
    `  ${label.padEnd(30)} median ${f(s.medianMs).padStart(7)} ms   p95 ${f(s.p95Ms).padStart(7)} ms   (${s.received}/${s.sent} arrived)`
  console.log(
    `cursor updates at ${result.hz}/s, send -> receive, local strategy, ${result.rounds} rounds` +
      ` (64 MiB transfers took ${result.transferMs.map(ms => Math.round(ms)).join(', ')} ms):`,
  )
  console.log(line('idle, reliable action', result.idle.reliable))
  console.log(line('idle, unreliable action', result.idle.unreliable))
  console.log(line(`during ${result.fileMiB} MiB, reliable`, result.loaded.reliable))
  console.log(line(`during ${result.fileMiB} MiB, unreliable`, result.loaded.unreliable))
  console.log(`  reliable / unreliable under load: median ${f(result.ratio.median)}x, p95 ${f(result.ratio.p95)}x`)
  const {idle, loaded} = result.receiverLag
  console.log(
    `  receiver main-thread lag (a 0 ms timer): idle median ${f(idle.medianMs)} / p95 ${f(idle.p95Ms)} ms, ` +
      `during the file median ${f(loaded.medianMs)} / p95 ${f(loaded.p95Ms)} ms`,
  )
  const packets = Object.entries(result.packets).map(([size, n]) => `${size} B ${n.toFixed(2)}`)
  console.log(`  SCTP packets per message by size (the unreliable cap is 1150 B): ${packets.join(', ')}`)
}

if (import.meta.url === `file://${process.argv[1]}`) print(await runUnreliableBench())
