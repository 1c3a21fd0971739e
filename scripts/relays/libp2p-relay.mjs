// A libp2p node for browsers to meet through: WebSocket listener, circuit relay v2 server,
// and a gossipsub router that joins every topic its peers join, so a message published by
// one browser reaches the others (a node only forwards topics it is subscribed to).
//
//   node scripts/relays/libp2p-relay.mjs [port]     prints the multiaddr to give as relayUrls
//
// Our tests run it on 127.0.0.1; public deployments put it behind TLS (a /tls/ws or /wss address).
import {createLibp2p} from 'libp2p'
import {webSockets} from '@libp2p/websockets'
import {noise} from '@chainsafe/libp2p-noise'
import {yamux} from '@chainsafe/libp2p-yamux'
import {identify} from '@libp2p/identify'
import {circuitRelayServer} from '@libp2p/circuit-relay-v2'
import {gossipsub} from '@libp2p/gossipsub'
import {generateKeyPair} from '@libp2p/crypto/keys'
import {fileURLToPath} from 'node:url'

// libp2p 3 uses Promise.withResolvers, which Node gained in 22.
Promise.withResolvers ??= function () {
  let resolve, reject
  const promise = new this((yes, no) => ((resolve = yes), (reject = no)))
  return {promise, resolve, reject}
}

/** Joins each topic while any peer is in it, so messages on it are forwarded; leaves when the last peer does. */
const followTopics = pubsub =>
  pubsub.addEventListener('subscription-change', event => {
    for (const {topic, subscribe} of event.detail.subscriptions) {
      if (subscribe && !pubsub.getTopics().includes(topic)) pubsub.subscribe(topic)
      else if (!subscribe && !pubsub.getSubscribers(topic).length) pubsub.unsubscribe(topic)
    }
  })

/** One identity per port, so a relay restarted on its port keeps the multiaddr clients were given. */
const identities = new Map()

export async function startLibp2pRelay({port = 0, host = '127.0.0.1'} = {}) {
  const privateKey = (port && identities.get(port)) || (await generateKeyPair('Ed25519'))
  const node = await createLibp2p({
    privateKey,
    addresses: {listen: [`/ip4/${host}/tcp/${port}/ws`]},
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      relay: circuitRelayServer(),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        canRelayMessage: true,
        // Gossipsub's default penalizes more than 10 peers from one IP address (for an hour
        // after they leave), then stops forwarding to them. Browsers behind one NAT, or
        // every test page on 127.0.0.1, are many peers on one address: don't.
        scoreParams: {IPColocationFactorWeight: 0},
      }),
    },
  })
  followTopics(node.services.pubsub)
  const address = node.getMultiaddrs().find(ma => ma.toString().includes('/ws'))
  const url = address.toString()
  const actualPort = Number(url.match(/\/tcp\/(\d+)\//)[1])
  identities.set(actualPort, privateKey)
  return {url, port: actualPort, node, stop: () => node.stop()}
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const relay = await startLibp2pRelay({port: Number(process.argv[2] ?? 0), host: process.env.HOST ?? '127.0.0.1'})
  console.log(relay.url)
}
