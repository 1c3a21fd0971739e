// The elements' types as user code sees them: `addEventListener('p2p-data', e => e.detail.peerId)`
// type-checks, createElement('p2p-room') is a P2PRoom, and wrong uses are errors.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readdirSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))

const flags = [
  '--noEmit',
  '--strict',
  '--skipLibCheck',
  '--target',
  'es2022',
  '--module',
  'esnext',
  '--moduleResolution',
  'bundler',
  '--lib',
  'es2023,dom,dom.iterable',
  '--experimentalDecorators',
  '--useDefineForClassFields',
  'false',
  '--types',
  'node',
]
const typeCheck = files =>
  spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', ...flags, ...files], {cwd: root, encoding: 'utf8'})

test('event details and element types type-check in user code', () => {
  const result = typeCheck(['test/fixtures/elements-types.ts'])
  assert.equal(result.status, 0, result.stdout + result.stderr)
})

test('the elements’ browser tests type-check: their peers and events are typed, not any', () => {
  const tests = readdirSync(join(root, 'test')).filter(file => /^elements-.*\.test\.ts$/.test(file))
  assert.ok(tests.length >= 8, `found the element tests: ${tests}`)
  const result = typeCheck(['test/fixtures/elements-test-globals.d.ts', ...tests.map(file => `test/${file}`)])
  assert.equal(result.status, 0, result.stdout + result.stderr)
})
