import type {ElementsPeer} from './elements.js'

/**
 * Accessibility problems axe-core finds in `element` (shadow DOM included), run inside the
 * peer's own page: axe cannot check an element of another window. Each as "rule: summary".
 */
export const axeViolations = async (
  peer: Pick<ElementsPeer, 'window' | 'document'>,
  element: Element | Document,
  /** Only violations of these impacts (default: all). */
  impacts?: readonly string[],
): Promise<string[]> => {
  const win = peer.window as any
  if (!win.axe)
    await new Promise((resolve, reject) => {
      const script = Object.assign(peer.document.createElement('script'), {src: '/node_modules/axe-core/axe.min.js'})
      script.onload = resolve
      script.onerror = () => reject(new Error('could not load axe-core into the peer page'))
      peer.document.head.append(script)
    })
  const results = await win.axe.run(element)
  return results.violations
    .filter((v: any) => !impacts || impacts.includes(v.impact))
    .map((v: any) => `${v.id}: ${v.help} (${v.nodes.map((n: any) => n.target.join(' ')).join(', ')})`)
}
