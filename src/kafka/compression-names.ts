/** Kafka compressions Sieve writes (and reads, with zstd), as the Collector's `producer.compression` names them. */
export const KAFKA_COMPRESSIONS = ['gzip', 'lz4', 'snappy', 'none'] as const;
export type KafkaCompression = (typeof KAFKA_COMPRESSIONS)[number];
