// Finds (or, as root with apt, installs) a Chromium for tests and benchmarks, and
// the launch flags that keep every byte of its traffic on this machine.
import {existsSync} from 'node:fs'
import {execSync} from 'node:child_process'

const candidates = [
  process.env.CHROME_PATH,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
]

const found = () => candidates.find(path => path && existsSync(path))

const canApt = () => {
  try {
    return process.getuid?.() === 0 && !!execSync('command -v apt-get', {encoding: 'utf8'}).trim()
  } catch {
    return false
  }
}

/** Path of a Chromium/Chrome binary; installs Debian's chromium when it can, else exits with what to do. */
export const findChromium = () => {
  const path = found()
  if (path) return path
  if (canApt()) {
    console.log('No Chromium found: installing Debian\'s "chromium" package (apt-get)...')
    execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', {
      stdio: 'inherit',
      shell: '/bin/bash',
    })
    const installed = found()
    if (installed) return installed
  }
  console.error(
    'No Chromium or Chrome found. Install one (Debian/Ubuntu: `sudo apt-get install chromium`) ' +
      'or point CHROME_PATH at its binary, then run this again.',
  )
  process.exit(1)
}

/**
 * Flags for headless runs. Fresh array per call: puppeteer edits it in place.
 * The resolver rule and the mDNS feature switch keep DNS and multicast off the network;
 * fake media gives getUserMedia a test pattern and a tone.
 */
export const chromiumArgs = () => [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1, EXCLUDE localhost',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
]
