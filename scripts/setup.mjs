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
  const stale = !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000)
  if (!stale) return
  console.log('Installing dependencies (npm install)...')
  // `npm install`, not `npm ci`: with the lockfile settings of some machines (registry URLs
  // omitted), npm records only this platform's optional packages and `npm ci` then refuses it.
  execSync('npm install --no-audit --no-fund', {
    cwd: root,
    stdio: 'inherit',
  })
}
