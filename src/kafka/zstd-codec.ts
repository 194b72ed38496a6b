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
 * (batch-bound.ts) instead of first taking the memory: the output is counted, whatever the frames
 * declare. Their headers are read first too: fzstd allocates a frame's window (up to 2 GiB) or its
 * declared size before its first block, so a frame declaring more than the limit is refused before
 * anything is allocated.
 */
import { Decompress } from 'fzstd';
import kafkajs from 'kafkajs';
import { batchTooLarge, getMaxBatchBytes, skippableFrameEnd } from './batch-bound.js';

const { CompressionCodecs, CompressionTypes } = kafkajs;

/**
 * Sieve's exporter writes no zstd (config validation refuses it); should a producer be asked to
 * anyway, this is what it says.
 */
export const ZSTD_NOT_WRITTEN =
  'zstd: Sieve reads zstd batches but does not write them (no zstd compressor for Node installs from the npm registry alone); use gzip, lz4 or snappy';

const ZSTD_MAGIC = 0xfd2fb528;
const corrupt = (why: string) => new Error(`zstd: ${why} (a corrupt or truncated batch)`);

/**
 * The most bytes a decoder must hold for one of the frames in `input` (its window, or its declared
 * content size), read from their headers and block headers (RFC 8878 §3.1); throws on a truncated
 * or foreign frame.
 */
export function zstdLargestFrameMemory(input: Buffer): number {
  let largest = 0;
  let at = 0;
  while (at < input.length) {
    if (at + 4 > input.length) throw corrupt('a frame shorter than its magic number');
    const skipped = skippableFrameEnd(input, at);
    if (skipped === -1) throw corrupt('a truncated skippable frame');
    if (skipped !== undefined) {
      at = skipped;
      continue;
    }
    if (input.readUInt32LE(at) !== ZSTD_MAGIC) throw corrupt('not a zstd frame');
    if (at + 5 > input.length) throw corrupt('a truncated frame header');
    const descriptor = input[at + 4] as number;
    const singleSegment = (descriptor & 0x20) !== 0;
    const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6] as number;
    const dictionaryIdBytes = [0, 1, 2, 4][descriptor & 3] as number;
    let p = at + 5;
    let window = 0;
    if (!singleSegment) {
      if (p >= input.length) throw corrupt('a truncated frame header');
      const w = input[p++] as number;
      const base = 2 ** (10 + (w >> 3));
      window = base + (base / 8) * (w & 7);
    }
    p += dictionaryIdBytes;
    if (p + contentSizeBytes > input.length) throw corrupt('a truncated frame header');
    // the declared content size (a 2-byte field counts from 256): the window of a single-segment
    // frame, and what fzstd allocates when a frame declares it
    let contentSize = 0;
    if (contentSizeBytes === 1) contentSize = input[p] as number;
    else if (contentSizeBytes === 2) contentSize = input.readUInt16LE(p) + 256;
    else if (contentSizeBytes === 4) contentSize = input.readUInt32LE(p);
    else if (contentSizeBytes === 8) contentSize = Number(input.readBigUInt64LE(p));
    p += contentSizeBytes;
    largest = Math.max(largest, window, contentSize);
    // blocks: a 3-byte header each (last-block flag, type, size); an RLE block holds one byte
    for (let last = false; !last; ) {
      if (p + 3 > input.length) throw corrupt('a truncated block header');
      const header = input[p]! | (input[p + 1]! << 8) | (input[p + 2]! << 16);
      last = (header & 1) === 1;
      const type = (header >> 1) & 3;
      if (type === 3) throw corrupt('a reserved block type');
      p += 3 + (type === 1 ? 1 : header >>> 3);
    }
    if ((descriptor & 4) !== 0) p += 4; // content checksum
    if (p > input.length) throw corrupt('a truncated frame');
    at = p;
  }
  return largest;
}

/** The concatenated zstd frames of a batch, decompressed; throws past the batch limit, or on corrupt or truncated input. */
export function decompressZstd(input: Buffer): Buffer {
  const limit = getMaxBatchBytes();
  const needs = zstdLargestFrameMemory(input);
  if (needs > limit) throw batchTooLarge('zstd', limit, needs);
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
    throw corrupt((err as Error).message);
  }
  return Buffer.concat(blocks, total);
}

CompressionCodecs[CompressionTypes.ZSTD] = () => ({
  compress: async () => {
    throw new Error(ZSTD_NOT_WRITTEN);
  },
  decompress: async (buffer: Buffer) => decompressZstd(buffer),
});
