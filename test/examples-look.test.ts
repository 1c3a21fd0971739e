// How every example looks to two people, light and dark: each page opened twice (Ada and Bob,
// with their own colours, as two tabs), met, then checked with axe-core (no serious or
// critical violations: contrast, names, roles) in both colour schemes, and saved as
// test-artifacts/look-NAME-light.png and -dark.png for a person to look at.
import {expect} from '@open-wc/testing'
import {executeServerCommand} from '@web/test-runner-commands'
import {axeViolations} from './helpers/axe.js'
import {closeAll, type ExamplePage, openExample, type as typeInto} from './helpers/examples.js'
import {uniqueRoom, until} from './helpers/peers.js'
import {screenshot} from './helpers/screenshot.js'

type RoomElement = HTMLElement & {peers: string[]}

const people = [
  {name: 'Ada', color: '#b4236b'},
  {name: 'Bob', color: '#0f766e'},
]
const pageStyle = 'width:640px;height:720px;border:1px solid #888;margin:0 2px 0 0;vertical-align:top'

const examples = ['chat', 'files', 'video', 'cursors', 'no-build', 'react', 'vue', 'svelte', 'angular'] as const

const scheme = (value: 'light' | 'dark') => executeServerCommand('color-scheme', {scheme: value})
// A timer, not requestAnimationFrame: a test page in a background tab gets no frames.
const frames = () => new Promise(resolve => setTimeout(resolve, 100))

const checkBothSchemes = async (name: string, pages: ExamplePage[]) => {
  for (const value of ['light', 'dark'] as const) {
    await scheme(value)
    await frames()
    for (const page of pages) {
      expect(page.window.matchMedia('(prefers-color-scheme: dark)').matches).to.equal(value === 'dark')
      const problems = await axeViolations(page, page.document, ['serious', 'critical'])
      expect(problems, `${name} (${value})`).to.deep.equal([])
    }
    await screenshot(`look-${name}-${value}`)
  }
  await scheme('light')
}

describe('how the examples look, light and dark', () => {
  let pages: ExamplePage[] = []
  // The two pages side by side, as two windows, in one screenshot.
  before(() => void (document.body.style.whiteSpace = 'nowrap'))
  afterEach(() => closeAll(pages))

  it('the index fits 1280×800 with every card visible, and passes axe in both schemes', async () => {
    const room = uniqueRoom('index')
    pages = [await openExample('', room, {strategy: 'local'}, 'width:1280px;height:800px;border:0')]
    const [index] = pages as [ExamplePage]
    const cards = [...index.document.querySelectorAll('.gallery a')]
    expect(cards.length).to.equal(13)
    for (const card of cards) expect(card.getBoundingClientRect().bottom, card.textContent!).to.be.at.most(800)
    // ?room= given to the index carries on to the examples.
    expect(new URL((cards[0] as HTMLAnchorElement).href).searchParams.get('room')).to.equal(room)
    await checkBothSchemes('index', pages)
  })

  for (const example of examples) {
    it(`${example}: two people, light and dark, without serious axe violations`, async () => {
      const room = uniqueRoom(example)
      pages = []
      for (const person of people)
        pages.push(await openExample(`${example}/`, room, {strategy: 'local', ...person} as never, pageStyle))
      await until(
        () => pages.every(page => page.$<RoomElement>('p2p-room')?.peers?.length === 1),
        `both ${example} pages meeting`,
      )
      const [ada, bob] = pages as [ExamplePage, ExamplePage]
      if (example === 'chat') {
        typeInto(ada.$<HTMLInputElement>('#message')!, 'Hello Bob!')
        ada.$<HTMLButtonElement>('#message-form button')!.click()
        await until(() => bob.$('#messages li b')?.textContent === 'Ada', 'Ada’s message, named, at Bob')
      }
      if (['react', 'vue', 'svelte', 'angular'].includes(example)) {
        typeInto(ada.$<HTMLInputElement>('form input')!, `Hello from ${example}`)
        ada.$<HTMLButtonElement>('form button')!.click()
        await until(() => bob.$('.log li b')?.textContent === 'Ada', 'Ada’s message, named, at Bob')
        expect(bob.$('.status')!.textContent!.trim()).to.equal('1 other tab here.')
        await until(
          () => bob.$('p2p-peer-list')?.shadowRoot?.textContent?.includes('Ada'),
          'Ada in Bob’s list of who is here',
        )
      }
      if (example === 'video')
        await until(
          () =>
            pages.every(
              page =>
                [...page.$('p2p-video-grid')!.shadowRoot!.querySelectorAll('video')].filter(v => v.videoWidth > 0)
                  .length === 2,
            ),
          'every tile playing',
        )
      if (example === 'cursors') {
        const board = ada.$('#board')!
        const box = board.getBoundingClientRect()
        board.dispatchEvent(
          new ada.window.PointerEvent('pointermove', {
            clientX: box.left + box.width * 0.3,
            clientY: box.top + box.height * 0.4,
            bubbles: true,
          }),
        )
        await until(() => bob.$('.cursor span')?.textContent === 'Ada', 'Ada’s cursor, named, at Bob')
        expect(ada.$('.cursor.self span')?.textContent).to.equal('You')
      }
      await checkBothSchemes(example, pages)
    })
  }
})
