// How many bytes one insert takes: a backlog on three partitions goes in inserts of several fetches
// and partitions together (the default insert size is four times the fetch size), not one fetch per
// insert, which made the loader's throughput one fetch per insert and let a backlog grow (README,
// "Seventeenth session"). Every row exactly once either way. Real Kafka and ClickHouse engine
// (npm run services).
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
const client = createClickHouseClient();
const kafka = new Kafka({ brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'], logLevel: logLevel.NOTHING });
const producer = kafka.producer();
const PARTITIONS = 3;
const PER_PARTITION = 20;
const SPANS = 10;
const MESSAGES = Array.from({ length: PARTITIONS * PER_PARTITION }, (_, i) =>
  Buffer.from(encodeProtobuf('traces', makeTraces(1000 + i, SPANS))),
);
/** the messages' sizes differ by a few bytes; uncompressed, a fetch of this many bytes brings 3 or 4 */
const FETCH_BYTES = 4 * Math.max(...MESSAGES.map((m) => m.length));
const databases: string[] = [];

before(async () => {
  await producer.connect();
});
after(async () => {
  await producer.disconnect();
  for (const db of databases) await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
});

/** A backlog of PER_PARTITION messages on each partition, then a loader: its inserts and rows. */
async function loadBacklog(name: string, maxInsertBytes?: number): Promise<{ inserts: number; rows: number }> {
  const db = `sieve_insert_bytes_${name}_${id}`;
  const topic = `it_insert_bytes_${name}_${id}`;
  databases.push(db);
  await migrate({ client, database: db });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  await admin.disconnect();
  for (let i = 0; i < PER_PARTITION; i++)
    for (let partition = 0; partition < PARTITIONS; partition++) {
      await producer.send({ topic, messages: [{ partition, value: MESSAGES[i * PARTITIONS + partition] as Buffer }] });
    }
  const registry = new Registry();
  const loader = await startLoader({
    brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'],
    topics: { [topic]: 'traces' },
    groupId: `g_${name}_${id}`,
    client,
    database: db,
    logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
    registry,
    batch: { maxBytes: FETCH_BYTES, maxWaitMs: 100, ...(maxInsertBytes ? { maxInsertBytes } : {}) },
  });
  const count = async () => {
    const rs = await client.query({ query: `SELECT count() AS n FROM ${db}.otel_traces`, format: 'JSONEachRow' });
    return Number(((await rs.json()) as { n: string }[])[0]?.n ?? 0);
  };
  const total = PARTITIONS * PER_PARTITION * SPANS;
  try {
    const end = Date.now() + 60_000;
    while (Date.now() < end && (await count()) < total) await new Promise((r) => setTimeout(r, 200));
  } finally {
    await loader.stop();
  }
  const metric = (await registry.getSingleMetric('sieve_loader_insert_duration_seconds')?.get())?.values.find(
    (v) => (v as { metricName?: string }).metricName === 'sieve_loader_insert_duration_seconds_count',
  );
  return { inserts: metric?.value ?? 0, rows: await count() };
}

test('a backlog on three partitions goes in inserts of several partitions and fetches', {
  timeout: 120_000,
}, async () => {
  const { inserts, rows } = await loadBacklog('default');
  assert.equal(rows, PARTITIONS * PER_PARTITION * SPANS);
  // 60 messages, 3-4 per fetch: an insert per fetch would be 15 or more
  assert.ok(inserts >= 1 && inserts <= 10, `inserts: ${inserts}`);
});

test('maxInsertBytes of the fetch size: one fetch per insert', {
  timeout: 120_000,
}, async () => {
  const { inserts, rows } = await loadBacklog('one_fetch', FETCH_BYTES);
  assert.equal(rows, PARTITIONS * PER_PARTITION * SPANS);
  assert.ok(inserts >= 15, `inserts: ${inserts}`);
});
