// The Kafka exporter's adaptive batching against the real broker: a request with nothing to batch
// with is sent at once (it does not wait for the batch timeout), requests arriving while a produce
// request is in flight go together in the next one, and a batch larger than the topic takes in one
// record batch per partition goes as several produce requests instead of being refused.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ensureTopics, KafkaExporter } from '../../src/kafka/exporter.js';
import { decodeProtobuf } from '../../src/otlp/codec.js';
import type { ExportLogsServiceRequest } from '../../src/otlp/model.js';
import type { BatchSettings, KafkaExporterSettings } from '../../src/pipeline/api.js';
import { BROKERS, deleteTopics, exporterSettings } from '../support/kafka-harness.js';
import { until } from '../support/until.js';

const topic = `sieve_it_batching_${randomBytes(4).toString('hex')}`;
const registry = new Registry();
const exporter = new KafkaExporter({
  brokers: BROKERS,
  clientId: 'batching-test',
  logger: pino({ level: 'silent' }),
  registry,
});
const settings: KafkaExporterSettings = exporterSettings(topic, { clientId: 'batching-test', timeoutMs: 30_000 });
/** a batch timeout no test run would sit out: an export that waited for it would time the test out */
const HOUR = 3_600_000;
const batch: BatchSettings = { sendBatchSize: 8192, sendBatchMaxSize: 0, timeoutMs: HOUR };

const logs = (i: number): ExportLogsServiceRequest => ({
  resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i)) }] }] }],
});

async function produceRequests(): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === 'sieve_kafka_produce_duration_seconds');
  return (m?.values ?? [])
    .filter((v) => (v as { metricName?: string }).metricName === 'sieve_kafka_produce_duration_seconds_count')
    .reduce((n, v) => n + Number(v.value), 0);
}

before(async () => {
  await ensureTopics(BROKERS, [topic], 1);
  await exporter.start();
  assert.equal(exporter.isReady(), true);
});
after(async () => {
  await exporter.stop();
  await deleteTopics([topic]);
});

test('nothing in flight: a request is sent at once, not after the batch timeout', { timeout: 120_000 }, async () => {
  await exporter.export('logs', logs(0), settings, batch);
  await exporter.export('logs', logs(1), settings, batch);
  assert.equal(await produceRequests(), 2);
});

test('requests arriving while a send is in flight go together in the next one', { timeout: 120_000 }, async () => {
  const before = await produceRequests();
  // the first is sent at once; the other 19 arrive while it is in flight
  await Promise.all(Array.from({ length: 20 }, (_, i) => exporter.export('logs', logs(100 + i), settings, batch)));
  assert.equal((await produceRequests()) - before, 2);
});

test('a batch above max.message.bytes per partition goes as several produce requests, every record once', {
  timeout: 120_000,
}, async () => {
  // the topic takes record batches up to 150 kB; 40 log records of 20 kB of random text (LZ4 cannot
  // shrink them) arrive while one is in flight: ~800 kB in one send, ~270 kB per partition
  const small = `sieve_it_batch_limit_${randomBytes(4).toString('hex')}`;
  const kafka = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic: small, numPartitions: 3, configEntries: [{ name: 'max.message.bytes', value: '150000' }] }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
  try {
    const limited: KafkaExporterSettings = { ...settings, topic: small, compression: 'lz4', maxMessageBytes: 100_000 };
    const big = (i: number): ExportLogsServiceRequest => ({
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: [
                {
                  timeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i)),
                  body: { stringValue: randomBytes(15_000).toString('base64') },
                },
              ],
            },
          ],
        },
      ],
    });
    await Promise.all(Array.from({ length: 40 }, (_, i) => exporter.export('logs', big(i), limited, batch)));

    const consumer = kafka.consumer({ groupId: `batch_limit_${small}` });
    const times = new Set<string>();
    let records = 0;
    await consumer.connect();
    await consumer.subscribe({ topic: small, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const request = decodeProtobuf('logs', message.value as Buffer);
        for (const r of request.resourceLogs ?? [])
          for (const sl of r.scopeLogs ?? [])
            for (const l of sl.logRecords ?? []) {
              times.add(String(l.timeUnixNano));
              records++;
            }
      },
    });
    try {
      await until('the 40 records read back', () => times.size >= 40);
    } finally {
      await consumer.disconnect();
    }
    assert.equal(times.size, 40);
    assert.equal(records, 40, 'no record twice');
  } finally {
    await deleteTopics([small]);
  }
});
