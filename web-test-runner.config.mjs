import {chromeLauncher} from '@web/test-runner-chrome'
import {defaultReporter} from '@web/test-runner'
import {esbuildPlugin} from '@web/dev-server-esbuild'
import {fromRollup} from '@web/dev-server-rollup'
import rollupCommonjs from '@rollup/plugin-commonjs'
import {findChromium, chromiumArgs} from './scripts/chromium.mjs'
import {serversPlugin} from './test/servers/plugin.mjs'
import {mkdir} from 'node:fs/promises'

const executablePath = findChromium()

// A few of libp2p's dependencies are CommonJS only (netmask); the dev server serves ES modules.
const commonjs = fromRollup(rollupCommonjs)

// `executeServerCommand('screenshot', {name})` saves the test page as test-artifacts/NAME.png.
// Headless Chromium paints only the front tab, and test files run side by side in tabs:
// bring the page to the front and take one screenshot at a time.
let screenshots = Promise.resolve()
const screenshotPlugin = () => ({
  name: 'screenshot',
  async executeCommand({command, payload, session}) {
    if (command !== 'screenshot') return undefined
    const page = session.browser.getPage(session.id)
    await mkdir('test-artifacts', {recursive: true})
    const taken = screenshots.then(async () => {
      await page.bringToFront()
      await page.screenshot({path: `test-artifacts/${payload.name}.png`, fullPage: true})
    })
    screenshots = taken.catch(() => {})
    await taken
    return true
  },
})

// `executeServerCommand('color-scheme', {scheme: 'dark'})` makes the test page (and its
// iframes) match `prefers-color-scheme: dark`; 'light' switches back.
const colorSchemePlugin = () => ({
  name: 'color-scheme',
  async executeCommand({command, payload, session}) {
    if (command !== 'color-scheme') return undefined
    const page = session.browser.getPage(session.id)
    await page.emulateMediaFeatures([{name: 'prefers-color-scheme', value: payload.scheme}])
    return true
  },
})

// `executeServerCommand('collect-garbage')` runs a full garbage collection in the test page's
// JS heap (CDP HeapProfiler.collectGarbage), so a memory bound can be checked on live memory
// (test/files-stream.test.ts) rather than on garbage not collected yet.
const garbagePlugin = () => ({
  name: 'collect-garbage',
  async executeCommand({command, session}) {
    if (command !== 'collect-garbage') return undefined
    const page = session.browser.getPage(session.id)
    const cdp = await page.createCDPSession()
    try {
      await cdp.send('HeapProfiler.collectGarbage')
    } finally {
      await cdp.detach().catch(() => {})
    }
    return true
  },
})

/** Seconds each test file's tests took, slowest first, once a run ends: where CI time goes. */
const durationsReporter = () => ({
  stop: ({sessions}) => {
    const total = suite =>
      (suite?.tests ?? []).reduce((sum, test) => sum + (test.duration ?? 0), 0) +
      (suite?.suites ?? []).reduce((sum, inner) => sum + total(inner), 0)
    const seconds = sessions.map(session => [session.testFile.split('/').pop(), total(session.testResults) / 1000])
    const slowest = seconds.sort((a, b) => b[1] - a[1]).slice(0, 12)
    console.log(`\nslowest test files (s): ${slowest.map(([file, s]) => `${file} ${s.toFixed(0)}`).join(', ')}`)
  },
})

export default {
  reporters: [defaultReporter(), durationsReporter()],
  files: process.env.WTR_FILES?.split(',') ?? ['test/**/*.test.ts'],
  rootDir: '.',
  // mqtt ships CommonJS under its default condition: the browser condition picks its ESM build.
  nodeResolve: {exportConditions: ['browser', 'development'], browser: true},
  plugins: [
    commonjs({include: ['**/node_modules/netmask/**']}),
    esbuildPlugin({ts: true, target: 'es2022', tsconfig: 'tsconfig.json'}),
    serversPlugin(),
    screenshotPlugin(),
    colorSchemePlugin(),
    garbagePlugin(),
  ],
  // Pages under /test/fixtures/isolated-* are cross-origin isolated, so they can call
  // performance.measureUserAgentSpecificMemory (test/files-big.test.ts measures a receiver's memory).
  middleware: [
    (ctx, next) => {
      if (ctx.path.startsWith('/test/fixtures/isolated-')) {
        ctx.set('Cross-Origin-Opener-Policy', 'same-origin')
        ctx.set('Cross-Origin-Embedder-Policy', 'require-corp')
      }
      return next()
    },
  ],
  browsers: [chromeLauncher({launchOptions: {executablePath, headless: true, args: chromiumArgs()}})],
  // WebRTC tests run several peers each: two files at a time suit a 2-core machine.
  concurrency: 2,
  concurrentBrowsers: 1,
  testFramework: {config: {timeout: 60_000}},
  testsFinishTimeout: 15 * 60_000,
  browserStartTimeout: 60_000,
}
