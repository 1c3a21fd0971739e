// Set-up shared by `npm test`, `npm start` and `npm run bench`: installs dependencies when
// node_modules is missing or older than the lockfile. Uses Node built-ins only, so it runs
// before anything is installed.
import {existsSync, statSync} from 'node:fs'
import {execSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {dirname, join} from 'node:path'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')

export const ensureDependencies = () => {
  const marker = join(root, 'node_modules', '.package-lock.json')
  const lock = join(root, 'package-lock.json')
  const locked = existsSync(lock)
  const stale = !existsSync(marker) || (locked && statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000)
  if (!stale) return
  // With a lockfile, `npm ci`: exactly the versions it records (every platform's optional
  // packages are in it), and it never rewrites it. Without one, `npm install` makes one.
  const command = locked ? 'npm ci --no-audit --no-fund' : 'npm install --no-audit --no-fund'
  console.log(`Installing dependencies (${command})...`)
  try {
    execSync(command, {cwd: root, stdio: 'inherit'})
  } catch {
    throw new Error(
      `${command} failed (see above). If you changed package.json, run \`npm install\` to update package-lock.json.`,
    )
  }
}
