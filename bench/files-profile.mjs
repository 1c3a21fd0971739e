// Where a room.sendFile's CPU time goes: one FILES_PROFILE_MIB (default 64) MiB transfer between
// two pages of bench/files-page.html with Chromium's CPU profiler (CDP Profiler) on both, and
// the functions with the most self time on each side printed. `node bench/files-profile.mjs`.
import {launch, openPage, serveRoot} from './browser.mjs'

const total = Number(process.env.FILES_PROFILE_MIB ?? 64) * 1024 * 1024

/** Self time per function (ms), from a CDP Profiler profile. */
const selfTimes = profile => {
  const byId = new Map(profile.nodes.map(node => [node.id, node]))
  const ms = new Map()
  const deltas = profile.timeDeltas
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i])
    const {functionName, url, lineNumber} = node.callFrame
    const name = `${functionName || '(anonymous)'} ${url.split('/').pop()}:${lineNumber + 1}`
    ms.set(name, (ms.get(name) ?? 0) + (deltas[i] ?? 0) / 1000)
  }
  return [...ms].sort((a, b) => b[1] - a[1])
}

const server = await serveRoot()
const browser = await launch()
try {
  const url = `${server.url}/bench/files-page.html?unbundled`
  const [a, b] = [await openPage(browser, url), await openPage(browser, url)]
  const roomId = `profile-files-${Date.now()}`
  await Promise.all([b.evaluate(id => window.join(id), roomId), a.evaluate(id => window.join(id), roomId)])
  const sessions = await Promise.all([a, b].map(page => page.createCDPSession()))
  for (const session of sessions) {
    await session.send('Profiler.enable')
    await session.send('Profiler.setSamplingInterval', {interval: 200})
    await session.send('Profiler.start')
  }
  const got = b.evaluate(() => window.receiveFile())
  const ms = await a.evaluate((n, id) => window.sendFile(n, id), total, await b.evaluate(() => window.selfId))
  await got
  console.log(
    `${total / 1024 / 1024} MiB in ${ms.toFixed(0)} ms (${(total / 1024 / 1024 / (ms / 1000)).toFixed(1)} MiB/s)`,
  )
  for (const [side, session] of [
    ['sender', sessions[0]],
    ['receiver', sessions[1]],
  ]) {
    const {profile} = await session.send('Profiler.stop')
    const times = selfTimes(profile)
    const busy = times.filter(([name]) => !/^\((idle|program|garbage collector)\)/.test(name))
    const sum = busy.reduce((s, [, t]) => s + t, 0)
    const gc = times.find(([name]) => name.startsWith('(garbage collector)'))?.[1] ?? 0
    console.log(`${side}: JS busy ${sum.toFixed(0)} ms, GC ${gc.toFixed(0)} ms of ${ms.toFixed(0)} ms; top self time:`)
    for (const [name, t] of busy.slice(0, 10)) console.log(`  ${t.toFixed(0).padStart(6)} ms  ${name}`)
  }
} finally {
  await browser.close()
  server.close()
}
