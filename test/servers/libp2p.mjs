// A libp2p relay node for the ipfs strategy's tests: see scripts/relays/libp2p-relay.mjs.
// `url` is its multiaddr (/ip4/127.0.0.1/tcp/PORT/ws/p2p/PEERID), what tests pass as relayUrls.
import {startLibp2pRelay} from '../../scripts/relays/libp2p-relay.mjs'

export async function start(port = 0) {
  const {url, port: actualPort, stop} = await startLibp2pRelay({port})
  return {url, port: actualPort, stop}
}
