// The always-on server peer (`npm run peer`): it remembers the last state a peer shared and
// hands it to each newcomer, even after everyone who shared it has left. Runs the script as
// a user does, against our local servers, with newcomers in processes of their own.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {dirname, extname, join, normalize} from 'node:path'
import {createServer} from 'node:http'
import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import puppeteer from 'puppeteer-core'
import {chromiumArgs, findChromium} from '../../scripts/chromium.mjs'
import {watchLines} from './_lines.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const newcomerScript = join(root, 'test/node/_state-newcomer.mjs')

const startServerPeer = (room, strategy, flags) => {
  const child = spawn(
    process.execPath,
    [join(root, 'scripts/peer.mjs'), '--room', room, '--strategy', strategy, ...flags],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  return watchLines(child)
}

const startNewcomer = (strategy, config, room, mode, value) => {
  const child = spawn(
    process.execPath,
    [newcomerScript, strategy, JSON.stringify(config), room, mode, JSON.stringify(value)],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    },
  )
  return watchLines(child)
}

const report = (child, kind) => child.waitFor(new RegExp(`^(\\{"kind":"${kind}".*)$`), kind).then(m => JSON.parse(m[1]))

const leave = child =>
  new Promise(resolve => {
    child.once('exit', resolve)
    child.send('leave')
  })

const cases = [
  {
    strategy: 'nostr',
    server: 'nostr',
    config: url => ({appId: 'p2p-elements-tests', relayUrls: [url]}),
    flags: url => ['--app-id', 'p2p-elements-tests', '--relay-urls', url],
  },
  {
    strategy: 'supabase',
    server: 'supabase',
    config: url => ({appId: url, supabaseKey: 'test-anon-key'}),
    flags: url => ['--app-id', url, '--supabase-key', 'test-anon-key'],
  },
  {
    strategy: 'ipfs',
    server: 'libp2p',
    config: url => ({appId: 'p2p-elements-tests', relayUrls: [url]}),
    flags: url => ['--app-id', 'p2p-elements-tests', '--relay-urls', url],
  },
  {
    strategy: 'firebase',
    server: 'firebase',
    config: url => ({appId: url}),
    flags: url => ['--app-id', url],
  },
]

for (const {strategy, server: serverName, config, flags} of cases) {
  test(`a server peer over ${strategy} hands the last shared state to a newcomer after its sender left`, async () => {
    const server = await (await import(join(root, `test/servers/${serverName}.mjs`))).start()
    const room = `server-peer-${Math.random().toString(36).slice(2, 8)}`
    const peer = startServerPeer(room, strategy, [
      ...flags(server.url),
      '--config',
      '{"rtcConfig": {"iceServers": []}}',
    ])
    try {
      const [, peerId] = await peer.waitFor(/peer (\S+) in room/, 'the server peer started')

      const alice = startNewcomer(strategy, config(server.url), room, 'share', {text: 'hello', n: 1})
      assert.equal((await report(alice, 'joined')).peerId, peerId)
      await report(alice, 'shared')
      await peer.waitFor(/state from/, 'the server peer got the state')
      await leave(alice)

      const bob = startNewcomer(strategy, config(server.url), room, 'listen')
      const received = await report(bob, 'state')
      assert.equal(received.peerId, peerId, 'the state comes from the server peer')
      assert.deepEqual(received.data, {text: 'hello', n: 1})
      await leave(bob)
    } finally {
      const exited = new Promise(resolve => peer.once('exit', resolve))
      peer.kill('SIGTERM')
      assert.equal(await exited, 0, 'the server peer leaves and exits cleanly on SIGTERM')
      await server.stop()
    }
  })
}

/** Serves the project root (the built bundles in dist/ and the test fixtures) on 127.0.0.1. */
const serveRoot = async () => {
  const types = {'.html': 'text/html', '.js': 'text/javascript'}
  const server = createServer(async (request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '')
    try {
      const body = await readFile(join(root, path))
      response.writeHead(200, {'content-type': types[extname(path)] ?? 'application/octet-stream'}).end(body)
    } catch {
      response.writeHead(404).end()
    }
  })
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  return {url: `http://127.0.0.1:${server.address().port}`, close: () => server.close()}
}

test('a browser page joining later gets the state from a server peer', {
  skip: !existsSync(join(root, 'dist/supabase.js')) && 'run npm run build first: the page loads dist/supabase.js',
}, async () => {
  const server = await (await import(join(root, 'test/servers/supabase.mjs'))).start()
  const room = `server-peer-${Math.random().toString(36).slice(2, 8)}`
  const config = {appId: server.url, supabaseKey: 'test-anon-key'}
  const peer = startServerPeer(room, 'supabase', [
    '--app-id',
    server.url,
    '--supabase-key',
    'test-anon-key',
    '--config',
    '{"rtcConfig": {"iceServers": []}}',
  ])
  const site = await serveRoot()
  const browser = await puppeteer.launch({executablePath: findChromium(), headless: true, args: chromiumArgs()})
  try {
    const [, peerId] = await peer.waitFor(/peer (\S+) in room/, 'the server peer started')
    const alice = startNewcomer('supabase', config, room, 'share', {board: ['x', null, 'o']})
    await report(alice, 'shared')
    await peer.waitFor(/state from/, 'the server peer got the state')
    await leave(alice)

    const page = await browser.newPage()
    const query = new URLSearchParams({
      strategy: 'supabase',
      room,
      config: JSON.stringify({...config, rtcConfig: {iceServers: []}}),
    })
    await page.goto(`${site.url}/test/fixtures/state-newcomer.html?${query}`)
    await page.waitForFunction('window.ready === true')
    await page.waitForFunction('window.received.length > 0', {timeout: 0})
    const [received] = await page.evaluate(() => window.received)
    assert.equal(received.peerId, peerId)
    assert.deepEqual(received.data, {board: ['x', null, 'o']})
    await page.evaluate(() => window.leave())
  } finally {
    await browser.close()
    site.close()
    const exited = new Promise(resolve => peer.once('exit', resolve))
    peer.kill('SIGTERM')
    await exited
    await server.stop()
  }
})
