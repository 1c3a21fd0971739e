// `npm test`: set-up (dependencies, a Chromium), build (which type-checks), every browser
// test in headless Chromium, every Node test; then one totals line, `N passed, N failed`.
import {spawn} from 'node:child_process'
import {existsSync, readdirSync} from 'node:fs'
import {ensureDependencies, root} from './setup.mjs'
import {findChromium} from './chromium.mjs'

process.chdir(root)
ensureDependencies()
process.env.CHROME_PATH = findChromium()

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes start with ESC
const stripAnsi = text => text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')

/** Runs a command, echoing its output, and resolves with the output and exit code. */
const run = (command, args, env = {}) =>
  new Promise(resolve => {
    const child = spawn(command, args, {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
    let output = ''
    const echo = stream => chunk => {
      output += chunk
      stream.write(chunk)
    }
    child.stdout.on('data', echo(process.stdout))
    child.stderr.on('data', echo(process.stderr))
    child.on('close', code => resolve({code: code ?? 1, output: stripAnsi(output)}))
  })

const totals = {passed: 0, failed: 0}
const failures = []

console.log('\n== format and lint (biome check)')
const lint = await run('npx', ['biome', 'check', '.'])
if (lint.code !== 0) failures.push('format/lint (run `npx biome check --write .`)')

console.log('\n== build (type-check + bundles)')
const build = await run('node', ['esbuild.mjs'])
if (build.code !== 0) failures.push('build')
// The framework examples compile against dist/, which the build just made anew.
const examples = await run('node', ['examples/build.mjs'])
if (examples.code !== 0) failures.push('examples build')

console.log('\n== browser tests (web-test-runner, headless Chromium)')
const browser = await run('npx', ['wtr'])
const summaries = [...browser.output.matchAll(/(\d+) passed, (\d+) failed/g)]
const last = summaries.at(-1)
if (last) {
  totals.passed += Number(last[1])
  totals.failed += Number(last[2])
}
if (browser.code !== 0 || !last) failures.push('browser tests')
// wtr reports a failed test as a line with ❌ and its error on the next: keep them, so the
// closing lines of a long run (all that a CI log may show) still name what failed.
const failedTests = browser.output
  .split('\n')
  .flatMap((line, i, lines) =>
    line.includes('❌') ? [line.trim(), ...lines.slice(i + 1, i + 3).map(l => `    ${l.trim()}`)] : [],
  )

// Unit tests (test/unit) and multi-process tests (test/node) both run under node --test.
const testsIn = dir =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter(file => file.endsWith('.test.mjs'))
        .map(file => `${dir}/${file}`)
    : []
const nodeTests = [...testsIn('test/unit'), ...testsIn('test/node')]
if (nodeTests.length) {
  console.log('\n== Node tests (node --test)')
  // --test-force-exit: a file whose tests all finished cannot hang the run on a handle some
  // library left open; --test-timeout: nor can one stuck test.
  const node = await run('node', [
    '--test',
    '--test-concurrency=1',
    '--test-force-exit',
    '--test-timeout=180000',
    ...nodeTests,
  ])
  const pass = node.output.match(/^# pass (\d+)/m)
  const fail = node.output.match(/^# fail (\d+)/m)
  totals.passed += Number(pass?.[1] ?? 0)
  totals.failed += Number(fail?.[1] ?? 0)
  if (node.code !== 0 || !pass) failures.push('node tests')
  failedTests.push(...node.output.split('\n').filter(line => /^\s*not ok /.test(line)))
}

if (failures.length && totals.failed === 0) totals.failed = failures.length
const slowest = browser.output.match(/^slowest test files.*$/m)?.[0]
if (slowest) console.log(`\n${slowest}`)
if (failedTests.length) console.log(`\n== failed tests\n${failedTests.join('\n')}`)
console.log(`\n${failures.length ? `failed: ${failures.join(', ')}` : 'all green'}`)
console.log(`${totals.passed} passed, ${totals.failed} failed`)
process.exit(failures.length ? 1 : 0)
