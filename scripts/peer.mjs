#!/usr/bin/env node
// An always-on peer that runs on a server: it joins a room over any strategy, remembers the
// last state a peer shared (an action, `state` by default) and sends it to every newcomer,
// so a room never starts empty even when all browsers have left.
//
//   npm run peer -- --room lobby --strategy nostr
//   npm run peer -- --room lobby --strategy supabase --app-id https://PROJECT.supabase.co --supabase-key KEY
//   npm run peer -- --room lobby --strategy nostr,mqtt --passive
//
// Run with --help for every flag. Uses the library from dist/lib (built on first run).
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {parseArgs} from 'node:util'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

// --listen PORT: a bootstrap peer of the overlay (p2p-elements/peer-relay), see peer-listen.mjs.
if (process.argv.includes('--listen')) await (await import('./peer-listen.mjs')).main()

const usage = `Usage: npm run peer -- --room NAME [options]

  --room NAME            room to join (required)
  --strategy NAME        nostr (default), mqtt, torrent, supabase, firebase, ipfs, ...;
                         several, comma-separated (nostr,mqtt), join through all at once
  --app-id ID            appId shared with the browsers (default p2p-elements-examples;
                         supabase: project URL; firebase: databaseURL)
  --relay-urls A,B       relays, brokers, trackers or libp2p multiaddrs (default: the strategy's);
                         with several strategies, prefix each with its own: nostr=wss://..,mqtt=wss://..
  --passive              never announce: meet only the pages that announce (config.passive)
  --password SECRET      room password (must match the browsers')
  --action NAME          action whose last value is remembered and replayed (default state)
  --state-file PATH      keep the remembered state in this JSON file across restarts
  --supabase-key KEY     supabase: the project's anon key
  --root-path PATH       firebase: database path for signaling (default __p2p_elements__)
  --config JSON          any other config fields, e.g. '{"turnConfig": [...]}'
  --quiet                log only errors
  --help                 this text
  --listen PORT          instead: accept WebSocket links and relay for the overlay
                         (with --bootstrap ws://host:port,... --public-url ws://me:PORT
                          --scope NAME --max-connections N)
`

const {values: args} = parseArgs({
  options: {
    room: {type: 'string'},
    strategy: {type: 'string', default: 'nostr'},
    'app-id': {type: 'string', default: 'p2p-elements-examples'},
    'relay-urls': {type: 'string'},
    password: {type: 'string'},
    action: {type: 'string', default: 'state'},
    'state-file': {type: 'string'},
    'supabase-key': {type: 'string'},
    'root-path': {type: 'string'},
    config: {type: 'string'},
    passive: {type: 'boolean', default: false},
    quiet: {type: 'boolean', default: false},
    help: {type: 'boolean', default: false},
  },
})

if (args.help) {
  console.log(usage)
  process.exit(0)
}
if (!args.room) {
  console.error(`p2p-elements peer: --room is required.\n\n${usage}`)
  process.exit(2)
}
if (!/^[a-z0-9-]+([\s,+]+[a-z0-9-]+)*$/.test(args.strategy.trim())) {
  console.error(
    `p2p-elements peer: --strategy must be a strategy name such as nostr, or several (nostr,mqtt), not "${args.strategy}"`,
  )
  process.exit(2)
}
/** The strategies named: one loads its own module; several load the multi entry (src/multi/index.ts). */
const strategyNames = [...new Set(args.strategy.trim().split(/[\s,+]+/))]
const several = strategyNames.length > 1

// What browsers have and Node 20 lacks: a global WebSocket (Supabase Realtime, libp2p) and
// Promise.withResolvers (libp2p).
const {default: WebSocket} = await import('ws')
globalThis.WebSocket ??= WebSocket
Promise.withResolvers ??= function () {
  let resolve, reject
  const promise = new this((yes, no) => ((resolve = yes), (reject = no)))
  return {promise, resolve, reject}
}
const {RTCPeerConnection} = await import('node-datachannel/polyfill')

/** The library as users get it from the package; transpiled from src on first use. */
const loadStrategy = async name => {
  // `multi` (several strategies at once) is an entry of its own, not a strategy.
  const path = name === 'multi' ? 'multi/index' : `strategies/${name}`
  const file = join(root, 'dist/lib', `${path}.js`)
  if (!existsSync(file) && existsSync(join(root, 'src', `${path}.ts`))) {
    const esbuild = await import('esbuild')
    const {readdirSync} = await import('node:fs')
    const sources = readdirSync(join(root, 'src'), {recursive: true})
      .map(path => join(root, 'src', String(path)))
      .filter(path => path.endsWith('.ts') && !path.endsWith('.d.ts'))
    await esbuild.build({
      entryPoints: sources,
      outdir: join(root, 'dist/lib'),
      outbase: join(root, 'src'),
      format: 'esm',
      platform: 'neutral',
      target: 'es2022',
      logLevel: 'warning',
    })
  }
  if (!existsSync(file)) {
    console.error(`p2p-elements peer: no strategy "${name}" (looked for src/strategies/${name}.ts)`)
    process.exit(2)
  }
  return import(pathToFileURL(file).href)
}

const log = (...parts) => args.quiet || console.log(new Date().toISOString(), ...parts)

/**
 * `--relay-urls`: plain URLs are every strategy's; `name=url` ones that strategy's alone
 * (`config.strategyConfig[name].relayUrls`), for rooms over several strategies.
 */
const relayConfig = () => {
  const urls = (args['relay-urls'] ?? '').split(/[\s,]+/).filter(Boolean)
  const shared = urls.filter(url => !/^[a-z0-9-]+=/.test(url))
  const own = {}
  for (const entry of urls.filter(url => /^[a-z0-9-]+=/.test(url))) {
    const [name, url] = [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]
    own[name] ??= {relayUrls: []}
    own[name].relayUrls.push(url)
  }
  return {
    ...(shared.length && {relayUrls: shared}),
    ...(Object.keys(own).length && {strategyConfig: own}),
  }
}

const lib = await loadStrategy(several ? 'multi' : strategyNames[0])
const config = {
  appId: args['app-id'],
  rtcPolyfill: RTCPeerConnection,
  WebSocket,
  ...(several && {strategy: strategyNames}),
  ...(args.passive && {passive: true}),
  ...relayConfig(),
  ...(args.password && {password: args.password}),
  ...(args['supabase-key'] && {supabaseKey: args['supabase-key']}),
  ...(args['root-path'] && {rootPath: args['root-path']}),
  ...(args.config && JSON.parse(args.config)),
}

/** The remembered state: the last value sent on the action, with its metadata. JSON-safe values only go to the state file. */
let state
const stateFile = args['state-file']
if (stateFile && existsSync(stateFile)) {
  state = JSON.parse(readFileSync(stateFile, 'utf8'))
  log(`loaded state from ${stateFile}`)
}

const room = lib.joinRoom(config, args.room, ({peerId, error}) => console.error(`join error with ${peerId}: ${error}`))
const [sendState, onState] = room.makeAction(args.action)

onState((data, peerId, metadata) => {
  state = {data, metadata}
  log(
    `state from ${peerId} (${data instanceof ArrayBuffer ? `${data.byteLength} bytes` : `${JSON.stringify(data)?.length ?? 0} chars`})`,
  )
  if (stateFile && !(data instanceof ArrayBuffer)) writeFileSync(stateFile, JSON.stringify(state))
})

room.onPeerJoin(peerId => {
  log(`peer ${peerId} joined`)
  if (!state) return
  sendState(state.data, peerId, state.metadata).then(
    () => log(`sent state to ${peerId}`),
    error => console.error(`could not send state to ${peerId}: ${error.message}`),
  )
})
room.onPeerLeave(peerId => log(`peer ${peerId} left`))
room.onError(error => console.error(`${error.code}: ${error.message}`))

// The line tests and supervisors wait for.
log(
  `peer ${room.selfId || lib.selfId} in room "${args.room}" over ${strategyNames.join('+')} (action "${args.action}")${args.passive ? ', passive: it waits for pages to announce' : ''}`,
)

let leaving = false
const stop = async signal => {
  if (leaving) return
  leaving = true
  log(`${signal}: leaving the room`)
  await room.leave()
  process.exit(0)
}
process.on('SIGINT', () => void stop('SIGINT'))
process.on('SIGTERM', () => void stop('SIGTERM'))
