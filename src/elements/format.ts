/**
 * How the elements write numbers and people for people. One unit system everywhere: IEC
 * binary units (1 KiB = 1024 B, "20 MiB"), the same in sizes, speeds and messages. One
 * formatter for a peer's label (`describePeer`), used by every element and exported for pages.
 */
import type {PeerId, Presence} from '../core/types.js'

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

/** Bytes for people in IEC units: "20 MiB", "5.2 KiB", "512 B". */
export const formatBytes = (bytes: number) => {
  let value = Math.max(0, bytes)
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) (value /= 1024), unit++
  const digits = unit === 0 || value >= 10 || Number.isInteger(value) ? 0 : 1
  return `${value.toFixed(digits)} ${units[unit]}`
}

/** A rate for people: "3.4 MiB/s". */
export const formatSpeed = (bytesPerSecond: number) => `${formatBytes(bytesPerSecond)}/s`

/** A duration for people, rounded up: "8 s", "2 min 5 s", "1 h 3 min". */
export const formatDuration = (seconds: number) => {
  const s = Math.max(1, Math.ceil(seconds))
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`
  return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`
}

/** A whole percentage for a progress fraction, never above 100. */
export const percent = (fraction: number) => `${Math.min(100, Math.floor(fraction * 100))}%`

/** How a peer id is shown when the page gave it no name: long enough to tell peers apart. */
export const shortId = (peerId: string) => peerId.slice(0, 6)
/** The fingerprint shown after a name two peers share: the start of the peer id. */
export const fingerprint = (peerId: string) => peerId.slice(0, 4)

/** Longest name shown, in characters; longer names are cut with an ellipsis. */
const maxNameLength = 32

/**
 * A name someone else chose, made safe to show: control, format (bidi overrides, zero-width)
 * and line characters removed, whitespace collapsed, length capped. Shown as text, never HTML.
 */
export const cleanName = (value: unknown): string => {
  if (typeof value !== 'string') return ''
  const name = value
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '')
    .replace(/\s+/g, ' ')
    .trim()
  const chars = [...name]
  return chars.length > maxNameLength ? `${chars.slice(0, maxNameLength - 1).join('')}…` : name
}

/** A peer's colour if it is a plain `#rgb`/`#rrggbb` hex colour, else undefined (never raw CSS from a peer). */
export const cleanColor = (value: unknown): string | undefined =>
  typeof value === 'string' && /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(value) ? value.toLowerCase() : undefined

/**
 * A colour for a peer that chose none, the same on every page: a hue from its id at one
 * perceptual lightness (OKLCH 50%), so every hue carries white text at over 4.5:1.
 */
export const colorOfId = (peerId: string) => {
  const hue = [...peerId].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 360, 7)
  return `oklch(50% 0.15 ${hue})`
}

/** Relative luminance (WCAG) of a `#rgb`/`#rrggbb` colour. */
const luminance = (hex: string) => {
  const digits =
    hex.length === 4 ? [...hex.slice(1)].map(d => d + d) : [hex.slice(1, 3), hex.slice(3, 5), hex.slice(5, 7)]
  const [r, g, b] = digits.map(d => {
    const c = Number.parseInt(d, 16) / 255
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  }) as [number, number, number]
  return 0.2126 * r + 0.7152 * g + 0.0722 * b
}

/** Text colour readable on `color`: black on light colours, white on dark ones (the better WCAG contrast). */
export const inkOn = (color: string) => {
  if (!color.startsWith('#')) return '#fff'
  const l = luminance(color)
  return (l + 0.05) / 0.05 > 1.05 / (l + 0.05) ? '#111' : '#fff'
}

/** Up to two letters for a tile with no picture: "Ada Lovelace" → "AL", "bob" → "B". */
export const initialsOf = (name: string, given?: unknown) => {
  const chosen = cleanName(given).replace(/\s/g, '')
  if (chosen) return [...chosen].slice(0, 3).join('').toUpperCase()
  const words = name.split(/[\s\-_.·]+/u).filter(Boolean)
  const letters = words.length > 1 ? [words[0], words.at(-1)] : [words[0] ?? '']
  return letters
    .map(word => [...(word as string)][0] ?? '')
    .join('')
    .toUpperCase()
}

/** An avatar URL a page may load: https only (a peer's http or javascript: URL is dropped). */
export const cleanAvatar = (value: unknown): string | undefined => {
  if (typeof value !== 'string' || value.length > 512) return undefined
  try {
    return new URL(value).protocol === 'https:' ? value : undefined
  } catch {
    return undefined
  }
}

/** A peer as the elements show it. */
export type PeerLabel = {
  peerId: PeerId
  /** The cleaned name it gave, or '' when it gave none. */
  name: string
  /** What to show for it: its name (with a fingerprint when another peer shares it), else its short id. */
  text: string
  /** `text`, and " (you)" for this page: the label for lists, tiles and messages. */
  display: string
  /** True for this page's own peer. */
  self: boolean
  /** Its colour: the one it chose (when a plain hex colour), else one derived from its id. */
  color: string
  /** Text colour readable on `color`. */
  ink: string
  initials: string
  avatar?: string
}

/**
 * The one formatter for a peer's label across the elements and the examples. Names are not
 * unique and not verified: two peers called "Ada" are shown as "Ada · 3fK9" and "Ada · p2Qx".
 * `others` are the presence states of everyone else in the room (for the collision check).
 */
export const describePeer = (
  peerId: PeerId,
  presence: Presence | undefined,
  self: boolean,
  others: Iterable<[PeerId, Presence | undefined]> = [],
  override?: string,
): PeerLabel => {
  const name = cleanName(override ?? presence?.name)
  let text = name || shortId(peerId)
  if (name) {
    const key = name.toLowerCase()
    for (const [otherId, other] of others)
      if (otherId !== peerId && cleanName(other?.name).toLowerCase() === key) {
        text = `${name} · ${fingerprint(peerId)}`
        break
      }
  }
  const color = cleanColor(presence?.color) ?? colorOfId(peerId)
  return {
    peerId,
    name,
    text,
    display: self ? (name ? `${text} (you)` : 'You') : text,
    self,
    color,
    ink: inkOn(color),
    initials: name ? initialsOf(name, presence?.initials) : initialsOf('', presence?.initials) || peerId.slice(0, 2),
    avatar: cleanAvatar(presence?.avatar),
  }
}
