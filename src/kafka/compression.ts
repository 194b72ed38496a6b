/**
 * Kafka compression as the Collector's `producer.compression` names it, mapped onto kafkajs' codec
 * types. Importing this module registers Sieve's codecs (gzip with levels, LZ4, Snappy; zstd to read
 * only) in kafkajs' per-process registry, for producers and consumers alike. zstd is refused for
 * writing at config load: no zstd compressor for Node installs from the npm registry alone
 * (zstd-codec.ts).
 */
import { CompressionTypes } from 'kafkajs';
import './gzip-codec.js';
import './lz4-codec.js';
import './snappy-codec.js';
import './zstd-codec.js';
import type { KafkaCompression } from './compression-names.js';

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
