/**
 * The loader's consumer reads zstd batches: those a Collector (`producer.compression: zstd`) or
 * another client wrote. kafkajs has no zstd codec, and Node 20 has no zstd in zlib.
 *
 * Decompression only, with fzstd (pure JavaScript, MIT, no install step): the maintained native
 * bindings download their binaries from GitHub while installing, which an install from the npm
 * registry alone cannot do, and zstddec (WebAssembly, faster) loops for ever on a corrupt frame in
 * its streaming decoder. fzstd throws on corrupt or truncated input, and takes 7–12 CPU ms per
 * 1,000 of Sieve's spans against 1.6–2.4 for gzip's native inflate (`npm run bench -- kafka-codecs`).
 * Sieve's own exporter writes gzip, LZ4 or Snappy: zstd there is refused at config load.
 *
 * Streamed block by block, so a batch that would decompress past the batch limit stops there
 * (batch-bound.ts) instead of first taking the memory; a frame's declared size is not trusted.
 */
import { Decompress } from 'fzstd';
import kafkajs from 'kafkajs';
import { batchTooLarge, getMaxBatchBytes } from './batch-bound.js';

const { CompressionCodecs, CompressionTypes } = kafkajs;

/**
 * Sieve's exporter writes no zstd (config validation refuses it); should a producer be asked to
 * anyway, this is what it says.
 */
export const ZSTD_NOT_WRITTEN =
  'zstd: Sieve reads zstd batches but does not write them (no zstd compressor for Node installs from the npm registry alone); use gzip, lz4 or snappy';

/** The concatenated zstd frames of a batch, decompressed; throws past the batch limit, or on corrupt or truncated input. */
export function decompressZstd(input: Buffer): Buffer {
  const limit = getMaxBatchBytes();
  const blocks: Uint8Array[] = [];
  let total = 0;
  const stream = new Decompress((block) => {
    total += block.length;
    if (total > limit) throw batchTooLarge('zstd', limit);
    blocks.push(block);
  });
  try {
    stream.push(input, true);
  } catch (err) {
    if (total > limit) throw err;
    throw new Error(`zstd: ${(err as Error).message} (a corrupt or truncated batch)`);
  }
  return Buffer.concat(blocks, total);
}

CompressionCodecs[CompressionTypes.ZSTD] = () => ({
  compress: async () => {
    throw new Error(ZSTD_NOT_WRITTEN);
  },
  decompress: async (buffer: Buffer) => decompressZstd(buffer),
});
