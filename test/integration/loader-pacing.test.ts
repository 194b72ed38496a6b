// SIEVE_LOADER_MIN_INSERT_INTERVAL_MS: a partition's messages trickling in are inserted together at
// most once per interval, every row exactly once, and whatever is queued goes at stop. Real Kafka and
// ClickHouse engine (npm run services).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { migrate } from '../../src/clickhouse/migrate.js';
import { startLoader } from '../../src/loader/loader.js';
import { makeTraces } from '../../src/loader/testdata/spans.js';
import { encodeProtobuf } from '../../src/otlp/codec.js';

const id = randomBytes(4).toString('hex');
const db = `sieve_pacing_${id}`;
const topic = `it_pacing_${id}`;
const client = createClickHouseClient();
const kafka = new Kafka({ brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'], logLevel: logLevel.NOTHING });
const producer = kafka.producer();

before(async () => {
  await migrate({ client, database: db });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  await producer.connect();
});
after(async () => {
  await producer.disconnect();
  await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
});

async function count(): Promise<number> {
  const rs = await client.query({ query: `SELECT count() AS n FROM ${db}.otel_traces`, format: 'JSONEachRow' });
  return Number(((await rs.json()) as { n: string }[])[0]?.n ?? 0);
}

test('messages 150 ms apart, one insert per 2 s at most: a few inserts, every row once', {
  timeout: 120_000,
}, async () => {
  const registry = new Registry();
  const loader = await startLoader({
    brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'],
    topics: { [topic]: 'traces' },
    groupId: `g_${id}`,
    client,
    database: db,
    logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
    registry,
    batch: { minInsertIntervalMs: 2000, maxWaitMs: 100 },
  });
  const MESSAGES = 12;
  const PER = 10;
  try {
    for (let b = 0; b < MESSAGES; b++) {
      await producer.send({ topic, messages: [{ value: Buffer.from(encodeProtobuf('traces', makeTraces(b, PER))) }] });
      await new Promise((r) => setTimeout(r, 150));
    }
    const end = Date.now() + 60_000;
    while (Date.now() < end && (await count()) < MESSAGES * PER) await new Promise((r) => setTimeout(r, 200));
  } finally {
    await loader.stop();
  }
  assert.equal(await count(), MESSAGES * PER);
  const inserts = (await registry.getSingleMetric('sieve_loader_insert_duration_seconds')?.get())?.values.find(
    (v) => (v as { metricName?: string }).metricName === 'sieve_loader_insert_duration_seconds_count',
  )?.value;
  // ~1.8 s of messages: the first at once, then one per 2 s; without pacing each message is an insert
  assert.ok(inserts !== undefined && inserts >= 1 && inserts <= 3, `inserts: ${inserts}`);
});
