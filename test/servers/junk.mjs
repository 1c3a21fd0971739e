// A hostile "relay" for tests: a WebSocket server on 127.0.0.1 (any path) that answers
// everything with garbage shaped like Nostr, WebTorrent-tracker and MQTT traffic:
// non-JSON, wrong shapes, events with bad signatures, events for other topics, replayed
// old events, payloads the core cannot decrypt, offers for other swarms, random bytes, and
// a 1 MiB message (a strategy must skip it before JSON.parse).
// A strategy given this relay next to a real one must ignore all of it and keep working.
import {createServer} from 'node:http'
import {randomBytes} from 'node:crypto'
import {WebSocketServer} from 'ws'
import {finalizeEvent, generateSecretKey} from 'nostr-tools/pure'
import {listen, stopper} from '../../scripts/relays/listen.mjs'

const key = generateSecretKey()
const now = () => Math.floor(Date.now() / 1000)
const fakePeer = 'JunkPeerJunkPeerJunk' // 20 characters, like a real peer id
const undecryptable = JSON.stringify({t: 'offer', peer: fakePeer, sealed: 'AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAA'})
// Longer than any message a strategy takes (2 x 64 KiB envelope + 8 KiB): skipped unparsed.
export const oversizedChars = 1024 * 1024
const oversized = 'x'.repeat(oversizedChars)
const coreShaped = [
  'not json at all',
  '{"t":"announce"}',
  JSON.stringify({t: 'announce', peer: 42}),
  JSON.stringify({t: 'offer', peer: fakePeer}),
  undecryptable,
]

const nostrReplies = (subscriptionId, filter) => {
  const topic = filter?.['#x']?.[0] ?? 'no-topic'
  const kind = filter?.kinds?.[0] ?? 1
  const sign = (fields, content) =>
    finalizeEvent({kind, created_at: now(), tags: [['x', topic]], content, ...fields}, key)
  const valid = sign({}, 'valid signature, garbage content')
  return [
    ['EVENT', subscriptionId],
    ['EVENT', subscriptionId, 'a string'],
    ['EVENT', subscriptionId, {}],
    ['EVENT', subscriptionId, {...valid, sig: '00'.repeat(64)}],
    ['EVENT', subscriptionId, {...valid, content: 'tampered after signing'}],
    ['EVENT', subscriptionId, sign({tags: [['x', 'f'.repeat(40)]]}, coreShaped[4])],
    ['EVENT', subscriptionId, sign({created_at: now() - 86_400}, JSON.stringify({t: 'announce', peer: fakePeer}))],
    ['EVENT', subscriptionId, sign({kind: kind + 1}, coreShaped[4])],
    ...coreShaped.map(content => ['EVENT', subscriptionId, sign({}, content)]),
    ['EVENT', subscriptionId, {...valid, content: oversized}],
    ['EVENT', 'someone-else', valid],
    ['EOSE', subscriptionId],
    ['CLOSED', 'someone-else', 'whatever'],
    ['OK', valid.id, false, 'blocked: junk relay'],
    ['NOTICE', {not: 'a string'}],
    ['AUTH', 'challenge'],
  ]
}

const trackerReplies = announce => {
  const info_hash = announce.info_hash
  const offer = sdp => ({
    action: 'announce',
    info_hash,
    peer_id: fakePeer,
    offer_id: 'x'.repeat(20),
    offer: {type: 'offer', sdp},
  })
  return [
    {action: 'announce', info_hash, interval: -5},
    {action: 'announce', info_hash, interval: 'soon'},
    {action: 'announce', info_hash, offer: {sdp: 12}, peer_id: fakePeer},
    {action: 'announce', info_hash, offer: 'not an object', peer_id: fakePeer},
    {action: 'announce', info_hash, offer: {sdp: 'no peer id'}},
    {action: 'announce', info_hash, answer: {sdp: 'short peer id'}, peer_id: 'short'},
    {action: 'announce', info_hash: 'another swarm', offer: {sdp: 'hi'}, peer_id: fakePeer},
    {
      action: 'announce',
      info_hash,
      peer_id: fakePeer,
      offer_id: 'z'.repeat(20),
      offer: {type: 'offer', sdp: oversized},
    },
    {action: 'scrape', info_hash, files: {}},
    {'failure reason': 'junk tracker says no', info_hash},
    {'warning message': 'junk', info_hash},
    ...coreShaped.map(offer),
    {
      action: 'announce',
      info_hash,
      peer_id: fakePeer,
      offer_id: 'y'.repeat(20),
      answer: {type: 'answer', sdp: undecryptable},
    },
  ]
}

export async function start(port = 0) {
  const server = createServer((_request, response) => response.writeHead(404).end())
  const wss = new WebSocketServer({server})
  wss.on('connection', socket => {
    const send = value =>
      socket.readyState === socket.OPEN && socket.send(typeof value === 'string' ? value : JSON.stringify(value))
    socket.on('error', () => socket.terminate())
    for (const junk of ['not json', '{}', '[]', 'null', '42', '["EVENT"]', '{"action":"announce"}']) send(junk)
    socket.send(randomBytes(64))
    socket.on('message', (data, isBinary) => {
      if (isBinary) return socket.send(randomBytes(32)) // MQTT speaks binary: answer it with noise
      let message
      try {
        message = JSON.parse(String(data))
      } catch {
        return send('what?')
      }
      if (Array.isArray(message) && message[0] === 'REQ')
        for (const reply of nostrReplies(message[1], message[2])) send(reply)
      else if (message?.action === 'announce') for (const reply of trackerReplies(message)) send(reply)
    })
  })
  const actualPort = await listen(server, port)
  return {url: `ws://127.0.0.1:${actualPort}`, port: actualPort, stop: stopper({server, wss})}
}
