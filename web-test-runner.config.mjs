import {chromeLauncher} from '@web/test-runner-chrome'
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

export default {
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
  ],
  browsers: [chromeLauncher({launchOptions: {executablePath, headless: true, args: chromiumArgs()}})],
  // WebRTC tests run several peers each: two files at a time suit a 2-core machine.
  concurrency: 2,
  concurrentBrowsers: 1,
  testFramework: {config: {timeout: 60_000}},
  testsFinishTimeout: 15 * 60_000,
  browserStartTimeout: 60_000,
}
