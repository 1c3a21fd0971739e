// Compiles the framework examples with esbuild and each framework's own compiler:
//   react/app.jsx        JSX (React 19's automatic runtime)
//   vue/main.js          + App.vue, a single-file component compiled by @vue/compiler-sfc
//   svelte/main.js       + App.svelte, compiled by svelte/compiler (Svelte 5, runes)
//   angular/main.ts      a standalone component, compiled just-in-time in the browser by
//                        @angular/compiler (bundled): AOT would need the Angular CLI's compiler
//                        host, which is more machinery than an example should carry
// into dist/examples/NAME/app.js. The pages (examples/NAME/index.html) load that file.
//   collab/app.js        yjs + p2p-elements/yjs (its own bundle: no other page pays for yjs),
//                        split so the strategy the page picks is a chunk loaded on demand
//
// `import 'p2p-elements/define'` (registers the elements) is what a user writes after
// `npm install p2p-elements`; here it becomes a browser import of the library's own bundle,
// dist/p2p-elements.js (built by `npm run build`), so each framework bundle below holds only
// the framework and the example, and its size is what the framework costs.
//
// Run: node examples/build.mjs (scripts/start.mjs calls buildExamples() after `npm run build`).
import {build} from 'esbuild'
import {readFile, rm, stat} from 'node:fs/promises'
import {createHash} from 'node:crypto'
import {gzipSync} from 'node:zlib'
import {dirname, join, relative, resolve} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '..')
const outRoot = join(root, 'dist/examples')

// Custom elements the frameworks must leave alone (not resolve as their own components).
const isOurElement = tag => tag.startsWith('p2p-')

export const frameworks = {
  react: 'react/app.jsx',
  vue: 'vue/main.js',
  svelte: 'svelte/main.js',
  angular: 'angular/main.ts',
}

/** Keeps `import 'p2p-elements/define'` as a browser import of dist/p2p-elements.js, relative to the output. */
const libraryAsExternal = outdir => ({
  name: 'p2p-elements-external',
  setup(b) {
    const bundle = join(root, 'dist/p2p-elements.js')
    const path = relative(outdir, bundle).split('\\').join('/')
    b.onResolve({filter: /^p2p-elements\/define$/}, () => ({path, external: true}))
  },
})

const vuePlugin = () => ({
  name: 'vue-sfc',
  setup(b) {
    b.onLoad({filter: /\.vue$/}, async ({path}) => {
      const {parse, compileScript} = await import('@vue/compiler-sfc')
      const source = await readFile(path, 'utf8')
      const {descriptor, errors} = parse(source, {filename: path})
      if (errors.length) return {errors: errors.map(e => ({text: String(e.message ?? e)}))}
      const id = createHash('sha256').update(path).digest('hex').slice(0, 8)
      const script = compileScript(descriptor, {
        id,
        inlineTemplate: true,
        templateOptions: {compilerOptions: {isCustomElement: isOurElement}},
      })
      return {contents: script.content, loader: 'js', resolveDir: dirname(path)}
    })
  },
})

const sveltePlugin = () => ({
  name: 'svelte',
  setup(b) {
    b.onLoad({filter: /\.svelte$/}, async ({path}) => {
      const {compile} = await import('svelte/compiler')
      const source = await readFile(path, 'utf8')
      const {js, warnings} = compile(source, {filename: path, generate: 'client', css: 'injected'})
      return {
        contents: js.code,
        loader: 'js',
        resolveDir: dirname(path),
        warnings: warnings.map(w => ({text: w.message})),
      }
    })
  },
})

const defines = {
  'process.env.NODE_ENV': '"production"',
  // Vue's compile-time flags (https://vuejs.org feature flags): no options API, no devtools.
  __VUE_OPTIONS_API__: 'false',
  __VUE_PROD_DEVTOOLS__: 'false',
  __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
  // Angular's dev-mode checks off, as in a production build.
  ngDevMode: 'false',
  ngServerMode: 'false',
  ngJitMode: 'true',
}

/** Builds every framework example; returns {name: {file, bytes, gzip}}. */
export const buildExamples = async ({quiet = false} = {}) => {
  await rm(outRoot, {recursive: true, force: true})
  const sizes = {}
  for (const [name, entry] of Object.entries(frameworks)) {
    const outdir = join(outRoot, name)
    const outfile = join(outdir, 'app.js')
    await build({
      entryPoints: [join(here, entry)],
      outfile,
      bundle: true,
      format: 'esm',
      target: 'es2022',
      minify: true,
      legalComments: 'none',
      logLevel: 'warning',
      define: defines,
      jsx: 'automatic',
      conditions: ['svelte', 'browser', 'production'],
      tsconfigRaw: {compilerOptions: {experimentalDecorators: true, useDefineForClassFields: false}},
      plugins: [libraryAsExternal(outdir), vuePlugin(), sveltePlugin()],
    })
    const code = await readFile(outfile)
    sizes[name] = {file: relative(root, outfile), bytes: (await stat(outfile)).size, gzip: gzipSync(code).length}
  }
  {
    const outdir = join(outRoot, 'collab')
    const outfile = join(outdir, 'app.js')
    await build({
      entryPoints: {app: join(here, 'collab/app.js')},
      outdir,
      bundle: true,
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      format: 'esm',
      target: 'es2022',
      minify: true,
      legalComments: 'none',
      logLevel: 'warning',
      conditions: ['browser', 'production'],
      // What `import 'p2p-elements/yjs'` gives a user: the library as built by `npm run build`.
      alias: {'p2p-elements/yjs': join(root, 'dist/lib/yjs/index.js')},
    })
    const code = await readFile(outfile)
    sizes.collab = {file: relative(root, outfile), bytes: (await stat(outfile)).size, gzip: gzipSync(code).length}
  }
  if (!quiet) {
    for (const [name, {file, bytes, gzip}] of Object.entries(sizes))
      console.log(
        `  ${name.padEnd(8)} ${file}  ${(bytes / 1024).toFixed(1)} KiB (${(gzip / 1024).toFixed(1)} KiB gzip)`,
      )
  }
  return sizes
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  buildExamples().catch(error => {
    console.error(error.message)
    process.exit(1)
  })
}
