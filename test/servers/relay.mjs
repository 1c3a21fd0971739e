// The relay of `p2p-elements/relay` (src/relay/), with its default limits, as users run it.
// Bundled from the source on start, so the browser tests try the code as it is now, built or not.
import * as esbuild from 'esbuild'
import {mkdirSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
// Under node_modules, so the bundle's own imports (ws, nostr-tools) resolve from the project.
const out = join(root, 'node_modules/.cache/p2p-elements-test-relay/relay.mjs')
let module

export async function start(port = 0) {
  if (!module) {
    mkdirSync(dirname(out), {recursive: true})
    await esbuild.build({
      entryPoints: [join(root, 'src/relay/index.ts')],
      outfile: out,
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      logLevel: 'warning',
    })
    module = await import(`${pathToFileURL(out).href}?${Date.now()}`)
  }
  const relay = await module.createRelayServer({port})
  return {url: relay.url, port: relay.port, stop: () => relay.close()}
}
