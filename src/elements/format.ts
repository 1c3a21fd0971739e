const units = ['B', 'KB', 'MB', 'GB', 'TB']

/** Bytes for people: "5.2 MB" (powers of 1000, as file managers show them). */
export const formatBytes = (bytes: number) => {
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) (value /= 1000), unit++
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}

/** A whole percentage for a progress fraction, never above 100. */
export const percent = (fraction: number) => `${Math.min(100, Math.floor(fraction * 100))}%`

/** How a peer id is shown when the page gave it no name: long enough to tell peers apart. */
export const shortId = (peerId: string) => peerId.slice(0, 6)
