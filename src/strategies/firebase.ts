/**
 * `firebase`: peers meet through a Firebase Realtime Database. `appId` is its databaseURL
 * (https://PROJECT-default-rtdb.firebaseio.com), or pass an initialized app as
 * `firebaseApp` (then `appId` only needs to be unique to your app).
 *
 * Layout under `rootPath` (default `__p2p_elements__`); give it read/write rules:
 *   ROOT/signals/TOPIC/PUSHKEY = {m}   messages, removed by whoever reads them
 *   ROOT/presence/ROOMTOPIC/PEERID     one entry per peer in a room, removed on disconnect
 * Topics are hashes, so the database never holds app or room names in clear.
 */
import type {FirebaseApp} from 'firebase/app'
import type {Database, DatabaseReference} from 'firebase/database'
import {createJoinRoom, errorMessage, invalidConfig, roomTopicOf, selfId, type BaseRoomConfig} from '../core/index.js'
import {defineRelayStrategy} from './shared/builder.js'
import {optionalSdk} from './shared/sdk.js'
import {createSharedClients} from './shared/shared-clients.js'

type Sdk = typeof import('./sdk/firebase.js')

export type FirebaseRoomConfig = BaseRoomConfig & {
  /** An app you initialized yourself (`initializeApp({databaseURL, ...})`); otherwise appId is the databaseURL. */
  firebaseApp?: FirebaseApp
  /** Where in the database our entries live. Default `__p2p_elements__`. */
  rootPath?: string
}

export const defaultRootPath = '__p2p_elements__'

/**
 * Messages older than this when we subscribe are leftovers (their sender left before anyone
 * read them): dropped. Generous, because push-key times come from each client's clock
 * corrected by its own estimate of the server offset.
 */
const staleAfterMs = 30_000

/**
 * Our own messages stay this long before we delete them (others delete what they read at
 * once), so a peer whose listener reaches the server a moment after our publish still
 * hears it instead of waiting for the next announce.
 */
const ownMessageLingerMs = 5_000

/** Firebase push keys start with 8 characters of milliseconds since 1970, in this alphabet. */
const pushAlphabet = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz'
const pushKeyTime = (key: string): number => {
  let time = 0
  for (const char of key.slice(0, 8)) time = time * 64 + pushAlphabet.indexOf(char)
  return time
}

const databaseUrlOf = (config: FirebaseRoomConfig) => (config.firebaseApp ? undefined : config.appId)

/** The firebase SDK, loaded on first use (it is an optional peer dependency). */
const loadSdk = optionalSdk('firebase', 'firebase', () => import('./sdk/firebase.js'))

/** One app per databaseURL in a page, shared by its rooms and getOccupants; deleted when none uses it. */
const apps = createSharedClients<{app: FirebaseApp; sdk: Sdk}>(({app, sdk}) => void sdk.deleteApp(app).catch(() => {}))
let appCount = 0

const appFor = (sdk: Sdk, url: string) => () => ({
  app: sdk.initializeApp({databaseURL: url}, `p2p-elements-${++appCount}`),
  sdk,
})

const pathsOf = (config: FirebaseRoomConfig) => {
  const root = (config.rootPath ?? defaultRootPath).replace(/^\/+|\/+$/g, '')
  return {
    signals: (topic: string) => `${root}/signals/${topic}`,
    presence: (roomTopic: string) => `${root}/presence/${roomTopic}`,
  }
}

const validate = (config: FirebaseRoomConfig) => {
  if (!config.firebaseApp && !/^(https?|wss?):\/\//.test(config.appId))
    throw invalidConfig(
      `the firebase strategy takes your databaseURL as appId (e.g. "https://my-project-default-rtdb.firebaseio.com") or an initialized app as config.firebaseApp; got appId "${config.appId}"`,
    )
  if (config.rootPath !== undefined && (typeof config.rootPath !== 'string' || /[.#$[\]]/.test(config.rootPath)))
    throw invalidConfig('config.rootPath must be a database path without . # $ [ or ]')
}

export const strategy = defineRelayStrategy<FirebaseRoomConfig, Sdk>({
  name: 'firebase',
  validate,
  sdk: loadSdk,
  connect: (config, room, sdk) => {
    const {getDatabase, onChildAdded, onDisconnect, onValue, push, ref, remove, set} = sdk
    const {context} = room
    let app = config.firebaseApp
    if (!app) {
      const held = apps.acquire(databaseUrlOf(config)!, appFor(sdk, databaseUrlOf(config)!))
      room.onClose(held.release)
      app = held.client.app
    }
    const db: Database = getDatabase(app)
    const paths = pathsOf(config)
    const stops = new Map<string, () => void>()
    const mine = new Set<string>() // keys we pushed and have not yet seen come back
    const lingering = new Map<DatabaseReference, ReturnType<typeof setTimeout>>()

    const removeLater = (entry: DatabaseReference) => {
      if (lingering.has(entry)) return
      lingering.set(
        entry,
        setTimeout(() => {
          lingering.delete(entry)
          // Announces are the bulk of a long stay: don't leave one cleanup per announce on the server.
          void onDisconnect(entry)
            .cancel()
            .catch(() => {})
          void remove(entry).catch(() => {})
        }, ownMessageLingerMs),
      )
    }

    const fail = (what: string) => (error: unknown) => room.report(`${what} failed: ${errorMessage(error)}`)

    // Presence, for getOccupants: (re)written on every (re)connection, removed by the
    // server when the connection drops. Registered without awaiting the acknowledgement.
    const presence = ref(db, `${paths.presence(context.roomTopic)}/${context.selfId}`)
    const stopConnected = onValue(ref(db, '.info/connected'), snapshot => {
      if (snapshot.val() !== true || room.closed) return
      void onDisconnect(presence).remove().catch(fail('registering presence cleanup'))
      void set(presence, true).catch(fail('writing presence'))
    })

    return {
      subscribe: topic => {
        const topicRef = ref(db, paths.signals(topic))
        const since = pushKeyTime(push(topicRef).key!) - staleAfterMs
        const stop = onChildAdded(
          topicRef,
          snapshot => {
            if (mine.delete(snapshot.key!)) return removeLater(snapshot.ref)
            const message = snapshot.val()?.m
            if (pushKeyTime(snapshot.key!) >= since && typeof message === 'string') room.deliver(topic, message)
            void remove(snapshot.ref).catch(() => {}) // read (or stale): nobody needs it again
          },
          fail('listening'),
        )
        stops.set(topic, stop)
      },
      unsubscribe: topic => {
        stops.get(topic)?.()
        stops.delete(topic)
      },
      publish: (topic, message) => {
        const entry: DatabaseReference = push(ref(db, paths.signals(topic)))
        mine.add(entry.key!)
        // If we vanish before the addressee reads it, the server deletes it for us.
        void onDisconnect(entry)
          .remove()
          .catch(() => {})
        void set(entry, {m: message}).catch(fail('publishing'))
      },
      close: () => {
        stopConnected()
        for (const [entry, timer] of lingering) clearTimeout(timer), void remove(entry).catch(() => {})
        lingering.clear()
        mine.clear()
        void onDisconnect(presence)
          .cancel()
          .catch(() => {})
        return remove(presence).catch(() => {})
      },
    }
  },
})

/** Ids of the peers present in a room, read from the database without joining it. */
export const getOccupants = async (config: FirebaseRoomConfig, roomId: string): Promise<string[]> => {
  validate(config)
  const topic = await roomTopicOf(config.appId, roomId)
  const sdk = await loadSdk()
  const {getDatabase, onValue, ref} = sdk
  const held = config.firebaseApp
    ? undefined
    : apps.acquire(databaseUrlOf(config)!, appFor(sdk, databaseUrlOf(config)!))
  const db = getDatabase(config.firebaseApp ?? held!.client.app)
  try {
    // onValue once rather than get(): it works on every server that speaks the protocol.
    const value = await new Promise<unknown>((resolve, reject) =>
      onValue(ref(db, pathsOf(config).presence(topic)), snapshot => resolve(snapshot.val()), reject, {onlyOnce: true}),
    )
    return value && typeof value === 'object' ? Object.keys(value) : []
  } finally {
    held?.release()
  }
}

export const joinRoom = createJoinRoom(strategy)
export {selfId}
