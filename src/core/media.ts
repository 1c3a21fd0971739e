import type {ControlMessage} from './frame.js'
import type {Peer} from './peer.js'
import type {Metadata, PeerId} from './types.js'

/**
 * Streams and tracks with metadata. Metadata goes over the data channel just before the
 * tracks are added, so it is known on the far side by the time `track` fires there
 * (the channel is ordered, and the renegotiation that carries the tracks follows it).
 */

export type MediaEvents = {
  stream: (stream: MediaStream, peerId: PeerId, meta: Metadata) => void
  track: (track: MediaStreamTrack, stream: MediaStream, peerId: PeerId, meta: Metadata) => void
}

type Remote = {
  streamMeta: Map<string, Metadata>
  trackMeta: Map<string, Metadata>
  announced: Set<string>
}

const sendersOf = (peer: Peer, tracks: MediaStreamTrack[]) =>
  peer.connection.getSenders().filter(sender => sender.track && tracks.includes(sender.track))

export const createMedia = (events: MediaEvents) => {
  const remotes = new Map<PeerId, Remote>()
  const remoteOf = (peerId: PeerId): Remote => {
    let remote = remotes.get(peerId)
    if (!remote) remotes.set(peerId, (remote = {streamMeta: new Map(), trackMeta: new Map(), announced: new Set()}))
    return remote
  }

  const addTracks = (peer: Peer, tracks: MediaStreamTrack[], stream: MediaStream) => {
    const sending = peer.connection.getSenders().map(sender => sender.track)
    for (const track of tracks) if (!sending.includes(track)) peer.connection.addTrack(track, stream)
  }

  return {
    addStream(peers: Peer[], stream: MediaStream, meta: Metadata): Promise<void>[] {
      return peers.map(async peer => {
        peer.sendControl({t: 'stream', streamId: stream.id, meta: meta ?? null})
        addTracks(peer, stream.getTracks(), stream)
      })
    },

    removeStream(peers: Peer[], stream: MediaStream) {
      for (const peer of peers)
        for (const sender of sendersOf(peer, stream.getTracks())) peer.connection.removeTrack(sender)
    },

    addTrack(peers: Peer[], track: MediaStreamTrack, stream: MediaStream, meta: Metadata): Promise<void>[] {
      return peers.map(async peer => {
        peer.sendControl({t: 'track', streamId: stream.id, trackId: track.id, meta: meta ?? null})
        addTracks(peer, [track], stream)
      })
    },

    removeTrack(peers: Peer[], track: MediaStreamTrack) {
      for (const peer of peers) for (const sender of sendersOf(peer, [track])) peer.connection.removeTrack(sender)
    },

    replaceTrack(
      peers: Peer[],
      oldTrack: MediaStreamTrack,
      newTrack: MediaStreamTrack,
      meta: Metadata,
    ): Promise<void>[] {
      return peers.map(async peer => {
        const senders = sendersOf(peer, [oldTrack])
        if (meta !== undefined) peer.sendControl({t: 'track', streamId: '', trackId: newTrack.id, meta})
        await Promise.all(senders.map(sender => sender.replaceTrack(newTrack)))
      })
    },

    control(peer: Peer, message: ControlMessage) {
      const remote = remoteOf(peer.id)
      if (message.t === 'stream' && typeof message.streamId === 'string')
        remote.streamMeta.set(message.streamId, message.meta)
      else if (message.t === 'track' && typeof message.trackId === 'string') {
        remote.trackMeta.set(message.trackId, message.meta)
        // Chromium keeps the sender's track id on the far side (from the SDP's msid); the spec
        // lets a browser make up its own, so also remember the latest track meta per stream.
        if (message.streamId) remote.trackMeta.set(`${message.streamId}|`, message.meta)
      }
    },

    track(peer: Peer, event: RTCTrackEvent) {
      const remote = remoteOf(peer.id)
      const {track} = event
      const stream = event.streams[0] ?? new MediaStream([track])
      const meta = remote.trackMeta.get(track.id) ?? remote.trackMeta.get(`${stream.id}|`)
      events.track(track, stream, peer.id, meta ?? remote.streamMeta.get(stream.id))
      if (remote.announced.has(stream.id)) return
      remote.announced.add(stream.id)
      // Once its last track goes, a stream sent again later is announced again.
      stream.addEventListener('removetrack', () => {
        if (!stream.getTracks().length) remote.announced.delete(stream.id)
      })
      // Tracks negotiated together arrive in consecutive `track` events: announce the stream
      // after them, so the app sees it whole.
      setTimeout(() => {
        if (!peer.isClosed) events.stream(stream, peer.id, remote.streamMeta.get(stream.id))
      })
    },

    dropPeer(peerId: PeerId) {
      remotes.delete(peerId)
    },
  }
}
