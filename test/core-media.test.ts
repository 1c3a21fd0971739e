import {expect} from '@open-wc/testing'
import {leaveAndClose, joinedPeers, type Joined} from './helpers/rooms.js'
import {until} from './helpers/peers.js'

const camera = (p: Joined, constraints: MediaStreamConstraints = {video: true, audio: true}) =>
  p.peer.window.navigator.mediaDevices.getUserMedia(constraints) as Promise<MediaStream>

/** Plays a stream in the receiver's page and resolves once frames decode. */
const playing = async (p: Joined, stream: MediaStream) => {
  const video = p.peer.window.document.createElement('video')
  video.muted = true
  video.srcObject = stream
  p.peer.window.document.body.append(video)
  await video.play()
  await until(() => video.videoWidth > 0, 'decoded video frames')
  return video
}

describe('media', () => {
  it('a stream with metadata arrives with its tracks, and its video decodes', async () => {
    const [a, b] = await joinedPeers(2)
    const streams: [MediaStream, string, unknown][] = []
    const tracks: [MediaStreamTrack, MediaStream, string, unknown][] = []
    b.room.onPeerStream((s: MediaStream, id: string, meta: unknown) => streams.push([s, id, meta]))
    b.room.onPeerTrack((t: MediaStreamTrack, s: MediaStream, id: string, meta: unknown) =>
      tracks.push([t, s, id, meta]),
    )
    const stream = await camera(a)
    a.room.addStream(stream, null, {label: 'webcam'})
    await until(() => streams.length, 'the stream')
    const [remote, from, meta] = streams[0]!
    expect(from).to.equal(a.id)
    expect(meta).to.deep.equal({label: 'webcam'})
    expect(
      remote
        .getTracks()
        .map(t => t.kind)
        .sort(),
    ).to.deep.equal(['audio', 'video'])
    expect(tracks.length).to.equal(2)
    const video = await playing(b, remote)
    expect(video.videoWidth).to.be.greaterThan(0)
    for (const t of stream.getTracks()) t.stop()
    await leaveAndClose([a, b])
  })

  it('a track added to a stream later carries its own metadata', async () => {
    const [a, b] = await joinedPeers(2)
    const tracks: [MediaStreamTrack, MediaStream, string, unknown][] = []
    b.room.onPeerTrack((t: MediaStreamTrack, s: MediaStream, id: string, meta: unknown) =>
      tracks.push([t, s, id, meta]),
    )
    const stream = await camera(a, {video: true})
    a.room.addStream(stream, null, {label: 'call'})
    await until(() => tracks.length === 1, 'the video track')
    const mic = (await camera(a, {audio: true})).getAudioTracks()[0]!
    a.room.addTrack(mic, stream, null, {label: 'mic'})
    await until(() => tracks.length === 2, 'the audio track')
    const [track, remoteStream, from, meta] = tracks[1]!
    expect(track.kind).to.equal('audio')
    expect(meta).to.deep.equal({label: 'mic'})
    expect(from).to.equal(a.id)
    expect(remoteStream.id).to.equal(stream.id)
    mic.stop()
    for (const t of stream.getTracks()) t.stop()
    await leaveAndClose([a, b])
  })

  it('replaceTrack swaps what the far side sees without renegotiating', async () => {
    const [a, b] = await joinedPeers(2)
    let remote: MediaStream | undefined
    b.room.onPeerStream((s: MediaStream) => (remote = s))
    const stream = await camera(a, {video: true})
    a.room.addStream(stream)
    await until(() => remote, 'the stream')
    const video = await playing(b, remote!)
    const smaller = (await camera(a, {video: {width: 320, height: 240}})).getVideoTracks()[0]!
    const pc: RTCPeerConnection = a.room.getPeers()[b.id]
    const before = pc.localDescription!.sdp
    await Promise.all(a.room.replaceTrack(stream.getVideoTracks()[0], smaller))
    await until(() => video.videoWidth === 320, 'the smaller picture to arrive')
    expect(pc.localDescription!.sdp).to.equal(before)
    smaller.stop()
    for (const t of stream.getTracks()) t.stop()
    await leaveAndClose([a, b])
  })

  it('removeTrack and removeStream end the tracks on the far side', async () => {
    const [a, b] = await joinedPeers(2)
    let remote: MediaStream | undefined
    b.room.onPeerStream((s: MediaStream) => (remote = s))
    const stream = await camera(a)
    a.room.addStream(stream)
    await until(() => remote && remote.getTracks().length === 2, 'both tracks')
    a.room.removeTrack(stream.getAudioTracks()[0])
    await until(() => remote!.getAudioTracks().length === 0, 'the audio track to go')
    expect(remote!.getVideoTracks().length).to.equal(1)
    a.room.removeStream(stream)
    await until(() => remote!.getTracks().length === 0, 'the video track to go')
    for (const t of stream.getTracks()) t.stop()
    await leaveAndClose([a, b])
  })

  it('both sides adding streams at the same moment is glare-free', async () => {
    const [a, b] = await joinedPeers(2)
    const got: Record<string, MediaStream> = {}
    a.room.onPeerStream((s: MediaStream) => (got.a = s))
    b.room.onPeerStream((s: MediaStream) => (got.b = s))
    const [streamA, streamB] = await Promise.all([camera(a, {video: true}), camera(b, {video: true})])
    a.room.addStream(streamA)
    b.room.addStream(streamB)
    await until(() => got.a && got.b, 'each side to get the other stream')
    await playing(a, got.a!)
    await playing(b, got.b!)
    const data: unknown[] = []
    b.room.makeAction('after')[1]((d: unknown) => data.push(d))
    await a.room.makeAction('after')[0]('channel still fine')
    expect(data).to.deep.equal(['channel still fine'])
    for (const t of streamA.getTracks()) t.stop()
    for (const t of streamB.getTracks()) t.stop()
    await leaveAndClose([a, b])
  })
})
