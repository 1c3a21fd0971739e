// Where the examples' peers meet. Not part of the library: a convenience for these pages.
//
// - Served by `npm start`: the server puts <meta name="p2p-local-relay" content="ws://..."> in
//   every page, and the rooms use that embedded Nostr relay (works with no internet).
// - `?strategy=local`: tabs of one browser meet over BroadcastChannel (no network at all).
// - `?relay=ws://host:port`: use that Nostr relay.
// - `?room=name`: join that room instead of the page's default (a private room for two tabs).
// - Hosted anywhere else with none of these: nothing changes, the library's public defaults apply.
//
// Plain pages load this module before the elements bundle, so the rooms already carry these
// attributes when they upgrade and join. Framework pages import `roomSettings()` and bind them.

const params = new URLSearchParams(globalThis.location?.search ?? '')

/** {strategy?, relayUrls?, room?} for this page, or {} to keep the library's defaults. */
export const roomSettings = () => {
  const settings = {}
  const room = params.get('room')
  if (room) settings.room = room
  if (params.get('strategy') === 'local') return {...settings, strategy: 'local'}
  const relay = params.get('relay') ?? globalThis.document?.querySelector('meta[name="p2p-local-relay"]')?.content
  if (relay) return {...settings, strategy: 'nostr', relayUrls: [relay]}
  return settings
}

/** Writes the settings as attributes on every <p2p-room> under `root`. */
export const applyRoomSettings = (root = globalThis.document) => {
  if (!root) return
  const {strategy, relayUrls, room} = roomSettings()
  for (const element of root.querySelectorAll('p2p-room')) {
    if (strategy) element.setAttribute('strategy', strategy)
    if (relayUrls) element.setAttribute('relay-urls', relayUrls.join(' '))
    if (room) element.setAttribute('room', room)
  }
}

applyRoomSettings()
