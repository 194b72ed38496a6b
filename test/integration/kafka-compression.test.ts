// Kafka compression against the real broker and Kafka's own Java client (the jars the local broker runs
// from): batches Sieve's exporter writes with lz4, snappy or gzip are accepted by the broker (which
// decodes every compressed batch it validates) and read back unchanged by the Java consumer and by
// Sieve's consumer; batches the Java producer compresses each way read back unchanged in Sieve's
// consumer, whose codecs are the loader's (src/kafka/compression.ts), zstd included (Sieve reads it,
// as a Collector's `compression: zstd` writes it); a batch that would decompress past the batch limit
// stops that consumer with an error naming the setting, zstd's too. Needs Kafka (npm run services)
// and Java 17+.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import kafkajs, { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { DEFAULT_MAX_BATCH_BYTES, setMaxBatchBytes } from '../../src/kafka/batch-bound.js';
import type { KafkaCompression } from '../../src/kafka/compression-names.js';
import { KafkaExporter } from '../../src/kafka/exporter.js';
import { decodeProtobuf, encodeProtobuf } from '../../src/otlp/codec.js';
import type { KafkaExporterSettings } from '../../src/pipeline/api.js';
import { spanBatchTemplate } from '../bench/support/otlp-load.js';
import { javaKafkaClient as java } from '../support/java-kafka-client.js';
import { BROKERS, consumeValues, deleteTopics, ensureTopicsRetry, exporterSettings } from '../support/kafka-harness.js';

const ROOT = join(import.meta.dirname, '..', '..');
const id = randomBytes(4).toString('hex');
const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const TRACES_FILE = join(ROOT, 'src', 'otlp', 'testdata', 'traces.pb');
const topics: string[] = [];
after(() => deleteTopics(topics));

/** Compressions kafkajs' codecs performed from here on, by codec type (the exporter registered them). */
const { CompressionCodecs, CompressionTypes } = kafkajs;
const compressed = new Map<number, number>();
for (const type of [CompressionTypes.GZIP, CompressionTypes.LZ4, CompressionTypes.Snappy] as const) {
  const codec = CompressionCodecs[type];
  CompressionCodecs[type] = () => {
    const c = codec();
    return {
      compress: (encoder: unknown) => {
        compressed.set(type, (compressed.get(type) ?? 0) + 1);
        return c.compress(encoder);
      },
      decompress: c.decompress,
    };
  };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function settings(topic: string, compression: KafkaCompression): KafkaExporterSettings {
  return exporterSettings(topic, {
    id: `kafka/${compression}`,
    clientId: 'compression-test',
    compression,
    compressionLevel: compression === 'gzip' ? 1 : 0,
    timeoutMs: 10_000,
  });
}

test("the exporter's lz4, snappy and gzip batches: the broker accepts them, Java's consumer and Sieve's read them back", async () => {
  const codecs = [
    ['lz4', CompressionTypes.LZ4],
    ['snappy', CompressionTypes.Snappy],
    ['gzip', CompressionTypes.GZIP],
  ] as const;
  const topicOf = (codec: string) => `compression_sieve_${codec}_${id}`;
  topics.push(...codecs.map(([c]) => topicOf(c)));
  await ensureTopicsRetry(codecs.map(([c]) => topicOf(c)));
  const exporter = new KafkaExporter({
    brokers: BROKERS,
    clientId: 'compression-test',
    logger,
    registry: new Registry(),
  });
  await exporter.start();
  // 512 spans, ~340 KB encoded: several LZ4 blocks (64 KiB) and Snappy blocks (32 KiB) per batch
  const request = decodeProtobuf('traces', spanBatchTemplate().bytes);
  try {
    for (const [codec, type] of codecs) {
      const before = compressed.get(type) ?? 0;
      // two exports: each is acknowledged, so the broker decoded and validated its batch
      for (let i = 0; i < 2; i++) await exporter.export('traces', request, settings(topicOf(codec), codec));
      assert.ok((compressed.get(type) ?? 0) > before, `${codec}: the exporter compressed with ${codec}`);
    }
  } finally {
    await exporter.stop();
  }
  const expected = Buffer.from(encodeProtobuf('traces', request));
  const javaRead = await java('consume', BROKERS.join(','), '2', ...codecs.map(([c]) => topicOf(c)));
  assert.deepEqual(
    javaRead.sort(),
    codecs.flatMap(([c]) => [`${topicOf(c)} ${sha256(expected)}`, `${topicOf(c)} ${sha256(expected)}`]).sort(),
  );
  for (const [codec] of codecs)
    for (const v of await consumeValues(topicOf(codec), 2))
      assert.ok(v.equals(expected), `${codec} reads back as sent`);
});

test("batches Kafka's Java producer compressed with lz4, snappy, gzip, zstd or none read back unchanged in Sieve's consumer", async () => {
  const codecs = ['lz4', 'snappy', 'gzip', 'zstd', 'none'];
  const topicOf = (codec: string) => `compression_java_${codec}_${id}`;
  topics.push(...codecs.map(topicOf));
  await ensureTopicsRetry(codecs.map(topicOf));
  // 400 records of 1.2 KB in one batch: several LZ4 blocks (64 KiB) and Snappy blocks (32 KiB)
  await java('produce', BROKERS.join(','), TRACES_FILE, '400', ...codecs.map((c) => `${topicOf(c)}=${c}`));
  const expected = readFileSync(TRACES_FILE);
  for (const codec of codecs) {
    const values = await consumeValues(topicOf(codec), 400);
    assert.equal(values.length, 400, codec);
    for (const v of values) assert.ok(v.equals(expected), `${codec}: a Java record reads back as sent`);
  }
});

/**
 * Sieve's consumer (the loader's codecs) from the start of `topic`, without retries, until it stops
 * on a batch it cannot read: the error's messages (with kafkajs' wrapped ones) and how many messages
 * it handed on before.
 */
async function consumeUntilStopped(topic: string): Promise<{ messages: string; values: number }> {
  const consumer = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING }).consumer({
    groupId: `stopped_${topic}`,
    retry: { retries: 0, restartOnFailure: async () => false },
  });
  let values = 0;
  const crashed = new Promise<Error>((resolve) =>
    consumer.on(consumer.events.CRASH, ({ payload }) => resolve(payload.error)),
  );
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async () => void values++ });
    const error = (await crashed) as Error & { originalError?: Error; cause?: Error };
    return { messages: [error.message, error.originalError?.message, error.cause?.message].join(' | '), values };
  } finally {
    await consumer.disconnect();
  }
}

test("a batch that decompresses past the limit (a decompression bomb), in each codec Sieve reads, stops Sieve's consumer there, naming the setting", {
  timeout: 120_000,
}, async () => {
  setMaxBatchBytes(2 * 1024 * 1024);
  try {
    for (const [name, type] of [
      ['gzip', CompressionTypes.GZIP],
      ['LZ4', CompressionTypes.LZ4],
      ['Snappy', CompressionTypes.Snappy],
    ] as const) {
      const topic = `compression_bomb_${name}_${id}`;
      topics.push(topic);
      await ensureTopicsRetry([topic]);
      const producer = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING }).producer();
      await producer.connect();
      // 8 MiB of one byte: a batch of a few KiB (LZ4, gzip) to ~400 KiB (Snappy), which the broker takes
      await producer.send({ topic, compression: type, messages: [{ value: Buffer.alloc(8 * 1024 * 1024, 0x61) }] });
      await producer.disconnect();
      const { messages, values } = await consumeUntilStopped(topic);
      assert.match(messages, new RegExp(`a ${name} batch would decompress to more than 2097152 bytes`), name);
      assert.match(messages, /SIEVE_LOADER_MAX_BATCH_BYTES/, name);
      assert.equal(values, 0, `${name}: no message of the batch is handed on`);
    }
    // zstd: Sieve writes none, so Kafka's Java producer writes the batch, 10 records of 900 KiB of one
    // byte (its record limit is 1 MiB), at least four per batch (its batch size is 4 MB)
    const topic = `compression_bomb_zstd_${id}`;
    topics.push(topic);
    await ensureTopicsRetry([topic]);
    const dir = mkdtempSync(join(tmpdir(), 'sieve-zstd-bomb-'));
    try {
      const value = join(dir, 'value');
      writeFileSync(value, Buffer.alloc(900 * 1024, 0x61));
      await java('produce', BROKERS.join(','), value, '10', `${topic}=zstd`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const { messages, values } = await consumeUntilStopped(topic);
    // refused from its frame's window, or while streaming: either way at the limit, naming it
    assert.match(messages, /a zstd batch .*more than 2097152 bytes, the limit \(SIEVE_LOADER_MAX_BATCH_BYTES\)/);
    assert.equal(values, 0, 'zstd: no message of the batch is handed on');
  } finally {
    setMaxBatchBytes(DEFAULT_MAX_BATCH_BYTES);
  }
});
