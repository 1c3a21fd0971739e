// An attacker on a real MQTT broker: a plain mqtt.js client (no password, no room key) that
// reads what peers publish on the topics it is pointed at and publishes what an outsider
// would. Browser tests drive it over HTTP (text/plain JSON bodies, CORS open):
//
//   POST /start  {relay, room, peers: {peerId: topic}, attack?, options?} -> {id}
//                 subscribes to the room topic and those peer topics and records what it reads
//   POST /attack {id, attack, options}            runs an attack (one-shot ones: resolves once sent)
//   POST /watch  {id, peers: {peerId: topic}}     also read (and attack) these peer topics
//   POST /stop   {id}                             -> {published, read}
//   GET  /status?id=ID                            -> {published, read, replayed?}
//
// Attacks (what "What was found" 3 and 5 of issue 10 describe):
//   wrong-key       plaintext and envelope-shaped `wrong-key` reports naming each real peer,
//                   on the room topic and every peer topic, every 250 ms
//   bad-offer       offers that claim to come from a real peer but whose seal does not open
//   announce-flood  `count` (2000) announces from ids that sort below every real id, at once
//   junk-offers     `count` (1000) offers of 100 KB junk to every peer topic, then every real
//                   sealed offer it read earlier, replayed once
//   alter           for every message read, copies with a long string corrupted in place, with
//                   the sender's id swapped for another peer's, and with the kind swapped
//   redeliver       every message read, published again 2.5 s and 8 s later
// The test asserts what the room still does; this file only attacks.
import {createServer} from 'node:http'
import {randomBytes} from 'node:crypto'
import mqtt from 'mqtt'
import {listen, stopper} from '../../scripts/relays/listen.mjs'

/** Messages kept per attacker, for templates and replays. */
const logLimit = 5_000
/** How often the repeating attacks (wrong-key, bad-offer) fire. */
const repeatMs = 250
const redeliverAfterMs = [2_500, 8_000]

const parse = text => {
  try {
    const value = JSON.parse(text)
    return value && typeof value === 'object' ? value : undefined
  } catch {
    return undefined
  }
}
const senderOf = message => message?.from ?? message?.peer
const junk = bytes =>
  randomBytes(Math.ceil((bytes * 3) / 4))
    .toString('base64')
    .slice(0, bytes)
/** `text` with a run of characters in its middle changed to others of the same alphabet. */
const corrupt = text => {
  if (text.length < 8) return `${text}x`
  const at = Math.floor(text.length / 2)
  const swap = c => (c === 'A' ? 'B' : c === 'a' ? 'b' : c === '0' ? '1' : /[A-Za-z0-9]/.test(c) ? 'A' : c)
  return text.slice(0, at) + [...text.slice(at, at + 4)].map(swap).join('') + text.slice(at + 4)
}
/** Ids of the real ids' length and alphabet that sort below all of them. */
const lowIds = (realIds, count) => {
  const length = Math.max(8, ...realIds.map(id => id.length))
  const lowest = realIds.length ? [...realIds].sort()[0] : '1'
  const floor = lowest[0] > '0' ? '0' : '-'
  return Array.from({length: count}, (_, i) => (floor.repeat(length) + i.toString(36)).slice(-length))
}

/** Ids of the real ids' length that sort above all of them. */
const highIds = (realIds, count) => {
  const length = Math.max(8, ...realIds.map(id => id.length))
  return Array.from({length: count}, (_, i) => ('z'.repeat(length) + i.toString(36)).slice(-length).replace(/^./, 'z'))
}

const createAttacker = ({relay, room, peers = {}}) => {
  const client = mqtt.connect(relay, {clientId: `hostile_${randomBytes(6).toString('hex')}`, reconnectPeriod: 0})
  client.on('error', () => {})
  const topics = new Map(Object.entries(peers)) // peer id -> its topic
  const log = [] // {topic, text, message}
  const own = new Set() // what we published, so we never attack our own copies
  const kinds = new Set()
  const timers = new Set()
  const stats = {published: 0, read: 0}
  const active = new Set() // attacks under way
  let stopped = false

  const later = (ms, run) => {
    const timer = setTimeout(() => (timers.delete(timer), stopped || run()), ms)
    timers.add(timer)
  }
  const publish = (topic, text) => {
    if (stopped) return
    own.add(text)
    if (own.size > logLimit * 4) own.delete(own.values().next().value)
    stats.published++
    client.publish(topic, text, {qos: 0})
  }
  const publishJson = (topic, value) => publish(topic, JSON.stringify(value))
  /** Waits until the client has handed its queue to the socket, so floods do not pile up here. */
  const drained = () =>
    new Promise(done => (client.stream?.writableNeedDrain ? client.stream.once('drain', done) : setImmediate(done)))

  const realIds = () => [...new Set([...topics.keys(), ...log.map(entry => senderOf(entry.message)).filter(Boolean)])]
  const peerTopics = () => [...topics.values()]
  /** The latest message a peer sent (an envelope to imitate), if any. */
  const templateOf = id => [...log].reverse().find(entry => senderOf(entry.message) === id)?.message

  const subscribe = list => list.length && client.subscribe(list, {qos: 0})

  const onRead = (topic, text, message) => {
    if (active.has('redeliver')) for (const ms of redeliverAfterMs) later(ms, () => publish(topic, text))
    if (active.has('alter')) {
      const from = senderOf(message)
      // A long string corrupted in place (sealed payloads, keys, signatures).
      const longest = Object.entries(message)
        .filter(([, value]) => typeof value === 'string')
        .sort((a, b) => b[1].length - a[1].length)[0]
      if (longest) publishJson(topic, {...message, [longest[0]]: corrupt(longest[1])})
      // The sender's id swapped for another peer's, everywhere in the text, here and on the other peers' topics.
      const other = realIds().find(id => id !== from)
      if (from && other) {
        const swapped = text.split(from).join(other)
        publish(topic, swapped)
        for (const [id, peerTopic] of topics) if (id !== from && peerTopic !== topic) publish(peerTopic, swapped)
      }
      // The kind swapped for every other kind seen.
      for (const kind of kinds) if (kind !== message.t) publishJson(topic, {...message, t: kind})
    }
  }

  client.on('message', (topic, payload) => {
    const text = payload.toString()
    if (own.has(text) || stopped) return
    const message = parse(text)
    if (!message) return
    stats.read++
    if (typeof message.t === 'string') kinds.add(message.t)
    log.push({topic, text, message})
    if (log.length > logLimit) log.shift()
    onRead(topic, text, message)
  })

  const repeat = run => {
    const tick = () => {
      run()
      later(repeatMs, tick)
    }
    tick()
  }

  const connected = new Promise((done, fail) => (client.once('connect', done), client.once('error', fail))).then(() =>
    subscribe([room, ...peerTopics()]),
  )

  /** Runs one attack; resolves once a one-shot attack has been sent, or a lasting one is under way. */
  const run = async (attack, options = {}) => {
    await connected
    active.add(attack)
    if (attack === 'wrong-key')
      repeat(() => {
        for (const x of realIds()) {
          publishJson(room, {t: 'wrong-key', peer: x})
          for (const [y, topic] of topics) {
            if (y === x) continue
            publishJson(topic, {t: 'wrong-key', peer: x})
            publishJson(topic, {
              ...templateOf(x),
              v: 2,
              t: 'wrong-key',
              from: x,
              to: y,
              ts: Date.now(),
              sealed: undefined,
            })
          }
        }
      })
    if (attack === 'bad-offer')
      repeat(() => {
        for (const x of realIds())
          for (const [y, topic] of topics) {
            if (y === x) continue
            const template = templateOf(x) ?? {}
            publishJson(topic, {t: 'offer', peer: x, sealed: `${junk(16)}.${junk(400)}`})
            publishJson(topic, {
              ...template,
              v: 2,
              t: 'offer',
              from: x,
              to: y,
              ts: Date.now(),
              sealed: junk(template.sealed?.length ?? 600),
            })
          }
      })
    if (attack === 'announce-flood') {
      const template = realIds().map(templateOf).find(Boolean) ?? {}
      for (const [i, fake] of lowIds(realIds(), options.count ?? 2000).entries()) {
        if (i % 2) publishJson(room, {t: 'announce', peer: fake})
        else
          publishJson(room, {
            ...template,
            v: 2,
            t: 'announce',
            from: fake,
            key: template.key ? junk(template.key.length) : undefined,
            ts: Date.now(),
          })
        if (i % 100 === 99) await drained()
      }
    }
    if (attack === 'junk-offers') {
      const realOffers = log.filter(entry => entry.message.t === 'offer')
      // Not reading its own flood back: a broker serves its subscribers in order, so an attacker
      // slow to take 300 MB of its own junk would delay every other client's messages too,
      // a cost of this harness and not of the peers under test.
      await new Promise(done => client.unsubscribe(peerTopics(), done))
      // Made-up senders on both sides of the real ids: answered by some peers, offered to by others.
      const fakes = [...lowIds(realIds(), 25), ...highIds(realIds(), 25)]
      // Just under 100 KB a message: the size the issue measured (+95 MiB heap, 999 join errors).
      const size = options.bytes ?? 97_000
      for (let i = 0; i < (options.count ?? 1000); i++) {
        const fake = fakes[i % fakes.length]
        for (const [y, topic] of topics)
          publishJson(
            topic,
            i % 2
              ? {t: 'offer', peer: fake, sealed: `${junk(16)}.${junk(size)}`}
              : {v: 2, t: 'offer', from: fake, to: y, ts: Date.now(), key: junk(44), sealed: junk(size), sig: junk(88)},
          )
        if (i % 10 === 9) await drained()
      }
      // Then the old sealed offers, replayed as they were.
      for (const {topic, text} of realOffers) publish(topic, text)
      stats.replayed = realOffers.length
      subscribe(peerTopics())
    }
    return stats
  }

  return {
    stats,
    connected,
    run,
    watch: more => {
      const added = Object.entries(more).filter(([id]) => !topics.has(id))
      for (const [id, topic] of added) topics.set(id, topic)
      subscribe(added.map(([, topic]) => topic))
    },
    stop: () => {
      stopped = true
      for (const timer of timers) clearTimeout(timer)
      client.end(true)
      return stats
    },
  }
}

export async function start(port = 0) {
  const attackers = new Map()
  let next = 1
  const server = createServer(async (request, response) => {
    const reply = (status, body) => {
      response.writeHead(status, {'content-type': 'application/json', 'access-control-allow-origin': '*'})
      response.end(JSON.stringify(body))
    }
    if (request.method === 'OPTIONS') {
      response.writeHead(204, {'access-control-allow-origin': '*', 'access-control-allow-headers': '*'})
      return response.end()
    }
    const url = new URL(request.url, 'http://x')
    let body = {}
    if (request.method === 'POST') {
      let text = ''
      for await (const chunk of request) text += chunk
      body = parse(text) ?? {}
    }
    const id = body.id ?? url.searchParams.get('id')
    const attacker = attackers.get(String(id))
    switch (url.pathname) {
      case '/start': {
        const created = createAttacker(body)
        const key = String(next++)
        attackers.set(key, created)
        try {
          await created.connected
          if (body.attack) await created.run(body.attack, body.options)
        } catch (error) {
          created.stop()
          attackers.delete(key)
          return reply(500, {error: String(error)})
        }
        return reply(200, {id: key, ...created.stats})
      }
      case '/attack':
        if (!attacker) return reply(404, {error: 'no such attacker'})
        return reply(200, await attacker.run(body.attack, body.options))
      case '/watch':
        attacker?.watch(body.peers ?? {})
        return reply(attacker ? 200 : 404, attacker?.stats ?? {error: 'no such attacker'})
      case '/status':
        return reply(attacker ? 200 : 404, attacker?.stats ?? {error: 'no such attacker'})
      case '/stop':
        if (!attacker) return reply(404, {error: 'no such attacker'})
        attackers.delete(String(id))
        return reply(200, attacker.stop())
    }
    reply(404, {error: 'unknown path'})
  })
  const actualPort = await listen(server, port)
  const stop = stopper({
    server,
    after: () => {
      for (const attacker of attackers.values()) attacker.stop()
      attackers.clear()
    },
  })
  return {url: `http://127.0.0.1:${actualPort}`, port: actualPort, stop}
}
