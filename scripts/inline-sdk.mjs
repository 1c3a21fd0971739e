// An esbuild plugin for the standalone browser bundles: the supabase, firebase and ipfs
// strategies load their SDK with `import('./sdk/NAME.js')` (an optional peer dependency for
// package users), and a self-contained bundle must hold that SDK. esbuild would inline a
// dynamic import too, but as a lazily evaluated module it cannot tree-shake, which pulls in
// all of supabase-js and doubles that bundle. Rewritten to a static namespace import, the
// SDK module's few named exports are tree-shaken exactly as before. The `optionalSdk(...)`
// wrapper around such an import (it turns a missing package into a clear error) has
// nothing to catch in a bundle that holds the SDK, so it goes too.
import {readFile} from 'node:fs/promises'

const sdkImport = /(?<!typeof )import\((['"])\.\/sdk\/([\w-]+)\.js\1\)/g

export const inlineSdk = () => ({
  name: 'inline-sdk',
  setup(build) {
    build.onLoad({filter: /[\\/]src[\\/]strategies[\\/][\w-]+\.ts$/}, async ({path}) => {
      const source = await readFile(path, 'utf8')
      if (!source.includes("import('./sdk/")) return undefined
      const names = new Set()
      const contents = source
        .replace(/optionalSdk\([^;]*?\(\) => (import\((['"])\.\/sdk\/[\w-]+\.js\2\))\)/g, '() => $1')
        .replace(sdkImport, (_match, _quote, name) => {
          names.add(name)
          return `Promise.resolve(__sdk_${name.replace(/-/g, '_')})`
        })
      const imports = [...names].map(name => `import * as __sdk_${name.replace(/-/g, '_')} from './sdk/${name}.js'\n`)
      return {contents: imports.join('') + contents, loader: 'ts'}
    })
  },
})
