// The files example's swarm view: every file this tab sent or received (and any it "seeds") is
// served to the room by its content hash; a file other tabs serve can be fetched from all of
// them at once, each piece checked, with every source shown as it works (or leaves, or lies).
// Uses the room's core API (room.coreRoom): fetchFile, seedFile, swarmFiles, onSwarmFiles.
import {formatBytes, formatDuration, formatSpeed} from '../../dist/p2p-elements.js'

const roomElement = document.querySelector('p2p-room')
const list = document.getElementById('swarm-files')
const seedInput = document.getElementById('swarm-seed')
const view = document.getElementById('swarm-download')
let current // {download, url}

/** MediaSource types for playing a WebM as it arrives, the first this browser takes. */
const webmTypes = [
  'video/webm;codecs="vp9,opus"',
  'video/webm;codecs="vp8,opus"',
  'video/webm;codecs="vp9"',
  'video/webm;codecs="vp8"',
]
const playable = name =>
  /\.webm$/i.test(name) && globalThis.MediaSource && webmTypes.find(type => MediaSource.isTypeSupported(type))

const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props)
  node.append(...children)
  return node
}

const who = peerId => roomElement.describe(peerId).text

const renderFiles = files => {
  list.replaceChildren(
    ...files.map(file => {
      const item = el('li', {}, el('b', {textContent: file.name}), ` ${formatBytes(file.size)} · `)
      const hash = el('code', {textContent: `${file.hash.slice(0, 12)}…`, title: file.hash})
      const holders = file.holders.length
      item.append(
        hash,
        ` · ${file.here ? 'served by this tab' : ''}${file.here && holders ? ' and ' : ''}${holders ? `${holders} other tab${holders > 1 ? 's' : ''}` : ''}`,
      )
      if (!file.here && holders) {
        item.append(
          ' ',
          el('button', {type: 'button', textContent: `Fetch from ${holders}`, onclick: () => start(file, false)}),
        )
        if (playable(file.name))
          item.append(
            ' ',
            el('button', {type: 'button', textContent: 'Play as it arrives', onclick: () => start(file, true)}),
          )
      }
      return item
    }),
  )
  if (!files.length)
    list.append(el('li', {className: 'hint', textContent: 'Nothing yet: send, receive or seed a file.'}))
}

const start = (file, sequential) => {
  const room = roomElement.coreRoom
  if (!room) return
  current?.download.cancel('another fetch started')
  if (current?.url) URL.revokeObjectURL(current.url)
  const bar = el('progress', {max: 1, value: 0})
  const figures = el('span', {textContent: 'asking the sources…'})
  const table = el('table', {className: 'swarm-sources'})
  const result = el('p')
  const heading = el(
    'p',
    {},
    el('b', {textContent: file.name}),
    ` (${formatBytes(file.size)}) from every tab that has it`,
  )
  view.replaceChildren(heading, bar, ' ', figures, table, result)
  const showSources = sources =>
    table.replaceChildren(
      el(
        'tr',
        {},
        el('th', {textContent: 'Source'}),
        el('th', {textContent: 'State'}),
        el('th', {textContent: 'Sent'}),
      ),
      ...sources.map(s =>
        el(
          'tr',
          {className: s.state},
          el('td', {textContent: who(s.peerId)}),
          el('td', {textContent: s.state === 'dropped' ? `dropped: ${s.reason}` : s.state}),
          el('td', {textContent: formatBytes(s.bytes)}),
        ),
      ),
    )
  const download = room.fetchFile(file.hash, {
    sequential,
    onSources: showSources,
    onProgress: ({fraction, bytesPerSecond, secondsLeft, bytes}) => {
      bar.value = fraction
      figures.textContent = `${formatBytes(bytes)} · ${formatSpeed(bytesPerSecond)}${secondsLeft === undefined ? '' : ` · ${formatDuration(secondsLeft)} left`}`
      showSources(download.sources())
    },
  })
  current = {download}
  if (sequential) play(download, result)
  else
    download.file().then(
      got => {
        // Offered as a download, never rendered in this origin.
        current.url = URL.createObjectURL(new Blob([got], {type: 'application/octet-stream'}))
        result.replaceChildren(
          el('a', {href: current.url, download: got.name, textContent: `Save ${got.name}`}),
          ' (SHA-256 of every piece checked)',
        )
      },
      error => (result.textContent = `Stopped: ${error.message}`),
    )
  download.done.then(
    () => showSources(download.sources()),
    () => showSources(download.sources()),
  )
}

/** Feeds the verified bytes, in order, to a <video> through MediaSource: it plays before the end arrives. */
const play = async (download, result) => {
  const type = playable((await download.manifest).name)
  const video = el('video', {controls: true, muted: true, autoplay: true})
  const source = new MediaSource()
  video.src = current.url = URL.createObjectURL(source)
  result.replaceChildren(video)
  await new Promise(resolve => source.addEventListener('sourceopen', resolve, {once: true}))
  const buffer = source.addSourceBuffer(type)
  const reader = download.stream().getReader()
  try {
    for (;;) {
      const {value, done} = await reader.read()
      if (done) break
      buffer.appendBuffer(value)
      await new Promise((resolve, reject) => {
        buffer.addEventListener('updateend', resolve, {once: true})
        buffer.addEventListener('error', reject, {once: true})
      })
    }
    source.endOfStream()
  } catch (error) {
    result.append(
      el('p', {textContent: `Stopped: ${error?.message ?? 'this video could not be played as it arrived'}`}),
    )
  }
}

seedInput.addEventListener('change', async () => {
  const room = roomElement.coreRoom
  for (const file of seedInput.files ?? []) await room?.seedFile(file)
  seedInput.value = ''
})

const attach = room => {
  room.onSwarmFiles(renderFiles)
  renderFiles(room.swarmFiles())
}
roomElement.addEventListener('p2p-join', ({detail}) => attach(detail.room))
if (roomElement.coreRoom) attach(roomElement.coreRoom)
