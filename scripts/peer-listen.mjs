// `npm run peer -- --listen PORT [--bootstrap ws://host:port,...] [--public-url ws://me:PORT]
//  [--scope NAME] [--max-connections N]`: a Node peer that accepts WebSocket links from other
// peers and relays for them (a bootstrap peer of the overlay, the peer-relay way). Uses
// p2p-elements/peer-relay from dist/lib; the link protocol is at the top of src/peer-relay/index.ts.
// Prints "p2p-elements peer <id> listening at <url>" once it accepts links.
import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {parseArgs} from 'node:util'
import {execSync} from 'node:child_process'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

export const main = async () => {
  const {values: args} = parseArgs({
    options: {
      listen: {type: 'string'},
      bootstrap: {type: 'string'},
      'public-url': {type: 'string'},
      host: {type: 'string'},
      'max-connections': {type: 'string', default: '8'},
      scope: {type: 'string', default: 'peer-relay'},
      quiet: {type: 'boolean', default: false},
    },
  })
  const port = Number(args.listen)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`p2p-elements peer: --listen needs a port (0-65535), not "${args.listen}"`)
    process.exit(2)
  }
  const entry = join(root, 'dist/lib/peer-relay/index.js')
  if (!existsSync(entry)) execSync('node esbuild.mjs', {cwd: root, stdio: 'inherit'})
  const {PeerRelay} = await import(pathToFileURL(entry).href)
  const peer = new PeerRelay({
    port,
    host: args.host,
    publicUrl: args['public-url'],
    bootstrap: args.bootstrap ? args.bootstrap.split(',') : [],
    maxConnections: Number(args['max-connections']),
    scope: args.scope,
  })
  const log = (...parts) => args.quiet || console.log(new Date().toISOString(), ...parts)
  peer.on('error', error => console.error('p2p-elements peer:', error.message))
  peer.on('warning', error => args.quiet || console.error('p2p-elements peer (warning):', error.message))
  peer.on('peer', id => log('linked', id))
  peer.on('member', id => log('member', id))
  peer.on('member-left', id => log('left', id))
  await peer.ready
  console.log(`p2p-elements peer ${peer.id} listening at ${peer.listenUrl}`)
  const stop = () => peer.destroy(() => process.exit(0))
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  return new Promise(() => {})
}
