// `npm run peer -- --passive --strategy nostr,mqtt`: an always-on peer that never announces,
// over two networks at once. Run as a user runs it, against a local Nostr relay and MQTT
// broker, with newcomers in processes of their own; a relay-side mqtt.js client checks that
// the server peer publishes nothing until a newcomer announces.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {dirname, join} from 'node:path'
import mqtt from 'mqtt'
import {watchLines} from './_lines.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')

const spawnWatched = (args, ipc = false) =>
  watchLines(spawn(process.execPath, args, {cwd: root, stdio: ['ignore', 'pipe', 'inherit', ...(ipc ? ['ipc'] : [])]}))

const report = (child, kind) => child.waitFor(new RegExp(`^(\\{"kind":"${kind}".*)$`), kind).then(m => JSON.parse(m[1]))
const leave = child =>
  new Promise(resolve => {
    child.once('exit', resolve)
    child.send('leave')
  })
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

test('a passive server peer over nostr+mqtt is silent until a page announces, then serves every newcomer', async () => {
  const nostr = await (await import(join(root, 'test/servers/nostr.mjs'))).start()
  const broker = await (await import(join(root, 'test/servers/mqtt.mjs'))).start()
  const observer = mqtt.connect(broker.url)
  const seen = []
  observer.on('message', (topic, payload) => {
    try {
      seen.push({topic, ...JSON.parse(String(payload))})
    } catch {}
  })
  await new Promise(resolve => observer.on('connect', () => observer.subscribe('#', resolve)))

  const room = `passive-peer-${Math.random().toString(36).slice(2, 8)}`
  const peer = spawnWatched([
    join(root, 'scripts/peer.mjs'),
    '--room',
    room,
    '--app-id',
    'p2p-elements-tests',
    '--strategy',
    'nostr,mqtt',
    '--passive',
    '--relay-urls',
    `nostr=${nostr.url},mqtt=${broker.url}`,
    '--config',
    '{"rtcConfig": {"iceServers": []}}',
  ])
  const config = {
    appId: 'p2p-elements-tests',
    strategy: ['nostr', 'mqtt'],
    strategyConfig: {nostr: {relayUrls: [nostr.url]}, mqtt: {relayUrls: [broker.url]}},
    announceIntervalMs: 500,
  }
  const newcomer = (mode, value) =>
    spawnWatched(
      // _state-newcomer imports dist/lib/strategies/NAME.js: this path reaches the multi entry.
      [
        join(root, 'test/node/_state-newcomer.mjs'),
        '../multi/index',
        JSON.stringify(config),
        room,
        mode,
        JSON.stringify(value),
      ],
      true,
    )
  try {
    const [line, peerId] = await peer.waitFor(/peer (\S+) in room.*/, 'the server peer started')
    assert.match(line, /over nostr\+mqtt/)
    assert.match(line, /passive/)
    await sleep(2_000)
    assert.deepEqual(
      seen.filter(m => m.from === peerId),
      [],
      'a passive peer alone in its room publishes nothing',
    )

    const alice = newcomer('share', {text: 'hello'})
    assert.equal((await report(alice, 'joined')).peerId, peerId)
    await report(alice, 'shared')
    await peer.waitFor(/state from/, 'the server peer got the state')
    await leave(alice)

    const bob = newcomer('listen')
    const received = await report(bob, 'state')
    assert.equal(received.peerId, peerId)
    assert.deepEqual(received.data, {text: 'hello'})
    await leave(bob)

    const mine = seen.filter(m => m.from === peerId)
    assert.ok(mine.length > 0, 'it offered to the newcomers')
    assert.deepEqual([...new Set(mine.map(m => m.t))], ['offer'], 'offers only, never an announce')
  } finally {
    const exited = new Promise(resolve => peer.once('exit', resolve))
    peer.kill('SIGTERM')
    assert.equal(await exited, 0)
    observer.end(true)
    await nostr.stop()
    await broker.stop()
  }
})
