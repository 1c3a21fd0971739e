/**
 * The libp2p packages the ipfs strategy uses, loaded with `import()` on its first connect so
 * they are optional peer dependencies.
 */
export {noise} from '@chainsafe/libp2p-noise'
export {yamux} from '@chainsafe/libp2p-yamux'
export {gossipsub} from '@libp2p/gossipsub'
export {identify} from '@libp2p/identify'
export {webSockets} from '@libp2p/websockets'
export {multiaddr} from '@multiformats/multiaddr'
export {createLibp2p} from 'libp2p'
