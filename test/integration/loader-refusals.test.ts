// Rows ClickHouse refuses do not stop the partition: the refused messages (and only those) go to the
// DLQ with ClickHouse's error, every other span lands exactly once, rollups agree with the raw
// table, and the group's offsets reach the end of the topic; with RowBinary and with Native inserts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { migrate } from '../../src/clickhouse/migrate.js';
import type { Loader } from '../../src/loader/loader.js';
import type { RowFormat } from '../../src/loader/rows.js';
import { makeTraces } from '../../src/loader/testdata/spans.js';
import { encodeProtobuf } from '../../src/otlp/codec.js';
import { startTestLoader } from '../support/test-loader.js';
import { until } from '../support/until.js';

const runId = randomBytes(4).toString('hex');
const brokers = [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'];
const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
const client = createClickHouseClient();
let loader: Loader | undefined;
const databases: string[] = [];

async function scalar(sql: string): Promise<number> {
  const rs = await client.query({ query: sql, format: 'JSONEachRow' });
  return Number(Object.values(((await rs.json()) as Record<string, unknown>[])[0] ?? {})[0] ?? 0);
}

after(async () => {
  await loader?.stop().catch(() => undefined);
  for (const db of databases) await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
});

test('refused rows go to the DLQ per message; the rest of the batch lands and offsets are committed', () =>
  refusedRows('RowBinary'));

test('the same with Native inserts: a refused block is split and re-encoded down to the refused messages', () =>
  refusedRows('Native'));

async function refusedRows(insertFormat: RowFormat): Promise<void> {
  const id = `${runId}_${insertFormat.toLowerCase()}`;
  const db = `sieve_refused_${id}`;
  const topic = `refused_spans_${id}`;
  const groupId = `g_refused_${id}`;
  const registry = new Registry();
  databases.push(db);
  await migrate({ client, database: db });
  // the platform team's guard: a constraint ClickHouse enforces on every insert
  await client.command({
    query: `ALTER TABLE ${db}.otel_traces ADD CONSTRAINT no_poison CHECK SpanName != 'poison'`,
  });
  const admin = kafka.admin();
  await admin.connect();
  // one partition: all 40 messages come in one batch, and refusals must be found inside it
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });

  const MESSAGES = 40;
  const PER = 10;
  const poisoned = new Set([3, 4, 17, 39]); // neighbours, the middle and the last message of the batch
  const FAR_FUTURE = 12; // a span ending in 2300: no DateTime64(9) holds it
  const messages = [];
  for (let b = 0; b < MESSAGES; b++) {
    const req = makeTraces(b, PER);
    const spans = req.resourceSpans![0]!.scopeSpans![0]!.spans!;
    if (poisoned.has(b)) spans[b % PER]!.name = 'poison';
    if (b === FAR_FUTURE) spans[0]!.events = [{ timeUnixNano: '10413792000000000000', name: 'late' }];
    messages.push({ key: `m${b}`, value: Buffer.from(encodeProtobuf('traces', req)) });
  }
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages });
  await producer.disconnect();

  loader = await startTestLoader({ topic, groupId, client, database: db, registry, insertFormat });
  const good = (MESSAGES - poisoned.size - 1) * PER;
  await until('the accepted spans', async () => (await scalar(`SELECT count() FROM ${db}.otel_traces`)) >= good);

  const dlq: { key: string; headers: Record<string, string> }[] = [];
  const consumer = kafka.consumer({ groupId: `dlq_${id}` });
  await consumer.connect();
  await consumer.subscribe({ topic: `${topic}.dlq`, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
      dlq.push({ key: String(message.key), headers });
    },
  });
  await until('every DLQ message', async () => dlq.length >= poisoned.size + 1, 30_000);
  await consumer.disconnect();

  await new Promise((r) => setTimeout(r, 1000)); // a duplicate insert would have landed by now
  assert.equal(await scalar(`SELECT count() FROM ${db}.otel_traces`), good, 'every other span, exactly once');
  assert.equal(await scalar(`SELECT count() FROM ${db}.otel_traces WHERE SpanName = 'poison'`), 0);
  assert.equal(await scalar(`SELECT sum(Calls) FROM ${db}.spans_1m_v`), good, 'rollups match the raw table');

  const refused = dlq.filter((m) => m.headers.reason === 'refused');
  assert.deepEqual(refused.map((m) => m.key).sort(), [...poisoned].map((b) => `m${b}`).sort());
  for (const m of refused) {
    assert.equal(m.headers['refused.table'], 'otel_traces');
    assert.match(m.headers.error ?? '', /VIOLATED_CONSTRAINT|no_poison/);
    assert.equal(m.headers['original.topic'], topic);
  }
  const undecodable = dlq.filter((m) => m.headers.reason === 'undecodable');
  assert.deepEqual(
    undecodable.map((m) => m.key),
    [`m${FAR_FUTURE}`],
  );
  assert.match(undecodable[0]!.headers.error ?? '', /outside 1970-01-01 \.\. 2262-04-11/);
  assert.equal(loader.isReady(), true, 'refused rows are not a ClickHouse outage');

  const metrics = await registry.metrics();
  assert.match(metrics, new RegExp(`sieve_loader_dlq_messages_total\\{topic="${topic}",reason="refused"\\} 4`));
  assert.match(metrics, new RegExp(`sieve_loader_dlq_messages_total\\{topic="${topic}",reason="undecodable"\\} 1`));

  await until('offsets committed to the end', async () => {
    const [end] = await admin.fetchTopicOffsets(topic);
    const [committed] = (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions;
    return end?.high === String(MESSAGES) && committed?.offset === end.high;
  });
  await admin.disconnect();
  await loader.stop();
  loader = undefined;
}
