// Test-side driver for test/node/_peer-relay-proc.mjs: fork a process of PeerRelay peers,
// send it commands, wait for its reports.
import {fork} from 'node:child_process'

const script = new URL('./_peer-relay-proc.mjs', import.meta.url)

export const startProcess = async config => {
  const child = fork(script, [JSON.stringify(config)], {stdio: ['ignore', 'inherit', 'inherit', 'ipc']})
  const reports = []
  const waiters = new Set()
  child.on('message', message => {
    if (message.type !== 'report') return
    reports.push(message)
    for (const wake of [...waiters]) wake()
  })
  let exited = false
  child.once('exit', () => {
    exited = true
    for (const wake of [...waiters]) wake()
  })
  /** The first report (after index `from`) that passes `check`, within `ms`. */
  const next = (check, ms = 30_000, what = 'a report', from = 0) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => (waiters.delete(look), reject(new Error(`timed out waiting for ${what}`))), ms)
      const look = () => {
        const found = reports.slice(from).find(check)
        if (found) waiters.delete(look), clearTimeout(timer), resolve(found)
        else if (exited) waiters.delete(look), clearTimeout(timer), reject(new Error(`process exited before ${what}`))
      }
      waiters.add(look)
      look()
    })
  const ask = (message, kind, ms) => {
    const from = reports.length
    child.send(message)
    return next(r => r.kind === kind, ms, kind, from)
  }
  const ready = await next(r => r.kind === 'ready', 60_000, 'peers ready')
  return {
    child,
    reports,
    next,
    ask,
    send: message => child.send(message),
    peers: ready.peers,
    ids: ready.peers.map(p => p.id),
    stop: () =>
      new Promise(resolve => {
        if (exited) return resolve()
        child.once('exit', resolve)
        child.send({cmd: 'exit'})
        setTimeout(() => child.kill(), 5000).unref()
      }),
  }
}

export const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

/** Polls `check` (async) until it returns truthy or `ms` pass; returns the last value. */
export const poll = async (check, ms, every = 250) => {
  const deadline = Date.now() + ms
  let value = await check()
  while (!value && Date.now() < deadline) await sleep(every), (value = await check())
  return value
}
