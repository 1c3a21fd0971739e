// A real Nostr relay on 127.0.0.1 (the one `npm start` embeds), with GET /stats for tests.
import {start as startRelay} from '../../scripts/relays/nostr-relay.mjs'

export const start = (port = 0) => startRelay(port, {stats: true})
