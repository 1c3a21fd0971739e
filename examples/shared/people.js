// Who this tab is, for the example pages: a name and a colour, kept per tab (sessionStorage),
// so two tabs of one browser are two people. Not part of the library: the library only
// carries what a page puts in <p2p-room name color> (its presence) to the other peers.

/** Colours that carry white text at WCAG AA (4.5:1) or better. */
export const palette = ['#2454d6', '#b4236b', '#0f766e', '#7c3aed', '#b45309', '#15803d', '#be123c', '#4338ca']

const store = globalThis.sessionStorage
const pick = list => list[Math.floor(Math.random() * list.length)]
const defaultNames = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Radia', 'Ken', 'Margaret']

const params = new URLSearchParams(globalThis.location?.search ?? '')

/** This tab's {name, color}: `?name=` and `?color=` when the address has them, else chosen once per tab and kept. */
export const identity = () => {
  let name = params.get('name') || store?.getItem('p2p-name')
  let color = params.get('color') || store?.getItem('p2p-color')
  if (!name) store?.setItem('p2p-name', (name = pick(defaultNames)))
  if (!color) store?.setItem('p2p-color', (color = pick(palette)))
  return {name, color}
}

/** Keeps this tab's name (when the person changes it). */
export const rememberName = name => store?.setItem('p2p-name', name)

/** Gives every <p2p-room> under `root` this tab's name and colour (plain pages; frameworks bind them). */
export const applyIdentity = (root = globalThis.document) => {
  const {name, color} = identity()
  for (const room of root?.querySelectorAll('p2p-room') ?? []) {
    if (!room.hasAttribute('name')) room.setAttribute('name', name)
    if (!room.hasAttribute('color')) room.setAttribute('color', color)
  }
}

/** The same words on every page for who else is here. */
export const othersText = count =>
  count ? `${count} other ${count === 1 ? 'tab' : 'tabs'} here.` : 'Alone for now: open this page in another tab.'

applyIdentity()
