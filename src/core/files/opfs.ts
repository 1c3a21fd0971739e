/**
 * Received files on disk (the Origin Private File System), in a form that survives the
 * receiver's own reload.
 *
 * A file is assembled as segments: p2p-files/<dir>/0, 1, 2... each a separate OPFS file of
 * about `segmentBytes`. A FileSystemWritableFileStream only reaches the disk when it closes,
 * and reopening one with keepExistingData copies the whole file, so a transfer closes its
 * segment every few MiB (a commit, no copy) and starts the next. The File handed to the app
 * is a Blob made of the segments' disk-backed Files: nothing is read into memory.
 *
 * After each commit the receiver writes a sidecar, p2p-files/resume/<resume id>.json, with
 * what a resume needs: the segments, the bytes and chunk index they hold, the SHA-256 state
 * after them. The resume id is a hash of the receiver's and the sender's peer ids (their
 * identities) and the offer's content key, so a reloaded page that meets the same sender
 * offering the same file again finds it, and nothing else does. The sidecar goes when the
 * transfer completes, is cancelled or fails; `clearReceivedFiles` removes everything.
 */
import type {Sha256State} from './sha256.js'

/** The directory received files are assembled in, under the Origin Private File System. */
export const opfsDirectoryName = 'p2p-files'
/** Bytes per segment: at most this much verified data is lost (re-sent) when the receiver reloads. */
export const segmentBytes = 4 * 1024 * 1024

/** What the receiver keeps of an interrupted transfer, to resume it (in memory or in the sidecar). */
export type Saved = {
  v: 1
  dir: string
  segments: {name: string; bytes: number}[]
  /** Bytes the segments hold: all verified. */
  bytes: number
  /** The index of the next chunk. */
  index: number
  hash: Sha256State
  size?: number
  chunk: number
}

export type Sink = {
  write: (bytes: Uint8Array) => Promise<void>
  close: () => Promise<File | undefined>
  abort: (error: unknown) => void
  /** On disk only: commits what was written (ends the current segment) and returns the segments. */
  commit?: () => Promise<Saved['segments']>
  /** On disk only: whether the current segment is full, so it is time to commit. */
  full?: () => boolean
}

const storageRoot = async () => {
  const storage = (globalThis.navigator as Navigator | undefined)?.storage
  if (!storage?.getDirectory) return undefined
  const root = await storage.getDirectory()
  return root.getDirectoryHandle(opfsDirectoryName, {create: true})
}

/**
 * A segmented sink in p2p-files/<dirName>; with `resume`, it keeps those segments and writes on
 * after them. Undefined where there is no OPFS (or it refuses).
 */
export const opfsSink = async (
  dirName: string,
  name: string,
  type: string,
  resume?: Saved,
): Promise<Sink | undefined> => {
  try {
    const base = await storageRoot()
    if (!base) return undefined
    const dir = await base.getDirectoryHandle(dirName, {create: true})
    const probe = await dir.getFileHandle('probe', {create: true})
    if (typeof probe.createWritable !== 'function') return undefined
    await dir.removeEntry('probe')
    const segments = resume ? resume.segments.map(segment => ({...segment})) : []
    let current: {name: string; writable: FileSystemWritableFileStream; bytes: number} | undefined
    const commit = async () => {
      if (current) {
        const {name, writable, bytes} = current
        current = undefined
        await writable.close()
        segments.push({name, bytes})
      }
      return segments.map(segment => ({...segment}))
    }
    return {
      write: async bytes => {
        if (!current) {
          const segmentName = String(segments.length)
          const handle = await dir.getFileHandle(segmentName, {create: true})
          current = {name: segmentName, writable: await handle.createWritable(), bytes: 0}
        }
        await current.writable.write(bytes as Uint8Array<ArrayBuffer>)
        current.bytes += bytes.byteLength
      },
      full: () => (current?.bytes ?? 0) >= segmentBytes,
      commit,
      close: async () => {
        await commit()
        const files = await Promise.all(
          segments.map(async segment => (await dir.getFileHandle(segment.name)).getFile()),
        )
        // A File made of disk-backed Blobs stays on disk; only its name and type are new.
        return new File(files, name, {type})
      },
      abort: () => {
        const writable = current?.writable
        current = undefined
        void (writable ? writable.abort() : Promise.resolve())
          .catch(() => {})
          .then(() => base.removeEntry(dirName, {recursive: true}))
          .catch(() => {})
      },
    }
  } catch {
    return undefined
  }
}

const resumeDir = async () => (await storageRoot())?.getDirectoryHandle('resume', {create: true})

/** Saves a transfer's resume point (atomically: a writable replaces the file when it closes). */
export const saveResume = async (id: string, saved: Saved) => {
  const dir = await resumeDir()
  if (!dir) return
  const writable = await (await dir.getFileHandle(`${id}.json`, {create: true})).createWritable()
  await writable.write(JSON.stringify(saved))
  await writable.close()
}

export const dropResume = async (id: string) => {
  await (await resumeDir().catch(() => undefined))?.removeEntry(`${id}.json`).catch(() => {})
}

/** A saved resume point, checked against the segments on disk; undefined if none or it does not hold. */
export const loadResume = async (id: string): Promise<Saved | undefined> => {
  try {
    const dir = await resumeDir()
    if (!dir) return undefined
    const saved = JSON.parse(await (await (await dir.getFileHandle(`${id}.json`)).getFile()).text()) as Saved
    const base = (await storageRoot())!
    const data = await base.getDirectoryHandle(saved.dir)
    let bytes = 0
    for (const segment of saved.segments) {
      const file = await (await data.getFileHandle(segment.name)).getFile()
      if (file.size !== segment.bytes) return undefined
      bytes += segment.bytes
    }
    const {hash} = saved
    if (
      saved.v !== 1 ||
      bytes !== saved.bytes ||
      !Number.isSafeInteger(saved.index) ||
      !Array.isArray(hash?.h) ||
      hash.h.length !== 8 ||
      hash.length !== saved.bytes
    )
      return undefined
    return saved
  } catch {
    return undefined
  }
}

/** Deletes the files received into the Origin Private File System (they stay until then). */
export const clearReceivedFiles = async () => {
  const storage = (globalThis.navigator as Navigator | undefined)?.storage
  if (!storage?.getDirectory) return
  const root = await storage.getDirectory()
  await root.removeEntry(opfsDirectoryName, {recursive: true}).catch(() => {})
}
