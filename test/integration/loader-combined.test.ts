// One insert for several partitions (src/loader/insert-worker.ts) keeps exactly-once: each member's
// range commit names the whole group (ranges.ts), and whoever re-reads any member repeats the whole
// group insert with the same token, reading the members it does not hold from Kafka itself
// (range-reader.ts). Here a previous loader's group is left committed but not past, as after a crash
// between its range commit and its commit past the insert: first nothing had landed (one loader
// repeats it), then it had (two loaders splitting the partitions repeat it again; ClickHouse drops it).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { migrate } from '../../src/clickhouse/migrate.js';
import { type Loader, startLoader } from '../../src/loader/loader.js';
import { type PartitionRange, rangeMetadata } from '../../src/loader/ranges.js';
import { makeTraces } from '../../src/loader/testdata/spans.js';
import { encodeProtobuf } from '../../src/otlp/codec.js';
import { until } from '../support/until.js';

const id = randomBytes(4).toString('hex');
const db = `sieve_combined_${id}`;
const topic = `combined_spans_${id}`;
const groupId = `g_combined_${id}`;
const brokers = [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'];
const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
const client = createClickHouseClient();
const loaders: Loader[] = [];
const PARTITIONS = 3;
const PER_PARTITION = 12;
const SPANS = 8;

before(async () => {
  await migrate({ client, database: db });
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
});

after(async () => {
  for (const l of loaders) await l.stop().catch(() => undefined);
  await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
  await admin.disconnect();
  await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
});

/** spans in otel_traces, and distinct span ids among them */
async function counts(): Promise<{ rows: number; spans: number }> {
  const rs = await client.query({
    query: `SELECT count() AS rows, uniqExact(TraceId, SpanId) AS spans FROM ${db}.otel_traces`,
    format: 'JSONEachRow',
  });
  const [r] = (await rs.json()) as { rows: string; spans: string }[];
  return { rows: Number(r?.rows ?? 0), spans: Number(r?.spans ?? 0) };
}

/**
 * Produces `n` messages of SPANS spans to every partition, numbered from `seq0` (distinct spans). All
 * land in one table partition (within an hour of testdata's BASE): ClickHouse's deduplication is per
 * table partition, so a token repeated with other rows would show.
 */
async function produce(n: number, seq0: number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  for (let p = 0; p < PARTITIONS; p++)
    await producer.send({
      topic,
      messages: Array.from({ length: n }, (_, i) => ({
        partition: p,
        value: Buffer.from(encodeProtobuf('traces', makeTraces(seq0 + p * n + i, SPANS))),
      })),
    });
  await producer.disconnect();
}

/** Commits, as the loaders' group (no loader running), every member's range as a loader does before a combined insert. */
async function commitGroupRanges(group: PartitionRange[]): Promise<void> {
  const consumer = kafka.consumer({ groupId });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => {} });
  await until('the committing consumer joined', async () => joined, 30_000);
  await consumer.commitOffsets(
    group.map((g) => ({ topic, partition: g.partition, offset: g.first, metadata: rangeMetadata({ ...g, group }) })),
  );
  await consumer.disconnect();
}

/** the group's committed offset per partition */
async function committedOffsets(): Promise<string[]> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return [...(t?.partitions ?? [])].sort((a, b) => a.partition - b.partition).map((p) => p.offset);
}

function loader(): Promise<Loader> {
  return startLoader({
    brokers,
    topics: { [topic]: 'traces' },
    groupId,
    client,
    database: db,
    logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
    registry: new Registry(),
    // a few messages per fetch: the committed ranges are longer than the first fetch
    batch: { maxBytes: 20_000, maxWaitMs: 100 },
  });
}

test('a combined insert left committed is repeated whole: once, then dropped as a duplicate', {
  timeout: 180_000,
}, async () => {
  await produce(PER_PARTITION, 0);
  // the previous loader's combined insert: 0-7 on every partition (the rest of each partition after it)
  const group = Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, first: '0', last: '7' }));
  const total = PARTITIONS * PER_PARTITION * SPANS;

  // nothing of it had landed: one loader repeats it, reading the members from Kafka, then goes on
  await commitGroupRanges(group);
  const one = await loader();
  loaders.push(one);
  await until('every span loaded once', async () => (await counts()).rows >= total, 60_000);
  await until(
    'committed past every message',
    async () => (await committedOffsets()).every((o) => o === String(PER_PARTITION)),
    30_000,
  );
  await one.stop();
  loaders.pop();
  assert.deepEqual(await counts(), { rows: total, spans: total });

  // it had landed: the same ranges committed again, two loaders split the partitions and each repeats
  // the whole group insert with the same token; ClickHouse keeps one, the rest of each partition loads once
  await commitGroupRanges(group);
  loaders.push(await loader(), await loader());
  await produce(4, PARTITIONS * PER_PARTITION);
  const more = total + PARTITIONS * 4 * SPANS;
  await until('the new messages loaded', async () => (await counts()).rows >= more, 90_000);
  await until(
    'committed past every message',
    async () => (await committedOffsets()).every((o) => o === String(PER_PARTITION + 4)),
    30_000,
  );
  await new Promise((r) => setTimeout(r, 2000)); // a duplicate would land by now
  assert.deepEqual(await counts(), { rows: more, spans: more });
});
