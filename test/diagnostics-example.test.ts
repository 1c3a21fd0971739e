/**
 * The video example carries <p2p-diagnostics> under its grid: with two tabs on a call, each
 * lists the other with its path, an RTT, rates each way and a media loss figure (the camera
 * and microphone are Chromium's fake devices, so inbound RTP exists and loss is measured).
 */
import {expect} from '@open-wc/testing'
import {uniqueRoom, until} from './helpers/peers.js'
import {closeAll, frameStyle, openExamples, type ExamplePage} from './helpers/examples.js'
import {axeViolations} from './helpers/axe.js'
import {screenshot} from './helpers/screenshot.js'
import {executeServerCommand} from '@web/test-runner-commands'

const rowsOf = (page: ExamplePage) => [
  ...(page.$('p2p-diagnostics')?.shadowRoot?.querySelectorAll<HTMLElement>('tr[data-peer]') ?? []),
]
const cell = (row: HTMLElement, part: string) => row.querySelector(`[part~=${part}]`)!.textContent!.trim()

describe('diagnostics in the video example', function () {
  this.timeout(60_000)
  let pages: ExamplePage[] = []
  afterEach(() => closeAll(pages))

  it('each tab lists the other: host path, RTT, rates and a media loss percentage from its camera and microphone', async () => {
    pages = await openExamples(2, 'video/', uniqueRoom('video-diag'), {strategy: 'local'}, frameStyle(860))
    for (const page of pages) page.$<HTMLDetailsElement>('details.diagnostics')!.open = true
    for (const page of pages)
      await until(() => {
        const [row] = rowsOf(page)
        return row && /%$/.test(cell(row, 'loss')) && /\/s$/.test(cell(row, 'down'))
      }, 'a row with a media loss figure and rates')
    for (const [page, other] of [
      [pages[0]!, pages[1]!],
      [pages[1]!, pages[0]!],
    ]) {
      const [row] = rowsOf(page)
      const otherId = (other.$('p2p-room') as HTMLElement & {selfId: string}).selfId
      expect(row!.dataset.peer).to.equal(otherId)
      expect(cell(row!, 'path')).to.equal('host ↔ host · UDP')
      expect(cell(row!, 'rtt')).to.match(/^\d+ ms$/)
      expect(cell(row!, 'loss')).to.match(/^\d+(\.\d)?%$/)
      const stats = (page.$('p2p-diagnostics') as HTMLElement & {stats: Record<string, any>}).stats[otherId]
      expect(stats.media.packetsReceived, 'media packets arrived').to.be.greaterThan(0)
      expect(stats.receiveBytesPerSecond, 'video flows in').to.be.greaterThan(1_000)
      console.log(
        `video call: rtt ${Math.round(stats.rttMs)} ms, down ${Math.round(stats.receiveBytesPerSecond / 1024)} KiB/s, loss ${stats.media.packetsLost}/${stats.media.packetsReceived}`,
      )
    }
    for (const scheme of ['light', 'dark'] as const) {
      await executeServerCommand('color-scheme', {scheme})
      await new Promise(resolve => setTimeout(resolve, 100))
      expect(await axeViolations(pages[0]!, pages[0]!.$('p2p-diagnostics')!), scheme).to.deep.equal([])
      await screenshot(`diagnostics-video-${scheme}`)
    }
    await executeServerCommand('color-scheme', {scheme: 'light'})
  })
})
