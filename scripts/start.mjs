// `npm start`: build, then serve the examples with an embedded Nostr relay so peers find
// each other with no internet.
//
//   npm start                      http://localhost:8080/
//   npm start -- --port 3000       (or PORT=3000 npm start)
//   npm start -- --host 0.0.0.0    also reachable from other machines on the LAN
//   npm start -- --no-build        serve what dist/ already holds
//
// The relay is a real Nostr relay (scripts/relays/nostr-relay.mjs) on a private loopback
// port; this server forwards websocket upgrades on RELAY_PATH to it, so the relay is
// reached at ws://<the host the page came from>/relay, from this machine or the LAN alike.
// Every HTML page served gets a <meta name="p2p-local-relay" content="ws://.../relay">,
// which examples/shared/room-settings.js turns into `strategy="nostr" relay-urls="..."` on
// each <p2p-room>. The same pages hosted anywhere else carry no such tag and use the
// library's public defaults.
import {createServer} from 'node:http'
import {connect} from 'node:net'
import {spawn} from 'node:child_process'
import {createReadStream} from 'node:fs'
import {readFile, stat} from 'node:fs/promises'
import {dirname, extname, join, resolve, sep} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {parseArgs} from 'node:util'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

// The default port of most local dev servers' docs; override with PORT or --port.
const DEFAULT_PORT = 8080
// Where the embedded relay is reached on this server (websocket upgrade).
export const RELAY_PATH = '/relay'
// Name of the meta tag the examples read to find the relay.
export const RELAY_META = 'p2p-local-relay'
// Only these top-level folders are served: the examples and the built bundles they import.
const SERVED = ['examples', 'dist']

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
}

const run = (command, args) =>
  new Promise((done, fail) => {
    const child = spawn(command, args, {cwd: root, stdio: 'inherit', shell: process.platform === 'win32'})
    child.on('error', fail)
    child.on('exit', code =>
      code === 0 ? done() : fail(new Error(`\`${command} ${args.join(' ')}\` exited with ${code}`)),
    )
  })

/** The URL of the relay as seen by a page served from `host` (the request's Host header). */
const relayUrlFor = host => `ws://${host}${RELAY_PATH}`

const relayMeta = host => `<meta name="${RELAY_META}" content="${relayUrlFor(host)}" />`

/** Puts the relay meta tag inside <head> (or after the doctype) so it precedes every script. */
const injectRelayMeta = (html, host) => {
  const tag = relayMeta(host)
  const head = html.match(/<head(\s[^>]*)?>/i)
  if (head) return html.replace(head[0], `${head[0]}\n    ${tag}`)
  const doctype = html.match(/<!doctype[^>]*>/i)
  if (doctype) return html.replace(doctype[0], `${doctype[0]}\n${tag}`)
  return tag + html
}

/** Maps a URL path to a file under one of the served folders, or null. */
const fileFor = async pathname => {
  let path
  try {
    path = decodeURIComponent(pathname)
  } catch {
    return null
  }
  const full = resolve(root, `.${path}`)
  if (!SERVED.some(folder => full === join(root, folder) || full.startsWith(join(root, folder) + sep))) return null
  const info = await stat(full).catch(() => null)
  if (!info) return null
  if (info.isDirectory()) {
    const index = join(full, 'index.html')
    return (await stat(index).catch(() => null))?.isFile() ? {file: index, directory: true} : null
  }
  return info.isFile() ? {file: full, directory: false} : null
}

const handle = async (req, res) => {
  const url = new URL(req.url, 'http://localhost')
  const host = req.headers.host ?? 'localhost'
  const send = (status, body, type = 'text/plain; charset=utf-8', headers = {}) => {
    res.writeHead(status, {'content-type': type, 'cache-control': 'no-store', ...headers})
    res.end(body)
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'only GET and HEAD are served\n')
  if (url.pathname === '/') return send(302, '', undefined, {location: '/examples/'})
  // Browsers ask for it on every page; there is none, and a 404 would be noise in the console.
  if (url.pathname === '/favicon.ico') return send(204, '')
  if (url.pathname === '/local-relay.json')
    return send(200, JSON.stringify({strategy: 'nostr', relayUrls: [relayUrlFor(host)]}), types['.json'])

  const found = await fileFor(url.pathname)
  if (!found) return send(404, `not found: ${url.pathname}\n(npm start serves /examples/ and /dist/)\n`)
  // A folder's index is served at the folder URL with a trailing slash, so relative links resolve.
  if (found.directory && !url.pathname.endsWith('/'))
    return send(301, '', undefined, {location: `${url.pathname}/${url.search}`})
  const type = types[extname(found.file)] ?? 'application/octet-stream'
  if (extname(found.file) === '.html') {
    return send(200, req.method === 'HEAD' ? '' : injectRelayMeta(await readFile(found.file, 'utf8'), host), type)
  }
  res.writeHead(200, {'content-type': type, 'cache-control': 'no-store'})
  if (req.method === 'HEAD') return res.end()
  createReadStream(found.file).pipe(res)
}

/**
 * Forwards a websocket upgrade on RELAY_PATH to the relay's own loopback port, byte for byte:
 * the relay does its own handshake, this server only splices the two sockets.
 */
const forwardUpgrade = (relay, sockets) => (req, socket, head) => {
  const {pathname} = new URL(req.url, 'http://localhost')
  if (pathname !== RELAY_PATH) return socket.destroy()
  const target = new URL(relay.url)
  const upstream = connect(Number(target.port), target.hostname)
  sockets.add(socket).add(upstream)
  const forget = () => (sockets.delete(socket), sockets.delete(upstream))
  upstream.on('connect', () => {
    const lines = [`${req.method} ${target.pathname}${target.search} HTTP/${req.httpVersion}`]
    for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`)
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`)
    if (head?.length) upstream.write(head)
    upstream.pipe(socket).pipe(upstream)
  })
  upstream.on('error', () => socket.destroy())
  socket.on('error', () => upstream.destroy())
  upstream.on('close', () => (socket.destroy(), forget()))
  socket.on('close', () => (upstream.destroy(), forget()))
}

const listen = (server, port, host) =>
  new Promise((done, fail) => {
    server.once('error', fail)
    server.listen(port, host, () => (server.off('error', fail), done(server.address().port)))
  })

/**
 * Starts the relay and the HTTP server (no build). Returns their URLs and a `stop()`.
 * Used by main() below and by test/node/start.test.mjs.
 */
export const serve = async ({port = DEFAULT_PORT, host = '127.0.0.1'} = {}) => {
  const {start: startRelay} = await import(pathToFileURL(join(root, 'scripts/relays/nostr-relay.mjs')).href)
  const relay = await startRelay(0)
  const sockets = new Set()
  const server = createServer((req, res) =>
    handle(req, res).catch(error => {
      console.error(error)
      if (!res.headersSent) res.writeHead(500, {'content-type': 'text/plain'})
      res.end(`server error: ${error.message}\n`)
    }),
  )
  server.on('upgrade', forwardUpgrade(relay, sockets))
  let actualPort
  try {
    actualPort = await listen(server, port, host)
  } catch (error) {
    await relay.stop()
    throw error
  }
  const shownHost = host === '127.0.0.1' || host === '0.0.0.0' || host === '::' ? 'localhost' : host
  const url = `http://${shownHost}:${actualPort}/`
  let stopped
  const stop = () =>
    (stopped ??= (async () => {
      for (const socket of sockets) socket.destroy()
      server.closeAllConnections()
      await new Promise(done => server.close(() => done()))
      await relay.stop()
    })())
  return {url, port: actualPort, relayUrl: relayUrlFor(`${shownHost}:${actualPort}`), upstreamRelayUrl: relay.url, stop}
}

const portFrom = value => {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`"${value}" is not a port number: use e.g. --port 8081 (or 0 for any free port).`)
    process.exit(2)
  }
  return port
}

const main = async () => {
  const {values} = parseArgs({
    options: {
      port: {type: 'string', short: 'p'},
      host: {type: 'string'},
      'no-build': {type: 'boolean', default: false},
      help: {type: 'boolean', short: 'h', default: false},
    },
  })
  if (values.help) {
    console.log(
      'usage: npm start [-- --port N] [--host ADDRESS] [--no-build]\n  PORT=N also sets the port (default 8080).',
    )
    return
  }
  const port = portFrom(values.port ?? process.env.PORT ?? DEFAULT_PORT)
  // Loopback unless asked: --host 0.0.0.0 opens the examples (and the relay) to the LAN.
  const host = values.host ?? '127.0.0.1'

  if (!values['no-build']) {
    console.log('Building the library (npm run build)...')
    await run('npm', ['run', '--silent', 'build'])
    console.log('Building the framework examples (examples/build.mjs)...')
    const {buildExamples} = await import(pathToFileURL(join(root, 'examples/build.mjs')).href)
    await buildExamples()
  }

  let running
  try {
    running = await serve({port, host})
  } catch (error) {
    if (error.code === 'EADDRINUSE') {
      console.error(
        `\nPort ${port} is already in use (another \`npm start\`?).\n` +
          `Pick another one: \`PORT=${port + 1} npm start\` or \`npm start -- --port ${port + 1}\`.`,
      )
      process.exit(1)
    }
    if (error.code === 'EACCES') {
      console.error(
        `\nNot allowed to listen on port ${port}: choose one above 1023, e.g. \`npm start -- --port 8080\`.`,
      )
      process.exit(1)
    }
    throw error
  }

  console.log(`\n  p2p-elements examples: ${running.url}`)
  console.log(`  local Nostr relay:     ${running.relayUrl} (the examples use it automatically)`)
  if (host === '0.0.0.0' || host === '::')
    console.log(`  Listening on every interface: other machines can open http://<this machine>:${running.port}/`)
  console.log('\n  Open the URL in two tabs (or two browsers) and watch the peers connect. Ctrl-C stops.\n')

  const shutdown = async signal => {
    console.log(`\n${signal}: stopping the server and the relay...`)
    const forced = setTimeout(() => process.exit(1), 5000)
    forced.unref()
    await running.stop()
    console.log('Stopped.')
    process.exit(0)
  }
  process.once('SIGINT', () => shutdown('SIGINT'))
  process.once('SIGTERM', () => shutdown('SIGTERM'))
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch(error => {
    console.error(`npm start failed: ${error.message}`)
    process.exit(1)
  })
}
