// ClickHouse stopped under a running loader: inserts are retried with backoff, /readyz goes false,
// nothing is committed or lost, and once ClickHouse is back every span lands exactly once and the
// group's committed offsets reach the end of the topic.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { migrate } from '../../src/clickhouse/migrate.js';
import type { Loader } from '../../src/loader/loader.js';
import { makeTraces } from '../../src/loader/testdata/spans.js';
import { encodeProtobuf } from '../../src/otlp/codec.js';
import { startTestLoader } from '../support/test-loader.js';
import { until } from '../support/until.js';

const CLICKHOUSE_SH = join(import.meta.dirname, '..', '..', 'deploy', 'local', 'clickhouse.sh');
const id = randomBytes(4).toString('hex');
const db = `sieve_chdown_${id}`;
const topic = `chdown_spans_${id}`;
const groupId = `g_chdown_${id}`;
const brokers = [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'];
const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
const client = createClickHouseClient();
const registry = new Registry();
let loader: Loader | undefined;

function clickhouse(cmd: 'start' | 'stop'): void {
  execFileSync('bash', [CLICKHOUSE_SH, cmd], { stdio: 'ignore', timeout: 180_000 });
}
async function count(): Promise<number> {
  const rs = await client.query({ query: `SELECT count() AS n FROM ${db}.otel_traces`, format: 'JSONEachRow' });
  return Number(((await rs.json()) as { n: string }[])[0]?.n ?? 0);
}
async function metric(name: string): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).reduce((s, v) => s + Number(v.value), 0);
}

after(async () => {
  clickhouse('start'); // never leave the shared engine down, whatever failed
  await loader?.stop().catch(() => undefined);
  await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
});

test('ClickHouse down: the loader retries, loses nothing, duplicates nothing, and commits after recovery', async () => {
  await migrate({ client, database: db });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
  const producer = kafka.producer();
  await producer.connect();
  const PER = 50;
  const send = async (from: number, n: number) => {
    for (let b = from; b < from + n; b++)
      await producer.send({ topic, messages: [{ value: Buffer.from(encodeProtobuf('traces', makeTraces(b, PER))) }] });
  };

  loader = await startTestLoader({
    topic,
    groupId,
    client,
    database: db,
    registry,
    batch: { maxBytes: 64 * 1024, maxWaitMs: 100 },
    retry: { initialMs: 100, maxMs: 1000 },
  });
  await send(0, 10);
  await until('the first 500 spans', async () => (await count()) === 10 * PER);
  assert.equal(loader.isReady(), true);

  clickhouse('stop');
  await send(10, 30); // accepted by Kafka while ClickHouse is down
  await until('insert retries', async () => (await metric('sieve_loader_insert_retries_total')) >= 3, 30_000);
  assert.equal(loader.isReady(), false, '/readyz must report ClickHouse as unavailable');
  const committedDuringOutage = await admin.fetchOffsets({ groupId, topics: [topic] });
  const committedSum = committedDuringOutage[0]!.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
  assert.ok(committedSum <= 10, `offsets of uninserted batches must not be committed (committed ${committedSum})`);

  clickhouse('start');
  await until('every span after recovery', async () => (await count()) >= 40 * PER, 90_000);
  await new Promise((r) => setTimeout(r, 2000)); // a duplicate insert would have landed by now
  assert.equal(await count(), 40 * PER, 'exactly once');
  assert.equal(loader.isReady(), true);

  await loader.stop();
  loader = undefined;
  const end = await admin.fetchTopicOffsets(topic);
  const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
  for (const p of end) {
    const c = committed[0]!.partitions.find((x) => x.partition === p.partition);
    assert.equal(c?.offset, p.high, `partition ${p.partition}: committed offset reaches the end of the topic`);
  }
  await producer.disconnect();
  await admin.disconnect();
});
