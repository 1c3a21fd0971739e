// Our stand-in for Supabase Realtime (the hosted service cannot run here): see
// scripts/relays/supabase-realtime.mjs. `url` is what a test passes as the supabase `appId`.
import {startSupabaseRealtime} from '../../scripts/relays/supabase-realtime.mjs'

export async function start(port = 0) {
  return startSupabaseRealtime({port})
}
