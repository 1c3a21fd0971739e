// Serves the ipfs strategy bundled by esbuild, as users' bundlers see it, for the browser
// tests: the test runner serves modules unbundled, and one of libp2p's dependencies
// (netmask, via @libp2p/utils) is CommonJS, which a browser cannot import as a module.
// Not a network server for the strategy: test/servers/libp2p.mjs is that.
import * as esbuild from 'esbuild'
import {browserBundle} from '../../scripts/bundle-options.mjs'
import {createServer} from 'node:http'
import {fileURLToPath} from 'node:url'
import {listen, stopper} from '../../scripts/relays/listen.mjs'

const entry = fileURLToPath(new URL('../../src/strategies/ipfs.ts', import.meta.url))

export async function start(port = 0) {
  // Unminified: readable stack traces in test failures.
  const result = await esbuild.build({...browserBundle, entryPoints: [entry], write: false, minify: false})
  const code = result.outputFiles[0].contents
  const server = createServer((request, response) => {
    const found = request.url.split('?')[0] === '/ipfs.js'
    response.writeHead(found ? 200 : 404, {
      'content-type': 'text/javascript',
      'access-control-allow-origin': '*',
      'cache-control': 'no-store',
    })
    response.end(found ? code : '')
  })
  const actualPort = await listen(server, port)
  return {url: `http://127.0.0.1:${actualPort}/ipfs.js`, port: actualPort, stop: stopper({server})}
}
