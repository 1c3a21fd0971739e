// The framework embeds (examples/react, vue, svelte, angular): each binds attributes, the `config`
// property and p2p-* event listeners its own way. Two pages of each meet, a message typed in one
// arrives in the other through a p2p-data listener bound by the framework, and the peer count
// comes from p2p-peer-join listeners. Needs the built examples: `node examples/build.mjs`.
import {expect} from '@open-wc/testing'
import {uniqueRoom, until} from './helpers/peers.js'
import {
  closeAll,
  frameStyle,
  openExample,
  openExamples,
  type ExamplePage,
  type as typeInto,
  untilText,
} from './helpers/examples.js'
import {screenshot} from './helpers/screenshot.js'

const frameworks = ['react', 'vue', 'svelte', 'angular'] as const

const peerCount = (page: ExamplePage) => Number(page.$('.status')?.dataset.peers ?? -1)

const say = (page: ExamplePage, text: string) => {
  typeInto(page.$<HTMLInputElement>('form input')!, text)
  page.$<HTMLButtonElement>('form button')!.click()
}

describe('framework examples', () => {
  let pages: ExamplePage[] = []
  afterEach(() => closeAll(pages))

  before(async () => {
    for (const framework of frameworks) {
      const bundle = `/dist/examples/${framework}/app.js`
      if (!(await fetch(bundle, {method: 'HEAD'})).ok)
        throw new Error(
          `${bundle} is missing: run \`node examples/build.mjs\` (after \`npm run build\`) before these tests`,
        )
    }
  })

  for (const framework of frameworks) {
    it(`${framework}: two pages see each other join and a typed message arrives through the bound p2p-data listener`, async () => {
      pages = await openExamples(2, `${framework}/`, uniqueRoom(framework), {strategy: 'local'}, frameStyle(400))
      const [a, b] = pages
      await until(() => a.$('.status') && b.$('.status'), `${framework} app rendered (is dist/examples built?)`)

      // The `config` property reached the element as an object, not as an "[object Object]" attribute.
      const roomElement = a.$<HTMLElement & {config?: {password?: string}}>('p2p-room')!
      expect(roomElement.config?.password).to.equal('framework-examples')
      expect(roomElement.hasAttribute('config')).to.equal(false)
      expect(roomElement.getAttribute('app-id')).to.equal('p2p-elements-examples')

      await until(() => peerCount(a) === 1 && peerCount(b) === 1, 'each page counting one peer')
      say(a, `hello from ${framework}`)
      await untilText(b, '.log li', `hello from ${framework}`)
      say(b, 'hi back')
      await untilText(a, '.log li', 'hi back')
      expect(a.$('.log li b.you')?.textContent).to.equal('you')
      await screenshot(`example-${framework}`)
    })
  }

  it('hosted anywhere else (no npm start, no parameters) each framework example keeps the library defaults', async () => {
    pages = await Promise.all(frameworks.map(framework => openExample(`${framework}/`, uniqueRoom(framework), {})))
    for (const page of pages) {
      const room = await until(
        () => page.$<HTMLElement & {strategy: string}>('p2p-room'),
        `the room of ${page.frame.src}`,
      )
      expect(room.strategy, page.frame.src).to.equal('nostr')
      expect(room.hasAttribute('relay-urls'), page.frame.src).to.equal(false)
    }
  })

  it('all four framework examples share one room: React, Vue, Svelte and Angular pages chat together', async () => {
    const room = uniqueRoom('frameworks')
    const style =
      'width:48.5%;height:350px;border:1px solid #999;margin:0 2px 2px 0;vertical-align:top;background:white'
    pages = await Promise.all(
      frameworks.map(framework => openExample(`${framework}/`, room, {strategy: 'local'}, style)),
    )
    await until(() => pages.every(page => peerCount(page) === 3), 'every page counting three peers')
    say(pages[0], 'one room, four frameworks')
    for (const page of pages.slice(1)) await untilText(page, '.log li', 'one room, four frameworks')
    await screenshot('example-frameworks-together')
  })
})
