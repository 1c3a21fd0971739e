/**
 * Where a swarm download puts its verified chunks, readable while the download runs, so a member
 * part-way through can serve what it has verified to others (swarm.ts, "partial sources").
 *
 * In the Origin Private File System a writable's bytes cannot be read until it is closed, so the
 * file is written as groups of `groupChunks` chunks, one OPFS file each: a group is closed, and its
 * chunks become servable, once every chunk in it is written; the finished File is those group
 * files joined (a Blob of Blobs: nothing is copied). Until its group is complete a chunk is also kept
 * in memory to serve (at most `openGroupCacheBytes` in all; swarm.ts picks chunks a group at a time,
 * so few groups are open at once). Without OPFS the chunks are kept in memory
 * (up to `maxMemoryBytes`), each servable as soon as it is written.
 *
 * Ranges on the wire are chunk index ranges `[start, end)`, sorted and disjoint.
 */
import {P2PError} from '../errors.js'
import {randomId} from '../ids.js'
import {opfsDirectoryName} from './opfs.js'

/** Chunks per OPFS group file (4 MiB at the largest chunk size). */
export const groupChunks = 16
/** Bytes of chunks in groups not yet complete kept in memory to serve (past it they wait for their group). */
export const openGroupCacheBytes = 32 * 1024 * 1024
/** Ranges one announcement may list; more are ignored. */
export const maxRanges = 512

export type SwarmStore = {
  write: (i: number, bytes: Uint8Array) => Promise<void>
  /** Whether chunk i can be read (verified and written where it can be read back). */
  servable: (i: number) => boolean
  read: (i: number) => Promise<Uint8Array>
  close: () => Promise<File>
  abort: () => void
  /** Servable chunk ranges, [start, end) chunk indexes, at most `maxRanges` (the lowest). */
  ranges: () => [number, number][]
}

type Shape = {size: number; chunk: number; name: string; type: string}

const rangesOf = (bits: Uint8Array): [number, number][] => {
  const out: [number, number][] = []
  for (let i = 0; i < bits.length && out.length < maxRanges; i++) {
    if (!bits[i]) continue
    const start = i
    while (i < bits.length && bits[i]) i++
    out.push([start, i])
  }
  return out
}

/** Reads a peer's announced ranges into a bitmap of `count` chunks; undefined if malformed. */
export const readRanges = (value: unknown, count: number): Uint8Array | undefined => {
  if (!Array.isArray(value) || value.length > maxRanges) return undefined
  const bits = new Uint8Array(count)
  let last = 0
  for (const range of value) {
    if (!Array.isArray(range) || range.length !== 2) return undefined
    const [start, end] = range as unknown[]
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) return undefined
    if ((start as number) < last || (end as number) <= (start as number) || (end as number) > count) return undefined
    bits.fill(1, start as number, end as number)
    last = end as number
  }
  return bits
}

export const openSwarmStore = async (shape: Shape, maxMemoryBytes: number): Promise<SwarmStore> => {
  const count = Math.ceil(shape.size / shape.chunk)
  const servable = new Uint8Array(count)
  const storage = (globalThis.navigator as Navigator | undefined)?.storage
  try {
    if (storage?.getDirectory) {
      const root = await storage.getDirectory()
      const dir = await root.getDirectoryHandle(opfsDirectoryName, {create: true})
      const base = `swarm-${Date.now()}-${randomId(8)}`
      const probe = await dir.getFileHandle(`${base}-0`, {create: true})
      if (typeof probe.createWritable === 'function') return groupStore(shape, count, servable, dir, base)
      await dir.removeEntry(probe.name).catch(() => {})
    }
  } catch {
    // no OPFS here: memory below
  }
  if (shape.size > maxMemoryBytes)
    throw new P2PError('too-large', `${shape.size} bytes is over the ${maxMemoryBytes} held in memory (no OPFS)`)
  const parts: Uint8Array[] = []
  return {
    write: async (i, bytes) => {
      parts[i] = bytes
      servable[i] = 1
    },
    servable: i => servable[i] === 1,
    read: async i => parts[i]!,
    close: async () => new File(parts as Uint8Array<ArrayBuffer>[], shape.name, {type: shape.type}),
    abort: () => void (parts.length = 0),
    ranges: () => rangesOf(servable),
  }
}

const groupStore = (
  shape: Shape,
  count: number,
  servable: Uint8Array,
  dir: FileSystemDirectoryHandle,
  base: string,
): SwarmStore => {
  type Group = {
    handle: FileSystemFileHandle
    writable?: FileSystemWritableFileStream
    left: number
    file?: File
    /** Its chunks written so far, kept to serve until the group closes (within openGroupCacheBytes). */
    cache: Map<number, Uint8Array>
  }
  let cached = 0
  const groups = new Map<number, Group>()
  const groupCount = Math.ceil(count / groupChunks)
  /** Writes are called one at a time (swarm.ts chains them), so a group is opened once. */
  const open = async (g: number) => {
    let group = groups.get(g)
    if (group) return group
    const handle = await dir.getFileHandle(`${base}-${g}`, {create: true})
    group = {
      handle,
      writable: await handle.createWritable(),
      left: Math.min(groupChunks, count - g * groupChunks),
      cache: new Map(),
    }
    groups.set(g, group)
    return group
  }
  return {
    write: async (i, bytes) => {
      const g = Math.floor(i / groupChunks)
      const group = await open(g)
      await group.writable!.write({
        type: 'write',
        position: (i - g * groupChunks) * shape.chunk,
        data: bytes as Uint8Array<ArrayBuffer>,
      })
      if (--group.left) {
        if (cached + bytes.byteLength <= openGroupCacheBytes) {
          group.cache.set(i, bytes)
          cached += bytes.byteLength
          servable[i] = 1
        }
        return
      }
      await group.writable!.close()
      group.writable = undefined
      group.file = await group.handle.getFile()
      servable.fill(1, g * groupChunks, Math.min(count, (g + 1) * groupChunks))
      for (const part of group.cache.values()) cached -= part.byteLength
      group.cache.clear()
    },
    servable: i => servable[i] === 1,
    read: async i => {
      const g = Math.floor(i / groupChunks)
      const at = (i - g * groupChunks) * shape.chunk
      const group = groups.get(g)!
      if (!group.file) return group.cache.get(i)!
      return new Uint8Array(await group.file.slice(at, at + shape.chunk).arrayBuffer())
    },
    close: async () => {
      const files: File[] = []
      for (let g = 0; g < groupCount; g++) {
        const file = groups.get(g)?.file
        if (!file) throw new P2PError('unreadable', `part ${g} of the file was never written`)
        files.push(file)
      }
      return new File(files, shape.name, {type: shape.type})
    },
    abort: () => {
      for (const group of groups.values())
        void (group.writable?.abort() ?? Promise.resolve()).then(
          () => dir.removeEntry(group.handle.name),
          () => {},
        )
      groups.clear()
      cached = 0
    },
    ranges: () => rangesOf(servable),
  }
}
