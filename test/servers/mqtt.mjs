// A real MQTT broker (aedes) over WebSocket at ws://127.0.0.1:PORT/mqtt, with GET /stats
// (PUBLISH packets received from clients: total, by topic, by client id) for tests.
import {createServer} from 'node:http'
import {WebSocketServer, createWebSocketStream} from 'ws'
import {Aedes} from 'aedes'
import {listen, stopper} from '../../scripts/relays/listen.mjs'

export async function start(port = 0) {
  const broker = await Aedes.createBroker()
  const counts = {total: 0, byTopic: {}, byClient: {}}
  broker.on('publish', (packet, client) => {
    if (!client) return // the broker's own $SYS messages
    counts.total++
    counts.byTopic[packet.topic] = (counts.byTopic[packet.topic] ?? 0) + 1
    counts.byClient[client.id] = (counts.byClient[client.id] ?? 0) + 1
  })

  const server = createServer((request, response) => {
    if (request.method === 'GET' && new URL(request.url, 'http://x').pathname === '/stats') {
      response.writeHead(200, {'content-type': 'application/json', 'access-control-allow-origin': '*'})
      return response.end(JSON.stringify(counts))
    }
    response.writeHead(404).end()
  })
  const wss = new WebSocketServer({server, path: '/mqtt'})
  wss.on('connection', (socket, request) => {
    const stream = createWebSocketStream(socket)
    stream.on('error', () => socket.terminate())
    broker.handle(stream, request)
  })

  const actualPort = await listen(server, port)
  const stop = stopper({server, wss, after: () => new Promise(done => broker.close(() => done()))})
  return {url: `ws://127.0.0.1:${actualPort}/mqtt`, port: actualPort, stop, stats: () => counts}
}
