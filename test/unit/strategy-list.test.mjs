// The one list of strategies is the keys of `strategies` in src/elements/strategies.ts. The
// build and the manifest derive from it; what cannot (package.json, the README, the static
// `import()`s the bundle splits on, the docs of <p2p-room>'s attribute) is checked here:
// the same names, in the same order. Run after the build: node --test test/unit/strategy-list.test.mjs
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {test} from 'node:test'

const root = new URL('../../', import.meta.url)
const read = path => readFileSync(new URL(path, root), 'utf8')
const {strategies, strategyNames, strategyPackages, defaultStrategy, loadStrategy} = await import(
  new URL('dist/lib/elements/strategies.js', root)
)
const pkg = JSON.parse(read('package.json'))

/** The names of `names` that appear in `text`, in the order they first appear there. */
const orderIn = (text, names) =>
  names
    .map(name => [name, text.search(new RegExp(`\\b${name}\\b`))])
    .filter(([, at]) => at >= 0)
    .sort((a, b) => a[1] - b[1])
    .map(([name]) => name)

test('the list names every strategy module, and only those', async () => {
  assert.ok(strategyNames.length > 0)
  assert.ok(strategyNames.includes(defaultStrategy), `default ${defaultStrategy} is in the list`)
  assert.equal(new Set(strategyNames).size, strategyNames.length, 'no name twice')
  // A strategy module is one at the top of src/strategies that exports joinRoom (helpers export none).
  const modules = []
  for (const file of readdirSync(new URL('dist/lib/strategies/', root))
    .filter(f => f.endsWith('.js'))
    .sort()) {
    const module = await import(new URL(`dist/lib/strategies/${file}`, root))
    if (typeof module.joinRoom === 'function') modules.push(file.slice(0, -'.js'.length))
  }
  assert.deepEqual([...strategyNames].sort(), modules)
})

test("each lazy loader entry imports its own strategy's module", async () => {
  for (const name of strategyNames) {
    const loaded = await strategies[name]()
    const module = await import(new URL(`dist/lib/strategies/${name}.js`, root))
    assert.equal(loaded, module, `strategies.${name} imports ../strategies/${name}.js`)
    assert.equal(await loadStrategy(name), module)
  }
  await assert.rejects(loadStrategy('carrier-pigeon'), {code: 'invalid-config', message: /nostr, mqtt/})
})

test('package.json exports one entry per strategy, in list order, and the default at "."', () => {
  const strategyExports = Object.entries(pkg.exports).filter(([, target]) =>
    JSON.stringify(target).includes('/strategies/'),
  )
  const entry = name => ({
    types: `./dist/types/strategies/${name}.d.ts`,
    default: `./dist/lib/strategies/${name}.js`,
  })
  assert.deepEqual(strategyExports, [
    ['.', entry(defaultStrategy)],
    ...strategyNames.map(name => [`./${name}`, entry(name)]),
  ])
  assert.equal(pkg.types, entry(defaultStrategy).types)
  assert.equal(pkg.module, entry(defaultStrategy).default)
})

test('the build made one bundle per strategy and one elements chunk per strategy', () => {
  const bundles = readdirSync(new URL('dist/', root)).filter(f => f.endsWith('.js') && f !== 'p2p-elements.js')
  assert.deepEqual(bundles.sort(), strategyNames.map(name => `${name}.js`).sort())
  const chunks = readdirSync(new URL('dist/chunks/', root))
  for (const name of strategyNames)
    assert.ok(
      chunks.some(chunk => chunk.startsWith(`${name}-`)),
      `dist/chunks/${name}-*.js`,
    )
})

test("the manifest gives <p2p-room>'s strategy attribute the list as its type and docs", () => {
  assert.ok(existsSync(new URL('custom-elements.json', root)), 'custom-elements.json is built')
  const manifest = JSON.parse(read('custom-elements.json'))
  const room = manifest.modules.flatMap(m => m.declarations ?? []).find(d => d.tagName === 'p2p-room')
  const attribute = room.attributes.find(a => a.name === 'strategy')
  assert.equal(attribute.type.text, strategyNames.map(name => `'${name}'`).join(' | '))
  assert.equal(attribute.default, `'${defaultStrategy}'`)
  assert.deepEqual(orderIn(attribute.description, strategyNames), strategyNames, attribute.description)
})

test("the README's strategy table has one row per strategy, in list order", () => {
  const section = read('README.md')
    .split(/^## Strategies$/m)[1]
    .split(/^### /m)[0]
  const rows = [...section.matchAll(/^\| `([a-z]+)`/gm)].map(([, name]) => name)
  assert.deepEqual(rows, strategyNames)
})

test("the README's install table, package.json and the loader agree on what each strategy needs", () => {
  const section = read('README.md')
    .split(/^## Install$/m)[1]
    .split(/^## /m)[0]
  const rows = [...section.matchAll(/^\| `([a-z]+)` +\|(.*)\|$/gm)].map(([, name, cell]) => [
    name,
    [...cell.matchAll(/`([^`]+)`/g)].map(([, pkg]) => pkg),
  ])
  assert.deepEqual(rows, Object.entries(strategyPackages), 'README rows = strategyPackages, in list order')
  assert.deepEqual(
    Object.keys(strategyPackages),
    strategyNames.filter(name => name in strategyPackages),
  )
  const needed = Object.values(strategyPackages).flat().sort()
  const optional = Object.keys(pkg.peerDependencies ?? {}).filter(dep => pkg.peerDependenciesMeta?.[dep]?.optional)
  assert.deepEqual(optional.sort(), needed, 'the optional peer dependencies are exactly what the strategies need')
  for (const dep of needed) {
    assert.equal(pkg.dependencies?.[dep], undefined, `${dep} is not also a dependency`)
    assert.equal(
      pkg.devDependencies?.[dep],
      pkg.peerDependencies[dep],
      `${dep}: tests build against the declared range`,
    )
  }
})

test('without its SDK, a strategy loads (and reports at connect) or fails with missing-dependency naming it', () => {
  // A child Node whose resolver cannot find the optional packages, as in an app that did not install them.
  const hidden = Object.values(strategyPackages).flat()
  const hook = `data:text/javascript,${encodeURIComponent(`
    const hidden = ${JSON.stringify(hidden)}
    export async function resolve(specifier, context, next) {
      if (hidden.some(pkg => specifier === pkg || specifier.startsWith(pkg + '/'))) {
        const error = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL)
        error.code = 'ERR_MODULE_NOT_FOUND'
        throw error
      }
      return next(specifier, context)
    }`)}`
  const script = `
    import {register} from 'node:module'
    register(${JSON.stringify(hook)})
    const {loadStrategy, strategyPackages} = await import(${JSON.stringify(String(new URL('dist/lib/elements/strategies.js', root)))})
    const results = {}
    for (const name of Object.keys(strategyPackages))
      results[name] = await loadStrategy(name).then(
        () => ({loaded: true}),
        error => ({code: error.code, message: error.message}),
      )
    console.log(JSON.stringify(results))`
  const results = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], {encoding: 'utf8'}))
  for (const [name, packages] of Object.entries(strategyPackages)) {
    const result = results[name]
    if (result.loaded) continue
    assert.equal(result.code, 'missing-dependency', `${name}: ${result.message}`)
    assert.match(result.message, new RegExp(`npm install ${packages.join(' ')}`))
  }
})
