// A Node process hosting PeerRelay peers for test/node/peer-relay*.test.mjs, used the way
// code written for peer-relay uses it, driven by the test over IPC.
//   argv: JSON {count, listen, bootstrap, maxConnections?, wrtc?}
//   -> {cmd: 'sendAll', targets, tag}       every local peer sends {tag, to, from} to every target
//   -> {cmd: 'stats', tag}                  <- {kind: 'stats', got, bad, hops, links}
//   -> {cmd: 'connect' | 'disconnect', index, id}   <- {kind: 'peer', index, id} on a 'peer' event
//   -> {cmd: 'send', index, id, data}       <- {kind: 'error', index, code, message} on an 'error' event
//   -> {cmd: 'destroy', index}              <- {kind: 'destroyed', index} from destroy's callback
//   -> {cmd: 'peers'}                       <- {kind: 'peers', peers: [[linked ids], ...], members: [n, ...]}
//   <- {kind: 'ready', peers: [{id, url}]}; {kind: 'received', index, data, from} for untagged data
import PeerRelay from '../../dist/lib/peer-relay/index.js'

const config = JSON.parse(process.argv[2])
const report = message => process.send?.({type: 'report', ...message})
const wrtc = config.wrtc ? await import('node-datachannel/polyfill') : undefined
// The test process went away (killed, timed out): so do we.
process.on('disconnect', () => process.exit(0))
process.on('unhandledRejection', error => report({kind: 'unhandled', message: String(error?.stack ?? error)}))

const peers = []
for (let i = 0; i < config.count; i++) {
  const bootstrap = i === 0 || !config.chain ? config.bootstrap : [peers[0].listenUrl]
  const peer = new PeerRelay({
    ...(config.listen ? {port: 0} : {}),
    bootstrap,
    ...(wrtc ? {wrtc} : {}),
    ...(config.maxConnections ? {maxConnections: config.maxConnections} : {}),
  })
  peers.push(peer)
  if (i === 0 && config.chain) await peer.ready
}
await Promise.all(peers.map(p => p.ready))

const got = new Map()
peers.forEach((peer, index) => {
  peer.on('message', (data, from, hops) => {
    if (data && typeof data === 'object' && typeof data.tag === 'string') {
      let stats = got.get(data.tag)
      if (!stats) got.set(data.tag, (stats = {got: 0, bad: 0, hops: [], seen: new Set()}))
      const key = `${from}>${peer.id}`
      if (data.to !== peer.id || data.from !== from || stats.seen.has(key)) stats.bad++
      else stats.got++, stats.hops.push(hops)
      stats.seen.add(key)
    } else report({kind: 'received', index, data, from})
  })
  peer.on('peer', id => report({kind: 'peer', index, id}))
  peer.on('error', error => report({kind: 'error', index, code: error.code, message: error.message}))
})

process.on('message', message => {
  const peer = peers[message.index ?? 0]
  switch (message.cmd) {
    case 'sendAll':
      for (const p of peers)
        for (const to of message.targets) if (to !== p.id) p.send(to, {tag: message.tag, to, from: p.id})
      return
    case 'stats': {
      const stats = got.get(message.tag) ?? {got: 0, bad: 0, hops: []}
      return report({
        kind: 'stats',
        tag: message.tag,
        got: stats.got,
        bad: stats.bad,
        hops: stats.hops,
        links: peers.map(p => p.peers().length),
      })
    }
    case 'connect':
      return peer.connect(message.id)
    case 'disconnect':
      return peer.disconnect(message.id)
    case 'send':
      return peer.send(message.id, message.data)
    case 'destroy':
      return peer.destroy(() => report({kind: 'destroyed', index: message.index}))
    case 'peers':
      return report({kind: 'peers', peers: peers.map(p => p.peers()), members: peers.map(p => p.members().length)})
    case 'exit':
      return Promise.all(peers.map(p => new Promise(r => p.destroy(r)))).then(() => process.exit(0))
  }
})
report({kind: 'ready', peers: peers.map(p => ({id: p.id, url: p.listenUrl}))})
