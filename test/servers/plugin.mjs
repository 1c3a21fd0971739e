// A @web/test-runner plugin that runs every server in this folder for the whole test run,
// and lets browser tests read their URLs and stop/restart them over HTTP:
//   GET  /__servers               -> {name: url}
//   POST /__servers/NAME/stop     -> stops NAME
//   POST /__servers/NAME/start    -> starts NAME again on its port
//   POST /__servers/NAME/private  -> starts a new instance of NAME that only the asking test
//                                    uses: {id, url}; stop/start/dispose it by that id
// A test that stops a server uses a private one: tests running beside it keep theirs.
import {readdirSync} from 'node:fs'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {dirname, join} from 'node:path'

const here = dirname(fileURLToPath(import.meta.url))

export const serverNames = () =>
  readdirSync(here)
    .filter(file => file.endsWith('.mjs') && file !== 'plugin.mjs' && !file.startsWith('_'))
    .map(file => file.slice(0, -4))

export const serversPlugin = () => {
  const running = new Map() // name (or private id) -> {module, handle|null, port}
  let privateCount = 0

  const startOne = async name => {
    const entry = running.get(name)
    entry.handle = await entry.module.start(entry.port)
    entry.port = entry.handle.port
  }

  return {
    name: 'p2p-test-servers',
    async serverStart() {
      for (const name of serverNames()) {
        const module = await import(pathToFileURL(join(here, `${name}.mjs`)).href)
        running.set(name, {module, handle: null, port: 0})
        await startOne(name)
      }
    },
    async serverStop() {
      await Promise.all([...running.values()].map(entry => entry.handle?.stop()))
    },
    async serve(context) {
      if (!context.path.startsWith('/__servers')) return
      const [, , name, verb] = context.path.split('/')
      if (!name) {
        const shared = [...running].filter(([, e]) => !e.private)
        const urls = Object.fromEntries(shared.map(([n, e]) => [n, e.handle ? e.handle.url : null]))
        return {body: JSON.stringify(urls), type: 'json'}
      }
      const entry = running.get(name)
      if (!entry) return {body: JSON.stringify({error: `no server ${name}`}), type: 'json', status: 404}
      if (verb === 'private') {
        const id = `${name}~${++privateCount}`
        running.set(id, {module: entry.module, handle: null, port: 0, private: true})
        await startOne(id)
        return {body: JSON.stringify({id, url: running.get(id).handle.url}), type: 'json'}
      }
      if (verb === 'dispose' && entry.private) {
        await entry.handle?.stop()
        running.delete(name)
        return {body: JSON.stringify({url: null}), type: 'json'}
      }
      if (verb === 'stop' && entry.handle) {
        await entry.handle.stop()
        entry.handle = null
      } else if (verb === 'start' && !entry.handle) {
        await startOne(name)
      }
      return {body: JSON.stringify({url: entry.handle?.url ?? null}), type: 'json'}
    },
  }
}
