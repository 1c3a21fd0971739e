// Angular: `[attr.relay-urls]` binds an attribute, `[config]` a property, `(p2p-data)` listens
// to an event. CUSTOM_ELEMENTS_SCHEMA lets the template use tags Angular does not know.
// Compiled just-in-time in the browser (@angular/compiler is in the bundle); zoneless change
// detection, so signals drive the view and no zone.js is needed.
import '@angular/compiler'
import 'p2p-elements/define'
import {Component, CUSTOM_ELEMENTS_SCHEMA, provideZonelessChangeDetection, signal} from '@angular/core'
import {bootstrapApplication} from '@angular/platform-browser'
import {appId, color, config, name, othersText, relayUrls, room, sender, strategy} from '../shared/frameworks.js'

type Message = {from: string; color: string; text: string}
type P2PEvent = CustomEvent<{peerId: string; data?: unknown; from: {text: string; color: string}}>
type ActionElement = HTMLElement & {send: (data: unknown) => void}

@Component({
  selector: 'chat-app',
  schemas: [CUSTOM_ELEMENTS_SCHEMA],
  template: `
    <p2p-room
      [attr.app-id]="appId"
      [attr.room]="room"
      [attr.strategy]="strategy"
      [attr.relay-urls]="relayUrls"
      [config]="config"
      [attr.name]="name"
      [attr.color]="color"
      (p2p-peer-join)="onJoin($event)"
      (p2p-peer-leave)="onLeave($event)"
    >
      <p2p-action #action name="chat" (p2p-data)="onData($event)"></p2p-action>
      <aside class="panel people">
        <p class="status" [attr.data-peers]="peers().length">{{ othersText(peers().length) }}</p>
        <p2p-peer-list></p2p-peer-list>
      </aside>
    </p2p-room>
    <ul class="log">
      @for (message of messages(); track $index) {
        <li><b class="who" [class.you]="message.from === 'you'" [style.--dot]="message.color">{{ message.from }}</b>{{ message.text }}</li>
      }
    </ul>
    <form class="row" (submit)="send($event, input, action)">
      <input #input placeholder="Say something" aria-label="message" />
      <button>Send</button>
    </form>
  `,
})
class ChatApp {
  appId = appId
  room = room
  strategy = strategy ?? null
  relayUrls = relayUrls ?? null
  config = config
  name = name
  color = color
  othersText = othersText
  peers = signal<string[]>([])
  messages = signal<Message[]>([])

  onJoin(event: Event) {
    this.peers.update(list => [...list, (event as P2PEvent).detail.peerId])
  }
  onLeave(event: Event) {
    this.peers.update(list => list.filter(id => id !== (event as P2PEvent).detail.peerId))
  }
  onData(event: Event) {
    const {detail} = event as P2PEvent
    this.messages.update(list => [...list, {...sender(detail), text: String(detail.data)}])
  }
  // Template references (#input, #action) hand the elements straight to the handler.
  send(event: Event, input: HTMLInputElement, action: ActionElement) {
    event.preventDefault()
    if (!input.value) return
    action.send(input.value)
    this.messages.update(list => [...list, {from: 'you', color, text: input.value}])
    input.value = ''
  }
}

bootstrapApplication(ChatApp, {providers: [provideZonelessChangeDetection()]}).catch(error => console.error(error))
