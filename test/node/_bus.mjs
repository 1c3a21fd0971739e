// Node peers as separate processes (fork), with this process as their pub/sub bus: what one
// publishes is delivered to every peer, and each peer's reports can be awaited.
import {fork} from 'node:child_process'

/** `count` processes running `script` (a URL) in room `roomId` (more `args` after it). */
export const startPeers = (script, count, roomId, args = []) => {
  const peers = Array.from({length: count}, () => {
    const child = fork(script, [roomId, ...args], {stdio: 'inherit'})
    const reports = []
    let wake = () => {}
    child.on('message', message => {
      if (message.type === 'publish')
        for (const other of peers)
          if (other.child.connected) other.child.send({type: 'deliver', topic: message.topic, data: message.data})
      if (message.type === 'report') reports.push(message), wake()
    })
    const until = async check => {
      while (!check(reports)) await new Promise(resolve => (wake = resolve))
      return reports
    }
    return {child, reports, until, id: () => reports.find(r => r.kind === 'ready')?.selfId}
  })
  return peers
}

/**
 * In a peer process: the driver strategy's pub/sub over IPC. `emit` goes to the test process,
 * which hands it back to every peer as a 'deliver' message for this driver's handlers.
 */
export const busDriver = () => {
  const handlers = new Map()
  process.on('message', message => {
    if (message.type === 'deliver') for (const handler of handlers.get(message.topic) ?? []) handler(message.data)
  })
  return {
    on: (topic, handler) => handlers.set(topic, [...(handlers.get(topic) ?? []), handler]),
    off: (topic, handler) =>
      handlers.set(
        topic,
        (handlers.get(topic) ?? []).filter(h => h !== handler),
      ),
    emit: (topic, data) => process.send({type: 'publish', topic, data}),
  }
}

/** In a peer process: tell the test what happened. */
export const report = message => process.send?.({type: 'report', ...message})
