// Builds everything a user or a test needs into dist/:
//   dist/lib/**       the library as ES modules, one file per source file (what the package exports)
//   dist/types/**     TypeScript declarations
//   dist/<name>.js    one minified, self-contained browser bundle per strategy
//   custom-elements.json  the elements' manifest (attributes, properties, events, parts...)
//   dist/p2p-elements.js (+ dist/chunks/) the elements for a <script type="module"> tag,
//                     each strategy a chunk loaded only when a <p2p-room> asks for it
// and prints each bundle's size raw, gzip and brotli.
import * as esbuild from 'esbuild'
import {execSync} from 'node:child_process'
import {existsSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {brotliCompressSync, gzipSync} from 'node:zlib'
import {ensureDependencies, root} from './scripts/setup.mjs'
import {browserBundle} from './scripts/bundle-options.mjs'

ensureDependencies()
process.chdir(root)

/**
 * The strategies the project ships, in order, and the default: read from the elements' lazy
 * loader (src/elements/strategies.ts, built to dist/lib first), the one list of them.
 */
const strategyList = () => import(pathToFileURL(join(root, 'dist/lib/elements/strategies.js')).href)

/** The `strategy` attribute of <p2p-room> in the manifest: its values are the list, not "string". */
const describeStrategies = (file, names, defaultName) => {
  const manifest = JSON.parse(readFileSync(file, 'utf8'))
  const room = manifest.modules.flatMap(m => m.declarations ?? []).find(d => d.tagName === 'p2p-room')
  const fields = [room?.attributes?.find(a => a.name === 'strategy'), room?.members?.find(m => m.name === 'strategy')]
  if (!fields.every(Boolean)) throw new Error(`${file}: no strategy attribute on p2p-room to describe`)
  for (const field of fields) {
    field.type = {text: names.map(name => `'${name}'`).join(' | ')}
    field.default = `'${defaultName}'`
  }
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`)
}

const sourceFiles = dir =>
  readdirSync(dir, {recursive: true})
    .map(file => join(dir, String(file)))
    .filter(file => file.endsWith('.ts') && !file.endsWith('.d.ts'))

const kib = bytes => `${(bytes / 1024).toFixed(1)} KiB`
export const sizes = file => {
  const bytes = readFileSync(file)
  return {raw: bytes.length, gzip: gzipSync(bytes, {level: 9}).length, brotli: brotliCompressSync(bytes).length}
}

export const build = async ({quiet = false} = {}) => {
  rmSync('dist', {recursive: true, force: true, maxRetries: 3})
  const started = performance.now()

  await esbuild.build({
    entryPoints: sourceFiles('src'),
    outdir: 'dist/lib',
    outbase: 'src',
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    logLevel: 'warning',
  })
  try {
    execSync('npx tsc -p tsconfig.json', {stdio: 'pipe'})
  } catch (error) {
    console.error(String(error.stdout || error.message))
    throw new Error('type-check failed: fix the errors above')
  }
  const {strategyNames: strategies, defaultStrategy} = await strategyList()
  if (existsSync('custom-elements-manifest.config.mjs')) {
    execSync('npx custom-elements-manifest analyze --config custom-elements-manifest.config.mjs', {stdio: 'pipe'})
    describeStrategies('custom-elements.json', strategies, defaultStrategy)
  }

  await esbuild.build({
    ...browserBundle,
    entryPoints: Object.fromEntries(strategies.map(name => [name, `src/strategies/${name}.ts`])),
    outdir: 'dist',
  })
  const elements = existsSync('src/elements/bundle.ts')
  if (elements)
    await esbuild.build({
      ...browserBundle,
      entryPoints: {'p2p-elements': 'src/elements/bundle.ts'},
      outdir: 'dist',
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
    })

  const rows = strategies.map(name => [`dist/${name}.js`, sizes(`dist/${name}.js`)])
  if (elements) {
    rows.push(['dist/p2p-elements.js', sizes('dist/p2p-elements.js')])
    for (const chunk of readdirSync('dist/chunks')) rows.push([`dist/chunks/${chunk}`, sizes(`dist/chunks/${chunk}`)])
  }
  if (!quiet) {
    console.log(`built dist/ in ${Math.round(performance.now() - started)} ms`)
    console.log('bundle'.padEnd(44), 'raw'.padStart(11), 'gzip'.padStart(11), 'brotli'.padStart(11))
    for (const [file, size] of rows)
      console.log(
        file.padEnd(44),
        kib(size.raw).padStart(11),
        kib(size.gzip).padStart(11),
        kib(size.brotli).padStart(11),
      )
  }
  return Object.fromEntries(rows)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  build().catch(error => {
    console.error(error.message)
    process.exit(1)
  })
}
