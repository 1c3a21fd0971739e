/**
 * How `<p2p-video-grid>` sizes its tiles: pure arithmetic, no DOM, so it is unit-tested in Node.
 *
 * Given `count` tiles of one aspect ratio, a box `width` × `height` and the `gap` between
 * tiles, try every column count from 1 to `count`: with `rows = ceil(count / columns)`, a
 * tile is as wide as the columns allow, `(width - (columns - 1) * gap) / columns`, unless the
 * rows would then be taller than the box, in which case it is as tall as the rows allow,
 * `(height - (rows - 1) * gap) / rows`, and as wide as its aspect ratio says. Keep the
 * column count whose tile is largest (ties go to fewer columns, which fill rows better).
 * The result fills the width when the box is tall enough and the height otherwise, never
 * crops or stretches a tile, and is what video-call apps call a gallery view.
 */
export type GridLayout = {columns: number; rows: number; tileWidth: number; tileHeight: number}

export const gridLayout = (count: number, width: number, height: number, aspect: number, gap: number): GridLayout => {
  const n = Math.max(1, Math.floor(count))
  let best: GridLayout = {columns: 1, rows: n, tileWidth: 0, tileHeight: 0}
  for (let columns = 1; columns <= n; columns++) {
    const rows = Math.ceil(n / columns)
    let tileWidth = (width - (columns - 1) * gap) / columns
    let tileHeight = tileWidth / aspect
    if (rows * tileHeight + (rows - 1) * gap > height) {
      tileHeight = (height - (rows - 1) * gap) / rows
      tileWidth = tileHeight * aspect
    }
    if (tileWidth <= 0 || tileHeight <= 0) continue
    // Half a pixel of area is no reason to change the shape of the grid.
    if (tileWidth * tileHeight > best.tileWidth * best.tileHeight + 0.5)
      best = {columns, rows, tileWidth: Math.floor(tileWidth), tileHeight: Math.floor(tileHeight)}
  }
  return best
}

/** The aspect ratio in a CSS value such as "16 / 9", "1.5" or "4/3"; `fallback` when it is not one. */
export const parseAspect = (value: string, fallback = 4 / 3) => {
  const match = value.trim().match(/^([\d.]+)\s*(?:\/\s*([\d.]+))?$/)
  const ratio = match ? Number(match[1]) / Number(match[2] ?? 1) : Number.NaN
  return Number.isFinite(ratio) && ratio > 0 ? ratio : fallback
}
