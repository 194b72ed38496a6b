/**
 * The gzip codec of Sieve's Kafka producers, with the level of the Collector's
 * `producer.compression_params.level`.
 *
 * kafkajs' own gzip codec always compresses at zlib's default level (6), and its codec registry is one
 * per process, shared by every producer. So the level travels with each send: an exporter sends
 * inside withGzipLevel(level, …), and the codec, which kafkajs calls while encoding that send's
 * request, reads it from the async context. Levels as the Collector takes them: 0 or -1 = zlib's
 * default, 1 (fastest) … 9 (smallest), -2 = Huffman coding only. Deflate is one of the receiver's
 * largest costs: on spans after the default PII pipeline, 11.7–12.5 CPU ms per 1,000 spans at zlib's
 * default level and 7.3–7.8 at level 1, for messages 2.5% larger (`npm run bench -- kafka-codecs`).
 *
 * Decompression (the loader's side) is synchronous into one buffer of the size the gzip trailer gives:
 * kafkajs' promisified unzip runs a zlib stream on the thread pool, collects 16 KiB chunks and
 * concatenates them, 5.1–8.2 CPU ms per 1,000 spans against 1.8–2.2 this way (same benchmark).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import kafkajs from 'kafkajs';
import { batchTooLarge, getMaxBatchBytes } from './batch-bound.js';
import { gzipOptions } from './gzip-level.js';

// kafkajs is CommonJS: its codec registry is not a named export Node can see
const { CompressionCodecs, CompressionTypes } = kafkajs;
const gzip = promisify(zlib.gzip);
const sendLevel = new AsyncLocalStorage<zlib.ZlibOptions>();
const DEFAULT_OPTIONS: zlib.ZlibOptions = {};

CompressionCodecs[CompressionTypes.GZIP] = () => ({
  compress: (encoder: { buffer: Buffer }) => gzip(encoder.buffer, sendLevel.getStore() ?? DEFAULT_OPTIONS),
  decompress: async (buffer: Buffer) => decompressGzip(buffer),
});

const MIN_CHUNK_BYTES = 16 * 1024;
/** a trailer claiming more is not believed beyond this (the output then grows chunk by chunk) */
const MAX_CHUNK_BYTES = 64 * 1024 * 1024;

/**
 * Decompresses a Kafka batch's gzip (or zlib) bytes into one buffer: a gzip member ends with its
 * uncompressed size (mod 2^32, RFC 1952), so zlib gets an output chunk that holds it all and the
 * result is that chunk, not a concatenation. A trailer that lies fails zlib's own length check.
 */
export function decompressGzip(buffer: Buffer): Buffer {
  const gzipped = buffer.length >= 18 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  const size = gzipped ? buffer.readUInt32LE(buffer.length - 4) : 0;
  const limit = getMaxBatchBytes();
  // + a little: output that exactly fills the chunk would make zlib allocate one more
  const chunkSize = Math.min(MAX_CHUNK_BYTES, limit + 64, Math.max(MIN_CHUNK_BYTES, size + 64));
  try {
    // zlib stops at maxOutputLength: a trailer can lie, the output cannot
    return zlib.unzipSync(buffer, { chunkSize, maxOutputLength: limit });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw batchTooLarge('gzip', limit);
    throw err;
  }
}

/** Runs `send` (a kafkajs send) so that what it gzips is compressed at `level`. */
export function withGzipLevel<T>(level: number, send: () => T): T {
  return sendLevel.run(gzipOptions(level), send);
}
