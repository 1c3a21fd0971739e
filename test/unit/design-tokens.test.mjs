// One set of design tokens: the elements' defaults (src/elements/styles.ts) and the example
// pages' stylesheet (examples/shared/style.css) declare the same custom properties with the
// same values, so the pages and the elements look like one thing, light and dark.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'

const {tokenDefaults} = await import('../../dist/lib/elements/styles.js')

test('examples/shared/style.css declares every element token with the elements’ default value', async () => {
  const css = await readFile(new URL('../../examples/shared/style.css', import.meta.url), 'utf8')
  const block = css.match(/\/\* tokens:start \*\/([\s\S]*?)\/\* tokens:end \*\//)?.[1] ?? ''
  const declared = Object.fromEntries(
    [...block.matchAll(/(--p2p-[a-z-]+):\s*([^;]+);/g)].map(([, k, v]) => [k, v.trim()]),
  )
  const {'--p2p-font': _font, ...colours} = tokenDefaults // the pages set their own font
  assert.deepEqual(declared, colours)
})
