// Broadcast benchmark: one sender and six receivers, each a headless Chromium page, over
// the local strategy (BroadcastChannel signaling, real peer connections), 640×480 fake camera.
// - sender upload (media bytes/s, outbound-rtp) in a star vs a relay tree with fanout 2
// - time from a receiver's start() to its first decoded frame
import {launch, median, openPage, serveRoot} from './browser.mjs'

const viewers = 6
/** Encoders ramp up after connecting: measure after this, over this window. */
const warmupMs = 4000
const windowMs = 5000

const runOne = async (browser, url, fanout) => {
  const room = `bench-broadcast-${fanout ?? 'star'}-${Date.now()}`
  const sender = await openPage(browser, url)
  await sender.evaluate(options => window.startSender(options), {room, fanout})
  const pages = []
  const firstFrameMs = []
  for (let i = 0; i < viewers; i++) {
    const page = await openPage(browser, url)
    pages.push(page)
    firstFrameMs.push(await page.evaluate(options => window.startReceiver(options), {room}))
  }
  await new Promise(resolve => setTimeout(resolve, warmupMs))
  const before = await sender.evaluate(() => window.mediaBytesSent())
  const relayBefore = await Promise.all(pages.map(p => p.evaluate(() => window.mediaBytesSent())))
  await new Promise(resolve => setTimeout(resolve, windowMs))
  const after = await sender.evaluate(() => window.mediaBytesSent())
  const relayAfter = await Promise.all(pages.map(p => p.evaluate(() => window.mediaBytesSent())))
  const direct = await sender.evaluate(() => window.directViewers())
  const relayed = relayAfter.map((bytes, i) => bytes - relayBefore[i]).filter(bytes => bytes > 10_000)
  for (const page of [sender, ...pages]) {
    await page.evaluate(() => window.stop())
    await page.close()
  }
  return {
    direct,
    senderKBps: Math.round((after - before) / windowMs),
    relays: relayed.length,
    maxRelayKBps: relayed.length ? Math.round(Math.max(...relayed) / windowMs) : 0,
    firstFrameMedianMs: Math.round(median(firstFrameMs)),
    firstFrameMaxMs: Math.round(Math.max(...firstFrameMs)),
  }
}

export const runBroadcastBench = async () => {
  const server = await serveRoot()
  const browser = await launch()
  try {
    const url = `${server.url}/bench/broadcast-page.html`
    return {star: await runOne(browser, url, undefined), fanout2: await runOne(browser, url, 2)}
  } finally {
    await browser.close()
    server.close()
  }
}

export const print = ({star, fanout2}) => {
  const line = (name, r) =>
    `  ${name.padEnd(9)} sender uploads ${String(r.senderKBps).padStart(5)} kB/s to ${r.direct} viewers directly` +
    `${r.relays ? `, ${r.relays} viewers relay (max ${r.maxRelayKBps} kB/s each)` : ''}; ` +
    `first frame median ${r.firstFrameMedianMs} ms (max ${r.firstFrameMaxMs})`
  console.log(`  1 sender, ${viewers} viewers, 640x480 fake camera, local strategy`)
  console.log(line('star', star))
  console.log(line('fanout 2', fanout2))
  console.log(`  fanout 2 / star sender upload: ${(fanout2.senderKBps / star.senderKBps).toFixed(2)}`)
}

if (import.meta.url === `file://${process.argv[1]}`) print(await runBroadcastBench())
