/**
 * The Snappy codec of Sieve's Kafka producers and of the loader's consumer (kafkajs ships gzip only).
 *
 * Kafka's Java client writes Snappy in xerial's framing: a 16-byte header (0x82 "SNAPPY" 0x00,
 * version 1, compatible version 1, big-endian int32s), then blocks, each a big-endian int32 length
 * and that many bytes of raw Snappy. Other clients (sarama, kafkajs-snappy) write raw Snappy, which
 * every reader accepts too. Sieve reads both and writes the framing, as Java does, with one block
 * per 32 KiB of input (Java's block size), through the `snappy` package (napi-rs, native).
 */
import kafkajs from 'kafkajs';
import { compress, uncompressSync } from 'snappy';
import { batchTooLarge, getMaxBatchBytes } from './batch-bound.js';

const { CompressionCodecs, CompressionTypes } = kafkajs;

const XERIAL_HEADER = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
const XERIAL_MAGIC_BYTES = 8;
const BLOCK_BYTES = 32 * 1024;

/** Snappy in xerial's framing, one block per 32 KiB of `input`. */
export async function compressSnappy(input: Buffer): Promise<Buffer> {
  const blocks: Promise<Buffer>[] = [];
  for (let at = 0; at < input.length; at += BLOCK_BYTES)
    blocks.push(compress(input.subarray(at, at + BLOCK_BYTES)) as Promise<Buffer>);
  const parts: Buffer[] = [XERIAL_HEADER];
  for (const block of await Promise.all(blocks)) {
    const length = Buffer.allocUnsafe(4);
    length.writeInt32BE(block.length);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

/**
 * Raw Snappy, or xerial-framed Snappy (its blocks concatenated). Throws on a truncated frame, and
 * before decompressing anything when the blocks' sizes add up to more than the batch limit.
 */
export function decompressSnappy(input: Buffer): Buffer {
  const framed =
    input.length >= XERIAL_HEADER.length &&
    input.subarray(0, XERIAL_MAGIC_BYTES).equals(XERIAL_HEADER.subarray(0, XERIAL_MAGIC_BYTES));
  const limit = getMaxBatchBytes();
  if (!framed) {
    if (rawSnappyLength(input, 0) > limit) throw batchTooLarge('Snappy', limit);
    return uncompressSync(input) as Buffer;
  }
  const blocks: [start: number, end: number][] = [];
  let total = 0;
  for (let at = XERIAL_HEADER.length; at < input.length; ) {
    if (at + 4 > input.length) throw new Error('snappy: truncated xerial block length');
    const length = input.readInt32BE(at);
    at += 4;
    if (length < 0 || at + length > input.length)
      throw new Error(`snappy: xerial block of ${length} bytes past the end of the batch`);
    total += rawSnappyLength(input, at);
    if (total > limit) throw batchTooLarge('Snappy', limit);
    blocks.push([at, at + length]);
    at += length;
  }
  const out = blocks.map(([s, e]) => uncompressSync(input.subarray(s, e)) as Buffer);
  return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
}

/** The uncompressed length a raw Snappy block at `at` declares (its leading varint; 0 when unreadable: the decoder refuses it). */
function rawSnappyLength(input: Buffer, at: number): number {
  let n = 0;
  for (let i = 0, mul = 1; i < 5 && at + i < input.length; i++, mul *= 128) {
    const x = input[at + i] as number;
    n += (x & 0x7f) * mul;
    if (x < 0x80) return n;
  }
  return 0;
}

CompressionCodecs[CompressionTypes.Snappy] = () => ({
  compress: (encoder: { buffer: Buffer }) => compressSnappy(encoder.buffer),
  decompress: async (buffer: Buffer) => decompressSnappy(buffer),
});
