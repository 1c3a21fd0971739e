// Load on the relay of `p2p-elements/relay`, over loopback: the relay runs in its own
// process (so its memory and CPU are its own), this process opens the clients.
// - connections: CLIENTS (default 1,000) WebSocket clients connect, each subscribes to one
//   of CLIENTS/10 rooms (10 subscribers a room), and the relay's memory is read from /health;
// - fan-out: one publisher per room sends events at offered rates that step up, each step
//   STEP_MS long; a step "holds" when at least 99% of the deliveries it should cause arrive
//   within a second of its end and the 95th-percentile latency stays under 250 ms (no queue
//   builds up). The highest step held gives the messages/s the relay delivers. This phase
//   runs with signature checks off (ids and signatures are random hex), to measure the relay;
// - verified: a pool of really signed events goes through the relay with its default
//   checks on: how many events a second it verifies (secp256k1 Schnorr, in JS) and fans out.
// Bounded: at most CLIENTS connections and about a minute of load in all.
//
//   node bench/relay-load.mjs          (CLIENTS=2000 STEP_MS=5000 for a longer run)
import {fork} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {fileURLToPath} from 'node:url'
import WebSocket from 'ws'

const clientsWanted = Number(process.env.CLIENTS ?? 1_000)
const topics = Math.max(1, Math.floor(clientsWanted / 10))
const stepMs = Number(process.env.STEP_MS ?? 4_000)
/** Offered events a second, per step (each is delivered to the 10 subscribers of its room). */
const offeredRates = [500, 750, 1_000, 1_500, 2_000, 3_000, 4_000, 6_000, 8_000, 12_000, 16_000]
/** Signed events for the verified phase: signing is slow (a few ms each here), so few. */
const signedPool = Number(process.env.SIGNED ?? 600)
const kind = 25_713

const sleep = ms => new Promise(done => setTimeout(done, ms))
const mib = bytes => Math.round((bytes / 1024 / 1024) * 10) / 10

/** The relay process: started with limits that let one address open every client. */
const relayChild = async () => {
  const {createRelayServer} = await import('../dist/lib/relay/index.js')
  const relays = {}
  for (const verifySignatures of [false, true])
    relays[verifySignatures ? 'verified' : 'raw'] = await createRelayServer({
      port: 0,
      verifySignatures,
      maxConnections: clientsWanted * 2 + 100,
      maxConnectionsPerIp: clientsWanted * 2 + 100,
      connectionBurstPerIp: clientsWanted * 2 + 100,
      messagesPerSecond: 100_000,
      messageBurst: 100_000,
      messagesPerSecondPerIp: 1_000_000,
      messageBurstPerIp: 1_000_000,
      maxBufferedBytes: 8 * 1024 * 1024,
    })
  // Gone with its parent, however that ends.
  process.on('disconnect', () => process.exit(0))
  process.send({raw: relays.raw.url, verified: relays.verified.url})
  process.on('message', async message => {
    if (message === 'stop') {
      await Promise.all(Object.values(relays).map(relay => relay.close()))
      process.exit(0)
    }
  })
}

const health = async url => (await fetch(`${url.replace(/^ws/, 'http')}/health`)).json()

const openClients = async (url, count) => {
  const clients = []
  for (let i = 0; i < count; i += 100)
    clients.push(
      ...(await Promise.all(
        Array.from(
          {length: Math.min(100, count - i)},
          () =>
            new Promise((done, fail) => {
              const socket = new WebSocket(url, {perMessageDeflate: false})
              socket.once('open', () => done(socket))
              socket.once('error', fail)
            }),
        ),
      )),
    )
  return clients
}

/** Subscribes client i to room i % rooms; resolves once every EOSE is back. */
const subscribeAll = (clients, onEvent, rooms = topics) =>
  Promise.all(
    clients.map(
      (socket, i) =>
        new Promise(done => {
          socket.on('message', data => {
            const text = String(data)
            if (text.startsWith('["EVENT"')) onEvent(text)
            else if (text.startsWith('["EOSE"')) done()
          })
          socket.send(JSON.stringify(['REQ', 'room', {kinds: [kind], '#x': [`room-${i % rooms}`]}]))
        }),
    ),
  )

const percentile = (values, p) => {
  if (!values.length) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

export async function runRelayLoadBench() {
  const relay = fork(fileURLToPath(import.meta.url), ['relay-child'], {stdio: 'inherit'})
  const urls = await new Promise(done => relay.once('message', done))
  const result = {clients: clientsWanted, rooms: topics, subscribersPerRoom: clientsWanted / topics}
  const all = []
  try {
    const idle = await health(urls.raw)
    const connectStart = performance.now()
    const clients = await openClients(urls.raw, clientsWanted)
    all.push(...clients)
    let delivered = 0
    let latencies = []
    await subscribeAll(clients, text => {
      delivered++
      // content is the send time (ms, this process's clock)
      const at = text.lastIndexOf('"content":"')
      if (at > 0) latencies.push(performance.now() - Number(text.slice(at + 11, text.indexOf('"', at + 11))))
    })
    result.connectMs = Math.round(performance.now() - connectStart)
    const connected = await health(urls.raw)
    result.relayMemory = {
      idleRssMiB: mib(idle.memory.rssBytes),
      connectedRssMiB: mib(connected.memory.rssBytes),
      connectedHeapMiB: mib(connected.memory.heapUsedBytes),
      perConnectionKiB: Math.round((connected.memory.rssBytes - idle.memory.rssBytes) / clientsWanted / 102.4) / 10,
    }

    // Fan-out: one publisher per room (extra sockets, not subscribed).
    const publishers = await openClients(urls.raw, topics)
    all.push(...publishers)
    const sig = randomBytes(64).toString('hex')
    const pubkey = randomBytes(32).toString('hex')
    const publish = room => {
      const id = randomBytes(32).toString('hex')
      const event = {
        id,
        pubkey,
        created_at: Math.floor(Date.now() / 1000),
        kind,
        tags: [['x', `room-${room}`]],
        content: String(performance.now()),
        sig,
      }
      publishers[room].send(JSON.stringify(['EVENT', event]))
    }
    result.steps = []
    let peakRss = connected.memory.rssBytes
    for (const rate of offeredRates) {
      delivered = 0
      latencies = []
      let sent = 0
      const tickMs = 10
      const start = performance.now()
      await new Promise(done => {
        const timer = setInterval(() => {
          const due = Math.floor(((performance.now() - start) / 1000) * rate)
          while (sent < due) publish(sent++ % topics)
          if (performance.now() - start >= stepMs) clearInterval(timer), done()
        }, tickMs)
      })
      const expected = sent * (clientsWanted / topics)
      const deadline = performance.now() + 1_000
      while (delivered < expected && performance.now() < deadline) await sleep(20)
      const seconds = (performance.now() - start) / 1000
      const h = await health(urls.raw)
      peakRss = Math.max(peakRss, h.memory.rssBytes)
      const step = {
        offeredEventsPerSecond: rate,
        deliveredPerSecond: Math.round(delivered / seconds),
        deliveredShare: Math.round((delivered / expected) * 1000) / 10,
        p50Ms: Math.round(percentile(latencies, 50)),
        p95Ms: Math.round(percentile(latencies, 95)),
        relayRssMiB: mib(h.memory.rssBytes),
        held: delivered >= 0.99 * expected && percentile(latencies, 95) < 250,
        seconds: Math.round(seconds * 10) / 10,
      }
      result.steps.push(step)
      if (!step.held) break
      // let queues drain before the next step
      await sleep(500)
    }
    const held = result.steps.filter(step => step.held).at(-1)
    result.heldDeliveriesPerSecond = held?.deliveredPerSecond ?? 0
    result.heldEventsPerSecond = held?.offeredEventsPerSecond ?? 0
    result.peakRelayRssMiB = mib(peakRss)
    for (const socket of all.splice(0)) socket.terminate()

    // Verified: a pool of signed events, sent paced, through the relay with signature checks on.
    const {finalizeEvent, generateSecretKey} = await import('nostr-tools/pure')
    const key = generateSecretKey()
    const signStart = performance.now()
    const pool = []
    for (let i = 0; i < signedPool && performance.now() - signStart < 15_000; i++)
      pool.push(
        finalizeEvent(
          {kind, created_at: Math.floor(Date.now() / 1000), tags: [['x', `room-${i % 10}`]], content: String(i)},
          key,
        ),
      )
    const verifiedClients = await openClients(urls.verified, 100)
    all.push(...verifiedClients)
    let verifiedDelivered = 0
    await subscribeAll(verifiedClients, () => verifiedDelivered++, 10)
    const [sender] = await openClients(urls.verified, 1)
    all.push(sender)
    let oks = 0
    let refusedOk = 0
    const allOk = new Promise(done =>
      sender.on('message', data => {
        const message = JSON.parse(String(data))
        if (message[0] !== 'OK') return
        oks++
        if (!message[2]) refusedOk++
        if (oks === pool.length) done()
      }),
    )
    const verifyStart = performance.now()
    for (const event of pool) sender.send(JSON.stringify(['EVENT', event]))
    await Promise.race([allOk, sleep(30_000)])
    const verifySeconds = (performance.now() - verifyStart) / 1000
    const verifiedExpected = (pool.length - refusedOk) * 10
    for (const until = performance.now() + 2_000; verifiedDelivered < verifiedExpected && performance.now() < until; )
      await sleep(20)
    result.verified = {
      events: pool.length,
      eventsPerSecond: Math.round(oks / verifySeconds),
      refused: refusedOk,
      deliveredShare: Math.round((verifiedDelivered / verifiedExpected) * 1000) / 10,
      clientSignMsPerEvent:
        Math.round(((performance.now() - signStart - verifySeconds * 1000) / pool.length) * 10) / 10,
    }
  } finally {
    for (const socket of all) socket.terminate()
    relay.send('stop')
    await new Promise(done => relay.once('exit', done))
  }
  return result
}

export const print = r => {
  console.log(
    `  ${r.clients} clients in ${r.rooms} rooms (${r.subscribersPerRoom} subscribers each) connected and subscribed in ${r.connectMs} ms`,
  )
  const m = r.relayMemory
  console.log(
    `  relay memory: ${m.idleRssMiB} MiB RSS idle, ${m.connectedRssMiB} MiB with every client (heap ${m.connectedHeapMiB} MiB, ~${m.perConnectionKiB} KiB a connection), peak ${r.peakRelayRssMiB} MiB`,
  )
  for (const s of r.steps)
    console.log(
      `  offered ${String(s.offeredEventsPerSecond).padStart(5)} events/s -> ${String(s.deliveredPerSecond).padStart(6)} deliveries/s (${s.deliveredShare}%), latency p50 ${s.p50Ms} ms p95 ${s.p95Ms} ms, RSS ${s.relayRssMiB} MiB ${s.held ? 'held' : 'NOT held'}`,
    )
  console.log(
    `  held: ${r.heldEventsPerSecond} events/s in, ${r.heldDeliveriesPerSecond} messages/s out (signature checks off)`,
  )
  const v = r.verified
  console.log(
    `  with signature checks (default): ${v.eventsPerSecond} events/s verified and forwarded (${v.events} events, ${v.refused} refused, ${v.deliveredShare}% of deliveries made), client signing ${v.clientSignMsPerEvent} ms/event`,
  )
}

if (process.argv[2] === 'relay-child') relayChild()
else if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runRelayLoadBench()
  print(result)
  console.log(JSON.stringify(result))
}
