import {expect, fixture, html} from '@open-wc/testing'
import '../src/elements/define.js'
import type {P2PRoom} from '../src/elements/index.js'
import {testRoomConfig} from './helpers/elements.js'
import {uniqueRoom, until} from './helpers/peers.js'

describe('accessibility of the elements', () => {
  it('the file widget, video grid and peer list pass axe checks, and the file picker is a keyboard-focusable button', async () => {
    const room =
      await fixture<P2PRoom>(html`<p2p-room app-id="a11y" room=${uniqueRoom('a11y')} strategy="local" .config=${testRoomConfig}>
      <p2p-file-send multiple></p2p-file-send>
      <p2p-video-grid></p2p-video-grid>
      <p2p-peer-list></p2p-peer-list>
    </p2p-room>`)
    await until(() => room.joined, 'the room to join')
    for (const tag of ['p2p-file-send', 'p2p-video-grid', 'p2p-peer-list'] as const) {
      const element = room.querySelector(tag)!
      await element.updateComplete
      await expect(element).shadowDom.to.be.accessible()
    }
    const shadow = room.querySelector('p2p-file-send')!.shadowRoot!
    const choose = shadow.querySelector<HTMLButtonElement>('button[part~=choose]')!
    choose.focus()
    expect(shadow.activeElement).to.equal(choose)
    expect(choose.textContent!.trim()).to.equal('Choose files')
  })
})
