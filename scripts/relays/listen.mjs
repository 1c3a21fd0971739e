// Starting and stopping our local servers (the relays npm start embeds, the servers tests
// run) one way: listen on a port, and a stop() that drops clients and can be called twice.

/** Listens on `port` (0: any free one) at `host`; resolves to the port it got. */
export const listen = (server, port, host = '127.0.0.1') =>
  new Promise((done, fail) => {
    server.once('error', fail)
    server.listen(port, host, () => {
      server.off('error', fail)
      done(server.address().port)
    })
  })

/**
 * A `stop()` safe to call more than once: terminates every WebSocket client, closes the
 * WebSocket server (if any) and the HTTP server, then runs `after` (the server's own clean-up).
 */
export const stopper = ({server, wss, after}) => {
  let stopped
  return () =>
    (stopped ??= (async () => {
      for (const socket of wss?.clients ?? []) socket.terminate()
      if (wss) await new Promise(done => wss.close(() => done()))
      server.closeAllConnections()
      await new Promise(done => server.close(() => done()))
      await after?.()
    })())
}
