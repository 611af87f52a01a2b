// Writes name.br and name.gz beside every compressible file of the build (≥ 1 KiB), so the
// gongzhi server sends them as they are to clients that accept them (crates/gongzhi/src/http/console.rs)
// instead of compressing on every request. Only variants smaller than the original are kept.
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join, extname } from 'node:path'
import { brotliCompressSync, gzipSync, constants } from 'node:zlib'

const COMPRESSIBLE = new Set(['.js', '.mjs', '.css', '.html', '.svg', '.json', '.txt', '.xml', '.map'])
const MIN_SIZE = 1024

async function* files(dir) {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) yield* files(p)
    else if (COMPRESSIBLE.has(extname(e.name))) yield p
  }
}

function brotli(data) {
  return brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  })
}

export async function precompress(dir) {
  let before = 0
  let after = 0
  for await (const p of files(dir)) {
    const data = await readFile(p)
    if (data.length < MIN_SIZE) continue
    before += data.length
    let best = data.length
    for (const [suffix, packed] of [['.br', brotli(data)], ['.gz', gzipSync(data, { level: 9 })]]) {
      if (packed.length >= data.length) continue
      await writeFile(p + suffix, packed)
      best = Math.min(best, packed.length)
    }
    after += best
  }
  return { before, after }
}

/** Vite plugin: pre-compress the output once the bundle is written. */
export default function precompressPlugin() {
  let outDir = 'dist'
  return {
    name: 'gongzhi-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir
    },
    async closeBundle() {
      const { before, after } = await precompress(outDir)
      console.log(`precompressed ${(before / 1024).toFixed(0)} KiB → ${(after / 1024).toFixed(0)} KiB (best of br, gzip)`)
    },
  }
}
