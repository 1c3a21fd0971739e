// A real WebTorrent tracker (bittorrent-tracker's server, websocket only) at
// ws://127.0.0.1:PORT, with GET /stats (announce messages received: total, by info_hash
// in hex, by peer_id) for tests.
import Server from 'bittorrent-tracker/server'

const hex = binary => Array.from(binary, c => c.charCodeAt(0).toString(16).padStart(2, '0')).join('')

export async function start(port = 0) {
  const tracker = new Server({udp: false, http: false, ws: true, stats: false})
  const counts = {total: 0, byTopic: {}, byClient: {}}
  const sockets = new Set()

  // Runs before the tracker's own 404 handler (which it adds on the next tick and which
  // skips requests already answered).
  tracker.http.on('request', (request, response) => {
    if (request.method !== 'GET' || new URL(request.url, 'http://x').pathname !== '/stats') return
    response.writeHead(200, {'content-type': 'application/json', 'access-control-allow-origin': '*'})
    response.end(JSON.stringify(counts))
  })
  tracker.ws.on('connection', socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('message', data => {
      let message
      try {
        message = JSON.parse(String(data))
      } catch {
        return
      }
      if (message?.action !== 'announce' || typeof message.info_hash !== 'string') return
      counts.total++
      const topic = hex(message.info_hash)
      counts.byTopic[topic] = (counts.byTopic[topic] ?? 0) + 1
      const peer = String(message.peer_id)
      counts.byClient[peer] = (counts.byClient[peer] ?? 0) + 1
    })
  })
  tracker.on('error', () => {})
  tracker.on('warning', () => {}) // bad client input: the tracker answers with a failure reason

  await new Promise((done, fail) => {
    tracker.once('error', fail)
    tracker.listen(port, '127.0.0.1', done)
  })
  const actualPort = tracker.http.address().port
  let stopped
  const stop = () =>
    (stopped ??= (async () => {
      for (const socket of sockets) socket.terminate()
      tracker.http.closeAllConnections()
      await new Promise(done => tracker.close(() => done()))
    })())
  return {url: `ws://127.0.0.1:${actualPort}`, port: actualPort, stop, stats: () => counts}
}
