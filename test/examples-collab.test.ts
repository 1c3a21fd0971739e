// The collaborative text example (examples/collab/), used as a person would in two tabs:
// typing in one shows in the other with the caret and name of who typed, and edits made
// offline merge on reconnect. The tabs meet over BroadcastChannel (`?strategy=local`).
import {expect} from '@open-wc/testing'
import {uniqueRoom, until} from './helpers/peers.js'
import {closeAll, frameStyle, openExamples, type ExamplePage} from './helpers/examples.js'
import {screenshot} from './helpers/screenshot.js'

const textarea = (page: ExamplePage) => page.$<HTMLTextAreaElement>('#editor')!

/** Types at the caret the way a keyboard does: the value changes, then an input event. */
const typeAt = (page: ExamplePage, index: number, typed: string) => {
  const editor = textarea(page)
  editor.focus()
  editor.setRangeText(typed, index, index, 'end')
  editor.dispatchEvent(new page.window.Event('input', {bubbles: true}))
}
const textOf = (page: ExamplePage) => (page.window as any).collab.text.toString() as string

describe('examples: collab', () => {
  let pages: ExamplePage[] = []
  afterEach(() => closeAll(pages))

  it('two tabs edit one text, see each other and each other’s caret, and merge offline edits', async () => {
    pages = await openExamples(2, 'collab/', uniqueRoom('collab'), {strategy: 'local'}, frameStyle(620))
    const [ada, bob] = pages as [ExamplePage, ExamplePage]
    const nameOf = (page: ExamplePage) => page.$<HTMLInputElement>('#name')!
    for (const [page, name] of [
      [ada, 'Ada'],
      [bob, 'Bob'],
    ] as const) {
      nameOf(page).value = name
      nameOf(page).dispatchEvent(new page.window.Event('input'))
    }
    await until(() => bob.$('#people')!.textContent === 'Ada', 'Ada listed in Bob’s tab')
    await until(() => ada.$('#people')!.textContent === 'Bob', 'Bob listed in Ada’s tab')

    typeAt(ada, 0, 'Hello from Ada.')
    await until(() => textarea(bob).value === 'Hello from Ada.', 'Ada’s text in Bob’s tab')
    typeAt(bob, textarea(bob).value.length, ' And Bob.')
    await until(() => textarea(ada).value === 'Hello from Ada. And Bob.', 'Bob’s text in Ada’s tab')
    // Ada's caret, with her name, sits in Bob's view after "Ada." (where she stopped typing).
    const caret = await until(() => bob.$('#mirror .caret'), 'Ada’s caret in Bob’s tab')
    expect(caret.textContent).to.equal('Ada')
    // Bob typed where Ada's caret was: it may sit before or after his words, as Yjs resolves it.
    expect(caret.previousSibling?.textContent).to.be.oneOf(['Hello from Ada.', 'Hello from Ada. And Bob.'])

    ada.$<HTMLButtonElement>('#toggle')!.click()
    await until(() => bob.$('#people')!.textContent === '', 'Ada gone from Bob’s tab')
    expect(ada.$('#status')!.textContent).to.include('Offline')
    typeAt(ada, 0, '[offline] ')
    typeAt(bob, textarea(bob).value.length, ' [meanwhile]')
    expect(textOf(bob)).to.not.include('[offline]')
    ada.$<HTMLButtonElement>('#toggle')!.click()
    const merged = '[offline] Hello from Ada. And Bob. [meanwhile]'
    await until(() => textarea(ada).value === merged && textarea(bob).value === merged, 'both edits in both tabs')
    await until(() => bob.$('#people')!.textContent === 'Ada', 'Ada back in Bob’s tab')
    await screenshot('example-collab')
  })
})
