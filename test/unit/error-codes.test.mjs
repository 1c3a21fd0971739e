// One error model: the README's Errors table lists exactly the codes of src/core/errors.ts.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'

const read = path => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')

test("the README's Errors table lists exactly the P2PError codes, in their order", () => {
  const codes = [...read('src/core/errors.ts').matchAll(/^ {2}\| '([a-z-]+)'/gm)].map(([, code]) => code)
  const section = read('README.md')
    .split(/^### Errors$/m)[1]
    .split(/^#{2,3} /m)[0]
  const rows = [...section.matchAll(/^\| `([a-z-]+)` +\|/gm)].map(([, code]) => code)
  assert.ok(codes.length > 10)
  assert.deepEqual(rows, codes)
})
