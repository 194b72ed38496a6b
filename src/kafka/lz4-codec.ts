/**
 * The LZ4 codec of Sieve's Kafka producers and of the loader's consumer (kafkajs ships gzip only).
 *
 * Kafka record batches (magic v2) carry LZ4 in the frame format, with independent blocks: what the
 * Java client, librdkafka, sarama and franz-go write and read. lz4-napi (lz4_flex, native) writes
 * that frame by default (64 KiB independent blocks, no checksums beyond the batch's CRC); the broker
 * decodes every compressed batch it accepts, so a produce that succeeds is one Kafka's own decoder
 * read (test/integration/kafka-compression.test.ts also reads batches a Java producer wrote).
 *
 * Why it is there (and in the presets): on the receiver's messages (spans after the default PII
 * pipeline) LZ4 compresses in about a fifth of gzip level 1's CPU, 1.6–1.8 instead of 8.0–8.3 CPU ms
 * per 1,000 spans, for messages ~60 % larger (`npm run bench -- kafka-codecs`).
 * Compression runs on libuv's thread pool, as gzip's does; decompression is synchronous, as the
 * loader's gzip is (no thread-pool hop for a ~1 MB batch that takes a fraction of a millisecond).
 */
import kafkajs from 'kafkajs';
import { compressFrame, decompressFrameSync } from 'lz4-napi';
import { batchTooLarge, getMaxBatchBytes, skippableFrameEnd } from './batch-bound.js';

// kafkajs is CommonJS: its codec registry is not a named export Node can see
const { CompressionCodecs, CompressionTypes } = kafkajs;

CompressionCodecs[CompressionTypes.LZ4] = () => ({
  compress: (encoder: { buffer: Buffer }) => compressFrame(encoder.buffer),
  decompress: async (buffer: Buffer) => decompressLz4(buffer),
});

/** An LZ4 batch's frames decompressed, refused before decompressing when they may hold more than the batch limit. */
export function decompressLz4(buffer: Buffer): Buffer {
  const limit = getMaxBatchBytes();
  if (lz4FrameBound(buffer) > limit) throw batchTooLarge('LZ4', limit);
  return decompressFrameSync(buffer);
}

const FRAME_MAGIC = 0x184d2204;
/** an LZ4 block's output per input byte at most (a match length byte adds 255; a sequence's 3 bytes, 19) */
const MAX_EXPANSION = 255;
/** the block maximum sizes of a frame descriptor's BD byte (bits 6–4: 4 = 64 KiB … 7 = 4 MiB) */
const BLOCK_MAX = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20];

/**
 * The most bytes the LZ4 frames in `buffer` can decompress to, from their headers alone
 * (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md): each compressed block at most the
 * frame's block maximum (lz4-napi writes 4 MiB blocks) and 255 bytes per byte of it, each stored
 * block its size; a declared content size counts too, since a decoder may size its output by it.
 * Skippable frames add nothing. Whatever does not parse as frames counts as 0: the decoder refuses it.
 */
export function lz4FrameBound(buffer: Buffer): number {
  let bound = 0;
  let at = 0;
  while (at + 4 <= buffer.length) {
    const skipped = skippableFrameEnd(buffer, at);
    if (skipped === -1) break;
    if (skipped !== undefined) {
      at = skipped;
      continue;
    }
    if (buffer.readUInt32LE(at) !== FRAME_MAGIC || at + 7 > buffer.length) break;
    const flg = buffer[at + 4] as number;
    const blockMax = BLOCK_MAX[((buffer[at + 5] as number) >> 4) & 7] as number;
    at += 6;
    let declared = 0;
    if (flg & 0x08) {
      if (at + 8 > buffer.length) break;
      declared = buffer.readUInt32LE(at) + buffer.readUInt32LE(at + 4) * 2 ** 32;
      at += 8;
    }
    if (flg & 0x01) at += 4; // dictionary id
    at += 1; // header checksum
    const blockChecksum = (flg & 0x10) !== 0;
    let blocks = 0;
    while (at + 4 <= buffer.length) {
      const size = buffer.readUInt32LE(at);
      at += 4;
      if (size === 0) break; // end mark
      const stored = size >= 0x80000000;
      const length = size & 0x7fffffff;
      blocks += stored ? length : Math.min(blockMax, MAX_EXPANSION * length);
      at += length + (blockChecksum ? 4 : 0);
    }
    bound += Math.max(blocks, declared);
    if (flg & 0x04) at += 4; // content checksum
  }
  return bound;
}
