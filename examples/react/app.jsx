// React 19 sets props on custom elements as properties when the element has that property
// (`config`), as attributes otherwise (`app-id`, `relay-urls`), and turns `on<event-name>`
// props into addEventListener(event-name): so `onp2p-data` listens to `p2p-data`.
import 'p2p-elements/define'
import {useRef, useState} from 'react'
import {createRoot} from 'react-dom/client'
import {appId, color, config, name, othersText, relayUrls, room, sender, strategy} from '../shared/frameworks.js'

function Chat() {
  const action = useRef(null)
  const [peers, setPeers] = useState([])
  const [messages, setMessages] = useState([])
  const [draft, setDraft] = useState('')

  const send = event => {
    event.preventDefault()
    if (!draft) return
    action.current.send(draft)
    setMessages(list => [...list, {from: 'you', color, text: draft}])
    setDraft('')
  }

  return (
    <>
      <p2p-room
        app-id={appId}
        room={room}
        strategy={strategy}
        relay-urls={relayUrls}
        config={config}
        name={name}
        color={color}
        onp2p-peer-join={e => setPeers(list => [...list, e.detail.peerId])}
        onp2p-peer-leave={e => setPeers(list => list.filter(id => id !== e.detail.peerId))}
      >
        <p2p-action
          ref={action}
          name="chat"
          onp2p-data={e => setMessages(list => [...list, {...sender(e.detail), text: String(e.detail.data)}])}
        />
        <aside className="panel people">
          <p className="status" data-peers={peers.length}>
            {othersText(peers.length)}
          </p>
          <p2p-peer-list />
        </aside>
      </p2p-room>
      <ul className="log">
        {messages.map((message, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: the log only grows, so an index names one message
          <li key={i}>
            <b className={message.from === 'you' ? 'who you' : 'who'} style={{'--dot': message.color}}>
              {message.from}
            </b>
            {message.text}
          </li>
        ))}
      </ul>
      <form className="row" onSubmit={send}>
        <input
          value={draft}
          onChange={e => setDraft(e.target.value)}
          placeholder="Say something"
          aria-label="message"
        />
        <button type="submit">Send</button>
      </form>
    </>
  )
}

createRoot(document.getElementById('app')).render(<Chat />)
