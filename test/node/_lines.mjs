// Waiting for what a child process prints: shared by the tests that spawn peers and servers.

/** Collects a child's stdout lines, so a test can wait for one printed before or after it asks. */
export const watchLines = child => {
  const lines = []
  const waiters = new Set()
  let buffer = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', chunk => {
    if (process.env.DEBUG_PEERS) process.stderr.write(chunk)
    buffer += chunk
    const complete = buffer.split('\n')
    buffer = complete.pop()
    lines.push(...complete)
    for (const waiter of waiters) waiter()
  })
  child.lines = lines
  child.waitFor = (pattern, what) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const match = lines.map(line => line.match(pattern)).find(Boolean)
        if (match) waiters.delete(check), resolve(match)
      }
      waiters.add(check)
      child.once('exit', code => reject(new Error(`process exited (${code}) before ${what}`)))
      check()
    })
  return child
}
