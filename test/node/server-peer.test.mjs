// The always-on server peer (`npm run peer`): it remembers the last state a peer shared and
// hands it to each newcomer, even after everyone who shared it has left. Runs the script as
// a user does, against our local servers, with newcomers in processes of their own.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {dirname, join} from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const newcomerScript = join(root, 'test/node/_state-newcomer.mjs')

/** Collects a child's stdout lines, so a test can wait for one printed before or after it asks. */
const watchLines = child => {
  const lines = []
  const waiters = new Set()
  let buffer = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', chunk => {
    if (process.env.DEBUG_PEERS) process.stderr.write(chunk)
    buffer += chunk
    const complete = buffer.split('\n')
    buffer = complete.pop()
    lines.push(...complete)
    for (const waiter of waiters) waiter()
  })
  child.lines = lines
  child.waitFor = (pattern, what) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const match = lines.map(line => line.match(pattern)).find(Boolean)
        if (match) waiters.delete(check), resolve(match)
      }
      waiters.add(check)
      child.once('exit', code => reject(new Error(`process exited (${code}) before ${what}`)))
      check()
    })
  return child
}

const startServerPeer = (room, strategy, flags) => {
  const child = spawn(process.execPath, [join(root, 'scripts/peer.mjs'), '--room', room, '--strategy', strategy, ...flags], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return watchLines(child)
}

const startNewcomer = (strategy, config, room, mode, value) => {
  const child = spawn(process.execPath, [newcomerScript, strategy, JSON.stringify(config), room, mode, JSON.stringify(value)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  })
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
    const peer = startServerPeer(room, strategy, [...flags(server.url), '--config', '{"rtcConfig": {"iceServers": []}}'])
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
