import {expect} from '@open-wc/testing'
import {closeAll, joinedPeers, type Joined} from './helpers/rooms.js'
import {until} from './helpers/peers.js'

const camera = (p: Joined) =>
  p.peer.window.navigator.mediaDevices.getUserMedia({
    video: {width: 160, height: 120, frameRate: 15},
    audio: true,
  }) as Promise<MediaStream>

describe('room.makeAudio / room.makeVideo', () => {
  it('audio and video sent apart arrive apart: each kind at its own receiver only, never at onPeerStream', async () => {
    const [a, b, c] = await joinedPeers(3)
    const got: Record<string, [MediaStream, string, unknown][]> = {audio: [], video: [], plain: []}
    for (const p of [b, c]) {
      const [, onAudio] = p.room.makeAudio()
      const [, onVideo] = p.room.makeVideo()
      onAudio((stream: MediaStream, peerId: string, meta: unknown) => got.audio!.push([stream, peerId, meta]))
      onVideo((stream: MediaStream, peerId: string, meta: unknown) => got.video!.push([stream, peerId, meta]))
      p.room.onPeerStream((stream: MediaStream, peerId: string, meta: unknown) =>
        got.plain!.push([stream, peerId, meta]),
      )
    }
    const stream = await camera(a)
    const [sendAudio] = a.room.makeAudio()
    const [sendVideo] = a.room.makeVideo()
    // Video to b only; audio to everyone, with metadata.
    await sendVideo(stream, b.id)
    await sendAudio(stream, null, {label: 'mic'})
    await until(() => got.audio!.length === 2 && got.video!.length === 1, 'two audio streams and one video stream')
    const [video, from] = got.video![0]!
    expect(from).to.equal(a.id)
    expect(video.getTracks().map(t => t.kind)).to.deep.equal(['video'])
    for (const [audio, peerId, meta] of got.audio!) {
      expect(peerId).to.equal(a.id)
      expect(meta).to.deep.equal({label: 'mic'})
      expect(audio.getTracks().map(t => t.kind)).to.deep.equal(['audio'])
    }
    // The video decodes at b.
    const element = b.peer.window.document.createElement('video')
    element.muted = true
    element.srcObject = video
    b.peer.window.document.body.append(element)
    await element.play()
    await until(() => element.videoWidth > 0, 'decoded frames')

    // A plain addStream still reaches onPeerStream, and no kind receiver.
    const plain = new MediaStream(stream.getVideoTracks().map(t => t.clone()))
    a.room.addStream(plain, c.id, {label: 'plain'})
    await until(() => got.plain!.length === 1, 'the plain stream')
    expect(got.plain![0]![2]).to.deep.equal({label: 'plain'})
    expect(got.audio!.length + got.video!.length).to.equal(3)
    for (const t of [...stream.getTracks(), ...plain.getTracks()]) t.stop()
    await closeAll([a, b, c])
  })
})
