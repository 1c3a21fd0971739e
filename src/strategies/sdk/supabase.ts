/**
 * The part of @supabase/supabase-js the supabase strategy uses, loaded with `import()` on
 * its first connect so the package is an optional peer dependency (and only the Realtime
 * client ends up in a bundle).
 */
export {RealtimeClient} from '@supabase/supabase-js'
