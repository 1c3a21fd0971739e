// `npm start`: build, then serve the examples with an embedded Nostr relay so peers find
// each other with no internet.
//
//   npm start                      http://localhost:8080/
//   npm start -- --port 3000       (or PORT=3000 npm start)
//   npm start -- --host 0.0.0.0    also reachable from other machines on the LAN
//   npm start -- --no-build        serve what dist/ already holds
//
// The relay is the one `p2p-elements/relay` ships (src/relay/, built into dist/lib/relay/),
// attached to this server: websocket upgrades on RELAY_PATH go to it, so the relay is
// reached at ws://<the host the page came from>/relay, from this machine or the LAN alike.
//
// Every request is treated as hostile: the Host header must name this server (loopback
// names, the address it was started on, this machine's names and addresses when it listens
// on every interface, or --allow-host), which defeats DNS rebinding; an Origin, when sent,
// must be one of those too; and what is reflected into a page is escaped.
// Every HTML page served gets a <meta name="p2p-local-relay" content="ws://.../relay">,
// which examples/shared/room-settings.js turns into `strategy="nostr" relay-urls="..."` on
// each <p2p-room>. The same pages hosted anywhere else carry no such tag and use the
// library's public defaults.
import {createServer} from 'node:http'
import {spawn} from 'node:child_process'
import {createReadStream, existsSync} from 'node:fs'
import {readFile, stat} from 'node:fs/promises'
import {dirname, extname, join, resolve, sep} from 'node:path'
import {hostname, networkInterfaces} from 'node:os'
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

/** Text safe inside an HTML attribute value or element. */
export const escapeHtml = text =>
  String(text).replace(/[&<>"']/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[c])

const relayMeta = host => `<meta name="${RELAY_META}" content="${escapeHtml(relayUrlFor(host))}" />`

const loopbackNames = ['localhost', '127.0.0.1', '[::1]']
const bracket = address => (address.includes(':') ? `[${address}]` : address)

/**
 * The host names a request may give in its Host header (and its Origin): loopback names,
 * the address listened on, this machine's name and addresses when listening on all
 * interfaces, and any `extra` (e.g. a tunnel's name). Lower case, without the port.
 */
export const allowedHostNames = (host, extra = []) => {
  const names = new Set([...loopbackNames, bracket(host.toLowerCase()), ...extra.map(name => name.toLowerCase())])
  if (host === '0.0.0.0' || host === '::') {
    const machine = hostname().toLowerCase()
    names.add(machine).add(`${machine}.local`)
    for (const list of Object.values(networkInterfaces()))
      for (const {address} of list ?? []) names.add(bracket(address.toLowerCase().replace(/%.*$/, '')))
  }
  return names
}

/** Whether a Host header (`name` or `name:port`) names this server on `port`. */
const hostAllowed = (header, names, port) => {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d+))?$/.exec(String(header ?? '').toLowerCase())
  if (!match || !names.has(match[1])) return false
  return Number(match[2] ?? 80) === port
}

/** Whether an Origin header (absent: yes) is a page of this server. */
const originAllowed = (origin, names, port) => {
  if (origin === undefined) return true
  const match = /^http:\/\/(.+)$/.exec(origin.toLowerCase())
  return !!match && hostAllowed(match[1], names, port)
}

/** Puts the relay meta tag inside <head> (or after the doctype) so it precedes every script. */
export const injectRelayMeta = (html, host) => {
  const tag = relayMeta(host)
  const head = html.match(/<head(\s[^>]*)?>/i)
  // (Replacer functions: a `$` in the replacement is then text, not a pattern.)
  if (head) return html.replace(head[0], () => `${head[0]}\n    ${tag}`)
  const doctype = html.match(/<!doctype[^>]*>/i)
  if (doctype) return html.replace(doctype[0], () => `${doctype[0]}\n${tag}`)
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

// Sent with every response: no sniffing a text/plain 404 into HTML, no framing by other sites.
const securityHeaders = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
}

const handle = async (req, res, {names, port}) => {
  const url = new URL(req.url, 'http://localhost')
  const send = (status, body, type = 'text/plain; charset=utf-8', headers = {}) => {
    res.writeHead(status, {...securityHeaders, 'content-type': type, ...headers})
    res.end(body)
  }
  // DNS rebinding: a page of another site whose name now resolves here sends that name as Host.
  if (!hostAllowed(req.headers.host, names, port))
    return send(
      421,
      'This server does not serve that host name. Open it as http://localhost:PORT/, or start it with --allow-host NAME.\n',
    )
  if (!originAllowed(req.headers.origin, names, port)) return send(403, 'cross-origin requests are not served\n')
  const host = req.headers.host
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'only GET and HEAD are served\n')
  if (url.pathname === '/') return send(302, '', undefined, {location: '/examples/'})
  // Browsers ask for it on every page; there is none, and a 404 would be noise in the console.
  if (url.pathname === '/favicon.ico') return send(204, '')
  if (url.pathname === '/local-relay.json')
    return send(200, JSON.stringify({strategy: 'nostr', relayUrls: [relayUrlFor(host)]}), types['.json'])

  const found = await fileFor(url.pathname)
  if (!found) return send(404, `not found: ${url.pathname}\n(npm start serves /examples/ and /dist/)\n`)
  // A folder's index is served at the folder URL with a trailing slash, so relative links resolve.
  // (One leading slash: `//name/` would send the browser to another site.)
  if (found.directory && !url.pathname.endsWith('/'))
    return send(301, '', undefined, {location: `/${url.pathname.replace(/^\/+/, '')}/${url.search}`})
  const type = types[extname(found.file)] ?? 'application/octet-stream'
  if (extname(found.file) === '.html') {
    return send(200, req.method === 'HEAD' ? '' : injectRelayMeta(await readFile(found.file, 'utf8'), host), type)
  }
  res.writeHead(200, {...securityHeaders, 'content-type': type})
  if (req.method === 'HEAD') return res.end()
  createReadStream(found.file).pipe(res)
}

/**
 * Hands a websocket upgrade on RELAY_PATH to the relay, once its Host and Origin name this
 * server (a page of another site may open a websocket to any address: the Origin says whose
 * page it is).
 */
const upgrade = (relay, bound) => (req, socket, head) => {
  const {names, port} = bound
  const refuse = (status, text) =>
    socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
  socket.on('error', () => socket.destroy())
  if (!hostAllowed(req.headers.host, names, port)) return refuse(421, 'Misdirected Request')
  if (!originAllowed(req.headers.origin, names, port)) return refuse(403, 'Forbidden')
  relay.handleUpgrade(req, socket, head)
}

const listen = (server, port, host) =>
  new Promise((done, fail) => {
    server.once('error', fail)
    server.listen(port, host, () => (server.off('error', fail), done(server.address().port)))
  })

/**
 * Starts the relay and the HTTP server (no build). Returns their URLs and a `stop()`.
 * `allowHosts`: more host names the server answers to (see allowedHostNames).
 * Used by main() below and by test/node/start.test.mjs.
 */
export const serve = async ({port = DEFAULT_PORT, host = '127.0.0.1', allowHosts = []} = {}) => {
  const relayModule = join(root, 'dist/lib/relay/index.js')
  if (!existsSync(relayModule)) throw new Error('dist/lib/relay/ is missing: run `npm run build` (or drop --no-build)')
  const {createRelay} = await import(pathToFileURL(relayModule).href)
  const names = allowedHostNames(host, allowHosts)
  // The port is known once listening; checks read it from here.
  const bound = {names, port: 0}
  // The same relay as `npx p2p-elements relay`, with its default limits; Host and Origin are checked here.
  const relay = createRelay({path: RELAY_PATH})
  const server = createServer((req, res) =>
    handle(req, res, bound).catch(error => {
      console.error(error)
      if (!res.headersSent) res.writeHead(500, {'content-type': 'text/plain'})
      res.end('server error\n')
    }),
  )
  server.headersTimeout = 10_000
  server.on('upgrade', upgrade(relay, bound))
  let actualPort
  try {
    actualPort = await listen(server, port, host)
  } catch (error) {
    await relay.close()
    throw error
  }
  bound.port = actualPort
  const shownHost = host === '127.0.0.1' || host === '0.0.0.0' || host === '::' ? 'localhost' : bracket(host)
  const url = `http://${shownHost}:${actualPort}/`
  let stopped
  const stop = () =>
    (stopped ??= (async () => {
      const closed = new Promise(done => server.close(() => done()))
      server.closeIdleConnections()
      await relay.close('npm start is stopping')
      server.closeAllConnections()
      await closed
    })())
  return {url, port: actualPort, relayUrl: relayUrlFor(`${shownHost}:${actualPort}`), stop}
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
      'allow-host': {type: 'string', multiple: true},
      'no-build': {type: 'boolean', default: false},
      help: {type: 'boolean', short: 'h', default: false},
    },
  })
  if (values.help) {
    console.log(
      'usage: npm start [-- --port N] [--host ADDRESS] [--allow-host NAME]... [--no-build]\n' +
        '  PORT=N also sets the port (default 8080).\n' +
        '  --allow-host NAME: also answer to this host name (a tunnel, a name in /etc/hosts).',
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
    running = await serve({port, host, allowHosts: values['allow-host'] ?? []})
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
