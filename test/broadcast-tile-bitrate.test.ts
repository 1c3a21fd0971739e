import {expect} from '@open-wc/testing'
import {closeAll, openElementsPeer, roomHtml} from './helpers/elements.js'
import {uniqueRoom, until} from './helpers/peers.js'

/** Outbound video of one connection: resolution, bytes so far, encoder target (getStats). */
const outbound = async (connection: RTCPeerConnection) => {
  for (const report of (await connection.getStats()).values())
    if (report.type === 'outbound-rtp' && report.kind === 'video')
      return {width: report.frameWidth ?? 0, bytes: report.bytesSent ?? 0, target: report.targetBitrate ?? 0}
  return {width: 0, bytes: 0, target: 0}
}

describe('<p2p-video-grid>: bitrate that follows the tile', () => {
  it('a peer shown in a small tile gets a smaller, cheaper stream than one shown large (getStats)', async () => {
    const roomId = uniqueRoom('tiles')
    const grid = '<p2p-video-grid></p2p-video-grid>'
    const sender = await openElementsPeer(roomHtml(roomId, '<p2p-video-grid video></p2p-video-grid>'), {
      width: 320,
      height: 260,
    })
    const small = await openElementsPeer(roomHtml(roomId, grid), {width: 140, height: 140})
    const large = await openElementsPeer(roomHtml(roomId, grid), {width: 660, height: 520})
    const rooms = [sender, small, large].map(p => p.$('p2p-room'))
    await until(() => rooms.every(r => r.peers.length === 2), 'three peers')
    for (const viewer of [small, large])
      await until(
        () => viewer.$('p2p-video-grid').shadowRoot.querySelector('video')?.videoWidth > 0,
        'the video playing',
      )
    const peers = rooms[0].instance.getPeers()
    const toSmall = peers[rooms[1].selfId] as RTCPeerConnection
    const toLarge = peers[rooms[2].selfId] as RTCPeerConnection
    const encoding = (pc: RTCPeerConnection) =>
      pc
        .getSenders()
        .find(s => s.track?.kind === 'video')!
        .getParameters().encodings[0]!
    await until(() => encoding(toSmall).scaleResolutionDownBy! > 1, 'the small tile to ask for less')
    await until(() => encoding(toLarge).maxBitrate, 'the large tile to ask too')
    // Give the encoders time to follow, then measure two seconds of each.
    await new Promise(resolve => setTimeout(resolve, 2500))
    const [s0, l0] = [await outbound(toSmall), await outbound(toLarge)]
    await new Promise(resolve => setTimeout(resolve, 2000))
    const [s1, l1] = [await outbound(toSmall), await outbound(toLarge)]
    const kbps = (a: {bytes: number}, b: {bytes: number}) => Math.round(((b.bytes - a.bytes) * 8) / 2000)
    const smallTile = small.$('p2p-video-grid').shadowRoot.querySelector('video')
    const largeTile = large.$('p2p-video-grid').shadowRoot.querySelector('video')
    console.log(
      `tile ${smallTile.clientWidth}px: scale ${encoding(toSmall).scaleResolutionDownBy}, cap ${encoding(toSmall).maxBitrate / 1000} kbps, sent ${s1.width}px wide at ${kbps(s0, s1)} kbps; ` +
        `tile ${largeTile.clientWidth}px: scale ${encoding(toLarge).scaleResolutionDownBy}, cap ${encoding(toLarge).maxBitrate / 1000} kbps, sent ${l1.width}px wide at ${kbps(l0, l1)} kbps`,
    )
    expect(s1.width).to.be.below(l1.width)
    expect(s1.width).to.be.at.most(Math.ceil(smallTile.clientWidth * devicePixelRatio) + 16)
    expect(encoding(toSmall).maxBitrate!).to.be.below(encoding(toLarge).maxBitrate!)
    expect(kbps(s0, s1)).to.be.below(kbps(l0, l1))
    closeAll([sender, small, large])
  })
})
