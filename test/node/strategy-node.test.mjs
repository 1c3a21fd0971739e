// A peer running in Node (RTCPeerConnection from node-datachannel/polyfill, WebSocket from
// `ws`) joins a room with a peer in headless Chromium, over the mqtt and the nostr strategy
// against our local servers, and they exchange an action both ways.
//
// Node imports the library as users do, from the build (dist/lib/, made by `npm run build`);
// the browser page gets the same strategy bundled from src/ by esbuild.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {createServer} from 'node:http'
import {existsSync} from 'node:fs'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {dirname, join} from 'node:path'
import * as esbuild from 'esbuild'
import puppeteer from 'puppeteer-core'
import WebSocket from 'ws'
import {RTCPeerConnection} from 'node-datachannel/polyfill'
import {findChromium, chromiumArgs} from '../../scripts/chromium.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const appId = 'p2p-elements-node-tests'

/** Serves one HTML page that imports the strategy bundle as window.lib. */
const servePage = async strategy => {
  const bundle = await esbuild.build({
    entryPoints: [join(root, `src/strategies/${strategy}.ts`)],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['browser'],
    define: {global: 'globalThis'},
    logLevel: 'warning',
  })
  const script = bundle.outputFiles[0].text
  const page = `<!doctype html><script type="module">window.lib = await import('/lib.js'); window.ready = true</script>`
  const server = createServer((request, response) => {
    const js = request.url === '/lib.js'
    response.writeHead(200, {'content-type': js ? 'text/javascript' : 'text/html'})
    response.end(js ? script : page)
  })
  await new Promise(done => server.listen(0, '127.0.0.1', done))
  return {url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close()}
}

let browser
before(async () => {
  browser = await puppeteer.launch({executablePath: findChromium(), headless: true, args: chromiumArgs()})
})
after(async () => {
  await browser?.close()
})

for (const {strategy, server} of [
  {strategy: 'mqtt', server: 'mqtt'},
  {strategy: 'nostr', server: 'nostr'},
]) {
  test(`a Node peer and a browser peer meet over ${strategy} and exchange an action both ways`, async () => {
    const built = join(root, `dist/lib/strategies/${strategy}.js`)
    assert.ok(existsSync(built), `${built} is missing: run \`npm run build\` first`)
    const lib = await import(pathToFileURL(built).href)
    const relay = await (await import(pathToFileURL(join(root, `test/servers/${server}.mjs`)).href)).start()
    const site = await servePage(strategy)
    const page = await browser.newPage()
    const roomId = `node-${strategy}-${Math.random().toString(36).slice(2)}`
    let room
    try {
      page.on('pageerror', error => console.error('browser page error:', error.message))
      await page.goto(site.url)
      await page.waitForFunction('window.ready === true')

      room = lib.joinRoom(
        {appId, relayUrls: [relay.url], rtcPolyfill: RTCPeerConnection, WebSocket, rtcConfig: {iceServers: []}},
        roomId,
      )
      const [sendFromNode, onNodeReceive] = room.makeAction('greet')
      const nodeHeard = new Promise(resolve => onNodeReceive((data, peerId) => resolve({data, peerId})))
      const browserJoined = new Promise(resolve => room.onPeerJoin(resolve))

      const browserId = await page.evaluate(
        (config, roomId) => {
          window.room = window.lib.joinRoom(config, roomId)
          const [send, onReceive] = window.room.makeAction('greet')
          window.heard = new Promise(resolve => onReceive((data, peerId) => resolve({data, peerId})))
          window.joined = new Promise(resolve => window.room.onPeerJoin(resolve))
          window.send = send
          return window.lib.selfId
        },
        {appId, relayUrls: [relay.url], rtcConfig: {iceServers: []}},
        roomId,
      )

      assert.equal(await browserJoined, browserId, 'Node sees the browser peer join')
      assert.equal(await page.evaluate(() => window.joined), lib.selfId, 'the browser sees the Node peer join')

      await sendFromNode({hello: 'from node'})
      await page.evaluate(() => window.send({hello: 'from the browser'}))
      assert.deepEqual(await page.evaluate(() => window.heard), {data: {hello: 'from node'}, peerId: lib.selfId})
      assert.deepEqual(await nodeHeard, {data: {hello: 'from the browser'}, peerId: browserId})
    } finally {
      await page.evaluate(() => window.room?.leave()).catch(() => {})
      await room?.leave()
      await page.close()
      site.close()
      await relay.stop()
    }
  })
}
