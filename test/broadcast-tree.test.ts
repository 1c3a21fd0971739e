import {expect} from '@open-wc/testing'
import {
  camera,
  closeNodes,
  framesDecoded,
  openReceiver,
  openSender,
  playing,
  seedDriver,
  sleep,
  type Node,
} from './helpers/broadcast.js'
import {uniqueRoom, until} from './helpers/peers.js'

const videoSenders = (connection: RTCPeerConnection) =>
  connection.getSenders().filter(sender => sender.track?.kind === 'video').length

/** Bytes the connection's outbound video sent, and its target bitrate (getStats). */
const outbound = async (connection: RTCPeerConnection) => {
  let bytes = 0
  let target = 0
  for (const report of (await connection.getStats()).values())
    if (report.type === 'outbound-rtp' && report.kind === 'video') {
      bytes += report.bytesSent ?? 0
      target = Math.max(target, report.targetBitrate ?? 0)
    }
  return {bytes, target}
}

describe('broadcast relay trees (fanout)', () => {
  it('fanout 2, seven receivers: the sender sends 2 copies, all play, messages and sync follow the tree, an inner viewer leaves and its children play again', async () => {
    const transport = seedDriver()
    const room = uniqueRoom('tree')
    const sender = await openSender(transport, {fanout: 2})
    const stream = await camera(sender.page)
    sender.node.start({stream, room, state: {title: 'tree'}, dataChannel: true})
    const receivers: Node[] = []
    for (let i = 0; i < 7; i++) {
      const r = await openReceiver(transport)
      r.node.start({room})
      receivers.push(r)
    }
    await Promise.all(receivers.map(r => playing(r, 'frames through the tree')))
    // The sender serves exactly two viewers itself, with one video sender each.
    expect(sender.node.peers.size).to.equal(2)
    expect([...sender.node.peers.values()].reduce((n, pc) => n + videoSenders(pc as RTCPeerConnection), 0)).to.equal(2)
    expect(sender.node.viewers.length).to.equal(7)
    for (const r of receivers) {
      expect(r.events.stream![0].id).to.equal(sender.node.id)
      expect(r.events.stream![0].state).to.deep.equal({title: 'tree'})
      // Each viewer forwards to at most two others.
      expect((r.node.children.get(sender.node.id) ?? []).length).to.be.at.most(2)
    }
    const relays = receivers.filter(r => (r.node.children.get(sender.node.id) ?? []).length > 0)
    expect(relays.length).to.be.at.least(3)

    // Messages: to everyone through the relays, and to the deepest viewer only.
    await until(() => receivers.every(r => r.events.channel!.length >= 1), 'data channels everywhere')
    const deepest = receivers.find(
      r =>
        r.node.id ===
        [...sender.node.tree].find(([id]) => {
          let depth = 0
          for (let node = id; node; node = sender.node.tree.get(node)) depth++
          return depth === 3
        })?.[0],
    )!
    sender.node.send({to: 'all'})
    sender.node.send('only you', deepest.node.id)
    sender.node.sync({live: true}, true)
    await until(
      () => receivers.every(r => r.events.message!.length >= 1 && r.events.sync!.length === 1),
      'message and sync everywhere',
    )
    await until(() => deepest.events.message!.length === 2, 'the routed message')
    await sleep(200)
    for (const r of receivers) {
      expect(r.events.message!.map(m => m.message)).to.deep.equal(
        r === deepest ? [{to: 'all'}, 'only you'] : [{to: 'all'}],
      )
      expect(r.events.sync![0].state).to.deep.equal({title: 'tree', live: true})
    }

    // An inner viewer (a child of the sender, with children of its own) closes its tab.
    const inner = relays.find(r => sender.node.tree.get(r.node.id) === '')!
    const orphans = receivers.filter(r => sender.node.tree.get(r.node.id) === inner.node.id)
    expect(orphans.length).to.be.greaterThan(0)
    const left = performance.now()
    inner.page.close()
    for (const orphan of orphans) {
      await until(() => orphan.events.stream!.length === 2, 'the orphan fed again', 5_000)
      await playing(orphan, 'frames again after re-attaching')
      const connection = orphan.events.connect!.at(-1).peer as RTCPeerConnection
      const before = await framesDecoded(connection)
      await sleep(300)
      expect(await framesDecoded(connection)).to.be.greaterThan(before)
    }
    const reattachMs = performance.now() - left
    console.log(`fanout 2: ${orphans.length} orphans playing again ${Math.round(reattachMs)} ms after their relay left`)
    expect(reattachMs).to.be.below(5_000)
    await until(() => sender.node.viewers.length === 6, 'the tree without the viewer who left')
    expect(sender.node.peers.size).to.equal(2)
    for (const r of receivers) if (r !== inner) expect(r.events.stream!.length).to.be.at.least(1)
    for (const t of stream.getTracks()) t.stop()
    closeNodes([sender, ...receivers.filter(r => r !== inner)])
  })

  it('bitrate caps are applied with setParameters and seen in getStats', async () => {
    const transport = seedDriver()
    const room = uniqueRoom('bitrate')
    const capped = await openSender(transport, {videoBitrate: 120, audioBitrate: 24})
    const stream = await capped.page.window.navigator.mediaDevices.getUserMedia({
      video: {width: 640, height: 480},
      audio: true,
    })
    capped.node.start({stream, room})
    const free = await openSender(seedDriver(), {})
    const freeRoom = uniqueRoom('free')
    free.node.start({stream: stream.clone(), room: freeRoom})
    const viewer = await openReceiver(transport)
    viewer.node.start({room})
    const freeViewer = await openReceiver(seedDriver((free.node.options as any).driver))
    freeViewer.node.start({room: freeRoom})
    await Promise.all([playing(viewer), playing(freeViewer)])
    const [pc] = [...capped.node.peers.values()] as RTCPeerConnection[]
    const [freePc] = [...free.node.peers.values()] as RTCPeerConnection[]
    const encodings = Object.fromEntries(
      pc!.getSenders().map(s => [s.track!.kind, s.getParameters().encodings[0]?.maxBitrate]),
    )
    expect(encodings).to.deep.equal({audio: 24_000, video: 120_000})
    const a0 = await outbound(pc!)
    const b0 = await outbound(freePc!)
    await sleep(3000)
    const a1 = await outbound(pc!)
    const b1 = await outbound(freePc!)
    const cappedKbps = ((a1.bytes - a0.bytes) * 8) / 3000
    const freeKbps = ((b1.bytes - b0.bytes) * 8) / 3000
    console.log(
      `video 640x480: capped at 120 kbps sends ${cappedKbps.toFixed(0)} kbps (targetBitrate ${a1.target}); uncapped ${freeKbps.toFixed(0)} kbps (targetBitrate ${b1.target})`,
    )
    expect(a1.target).to.be.at.most(120_000)
    expect(cappedKbps).to.be.below(120 * 1.5)
    expect(cappedKbps).to.be.below(freeKbps)
    for (const t of stream.getTracks()) t.stop()
    closeNodes([capped, free, viewer, freeViewer])
  })
})
