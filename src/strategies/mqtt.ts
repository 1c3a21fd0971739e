/**
 * `mqtt`: peers meet through public MQTT brokers over secure WebSocket, through a small
 * MQTT 3.1.1 client of our own (./mqtt-client.ts). Each of the core's hashed topics is an
 * MQTT topic; messages are QoS 0 and never retained.
 */
import {createJoinRoom, selfId} from '../core/index.js'
import {randomId} from '../core/ids.js'
import {maxEnvelopeLength} from '../core/signaling.js'
import {connectMqtt, type MqttConnection} from './mqtt-client.js'
import {defineRelayStrategy} from './shared/builder.js'
import {
  createRelayManager,
  pickRelayUrls,
  validateRelayConfig,
  webSocketFor,
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

/** Sent to leases on a refused subscription (the transport has no lease of its own). */
const refusals = new WeakMap<MqttConnection, (topics: string[]) => void>()

/**
 * One client per broker, clean session each time; the relay manager reconnects, with the
 * same backoff and pause/resume as every other strategy.
 */
const transport: RelayTransport<MqttConnection, Outgoing> = {
  open: (url, events, config) => {
    const client: MqttConnection = connectMqtt(
      url,
      {
        clientId: `p2pe_${randomId(16)}`,
        keepaliveSeconds,
        WebSocket: webSocketFor(config),
        // A message the core would refuse as too long is not worth decoding (topics are < 1 KiB).
        maxPublishBytes: maxEnvelopeLength + 1024,
      },
      {
        connect: () => events.open(),
        message: (topic, payload) => events.message([topic, payload]),
        refused: topics => refusals.get(client)?.(topics),
        close: reason => events.close(reason),
      },
    )
    return client
  },
  send: (client, {topic, message}) => client.publish(topic, message),
  close: client => client.end(),
}

const relays = createRelayManager(transport)

/** Topics subscribed on each broker by all rooms of the page, counted, so one room's leave keeps another's topic. */
const topicCounts = new Map<string, Map<string, number>>()

const decoder = new TextDecoder()

export const strategy = defineRelayStrategy<MqttRoomConfig>({
  name: 'mqtt',
  validate: config => validateRelayConfig('mqtt', config),
  preconnect: config => relays.warm(config, pickRelayUrls(config, defaultRelayUrls, defaultRelayRedundancy)),
  connect: (config, room) => {
    const urls = pickRelayUrls(config, defaultRelayUrls, defaultRelayRedundancy)

    const counted = (url: string) => {
      if (!topicCounts.has(url)) topicCounts.set(url, new Map())
      return topicCounts.get(url)!
    }
    const subscribeOn = (client: MqttConnection, url: string, topics: string[]) => {
      refusals.set(client, refused => room.report(`broker ${url} refused a subscription to ${refused.length} topic(s)`))
      client.subscribe(topics)
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
          lease.socket()?.unsubscribe([topic])
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
