/**
 * `mqtt`: peers meet through public MQTT brokers over secure WebSocket, using mqtt.js 5.
 * Each of the core's hashed topics is an MQTT topic; messages are QoS 0 and never retained.
 */
import mqtt, {type IClientOptions, type MqttClient} from 'mqtt'
import {createJoinRoom, errorMessage, selfId} from '../core/index.js'
import {randomId} from '../core/ids.js'
import {defineRelayStrategy} from './shared/builder.js'
import {
  connectTimeoutMs,
  createRelayManager,
  pickRelayUrls,
  validateRelayConfig,
  type RelayConfig,
  type RelayTransport,
} from './shared/relay-manager.js'

export type MqttRoomConfig = RelayConfig

/**
 * Public brokers with MQTT over secure WebSocket, free and without sign-up, as their
 * operators document them. Each app uses `relayRedundancy` of them, picked by its appId.
 */
export const defaultRelayUrls: readonly string[] = [
  'wss://broker.emqx.io:8084/mqtt',
  'wss://broker.hivemq.com:8884/mqtt',
  'wss://test.mosquitto.org:8081/mqtt',
  'wss://mqtt.eclipseprojects.io:443/mqtt',
]

/** Brokers used at once: public test brokers come and go, so more than one. */
export const defaultRelayRedundancy = 3

/** Seconds between MQTT pings: keeps idle connections through proxies that drop quiet sockets. */
const keepaliveSeconds = 60

type Outgoing = {topic: string; message: string}

/**
 * One mqtt.js client per broker. Its own reconnect is off: the relay manager reconnects,
 * with the same backoff and pause/resume as every other strategy.
 */
const transport: RelayTransport<MqttClient, Outgoing> = {
  open: (url, events, config) => {
    const options: IClientOptions = {
      clientId: `p2pe_${randomId(16)}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: connectTimeoutMs,
      keepalive: keepaliveSeconds,
      resubscribe: false,
      queueQoSZero: false,
      // mqtt-packet otherwise fills a cache of 65,536 two-byte Buffers on the first packet:
      // 150-300 ms of blocked main thread (browser Buffer polyfill) right when a room joins.
      writeCache: false,
    }
    // In Node, mqtt.js uses the `ws` package itself; a WebSocket given in config is used as is.
    if (config.WebSocket) {
      const Socket = config.WebSocket
      options.createWebsocket = (url: string, protocols: string[]) => new Socket(url, protocols)
    }
    const client = mqtt.connect(url, options)
    client.on('connect', () => events.open())
    client.on('message', (topic, payload, packet) => {
      // A retained message is an old one the broker kept: signaling must be live.
      if (!packet.retain) events.message([topic, payload])
    })
    client.on('error', error => events.close(errorMessage(error)))
    client.on('close', () => events.close('connection closed'))
    return client
  },
  send: (client, {topic, message}) => void client.publish(topic, message, {qos: 0, retain: false}, () => {}),
  close: client => {
    client.removeAllListeners()
    client.on('error', () => {}) // late socket errors after end() must not become uncaught
    client.end(true)
  },
}

const relays = createRelayManager(transport)

/** Topics subscribed on each broker by all rooms of the page, counted, so one room's leave keeps another's topic. */
const topicCounts = new Map<string, Map<string, number>>()

const decoder = new TextDecoder()

export const strategy = defineRelayStrategy<MqttRoomConfig>({
  name: 'mqtt',
  validate: config => validateRelayConfig('mqtt', config),
  connect: (config, room) => {
    const urls = pickRelayUrls(config, defaultRelayUrls, defaultRelayRedundancy)

    const counted = (url: string) => {
      if (!topicCounts.has(url)) topicCounts.set(url, new Map())
      return topicCounts.get(url)!
    }
    const subscribeOn = (client: MqttClient, url: string, topics: string[]) => {
      if (topics.length)
        client.subscribe(
          topics,
          {qos: 0},
          error => error && room.report(`broker ${url} refused a subscription: ${error.message}`),
        )
    }

    const pool = relays.acquireAll(config, urls, url => ({
      // A (re)connected broker has a clean session: subscribe again, then send what waited.
      open: client => {
        subscribeOn(client, url, room.topics())
        room.flush()
      },
      message: data => {
        const [topic, payload] = data as [string, Uint8Array]
        if (room.has(topic)) room.deliver(topic, decoder.decode(payload))
      },
      down: reason => room.report(`broker ${url} is unreachable (${reason}); retrying with backoff`),
    }))
    room.onClose(pool.release)

    return {
      relays: pool.states,
      subscribe: topic => {
        for (const lease of pool.leases) {
          const counts = counted(lease.url)
          counts.set(topic, (counts.get(topic) ?? 0) + 1)
          const client = lease.socket()
          if (client) subscribeOn(client, lease.url, [topic])
        }
      },
      unsubscribe: topic => {
        for (const lease of pool.leases) {
          const counts = counted(lease.url)
          const left = (counts.get(topic) ?? 1) - 1
          if (left > 0) {
            counts.set(topic, left)
            continue
          }
          counts.delete(topic)
          lease.socket()?.unsubscribe(topic)
        }
      },
      publish: (topic, message) => {
        let sent = false
        for (const lease of pool.leases) sent = lease.send({topic, message}) || sent
        return sent
      },
    }
  },
})

export const joinRoom = createJoinRoom(strategy)
export const getRelaySockets = relays.getRelaySockets
export const pauseRelayReconnection = relays.pauseRelayReconnection
export const resumeRelayReconnection = relays.resumeRelayReconnection
export {selfId}
