// The rule that sizes a peer's video to the tile showing it (tile-bitrate.ts), in Node.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {maxKbps, minKbps, tileEncoding} from '../../dist/lib/elements/tile-bitrate.js'

test('a 640×480 camera in a 160×120 tile is sent at a quarter of the size, at the floor bitrate', () => {
  assert.deepEqual(tileEncoding({width: 640, height: 480}, {width: 160, height: 120}), {
    scaleResolutionDownBy: 4,
    maxBitrate: minKbps * 1000,
  })
})

test('a tile as large as the track or larger: full size, never scaled up', () => {
  const {scaleResolutionDownBy, maxBitrate} = tileEncoding({width: 640, height: 480}, {width: 1280, height: 960})
  assert.equal(scaleResolutionDownBy, 1)
  assert.equal(maxBitrate, 922_000)
})

test('a tile of another shape: the side that fits decides, so the tile is covered', () => {
  // 1280×720 into a 320×320 tile: width allows 4, height 2.25; keep 2.25 so the height still fills.
  assert.equal(tileEncoding({width: 1280, height: 720}, {width: 320, height: 320}).scaleResolutionDownBy, 2.25)
})

test('nine small tiles cost less than one large one; HD is capped', () => {
  const small = tileEncoding({width: 1280, height: 720}, {width: 213, height: 120}).maxBitrate
  const large = tileEncoding({width: 1280, height: 720}, {width: 1280, height: 720}).maxBitrate
  assert.ok(9 * small < large, `${9 * small} < ${large}`)
  assert.equal(tileEncoding({width: 3840, height: 2160}, {width: 3840, height: 2160}).maxBitrate, maxKbps * 1000)
})

test('degenerate sizes do not produce NaN or zero', () => {
  const out = tileEncoding({width: 640, height: 480}, {width: 0, height: 0})
  assert.ok(Number.isFinite(out.scaleResolutionDownBy) && out.scaleResolutionDownBy >= 1)
  assert.ok(out.maxBitrate >= minKbps * 1000)
})
