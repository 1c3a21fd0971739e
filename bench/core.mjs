// Core benchmark, two pages of headless Chromium with the local strategy:
// - action throughput for a 64 MiB binary vs a bare RTCDataChannel between the same two pages
// - time from joinRoom to onPeerJoin
import {launch, median, openPage, rawVersusOurs, serveRoot} from './browser.mjs'

const total = 64 * 1024 * 1024
const rounds = 5
const joins = 5

export const runCoreBench = async () => {
  const server = await serveRoot()
  const browser = await launch()
  try {
    const url = `${server.url}/bench/page.html`
    const joinMs = []
    const measured = await rawVersusOurs({
      browser,
      url,
      rounds,
      total,
      ours: async (a, b, round) => {
        const roomId = `bench-${round}-${Date.now()}`
        const [joinA] = await Promise.all([
          a.evaluate(id => window.join(id), roomId),
          b.evaluate(id => window.join(id), roomId),
        ])
        joinMs.push(joinA)
        const got = b.evaluate(() => window.receiveAction())
        const ms = await a.evaluate(n => window.sendAction(n), total)
        if ((await got) !== total) throw new Error('action bench: wrong byte count received')
        await Promise.all([a.evaluate(() => window.leave()), b.evaluate(() => window.leave())])
        return ms
      },
    })
    for (let round = joinMs.length; round < joins; round++) {
      const [a, b] = [await openPage(browser, url), await openPage(browser, url)]
      const roomId = `join-${round}-${Date.now()}`
      const [joinA] = await Promise.all([
        a.evaluate(id => window.join(id), roomId),
        b.evaluate(id => window.join(id), roomId),
      ])
      joinMs.push(joinA)
      await a.close()
      await b.close()
    }
    return {
      payloadMiB: total / 1024 / 1024,
      ...measured,
      joinMs: median(joinMs),
      rounds: {...measured.rounds, joinMs},
    }
  } finally {
    await browser.close()
    server.close()
  }
}

export const printCoreBench = result => {
  const f = n => n.toFixed(1)
  console.log(
    `action throughput, ${result.payloadMiB} MiB binary, local strategy (median of ${result.rounds.raw.length}):`,
  )
  console.log(`  raw RTCDataChannel   ${f(result.rawMBps)} MiB/s   (rounds: ${result.rounds.raw.map(f).join(', ')})`)
  console.log(`  makeAction send      ${f(result.oursMBps)} MiB/s   (rounds: ${result.rounds.ours.map(f).join(', ')})`)
  console.log(`  ratio ours / raw     ${result.ratio.toFixed(2)}   (target >= 0.90)`)
  console.log(
    `joinRoom -> onPeerJoin, local strategy: median ${f(result.joinMs)} ms (${result.rounds.joinMs.map(f).join(', ')})`,
  )
}

if (import.meta.url === `file://${process.argv[1]}`) printCoreBench(await runCoreBench())
