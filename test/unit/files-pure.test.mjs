// The pure parts of file transfer: the incremental SHA-256, chunk sizes, name cleaning.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {execFileSync} from 'node:child_process'
import {Sha256 as WasmSha256, makeSha256} from '../../dist/lib/core/files/sha256.js'
import {chunkSizeFor, safeFileName} from '../../dist/lib/core/files/index.js'

const node = bytes => createHash('sha256').update(bytes).digest('hex')

// The WebAssembly compression function, and the JavaScript one that runs where it cannot.
for (const [engine, Sha256] of [
  ['wasm', WasmSha256],
  ['js', makeSha256()],
]) {
  test(`${engine}: Sha256 equals node:crypto for every length around the block and padding edges`, () => {
    for (let n = 0; n < 300; n++) {
      const bytes = randomBytes(n)
      assert.equal(new Sha256().update(bytes).hex(), node(bytes), `length ${n}`)
    }
    assert.equal(
      new Sha256().update(new TextEncoder().encode('abc')).hex(),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    )
  })

  test(`${engine}: Sha256 fed in uneven pieces equals one update, for a few MiB`, () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17)
    const hash = new Sha256()
    for (let at = 0; at < bytes.length; ) {
      const take = 1 + ((at * 7919) % 70_001)
      hash.update(bytes.subarray(at, at + take))
      at += take
    }
    assert.equal(hash.hex(), node(bytes))
  })

  test(`${engine}: Sha256 resumes from a saved state (what a reload keeps)`, () => {
    const bytes = randomBytes(100_000)
    const first = new Sha256().update(bytes.subarray(0, 40_003))
    const state = JSON.parse(JSON.stringify(first.state()))
    assert.equal(state.length % 64, 0)
    const resumed = Sha256.fromState(state).update(bytes.subarray(state.length))
    assert.equal(resumed.hex(), node(bytes))
    assert.throws(() => Sha256.fromState({h: [1, 2], length: 0}), RangeError)
  })

  test(`${engine}: two hashes fed by turns do not mix their states`, () => {
    const [x, y] = [randomBytes(200_000), randomBytes(150_001)]
    const [hx, hy] = [new Sha256(), new Sha256()]
    for (let at = 0; at < 200_000; at += 50_000)
      hx.update(x.subarray(at, at + 50_000)), hy.update(y.subarray(at, at + 50_000))
    assert.deepEqual([hx.hex(), hy.hex()], [node(x), node(y)])
  })
}

test('the WebAssembly one runs here, and sha256-wasm.ts is sha256.wat compiled', () => {
  assert.equal(WasmSha256.engine, 'wasm')
  assert.equal(makeSha256().engine, 'js')
  execFileSync(process.execPath, [new URL('../../scripts/sha256-wasm.mjs', import.meta.url).pathname, '--check'])
})

test('chunks are at most 1 % of a file and at most 63 KiB (one 64 KiB frame with its headers)', () => {
  assert.equal(chunkSizeFor(undefined), 63 * 1024)
  assert.equal(chunkSizeFor(0), 1)
  assert.equal(chunkSizeFor(1000), 10)
  assert.equal(chunkSizeFor(5 * 1024 * 1024), 51 * 1024)
  assert.equal(chunkSizeFor(10 * 1024 * 1024), 63 * 1024)
  assert.equal(chunkSizeFor(4 * 1024 ** 3), 63 * 1024)
  for (const size of [1, 99, 100, 5000, 150_000, 1e6, 5e6, 2e7, 3e7, 1e9, 2 ** 40]) {
    const chunk = chunkSizeFor(size)
    assert.ok(chunk >= 1 && chunk <= 63 * 1024, `size ${size}`)
    if (size >= 100) assert.ok(chunk <= size / 100, `size ${size}: ${chunk} is over 1 %`)
  }
})

test('file names lose control and bidi-override characters, path separators, and length', () => {
  assert.equal(safeFileName('photo\u202Egpj.exe'), 'photogpj.exe')
  assert.equal(safeFileName('a\u0000b\u001fc\u007fd\u2066e\u2069f\u200eg\u061ch'), 'abcdefgh')
  assert.equal(safeFileName('../../etc/passwd'), '.._.._etc_passwd')
  assert.equal(safeFileName('C:\\x'), 'C:_x')
  assert.equal(safeFileName(''), 'file')
  assert.equal(safeFileName(42), 'file')
  assert.equal(safeFileName('\u202e\u202e'), 'file')
  assert.equal(safeFileName('x'.repeat(1000)).length, 255)
  assert.equal(safeFileName('résumé 📄.pdf'), 'résumé 📄.pdf')
})

test('wholeHash (main-thread fallback where no Worker starts) gives each chunk its SHA-256 and the whole file its SHA-256, resumable from a state', async () => {
  const {wholeHash} = await import('../../dist/lib/core/files/hash-worker.js')
  const bytes = randomBytes(5 * 1024 * 1024 + 333)
  const size = 256 * 1024
  const hash = wholeHash()
  const half = 10 * size
  const first = await hash.chunks(new Uint8Array(bytes.subarray(0, half)), size)
  assert.equal(first.hashes.length, 10)
  assert.equal(first.hashes[3], node(bytes.subarray(3 * size, 4 * size)))
  assert.deepEqual(first.state, await hash.state())
  const rest = await hash.chunks(new Uint8Array(bytes.subarray(half)), size)
  assert.equal(rest.hashes.at(-1), node(bytes.subarray(half + (rest.hashes.length - 1) * size)))
  assert.equal(await hash.hex(), node(bytes))
  // Resumed from the state after the first half, fed the rest: the same whole hash.
  const resumed = wholeHash(first.state)
  await resumed.chunks(new Uint8Array(bytes.subarray(half)), size)
  assert.equal(await resumed.hex(), node(bytes))
  // A Blob fed by the hasher itself (a sender resuming).
  const fromBlob = wholeHash()
  await fromBlob.blob(new Blob([bytes]), 0, half)
  await fromBlob.chunks(new Uint8Array(bytes.subarray(half)), size)
  assert.equal(await fromBlob.hex(), node(bytes))
})
