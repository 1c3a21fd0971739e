// The pure parts of "people, not ids": the video grid's layout arithmetic, the one unit
// system (IEC), and the one peer-label formatter (names cleaned, collisions fingerprinted,
// colours only when they are plain hex, text colour readable on them).
import {test} from 'node:test'
import assert from 'node:assert/strict'

const {gridLayout, parseAspect} = await import('../../dist/lib/elements/video-layout.js')
const {describePeer, formatBytes, formatDuration, formatSpeed, inkOn, cleanName} = await import(
  '../../dist/lib/elements/format.js'
)

test('gridLayout keeps the column count with the largest tiles, for 1 to 12 tiles', () => {
  // A wide box: few tiles fill the width, many fill the height.
  const wide = n => gridLayout(n, 1240, 600, 16 / 9, 8)
  assert.deepEqual(wide(1), {columns: 1, rows: 1, tileWidth: 1066, tileHeight: 600})
  assert.equal(wide(2).columns, 2)
  assert.equal(wide(4).columns, 2)
  assert.equal(wide(9).columns, 3)
  assert.equal(wide(12).columns, 4)
  // A tall, narrow box (a phone): one column until the tiles get too short.
  const tall = n => gridLayout(n, 360, 700, 16 / 9, 8)
  assert.equal(tall(2).columns, 1)
  assert.equal(tall(3).columns, 1)
  for (let n = 1; n <= 12; n++) {
    for (const [width, height] of [
      [1240, 600],
      [360, 700],
      [800, 450],
    ]) {
      const layout = gridLayout(n, width, height, 16 / 9, 8)
      assert.ok(layout.columns * layout.rows >= n, `${n} tiles fit`)
      assert.ok(layout.columns * layout.tileWidth + (layout.columns - 1) * 8 <= width + 0.5, 'inside the width')
      assert.ok(layout.rows * layout.tileHeight + (layout.rows - 1) * 8 <= height + 0.5, 'inside the height')
      assert.ok(Math.abs(layout.tileWidth / layout.tileHeight - 16 / 9) < 0.05, 'keeps the aspect ratio')
      // No other column count gives bigger tiles.
      for (let columns = 1; columns <= n; columns++) {
        const rows = Math.ceil(n / columns)
        const w = Math.min((width - (columns - 1) * 8) / columns, ((height - (rows - 1) * 8) / rows) * (16 / 9))
        assert.ok(w <= layout.tileWidth + 1, `${columns} columns are not better for ${n} tiles in ${width}×${height}`)
      }
    }
  }
  assert.equal(parseAspect(' 4 / 3'), 4 / 3)
  assert.equal(parseAspect('1.5'), 1.5)
  assert.equal(parseAspect('nonsense', 2), 2)
})

test('sizes, speeds and durations in IEC units', () => {
  assert.equal(formatBytes(20 * 1024 * 1024), '20 MiB')
  assert.equal(formatBytes(20971520), '20 MiB')
  assert.equal(formatBytes(1536), '1.5 KiB')
  assert.equal(formatBytes(512), '512 B')
  assert.equal(formatBytes(5 * 1024 ** 3), '5 GiB')
  assert.equal(formatSpeed(3.4 * 1024 * 1024), '3.4 MiB/s')
  assert.equal(formatDuration(0.2), '1 s')
  assert.equal(formatDuration(125), '2 min 5 s')
  assert.equal(formatDuration(3720), '1 h 2 min')
})

test('describePeer: names cleaned and capped, equal names fingerprinted, "you" marked, colours checked', () => {
  const others = [
    ['AAAAbbbb', {name: 'Ada'}],
    ['CCCCdddd', {name: 'ada'}],
    ['EEEEffff', {name: 'Bob'}],
  ]
  assert.equal(describePeer('AAAAbbbb', {name: 'Ada'}, false, others).text, 'Ada · AAAA')
  assert.equal(describePeer('EEEEffff', {name: 'Bob'}, false, others).text, 'Bob')
  assert.equal(describePeer('EEEEffff', {name: 'Bob'}, true, others).display, 'Bob (you)')
  assert.equal(describePeer('GGGGhhhh', undefined, true).display, 'You')
  assert.equal(describePeer('GGGGhhhh', undefined, false).display, 'GGGGhh')
  assert.equal(cleanName(' Eve\u202e\u0000\n  the   great '), 'Eve the great')
  assert.equal([...cleanName('x'.repeat(100))].length, 32)
  assert.equal(describePeer('p', {name: 'Ada Lovelace'}, false).initials, 'AL')
  assert.equal(describePeer('p', {color: 'red; background: url(x)'}, false).color.startsWith('oklch('), true)
  assert.equal(describePeer('p', {color: '#0F766E'}, false).color, '#0f766e')
  assert.equal(describePeer('p', {avatar: 'javascript:alert(1)'}, false).avatar, undefined)
  assert.equal(describePeer('p', {avatar: 'https://example.org/a.png'}, false).avatar, 'https://example.org/a.png')
  assert.equal(inkOn('#ffff00'), '#111')
  assert.equal(inkOn('#0f766e'), '#fff')
})
