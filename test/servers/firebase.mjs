// A Firebase Realtime Database for tests: `firebase-server` speaks the database's websocket
// protocol (the official emulator needs Java and a download, impossible here).
//
// Two things are filled in around it:
// - it does `require('firebase')`, which firebase 12 no longer serves; it gets the compat
//   build (`firebase/compat/app` + `firebase/compat/database`), the API it was written for;
// - it ignores onDisconnect requests (never acknowledges, never runs them). We record them
//   per connection, acknowledge them, and apply them when the socket closes, as the real
//   database does, so presence entries of a closed page go away.
// `url` (ws://127.0.0.1:PORT?ns=test) is a databaseURL the modular SDK connects to as-is. It is
// ws:, not http:, because firebase-server speaks only websockets: given http:, a browser SDK
// whose earlier short connection (e.g. getOccupants) was not yet marked healthy starts
// with long polling, which this server does not answer.
import Module, {createRequire} from 'node:module'

const require = createRequire(import.meta.url)
const compat = require('firebase/compat/app').default
require('firebase/compat/database')

const load = Module._load
Module._load = function (request, parent, ...rest) {
  if (request === 'firebase' && parent?.filename?.includes('firebase-server')) return compat
  return load.call(this, request, parent, ...rest)
}
const FirebaseServer = require('firebase-server')
Module._load = load

const namespace = 'test'

/** Database actions for onDisconnect: put, merge, cancel. */
const onDisconnectActions = new Set(['o', 'om', 'oc'])

const trimSlashes = path => String(path ?? '').replace(/^\/+|\/+$/g, '')

const runOnDisconnect = (server, socket) => {
  const pending = socket.onDisconnectOps
  if (!pending) return
  for (const [path, {action, data}] of pending) {
    const target = path ? server.baseRef.child(path) : server.baseRef
    if (action === 'o') target.set(data)
    else target.update(data)
  }
  pending.clear()
}

const handleOnDisconnect = (_server, socket, text) => {
  let message
  try {
    message = JSON.parse(text)
  } catch {
    return // a fragment of a longer message: onDisconnect requests are short, never fragmented
  }
  const request = message?.t === 'd' ? message.d : undefined
  if (!request || !onDisconnectActions.has(request.a)) return
  const path = trimSlashes(request.b?.p)
  socket.onDisconnectOps ??= new Map()
  if (request.a === 'oc') {
    for (const key of [...socket.onDisconnectOps.keys()])
      if (key === path || key.startsWith(`${path}/`) || !path) socket.onDisconnectOps.delete(key)
  } else {
    socket.onDisconnectOps.set(path, {action: request.a, data: request.b?.d ?? null})
  }
  socket.send(JSON.stringify({t: 'd', d: {r: request.r, b: {s: 'ok', d: ''}}}))
}

export async function start(port = 0) {
  const server = new FirebaseServer({port, address: '127.0.0.1'}, `${namespace}.firebaseio.test`)
  await new Promise((resolve, reject) => {
    server.wss.once('listening', resolve)
    server.wss.once('error', reject)
  })
  server.wss.on('connection', socket => {
    socket.on('message', data => handleOnDisconnect(server, socket, String(data)))
    socket.on('close', () => runOnDisconnect(server, socket))
  })
  const actualPort = server.getPort()
  // The handshake names the host clients reconnect to (the hosted service names one of its
  // shards): it must be this server, or a client never comes back after a restart.
  server.name = `127.0.0.1:${actualPort}`
  return {
    url: `ws://127.0.0.1:${actualPort}?ns=${namespace}`,
    port: actualPort,
    stop: async () => {
      for (const socket of server.wss.clients) socket.terminate()
      await server.close()
    },
  }
}
