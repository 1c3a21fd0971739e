// A shared text: a <textarea> bound to a Y.Text, synced by p2p-elements/yjs, with everyone's
// caret and name drawn over the text from awareness. No editor library: a textarea, a small
// diff on each input, and a mirror layer behind it for the carets.
// Built by examples/build.mjs into dist/examples/collab/ (npm start does it).
import * as Y from 'yjs'
import {P2PProvider} from 'p2p-elements/yjs'
import {roomSettings} from '../shared/room-settings.js'

const editor = document.getElementById('editor')
const mirror = document.getElementById('mirror')
const nameInput = document.getElementById('name')
const status = document.getElementById('status')
const people = document.getElementById('people')

const settings = roomSettings()
const doc = new Y.Doc()
const text = doc.getText('text')
const provider = new P2PProvider(doc, {
  appId: 'p2p-elements-examples',
  roomId: settings.room ?? 'collab',
  strategy: settings.strategy ?? 'nostr',
  ...(settings.relayUrls && {relayUrls: settings.relayUrls}),
})
const {awareness} = provider
window.collab = {doc, text, provider}

// Names and colours come from other people's pages: shown as text, clamped, never trusted.
const colorOf = id => `hsl(${(id * 47) % 360} 70% 45%)`
const names = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Ken', 'Radia', 'Linus', 'Margaret', 'Dennis']
nameInput.value = names[doc.clientID % names.length]
const publishUser = () => awareness.setLocalStateField('user', {name: nameInput.value.slice(0, 40) || 'anonymous'})
nameInput.addEventListener('input', publishUser)
publishUser()

// Local edits: the smallest change that turns the Y.Text into the textarea's value
// (common prefix and suffix kept, the middle replaced), applied as one transaction.
const LOCAL = 'textarea'
editor.addEventListener('input', () => {
  const before = text.toString()
  const after = editor.value
  let start = 0
  while (start < before.length && start < after.length && before[start] === after[start]) start++
  let end = 0
  while (
    end < before.length - start &&
    end < after.length - start &&
    before[before.length - 1 - end] === after[after.length - 1 - end]
  )
    end++
  doc.transact(() => {
    if (before.length - start - end > 0) text.delete(start, before.length - start - end)
    if (after.length - start - end > 0) text.insert(start, after.slice(start, after.length - end))
  }, LOCAL)
  publishCursor()
})

// Remote edits: rewrite the textarea and move our selection with the text around it.
text.observe(event => {
  if (event.transaction.origin === LOCAL) return
  let {selectionStart: from, selectionEnd: to} = editor
  let index = 0
  for (const op of event.delta) {
    if (op.retain) index += op.retain
    else if (op.insert) {
      const n = op.insert.length
      if (index < from) from += n
      if (index < to) to += n
      index += n
    } else if (op.delete) {
      if (index < from) from -= Math.min(op.delete, from - index)
      if (index < to) to -= Math.min(op.delete, to - index)
    }
  }
  editor.value = text.toString()
  if (document.activeElement === editor) editor.setSelectionRange(from, to)
  render()
})

// Our caret as Yjs relative positions, so it stays on the same character as others type.
const publishCursor = () => {
  const at = index => Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(text, index))
  awareness.setLocalStateField('cursor', {anchor: at(editor.selectionStart), head: at(editor.selectionEnd)})
}
for (const type of ['select', 'keyup', 'click', 'focus']) editor.addEventListener(type, publishCursor)
document.addEventListener('selectionchange', () => document.activeElement === editor && publishCursor())

const indexOf = json => {
  try {
    const position = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(json), doc)
    return position && position.type === text ? position.index : null
  } catch {
    return null
  }
}

// The mirror holds the same text as the textarea, in the same font, with a caret element at
// each other person's position; it scrolls with the textarea.
const render = () => {
  const carets = []
  for (const [id, state] of awareness.getStates()) {
    if (id === doc.clientID || !state?.cursor) continue
    const index = indexOf(state.cursor.head)
    if (index === null) continue
    carets.push({index, id, name: String(state.user?.name ?? 'someone').slice(0, 40)})
  }
  carets.sort((a, b) => a.index - b.index)
  const value = text.toString()
  mirror.replaceChildren()
  let last = 0
  for (const {index, id, name} of carets) {
    mirror.append(value.slice(last, index))
    const caret = document.createElement('span')
    caret.className = 'caret'
    caret.dataset.client = String(id)
    caret.style.setProperty('--who', colorOf(id))
    caret.append(Object.assign(document.createElement('span'), {className: 'label', textContent: name}))
    mirror.append(caret)
    last = index
  }
  mirror.append(`${value.slice(last)}\n`)
  mirror.scrollTop = editor.scrollTop

  const others = [...awareness.getStates()]
    .filter(([id, state]) => id !== doc.clientID && state?.user)
    .map(([id, state]) => ({id, name: String(state.user.name).slice(0, 40)}))
  people.replaceChildren(
    ...others.map(({id, name}) => {
      const item = document.createElement('li')
      item.style.setProperty('--who', colorOf(id))
      item.textContent = name
      return item
    }),
  )
  const n = others.length
  status.textContent = !provider.connected
    ? 'Offline: your edits are kept and merge when you reconnect.'
    : n
      ? `Editing with ${n} other ${n === 1 ? 'tab' : 'tabs'}${provider.synced ? '' : ' (syncing…)'}`
      : 'Alone for now: open this page in another tab.'
}
editor.addEventListener('scroll', () => (mirror.scrollTop = editor.scrollTop))
awareness.on('change', render)
provider.on('synced', render)
provider.on('status', render)

const toggle = document.getElementById('toggle')
toggle.addEventListener('click', () => {
  if (provider.connected) provider.disconnect()
  else provider.connect()
  toggle.textContent = provider.connected ? 'Go offline' : 'Reconnect'
  render()
})
render()
