import {servers} from './helpers/servers.js'
import {strategySuite} from './helpers/strategy-suite.js'

// Against our Supabase Realtime protocol server (test/servers/supabase.mjs), which stands in
// for the hosted service: same websocket protocol, driven by the official supabase-js client.
describe('supabase strategy (Realtime broadcast)', () => {
  strategySuite({
    entry: '/src/strategies/supabase.ts',
    server: 'supabase',
    config: async url => ({appId: url ?? (await servers()).supabase, supabaseKey: 'test-anon-key'}),
  })
})
