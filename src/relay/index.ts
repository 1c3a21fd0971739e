/**
 * `p2p-elements/relay` (Node only): a Nostr relay for p2p-elements signaling that you run
 * yourself. `npx p2p-elements relay --port 8080` runs it from the command line.
 */
export {createRelay, createRelayServer} from './server.js'
export type {Relay, RelayLogRecord, RelayOptions, RelayServer, RelayStats} from './server.js'
export {addressKey} from './limits.js'
export {isEphemeralKind, matchesFilter, readClientMessage} from './nip01.js'
export type {ClientMessage, Filter, NostrEvent} from './nip01.js'
