// `p2p-elements/relay` (dist/lib/relay/, made by `npm run build`): rooms meet through it,
// each limit is enforced and said with a NIP-01 NOTICE (and OK false / CLOSED where the
// message can be answered), outsiders change nothing for others, /health answers, the CLI
// shuts down gracefully on SIGTERM with JSON-line logs, and a few hundred clients at once
// all get what they subscribed to (the heavy load test is bench/relay-load.mjs).
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {fork, spawn} from 'node:child_process'
import {request as httpRequest} from 'node:http'
import {fileURLToPath} from 'node:url'
import {dirname, join} from 'node:path'
import WebSocket from 'ws'
import {finalizeEvent, generateSecretKey} from 'nostr-tools/pure'
import {createRelayServer} from '../../dist/lib/relay/index.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const cli = join(root, 'dist/lib/relay/cli.js')
const kind = 25_713 // the nostr strategy's kind, in the ephemeral range
const now = () => Math.floor(Date.now() / 1000)
const signed = (fields = {}, key = generateSecretKey()) =>
  finalizeEvent({kind, created_at: now(), tags: [['x', 'topic']], content: 'hello', ...fields}, key)

/** A websocket client that keeps every message it receives, and its close code. */
const connect = (url, options) =>
  new Promise((done, fail) => {
    const socket = new WebSocket(url, options)
    const client = {socket, messages: [], closed: null}
    socket.on('message', data => client.messages.push(JSON.parse(String(data))))
    socket.on('close', code => (client.closed = code))
    socket.once('open', () => done(client))
    socket.once('unexpected-response', (_, response) =>
      fail(Object.assign(new Error('refused'), {status: response.statusCode})),
    )
    socket.once('error', fail)
  })
const send = (client, message) => client.socket.send(typeof message === 'string' ? message : JSON.stringify(message))

const waitFor = async (check, what, ms = 5_000) => {
  const until = Date.now() + ms
  while (Date.now() < until) {
    const value = check()
    if (value) return value
    await new Promise(done => setTimeout(done, 10))
  }
  throw new Error(`never saw ${what}`)
}
const noticeLike = (client, pattern) => client.messages.find(m => m[0] === 'NOTICE' && pattern.test(m[1]))
const okFor = (client, id) => client.messages.find(m => m[0] === 'OK' && m[1] === id)
const closedFor = (client, id) => client.messages.find(m => m[0] === 'CLOSED' && m[1] === id)
const eventsFor = (client, sub) => client.messages.filter(m => m[0] === 'EVENT' && m[1] === sub)

/** Round trip: once this REQ's EOSE is back, the relay has handled everything sent before it. */
let syncs = 0
const sync = async client => {
  const id = `sync-${++syncs}`
  send(client, ['REQ', id, {kinds: [kind], '#x': ['sync']}])
  await waitFor(() => client.messages.find(m => m[0] === 'EOSE' && m[1] === id), 'EOSE of the sync REQ')
  send(client, ['CLOSE', id])
}

const withRelay = async (options, body) => {
  const records = []
  const relay = await createRelayServer({port: 0, log: record => records.push(record), ...options})
  try {
    await body(relay, records)
  } finally {
    await relay.close()
  }
}

test('an event reaches the subscriptions whose filters match it, and no other', async () => {
  await withRelay({}, async relay => {
    const reader = await connect(relay.url)
    const other = await connect(relay.url)
    const writer = await connect(relay.url)
    send(reader, ['REQ', 'mine', {kinds: [kind], '#x': ['topic']}])
    send(other, ['REQ', 'theirs', {kinds: [kind], '#x': ['elsewhere']}])
    await sync(reader)
    await sync(other)
    const event = signed()
    send(writer, ['EVENT', {...event, extra: 'dropped by the relay'}])
    assert.deepEqual(await waitFor(() => okFor(writer, event.id), 'OK'), ['OK', event.id, true, ''])
    const [delivered] = await waitFor(() => eventsFor(reader, 'mine').length && eventsFor(reader, 'mine'), 'delivery')
    assert.deepEqual(
      delivered[2],
      JSON.parse(JSON.stringify(event)),
      'forwarded as signed: the NIP-01 fields, nothing added',
    )
    // The same event again (a replay) is acknowledged and not forwarded twice.
    send(writer, ['EVENT', event])
    assert.match((await waitFor(() => writer.messages.filter(m => m[0] === 'OK')[1], 'second OK'))[3], /^duplicate:/)
    await sync(other)
    await sync(reader)
    assert.equal(eventsFor(other, 'theirs').length, 0, 'another topic hears nothing')
    assert.equal(eventsFor(reader, 'mine').length, 1)
    // Subscription ids belong to their connection: an outsider closing or taking "mine" changes nothing for the reader.
    send(other, ['CLOSE', 'mine'])
    send(other, ['REQ', 'mine', {kinds: [1]}])
    await sync(other)
    const next = signed({content: 'second'})
    send(writer, ['EVENT', next])
    await waitFor(() => eventsFor(reader, 'mine').length === 2, 'the second delivery')
    assert.equal(eventsFor(other, 'mine').length, 0)
    for (const client of [reader, other, writer]) client.socket.close()
  })
})

test('only ephemeral, well-signed, current events are forwarded; a forged copy does not shadow the real one', async () => {
  await withRelay({}, async relay => {
    const reader = await connect(relay.url)
    const writer = await connect(relay.url)
    send(reader, ['REQ', 's', {'#x': ['topic']}])
    await sync(reader)

    const stored = signed({kind: 1})
    send(writer, ['EVENT', stored])
    assert.match((await waitFor(() => okFor(writer, stored.id), 'OK'))[3], /^blocked: .*ephemeral/)

    const stale = signed({created_at: now() - 3_600})
    send(writer, ['EVENT', stale])
    assert.match((await waitFor(() => okFor(writer, stale.id), 'OK'))[3], /^invalid: created_at/)

    const real = signed({content: 'the real one'})
    const forged = {...real, content: 'forged'}
    send(writer, ['EVENT', forged])
    const refused = await waitFor(() => okFor(writer, forged.id), 'OK for the forgery')
    assert.deepEqual(refused.slice(2), [false, 'invalid: the event id or signature does not check out'])
    send(writer, ['EVENT', real])
    await waitFor(
      () => writer.messages.filter(m => m[0] === 'OK' && m[1] === real.id).length === 2,
      'OK for the real one',
    )
    assert.equal(writer.messages.filter(m => m[0] === 'OK' && m[1] === real.id)[1][2], true)

    send(writer, ['EVENT', {...signed(), sig: 'zz'}])
    send(writer, 'not json')
    send(writer, ['HELLO'])
    await sync(writer)
    assert.ok(writer.messages.some(m => m[0] === 'OK' && m[2] === false && /^invalid: sig/.test(m[3])))
    assert.ok(noticeLike(writer, /^invalid: a message must be JSON/))
    assert.ok(noticeLike(writer, /^invalid: unsupported message type/))
    await sync(reader)
    assert.deepEqual(
      eventsFor(reader, 's').map(m => m[2].content),
      ['the real one'],
      'the subscriber saw only the real, ephemeral, current event',
    )
    reader.socket.close()
    writer.socket.close()
  })
})

test('a message over maxMessageBytes gets a NOTICE; one far over it closes the connection (1009)', async () => {
  await withRelay({maxMessageBytes: 1_000}, async relay => {
    const client = await connect(relay.url)
    send(client, ['EVENT', signed({content: 'x'.repeat(2_000)})])
    await waitFor(
      () => noticeLike(client, /^invalid: a message of \d+ bytes is over this relay's limit of 1000 bytes/),
      'the size NOTICE',
    )
    await sync(client)
    assert.equal(client.closed, null, 'still connected')
    send(client, 'x'.repeat(5_000))
    assert.equal(await waitFor(() => client.closed, 'the close'), 1009)
  })
})

test('a connection that keeps sending invalid messages (bad signatures, junk) is told and closed (1008)', async () => {
  await withRelay({maxInvalidMessages: 3}, async relay => {
    const client = await connect(relay.url)
    for (let i = 0; i < 3; i++) send(client, ['EVENT', {...signed(), content: 'tampered'}])
    await sync(client)
    assert.equal(client.closed, null, 'three are tolerated')
    send(client, 'junk')
    assert.equal(await waitFor(() => client.closed, 'the close'), 1008)
    assert.ok(noticeLike(client, /^blocked: more than 3 invalid messages; closing/))
  })
})

test('subscriptions per connection and filters per REQ are capped, with CLOSED and a NOTICE', async () => {
  await withRelay({maxSubscriptions: 2, maxFilters: 2, maxFilterValues: 3}, async relay => {
    const client = await connect(relay.url)
    send(client, ['REQ', 'a', {kinds: [kind]}])
    send(client, ['REQ', 'b', {kinds: [kind]}])
    send(client, ['REQ', 'a', {kinds: [kind], '#x': ['topic']}]) // replacing one is fine
    send(client, ['REQ', 'c', {kinds: [kind]}])
    assert.match((await waitFor(() => closedFor(client, 'c'), 'CLOSED c'))[2], /^blocked: at most 2 subscriptions/)
    assert.ok(await waitFor(() => noticeLike(client, /^blocked: at most 2 subscriptions/), 'the NOTICE'))
    assert.equal(closedFor(client, 'a'), undefined)
    send(client, ['CLOSE', 'b'])
    send(client, ['REQ', 'd', {}, {}, {}])
    assert.match(
      (await waitFor(() => closedFor(client, 'd'), 'CLOSED d'))[2],
      /^invalid: REQ has 3 filters \(at most 2\)/,
    )
    send(client, ['REQ', 'e', {'#x': ['1', '2', '3', '4']}])
    assert.match((await waitFor(() => closedFor(client, 'e'), 'CLOSED e'))[2], /^invalid: #x has 4 values/)
    send(client, ['REQ', 'x'.repeat(65), {}])
    await waitFor(() => noticeLike(client, /^invalid: a subscription id is a string of 1 to 64/), 'the id NOTICE')
    send(client, ['REQ', 'f', {kinds: [kind]}]) // b was closed: room for one more
    await waitFor(() => client.messages.find(m => m[0] === 'EOSE' && m[1] === 'f'), 'EOSE f')
    assert.equal((await (await fetch(`${relay.url.replace('ws', 'http')}/health`)).json()).subscriptions, 2)
    client.socket.close()
  })
})

test('messages beyond the rate per connection, then per address, get OK false / CLOSED "rate-limited:" and a NOTICE', async () => {
  await withRelay(
    {messagesPerSecond: 1, messageBurst: 5, messagesPerSecondPerIp: 1, messageBurstPerIp: 8},
    async relay => {
      const first = await connect(relay.url)
      const events = Array.from({length: 7}, () => signed())
      for (const event of events) send(first, ['EVENT', event])
      send(first, ['REQ', 'late', {kinds: [kind]}])
      await waitFor(() => closedFor(first, 'late'), 'CLOSED for the REQ past the limit')
      const oks = events.map(event => okFor(first, event.id))
      assert.deepEqual(
        oks.map(ok => ok[2]),
        [true, true, true, true, true, false, false],
      )
      assert.match(oks[5][3], /^rate-limited: slow down, at most 1 messages a second per connection/)
      assert.match(closedFor(first, 'late')[2], /^rate-limited:/)
      assert.ok(noticeLike(first, /^rate-limited: slow down/), 'a NOTICE says so')

      // A second connection from the same address has its own burst, but the address's is nearly spent.
      const second = await connect(relay.url)
      const more = Array.from({length: 5}, () => signed())
      for (const event of more) send(second, ['EVENT', event])
      await waitFor(() => more.every(event => okFor(second, event.id)), 'OKs')
      const answers = more.map(event => okFor(second, event.id))
      assert.deepEqual(
        answers.map(ok => ok[2]),
        [true, true, true, false, false],
      )
      assert.match(answers[3][3], /per address/)
      assert.ok(noticeLike(second, /^rate-limited: slow down, at most 1 messages a second per address/))
      first.socket.close()
      second.socket.close()
    },
  )
})

test('connections are capped per address and in all, each refusal said with a NOTICE before closing (1013)', async () => {
  await withRelay({maxConnectionsPerIp: 2, maxConnections: 3}, async (relay, records) => {
    const kept = [await connect(relay.url), await connect(relay.url)]
    const third = await connect(relay.url)
    await waitFor(() => third.closed, 'the third connection to close')
    assert.equal(third.closed, 1013)
    assert.match(third.messages[0][1], /^blocked: too many connections from your address \(at most 2\)/)
    // From another address (::1 is not 127.0.0.1), the total cap applies.
    const v6 = await createRelayServer({port: 0, host: '::1', maxConnections: 1})
    try {
      const one = await connect(v6.url)
      const two = await connect(v6.url)
      await waitFor(() => two.closed, 'the second connection to close')
      assert.match(two.messages[0][1], /^blocked: this relay is full \(1 connections\)/)
      one.socket.close()
    } finally {
      await v6.close()
    }
    assert.ok(
      records.some(r => r.event === 'refused' && r.reason === 'connections'),
      'the refusal is logged',
    )
    for (const client of kept) client.socket.close()
  })
})

test('new connections from one address are rate-limited, with a NOTICE before closing (1013)', async () => {
  await withRelay({connectionsPerSecondPerIp: 0.1, connectionBurstPerIp: 2}, async relay => {
    const kept = [await connect(relay.url), await connect(relay.url)]
    kept[1].socket.close()
    await waitFor(() => kept[1].closed, 'the close')
    // Closing one does not give its place back: the burst is spent.
    const third = await connect(relay.url)
    assert.equal(await waitFor(() => third.closed, 'the third connection to close'), 1013)
    assert.match(third.messages[0][1], /^rate-limited: too many new connections from your address/)
    kept[0].socket.close()
  })
})

test('allowedOrigins and allowedHosts refuse other pages and other host names (DNS rebinding)', async () => {
  await withRelay({allowedOrigins: ['https://app.example'], allowedHosts: ['relay.example']}, async relay => {
    const host = {host: 'relay.example'}
    await assert.rejects(connect(relay.url, {headers: {...host, origin: 'https://evil.example'}}), {status: 403})
    await assert.rejects(connect(relay.url, {headers: {host: 'evil.example', origin: 'https://app.example'}}), {
      status: 403,
    })
    await assert.rejects(connect(relay.url), {status: 403}, 'the Host 127.0.0.1:PORT is not the allowed one')
    const app = await connect(relay.url, {headers: {...host, origin: 'https://app.example'}})
    const tool = await connect(relay.url, {headers: host}) // no Origin: not a browser page
    app.socket.close()
    tool.socket.close()
    const health = await new Promise(done =>
      httpRequest(`${relay.url.replace('ws', 'http')}/health`, {headers: {host: 'evil.example'}}, done).end(),
    )
    assert.equal(health.statusCode, 403)
  })
})

test('X-Forwarded-For counts only with trustProxy: a client cannot pick its own address', async () => {
  for (const trustProxy of [false, true]) {
    await withRelay({maxConnectionsPerIp: 1, trustProxy}, async relay => {
      const first = await connect(relay.url, {headers: {'x-forwarded-for': '198.51.100.1'}})
      const second = await connect(relay.url, {headers: {'x-forwarded-for': '198.51.100.1, 198.51.100.2'}})
      await sync(first)
      if (trustProxy) await sync(second)
      else await waitFor(() => second.closed, 'the second connection to be refused')
      assert.equal(second.closed, trustProxy ? null : 1013, `trustProxy ${trustProxy}`)
      first.socket.close()
      second.socket.close()
    })
  }
})

test('GET /health answers JSON counters and NIP-11 describes the limits', async () => {
  await withRelay({maxSubscriptions: 7}, async relay => {
    const base = relay.url.replace('ws', 'http')
    const health = await fetch(`${base}/health`)
    assert.equal(health.status, 200)
    const body = await health.json()
    assert.equal(body.status, 'ok')
    for (const field of ['connections', 'subscriptions', 'eventsReceived', 'eventsDelivered', 'uptimeSeconds'])
      assert.equal(typeof body[field], 'number', field)
    assert.equal(typeof body.memory.rssBytes, 'number')
    const info = await (await fetch(base, {headers: {accept: 'application/nostr+json'}})).json()
    assert.deepEqual(info.supported_nips, [1, 11])
    assert.equal(info.limitation.max_subscriptions, 7)
    assert.equal((await fetch(base)).status, 426)
  })
})

test('five hundred clients at once each get every event of their topic and none of another', async () => {
  const clients = 500
  const topics = 10
  const perPublisher = 3
  await withRelay(
    {
      maxConnectionsPerIp: clients + 1,
      connectionBurstPerIp: clients + 1,
      messagesPerSecondPerIp: 10_000,
      messageBurstPerIp: 10_000,
    },
    async relay => {
      const all = []
      for (let i = 0; i < clients; i += 50)
        all.push(...(await Promise.all(Array.from({length: Math.min(50, clients - i)}, () => connect(relay.url)))))
      for (const [i, client] of all.entries())
        send(client, ['REQ', 'room', {kinds: [kind], '#x': [`topic-${i % topics}`]}])
      await waitFor(
        () => all.every(client => client.messages.some(m => m[0] === 'EOSE' && m[1] === 'room')),
        'every subscription to be in place',
        30_000,
      )
      // One publisher per topic sends a few events.
      const publishers = all.slice(0, topics)
      const key = generateSecretKey()
      publishers.forEach((client, t) => {
        for (let n = 0; n < perPublisher; n++)
          send(client, ['EVENT', signed({tags: [['x', `topic-${t}`]], content: `${t}/${n}`}, key)])
      })
      await waitFor(
        () => all.every(client => eventsFor(client, 'room').length === perPublisher),
        'every client to get its topic',
        30_000,
      )
      all.forEach((client, i) => {
        for (const [, , event] of eventsFor(client, 'room'))
          assert.equal(event.content.split('/')[0], String(i % topics))
      })
      const health = await (await fetch(`${relay.url.replace('ws', 'http')}/health`)).json()
      assert.equal(health.connections, clients)
      assert.equal(health.eventsDelivered, clients * perPublisher)
      assert.equal(health.dropped, 0)
      for (const client of all) client.socket.terminate()
    },
  )
})

test('two Node peers (node-datachannel) meet through the relay and exchange an action', async () => {
  await withRelay({}, async relay => {
    const roomId = `relay-node-${Date.now()}`
    const peers = [0, 1].map(() => {
      const child = fork(new URL('./_relay-peer.mjs', import.meta.url), [relay.url, roomId], {stdio: 'inherit'})
      const reports = []
      child.on('message', message => message.type === 'report' && reports.push(message))
      return {child, reports}
    })
    try {
      await waitFor(() => peers.every(p => p.reports.some(r => r.kind === 'joined')), 'both peers to join', 30_000)
      const [a, b] = peers
      const idOf = peer => peer.reports.find(r => r.kind === 'ready').selfId
      a.child.send({type: 'send', text: 'hello from a'})
      b.child.send({type: 'send', text: 'hello from b'})
      const heardByB = await waitFor(() => b.reports.find(r => r.kind === 'received'), 'b to hear a', 15_000)
      const heardByA = await waitFor(() => a.reports.find(r => r.kind === 'received'), 'a to hear b', 15_000)
      assert.deepEqual([heardByB.data, heardByB.peerId], ['hello from a', idOf(a)])
      assert.deepEqual([heardByA.data, heardByA.peerId], ['hello from b', idOf(b)])
      assert.deepEqual(
        peers.flatMap(p => p.reports.filter(r => r.kind === 'error')),
        [],
        'no relay refused anything the strategy sent',
      )
      for (const {child} of peers) child.send({type: 'leave'})
      await waitFor(() => peers.every(p => p.reports.some(r => r.kind === 'left')), 'both to leave', 10_000)
    } finally {
      for (const {child} of peers) child.kill()
    }
  })
})

test('`p2p-elements relay` logs JSON lines, and on SIGTERM tells clients with a NOTICE, closes them (1001) and exits 0', async () => {
  const child = spawn(process.execPath, [cli, 'relay', '--port', '0'], {stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', chunk => (stdout += chunk))
  child.stderr.on('data', chunk => (stderr += chunk))
  const exited = new Promise(done => child.on('exit', code => done(code)))
  try {
    const url = await waitFor(() => stdout.match(/"url":"(ws:[^"]+)"/)?.[1], 'the listening line')
    const client = await connect(url)
    send(client, ['REQ', 's', {kinds: [kind]}])
    await sync(client)
    child.kill('SIGTERM')
    assert.equal(await waitFor(() => client.closed, 'the close'), 1001)
    assert.match(noticeLike(client, /^shutting down/)[1], /SIGTERM/)
    assert.equal(await exited, 0, `exit code (stderr: ${stderr})`)
    const records = stdout
      .trim()
      .split('\n')
      .map(line => JSON.parse(line))
    assert.deepEqual(
      records.map(r => r.event),
      ['listening', 'connect', 'shutdown', 'disconnect', 'closed'],
    )
    for (const record of records) {
      assert.equal(typeof record.time, 'string')
      assert.ok(['info', 'warn', 'error'].includes(record.level))
    }
  } finally {
    child.kill()
  }
})

test('`p2p-elements relay` with a bad option says what is wrong and exits 2', async () => {
  for (const args of [['relay', '--port', 'eighty'], ['serve'], ['relay', '--rate', '0']]) {
    const child = spawn(process.execPath, [cli, ...args], {stdio: ['ignore', 'pipe', 'pipe']})
    let stderr = ''
    child.stderr.on('data', chunk => (stderr += chunk))
    const code = await new Promise(done => child.on('exit', done))
    assert.equal(code, 2, args.join(' '))
    assert.match(stderr, /^p2p-elements: .+\n\nusage: p2p-elements relay/)
  }
})
