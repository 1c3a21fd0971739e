import {callSafely} from './call.js'
import type {Metadata, PeerId, Room, TargetPeers} from './types.js'

/**
 * `room.makeAudio()` / `room.makeVideo()`: send/receive pairs for one kind of media, on top
 * of `addStream` with metadata. A stream sent with `makeAudio` carries its audio tracks only
 * and is tagged `audio`; `makeVideo` its video tracks, tagged `video`. Tagged streams reach
 * only their kind's `onReceive`, never `onPeerStream`, so the two kinds never mix.
 */
export type MediaKind = 'audio' | 'video'

export type MediaSender = (stream: MediaStream, targetPeers?: TargetPeers, metadata?: Metadata) => Promise<void>
export type MediaReceiver = (callback: (stream: MediaStream, peerId: PeerId, metadata?: Metadata) => void) => void
/** `[send, onReceive]`, also by name, with `remove(stream, targetPeers?)` to stop sending. */
export type MediaChannel = [MediaSender, MediaReceiver] & {
  send: MediaSender
  onReceive: MediaReceiver
  remove: (stream: MediaStream, targetPeers?: TargetPeers) => void
}

/** The metadata key that tags a stream with its kind. */
const kindKey = 'p2p-elements/kind'

type Tagged = {[kindKey]: MediaKind; meta?: Metadata}

const isTagged = (meta: unknown): meta is Tagged =>
  !!meta && typeof meta === 'object' && ((meta as Tagged)[kindKey] === 'audio' || (meta as Tagged)[kindKey] === 'video')

export const createStreamKinds = (room: () => Room) => {
  const receivers: Record<MediaKind, (stream: MediaStream, peerId: PeerId, metadata?: Metadata) => void> = {
    audio: () => {},
    video: () => {},
  }
  // The stream actually sent for each source stream: its tracks of one kind.
  const sent: Record<MediaKind, WeakMap<MediaStream, MediaStream>> = {audio: new WeakMap(), video: new WeakMap()}

  const make = (kind: MediaKind): MediaChannel => {
    const only = (stream: MediaStream) => {
      let out = sent[kind].get(stream)
      const tracks = kind === 'audio' ? stream.getAudioTracks() : stream.getVideoTracks()
      if (!out) sent[kind].set(stream, (out = new MediaStream(tracks)))
      for (const track of tracks) if (!out.getTracks().includes(track)) out.addTrack(track)
      return out
    }
    const send: MediaSender = async (stream, targets, metadata) => {
      const tagged: Tagged = {[kindKey]: kind, ...(metadata === undefined ? {} : {meta: metadata})}
      await Promise.all(room().addStream(only(stream), targets, tagged))
    }
    const onReceive: MediaReceiver = callback => void (receivers[kind] = callback)
    const remove = (stream: MediaStream, targets?: TargetPeers) => {
      const out = sent[kind].get(stream)
      if (out) room().removeStream(out, targets)
    }
    return Object.assign([send, onReceive] as [MediaSender, MediaReceiver], {send, onReceive, remove})
  }

  return {
    makeAudio: () => make('audio'),
    makeVideo: () => make('video'),
    /** True if the stream was tagged with a kind (and handed to its receiver). */
    deliver(stream: MediaStream, peerId: PeerId, meta: Metadata): boolean {
      if (!isTagged(meta)) return false
      const kind = meta[kindKey]
      callSafely(() => receivers[kind](stream, peerId, meta.meta))
      return true
    },
  }
}
