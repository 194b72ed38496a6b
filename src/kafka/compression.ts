/**
 * Kafka compression as the Collector's `producer.compression` names it, mapped onto kafkajs' codec
 * types. Importing this module registers Sieve's codecs (gzip with levels, LZ4, Snappy) in kafkajs'
 * per-process registry, for producers and consumers alike. zstd is refused at config load: its
 * maintained Node binding (@mongodb-js/zstd 7) downloads its binary from GitHub while installing,
 * which an install from the npm registry alone cannot do.
 */
import kafkajs, { CompressionTypes } from 'kafkajs';
import './gzip-codec.js';
import './lz4-codec.js';
import './snappy-codec.js';
import { KAFKA_COMPRESSIONS, type KafkaCompression } from './compression-names.js';

/**
 * What a consumer says when a topic holds zstd batches (a Collector or another client set
 * `compression: zstd`): kafkajs' own message would be "ZSTD compression not implemented". The
 * consumer stops at that batch and retries, so nothing after it is skipped.
 */
export const ZSTD_REFUSED = `a zstd-compressed batch: Sieve reads ${KAFKA_COMPRESSIONS.join(', ')} (no zstd binding for Node installs from the npm registry alone); set the producer's compression of this topic to one of them`;

kafkajs.CompressionCodecs[CompressionTypes.ZSTD] = () => ({
  compress: async () => {
    throw new Error(ZSTD_REFUSED);
  },
  decompress: async () => {
    throw new Error(ZSTD_REFUSED);
  },
});

const KAFKAJS_TYPE: Record<KafkaCompression, CompressionTypes> = {
  gzip: CompressionTypes.GZIP,
  lz4: CompressionTypes.LZ4,
  snappy: CompressionTypes.Snappy,
  none: CompressionTypes.None,
};

/** kafkajs' codec type for a `producer.compression` value. */
export function kafkajsCompression(compression: KafkaCompression): CompressionTypes {
  return KAFKAJS_TYPE[compression];
}
