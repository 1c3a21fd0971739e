// The elements' types as user code sees them: `addEventListener('p2p-data', e => e.detail.peerId)`
// type-checks, createElement('p2p-room') is a P2PRoom, and wrong uses are errors.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))

test('event details and element types type-check in user code', () => {
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
  const result = spawnSync(
    process.execPath,
    ['node_modules/typescript/bin/tsc', ...flags, 'test/fixtures/elements-types.ts'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  )
  assert.equal(result.status, 0, result.stdout + result.stderr)
})
