// A real bootstrap peer of the overlay: `npm run peer -- --listen PORT` (scripts/peer.mjs) as a
// child process, for the bootstrap strategy's browser tests. Its URL is ws://127.0.0.1:PORT.
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))

export async function start(port = 0) {
  const child = spawn(process.execPath, ['scripts/peer.mjs', '--listen', String(port), '--quiet'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise((resolve, reject) => {
    let buffer = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', chunk => {
      buffer += chunk
      const match = buffer.match(/listening at (ws:\/\/\S+)/)
      if (match) resolve(match[1])
    })
    child.once('exit', code => reject(new Error(`peer --listen ${port} exited (${code}) before listening`)))
  })
  return {
    url,
    port: Number(new URL(url).port),
    stop: () =>
      new Promise(resolve => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}
