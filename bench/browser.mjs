// A static server for the project root and headless Chromium pages on it, for benchmarks.
import {createServer} from 'node:http'
import {readFile} from 'node:fs/promises'
import {extname, join, normalize} from 'node:path'
import puppeteer from 'puppeteer-core'
import {findChromium, chromiumArgs} from '../scripts/chromium.mjs'
import {root} from '../scripts/setup.mjs'

const types = {'.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json'}

/**
 * Serves the project root. `isolated`: with COOP/COEP headers, so pages are cross-origin
 * isolated and can call performance.measureUserAgentSpecificMemory.
 */
export const serveRoot = ({isolated = false} = {}) =>
  new Promise(resolve => {
    const isolation = isolated
      ? {'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp'}
      : {}
    const server = createServer(async (request, response) => {
      const path = normalize(decodeURIComponent(new URL(request.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '')
      try {
        const body = await readFile(join(root, path))
        response.writeHead(200, {'content-type': types[extname(path)] ?? 'application/octet-stream', ...isolation})
        response.end(body)
      } catch {
        response.writeHead(404).end()
      }
    })
    server.listen(0, '127.0.0.1', () =>
      resolve({url: `http://127.0.0.1:${server.address().port}`, close: () => server.close()}),
    )
  })

// A 1 GiB transfer on a loaded machine outlasts puppeteer's default 180 s per evaluate.
export const launch = () =>
  puppeteer.launch({executablePath: findChromium(), headless: true, args: chromiumArgs(), protocolTimeout: 30 * 60_000})

export const openPage = async (browser, url) => {
  const page = await browser.newPage()
  page.on('pageerror', error => console.error('page error:', error.message))
  await page.goto(url)
  await page.waitForFunction('window.ready === true')
  return page
}

/**
 * The throughput rounds every bench against the raw channel runs: per round two fresh pages
 * of `url`, the yardstick (bench/raw-channel.js: window.rawReceive/rawSend of `total` bytes)
 * then `ours(a, b, round)` (resolving with its ms), alternated so drift in machine load hits
 * both alike. Returns the ms of each, and the MiB/s medians and their ratio.
 */
export const rawVersusOurs = async ({browser, url, rounds, total, ours, watchRaw}) => {
  const raw = []
  const mine = []
  for (let round = 0; round < rounds; round++) {
    const [a, b] = [await openPage(browser, url), await openPage(browser, url)]
    // watchRaw(b): an optional probe on the raw receiver (the files bench samples its memory, as it does ours).
    const stop = await watchRaw?.(b)
    const receiving = b.evaluate(n => window.rawReceive(n), total)
    raw.push(await a.evaluate(n => window.rawSend(n), total))
    await receiving
    await stop?.()
    mine.push(await ours(a, b, round))
    await a.close()
    await b.close()
  }
  const mbps = ms => total / 1024 / 1024 / (ms / 1000)
  const rawMBps = median(raw.map(mbps))
  const oursMBps = median(mine.map(mbps))
  return {rawMBps, oursMBps, ratio: oursMBps / rawMBps, rounds: {raw: raw.map(mbps), ours: mine.map(mbps)}}
}

export const median = values => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

/** Median, min and max of join times in ms, rounded, and how many there were. */
export const summarizeMs = times => ({
  medianMs: Math.round(median(times)),
  minMs: Math.round(Math.min(...times)),
  maxMs: Math.round(Math.max(...times)),
  joins: times.length,
})

/** One printed line per strategy: `  nostr    median   297 ms   (min 274, max 362, 7 joins)`. */
export const formatJoins = (name, {medianMs, minMs, maxMs, joins}, width = 8) =>
  `  ${name.padEnd(width)} median ${String(medianMs).padStart(5)} ms   (min ${minMs}, max ${maxMs}, ${joins} joins)`

/**
 * A table of figures: one row per [key, label], one column per name, `cell(name, key)` the
 * value ('-' when undefined). Every bench that prints per-strategy figures uses it.
 */
export const formatTable = (title, rows, names, cell, {label = 28, width = 13} = {}) =>
  [
    `  ${title.padEnd(label)}${names.map(name => name.padStart(width)).join('')}`,
    ...rows.map(
      ([key, text]) =>
        `  ${text.padEnd(label)}${names.map(name => String(cell(name, key) ?? '-').padStart(width)).join('')}`,
    ),
  ].join('\n')
