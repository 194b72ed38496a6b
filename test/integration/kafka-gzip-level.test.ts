// producer.compression_params.level against the real broker: each exporter's messages are gzipped at
// its own level (the gzip header's XFL byte says which: 4 = fastest, 2 = smallest, 0 = otherwise),
// two exporters with different levels in one process keep theirs, and every message reads back as
// the request sent. Needs Kafka (npm run services).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import kafkajs from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { KafkaExporter } from '../../src/kafka/exporter.js';
import { decodeProtobuf, encodeProtobuf } from '../../src/otlp/codec.js';
import type { KafkaExporterSettings } from '../../src/pipeline/api.js';
import { BROKERS, consumeValues, deleteTopics, ensureTopicsRetry, exporterSettings } from '../support/kafka-harness.js';

const id = randomBytes(4).toString('hex');
const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const traces = readFileSync('src/otlp/testdata/traces.pb');
const topics: string[] = [];
after(() => deleteTopics(topics));

/** XFL of every gzip member kafkajs' codec produces from here on (byte 8 of the header). */
const xfl: number[] = [];
const { CompressionCodecs, CompressionTypes } = kafkajs;
const codec = CompressionCodecs[CompressionTypes.GZIP];
CompressionCodecs[CompressionTypes.GZIP] = () => {
  const c = codec();
  return {
    async compress(encoder: unknown) {
      const out: Buffer = await c.compress(encoder);
      xfl.push(out[8] as number);
      return out;
    },
    decompress: c.decompress,
  };
};

function settings(topic: string, compressionLevel: number): KafkaExporterSettings {
  return exporterSettings(topic, {
    id: `kafka/${compressionLevel}`,
    clientId: 'gzip-level-test',
    compression: 'gzip',
    compressionLevel,
    timeoutMs: 10_000,
  });
}

test('each exporter gzips at its compression_params.level, and its messages read back unchanged', async () => {
  const levels = [1, 9, -1] as const;
  const topicOf = (level: number) => `gzip_level_${level < 0 ? 'default' : level}_${id}`;
  topics.push(...levels.map(topicOf));
  await ensureTopicsRetry(levels.map(topicOf));
  const exporter = new KafkaExporter({
    brokers: BROKERS,
    clientId: 'gzip-level-test',
    logger,
    registry: new Registry(),
  });
  await exporter.start();
  try {
    // one level at a time: which send is which is known from the order
    for (const level of levels) {
      await exporter.export('traces', decodeProtobuf('traces', traces), settings(topicOf(level), level));
      assert.equal(xfl.pop(), level === 1 ? 4 : level === 9 ? 2 : 0, `XFL of the level ${level} message`);
    }
    // two levels sent together still get their own
    xfl.length = 0;
    await Promise.all(
      ([1, 9] as const).map((level) =>
        exporter.export('traces', decodeProtobuf('traces', traces), settings(topicOf(level), level)),
      ),
    );
    assert.deepEqual(xfl.sort(), [2, 4]);
  } finally {
    await exporter.stop();
  }
  const expected = Buffer.from(encodeProtobuf('traces', decodeProtobuf('traces', traces)));
  for (const level of levels) {
    const values = await consumeValues(topicOf(level), level === -1 ? 1 : 2);
    for (const v of values) assert.ok(v.equals(expected), `a level ${level} message reads back as sent`);
  }
});
