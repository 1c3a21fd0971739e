#!/usr/bin/env node
/// <reference types="node" />
/**
 * `npx p2p-elements relay [options]`: runs the relay of `p2p-elements/relay` until SIGTERM
 * or SIGINT, which close it gracefully (clients are told with a NOTICE) before exiting.
 */
import {parseArgs} from 'node:util'
import {createRelayServer, type RelayOptions} from './server.js'

const usage = `usage: p2p-elements relay [options]

  --port N                    port to listen on (default 8080, or $PORT)
  --host ADDRESS              interface (default 127.0.0.1; 0.0.0.0 for every interface)
  --path PATH                 WebSocket path (default /)
  --max-message-bytes N       largest message (default 65536)
  --max-subscriptions N       subscriptions per connection (default 20)
  --max-connections N         connections in all (default 10000)
  --max-connections-per-ip N  connections per address (default 32)
  --ip-connection-rate N      new connections a second per address (default 2)
  --ip-connection-burst N     ... and in a burst (default 30)
  --rate N --burst N          messages a second per connection, and its burst (default 20, 100)
  --ip-rate N --ip-burst N    the same per address (default 100, 500)
  --allowed-origin ORIGIN     only pages of this origin may connect (repeatable; default any)
  --allowed-host HOST         only this Host header is served (repeatable; default any)
  --trust-proxy               client address from X-Forwarded-For (behind a reverse proxy)
  --quiet                     no logs (default: one JSON line per event on stdout)

GET /health answers JSON counters; SIGTERM or SIGINT shuts down gracefully.`

const fail = (message: string): never => {
  console.error(`p2p-elements: ${message}\n\n${usage}`)
  process.exit(2)
}

const options = {
  port: {type: 'string', short: 'p'},
  host: {type: 'string'},
  path: {type: 'string'},
  'max-message-bytes': {type: 'string'},
  'max-subscriptions': {type: 'string'},
  'max-connections': {type: 'string'},
  'max-connections-per-ip': {type: 'string'},
  'ip-connection-rate': {type: 'string'},
  'ip-connection-burst': {type: 'string'},
  rate: {type: 'string'},
  burst: {type: 'string'},
  'ip-rate': {type: 'string'},
  'ip-burst': {type: 'string'},
  'allowed-origin': {type: 'string', multiple: true},
  'allowed-host': {type: 'string', multiple: true},
  'trust-proxy': {type: 'boolean', default: false},
  quiet: {type: 'boolean', default: false},
  help: {type: 'boolean', short: 'h', default: false},
} as const

const main = async () => {
  let parsed: ReturnType<typeof parseArgs<{options: typeof options; allowPositionals: true}>>
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options,
    })
  } catch (error) {
    return fail((error as Error).message)
  }
  const {values, positionals} = parsed
  if (values.help) return console.log(usage)
  if (positionals[0] !== 'relay' || positionals.length > 1)
    return fail(positionals.length ? `unknown command "${positionals.join(' ')}"` : 'say which command: relay')
  const number = (name: string, value: string | undefined, min = 1) => {
    if (value === undefined) return undefined
    const n = Number(value)
    if (!Number.isInteger(n) || n < min) fail(`--${name} takes a whole number of at least ${min}, not "${value}"`)
    return n
  }
  const port = number('port', values.port ?? process.env.PORT, 0) ?? 8080
  if (port > 65_535) fail(`--port ${port} is not a port number`)
  const relayOptions: RelayOptions = {
    port,
    host: values.host,
    path: values.path,
    maxMessageBytes: number('max-message-bytes', values['max-message-bytes']),
    maxSubscriptions: number('max-subscriptions', values['max-subscriptions']),
    maxConnections: number('max-connections', values['max-connections']),
    maxConnectionsPerIp: number('max-connections-per-ip', values['max-connections-per-ip']),
    connectionsPerSecondPerIp: number('ip-connection-rate', values['ip-connection-rate']),
    connectionBurstPerIp: number('ip-connection-burst', values['ip-connection-burst']),
    messagesPerSecond: number('rate', values.rate),
    messageBurst: number('burst', values.burst),
    messagesPerSecondPerIp: number('ip-rate', values['ip-rate']),
    messageBurstPerIp: number('ip-burst', values['ip-burst']),
    allowedOrigins: values['allowed-origin'],
    allowedHosts: values['allowed-host'],
    trustProxy: values['trust-proxy'],
    log: !values.quiet,
  }
  let relay: Awaited<ReturnType<typeof createRelayServer>>
  try {
    relay = await createRelayServer(relayOptions)
  } catch (error) {
    const code = (error as {code?: string}).code
    if (code === 'EADDRINUSE') fail(`port ${port} is already in use: pick another with --port`)
    if (code === 'EACCES') fail(`not allowed to listen on port ${port}: pick one above 1023`)
    throw error
  }
  if (values.quiet) console.log(`p2p-elements relay listening at ${relay.url}`)
  const shutdown = async (signal: string) => {
    // A second signal, or a close that hangs, ends the process at once.
    process.once(signal, () => process.exit(1))
    await relay.close(`${signal} received`)
    process.exit(0)
  }
  process.once('SIGTERM', () => void shutdown('SIGTERM'))
  process.once('SIGINT', () => void shutdown('SIGINT'))
}

main().catch(error => {
  console.error(`p2p-elements relay failed: ${(error as Error).message}`)
  process.exit(1)
})
