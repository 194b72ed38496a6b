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

// kafkajs is CommonJS: its codec registry is not a named export Node can see
const { CompressionCodecs, CompressionTypes } = kafkajs;

CompressionCodecs[CompressionTypes.LZ4] = () => ({
  compress: (encoder: { buffer: Buffer }) => compressFrame(encoder.buffer),
  decompress: async (buffer: Buffer) => decompressFrameSync(buffer),
});
