// `npm start`: the examples it serves point at its own embedded Nostr relay, and that relay
// answers Nostr REQ/EVENT through the same address. Runs scripts/start.mjs as a user does
// (with --no-build: the build itself is covered by the browser tests of the examples).
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {createServer} from 'node:net'
import {request as httpRequest} from 'node:http'
import {fileURLToPath} from 'node:url'
import {dirname, join} from 'node:path'
import {existsSync} from 'node:fs'
import WebSocket from 'ws'
import {finalizeEvent, generateSecretKey} from 'nostr-tools/pure'
import puppeteer from 'puppeteer-core'
import {chromiumArgs, findChromium} from '../../scripts/chromium.mjs'
import {escapeHtml, injectRelayMeta} from '../../scripts/start.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const startScript = join(root, 'scripts/start.mjs')

/** Runs `node scripts/start.mjs ...args`; resolves once it printed its URL (or exited). */
const runStart = (args, env = {}) => {
  const child = spawn(process.execPath, [startScript, '--no-build', ...args], {
    cwd: root,
    env: {...process.env, ...env},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  const exited = new Promise(done => child.on('exit', (code, signal) => done({code, signal, stdout, stderr})))
  const ready = new Promise((done, fail) => {
    child.stdout.on('data', chunk => {
      stdout += chunk
      const match = stdout.match(/examples: (http:\/\/\S+)/)
      if (match) done(match[1])
    })
    child.stderr.on('data', chunk => (stderr += chunk))
    exited.then(result => fail(Object.assign(new Error(`start.mjs exited early: ${result.stderr}`), result)))
  })
  ready.catch(() => {})
  return {child, ready, exited}
}

const freePort = () =>
  new Promise(done => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const {port} = server.address()
      server.close(() => done(port))
    })
  })

/** Opens a websocket and collects every JSON message it receives. */
const openSocket = url =>
  new Promise((done, fail) => {
    const socket = new WebSocket(url)
    const messages = []
    socket.on('message', data => messages.push(JSON.parse(String(data))))
    socket.once('open', () => done({socket, messages}))
    socket.once('error', fail)
  })

const waitFor = async (check, what) => {
  for (let i = 0; i < 500; i++) {
    const value = check()
    if (value) return value
    await new Promise(done => setTimeout(done, 10))
  }
  throw new Error(`never saw ${what}`)
}

test('npm start hands the examples its own relay, and that relay answers Nostr REQ and EVENT', async () => {
  const port = await freePort()
  const {child, ready, exited} = runStart(['--port', String(port)])
  try {
    const url = await ready
    assert.equal(url, `http://localhost:${port}/`)

    const page = await (await fetch(new URL('/examples/chat/', url))).text()
    const relayUrl = page.match(/<meta name="p2p-local-relay" content="([^"]+)"/)?.[1]
    assert.equal(relayUrl, `ws://localhost:${port}/relay`, 'the chat page names the embedded relay')
    assert.match(page, /room-settings\.js/, 'the page loads the script that applies the relay to its rooms')

    const config = await (await fetch(new URL('/local-relay.json', url))).json()
    assert.deepEqual(config, {strategy: 'nostr', relayUrls: [relayUrl]})

    const reader = await openSocket(relayUrl)
    const writer = await openSocket(relayUrl)
    const kind = 29_999 // ephemeral range: relayed to subscribers, never stored, as signaling is
    reader.socket.send(JSON.stringify(['REQ', 'sub', {kinds: [kind], '#t': ['start-test']}]))
    await waitFor(() => reader.messages.find(m => m[0] === 'EOSE' && m[1] === 'sub'), 'EOSE for the subscription')

    const event = finalizeEvent(
      {kind, created_at: Math.floor(Date.now() / 1000), tags: [['t', 'start-test']], content: 'hello'},
      generateSecretKey(),
    )
    writer.socket.send(JSON.stringify(['EVENT', event]))
    const ok = await waitFor(() => writer.messages.find(m => m[0] === 'OK' && m[1] === event.id), 'OK for the event')
    assert.equal(ok[2], true, `relay accepted the event (${ok[3]})`)
    const delivered = await waitFor(
      () => reader.messages.find(m => m[0] === 'EVENT' && m[1] === 'sub'),
      'the event delivered to the subscriber',
    )
    assert.equal(delivered[2].content, 'hello')
    reader.socket.close()
    writer.socket.close()
  } finally {
    child.kill('SIGINT')
  }
  const result = await exited
  assert.equal(result.code, 0, `Ctrl-C exits cleanly (stderr: ${result.stderr})`)
  assert.match(result.stdout, /Stopped\./)
})

test('npm start serves the examples at / and the built bundles under /dist/, and nothing else', async () => {
  const {child, ready, exited} = runStart(['--port', '0'])
  try {
    const url = await ready
    const home = await fetch(url, {redirect: 'manual'})
    assert.equal(home.status, 302)
    assert.equal(home.headers.get('location'), '/examples/')
    const gallery = await fetch(new URL('/examples/', url))
    assert.equal(gallery.status, 200)
    assert.match(await gallery.text(), /p2p-local-relay/)
    const script = await fetch(new URL('/examples/shared/room-settings.js', url))
    assert.match(script.headers.get('content-type'), /javascript/)
    assert.equal((await fetch(new URL('/package.json', url))).status, 404)
    assert.equal((await fetch(new URL('/examples/../package.json', url))).status, 404)
    assert.equal((await fetch(new URL('/examples/%2e%2e/package.json', url))).status, 404)
  } finally {
    child.kill('SIGINT')
  }
  assert.equal((await exited).code, 0)
})

test('a port in use gives a message naming the port and how to pick another', async () => {
  const blocker = createServer()
  await new Promise(done => blocker.listen(0, '127.0.0.1', done))
  const {port} = blocker.address()
  try {
    const {exited} = runStart([], {PORT: String(port)})
    const result = await exited
    assert.equal(result.code, 1)
    assert.match(result.stderr, new RegExp(`Port ${port} is already in use`))
    assert.match(result.stderr, /--port \d+/)
    assert.match(result.stderr, /PORT=\d+ npm start/)
  } finally {
    blocker.close()
  }
})

test('two tabs of the chat served by npm start meet through its relay and talk, with no other network', async () => {
  assert.ok(
    existsSync(join(root, 'dist/p2p-elements.js')),
    'dist/p2p-elements.js is missing: run `npm run build` first',
  )
  const {child, ready, exited} = runStart(['--port', '0'])
  const browser = await puppeteer.launch({executablePath: findChromium(), headless: true, args: chromiumArgs()})
  try {
    const url = await ready
    const room = `start-test-${Date.now()}`
    const tabs = []
    for (let i = 0; i < 2; i++) {
      const tab = await browser.newPage()
      await tab.goto(new URL(`/examples/chat/?room=${room}`, url).href)
      tabs.push(tab)
    }
    const [ada, bob] = tabs
    // The page's room was pointed at npm start's relay before it joined (public relays do not
    // even resolve here, so meeting at all proves it).
    const relayUrls = await ada.$eval('p2p-room', room => [
      room.getAttribute('strategy'),
      room.getAttribute('relay-urls'),
    ])
    assert.deepEqual(relayUrls, ['nostr', `ws://${new URL(url).host}/relay`])
    for (const tab of tabs)
      await tab.waitForFunction(() => document.querySelector('p2p-room').peers.length === 1, {
        timeout: 30_000,
        polling: 100,
      })
    await ada.bringToFront() // as a person switches tabs; background tabs get no input
    await ada.type('#message', 'hello through the local relay')
    await ada.click('#message-form button')
    await bob.waitForFunction(
      () =>
        [...document.querySelectorAll('#messages li')].some(li =>
          li.textContent.includes('hello through the local relay'),
        ),
      {timeout: 30_000, polling: 100},
    )
  } finally {
    await browser.close()
    child.kill('SIGINT')
  }
  assert.equal((await exited).code, 0)
})

/** One raw HTTP request with the headers given (fetch would not let a test set Host). */
const rawRequest = (port, path, headers) =>
  new Promise((done, fail) => {
    const request = httpRequest({host: '127.0.0.1', port, path, headers}, response => {
      let body = ''
      response.on('data', chunk => (body += chunk))
      response.on('end', () => done({status: response.statusCode, headers: response.headers, body}))
    })
    request.on('error', fail)
    request.end()
  })

/** Tries a websocket to `url` with these headers: resolves to 'open' or the HTTP status it got. */
const tryWebSocket = (url, headers) =>
  new Promise(done => {
    const socket = new WebSocket(url, {headers})
    socket.once('open', () => (socket.close(), done('open')))
    socket.once('unexpected-response', (_, response) => (socket.terminate(), done(response.statusCode)))
    socket.once('error', () => done('error'))
  })

test('a Host header is never written into a page unescaped', () => {
  const hostile = 'x"><script>alert(1)</script>'
  const page = injectRelayMeta('<!doctype html><html><head><title>t</title></head></html>', hostile)
  assert.doesNotMatch(page, /<script>/)
  assert.match(page, /content="ws:\/\/x&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;\/relay"/)
  assert.equal(
    escapeHtml(`<a href="x" onclick='y'>&</a>`),
    '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
  )
  // A `$` in the host is text, not a replacement pattern.
  assert.match(injectRelayMeta('<head>', "a$&b$'"), /ws:\/\/a\$&amp;b\$&#39;\/relay/)
})

test('npm start refuses a hostile Host (script injection, DNS rebinding) and a foreign Origin, on pages and on the relay', async () => {
  const {child, ready, exited} = runStart(['--port', '0', '--allow-host', 'dev.test'])
  try {
    const url = await ready
    const {port} = new URL(url)
    const page = '/examples/chat/'

    const injected = await rawRequest(port, page, {host: 'x"><script>alert(1)</script>'})
    assert.equal(injected.status, 421)
    assert.doesNotMatch(injected.body, /<script>/)
    // DNS rebinding: a page of another site whose name now resolves to this machine.
    for (const host of [`evil.example:${port}`, 'localhost:1', `localhost.evil.example:${port}`, 'localhost'])
      assert.equal((await rawRequest(port, page, {host})).status, 421, `Host ${host} is refused`)
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `dev.test:${port}`]) {
      const served = await rawRequest(port, page, {host})
      assert.equal(served.status, 200, `Host ${host} is served`)
      assert.equal(served.headers['x-content-type-options'], 'nosniff')
    }
    const json = await rawRequest(port, '/local-relay.json', {host: `localhost:${port}`, origin: 'http://evil.example'})
    assert.equal(json.status, 403, 'a foreign page cannot read the relay config')

    const relayUrl = `ws://127.0.0.1:${port}/relay`
    assert.equal(await tryWebSocket(relayUrl, {host: `evil.example:${port}`}), 421)
    assert.equal(await tryWebSocket(relayUrl, {origin: 'http://evil.example'}), 403)
    assert.equal(await tryWebSocket(relayUrl, {origin: `http://evil.example:${port}`}), 403)
    assert.equal(await tryWebSocket(relayUrl, {origin: `http://localhost:${port}`}), 'open')
    assert.equal(await tryWebSocket(relayUrl, {}), 'open', 'a client that sends no Origin (not a browser) may connect')

    // A redirect to a folder's trailing slash stays on this site (`//name/` would leave it).
    const redirect = await rawRequest(port, '/.//examples', {host: `localhost:${port}`})
    assert.equal(redirect.status, 301)
    assert.match(redirect.headers.location, /^\/[^/]/)
  } finally {
    child.kill('SIGTERM')
  }
  assert.equal((await exited).code, 0)
})
