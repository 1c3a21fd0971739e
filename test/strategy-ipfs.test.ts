import {servers} from './helpers/servers.js'
import {strategySuite} from './helpers/strategy-suite.js'

// Peers dial a libp2p relay node on 127.0.0.1 (test/servers/libp2p.mjs) and meet over gossipsub.
// They load the strategy bundled (test/servers/ipfs-bundle.mjs): libp2p has a CommonJS dependency.
describe('ipfs strategy (libp2p gossipsub)', () => {
  strategySuite({
    entry: async () => (await servers())['ipfs-bundle']!,
    server: 'libp2p',
    config: async url => ({relayUrls: [url ?? (await servers()).libp2p]}),
  })
})
