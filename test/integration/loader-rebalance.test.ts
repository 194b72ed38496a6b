// Scaling the loader out and back in while data flows: a second loader joins the group mid-stream
// (partitions move to it), then the first one stops (they move back). Every span lands exactly once.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { migrate } from '../../src/clickhouse/migrate.js';
import { type Loader, startLoader } from '../../src/loader/loader.js';
import { makeTraces } from '../../src/loader/testdata/spans.js';
import { encodeProtobuf } from '../../src/otlp/codec.js';
import { until } from '../support/until.js';

const id = randomBytes(4).toString('hex');
const db = `sieve_rebalance_${id}`;
const topic = `rebalance_spans_${id}`;
const groupId = `g_rebalance_${id}`;
const brokers = [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'];
const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
const client = createClickHouseClient();
const loaders: Loader[] = [];

after(async () => {
  for (const l of loaders) await l.stop().catch(() => undefined);
  await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
});

async function count(): Promise<number> {
  const rs = await client.query({ query: `SELECT count() AS n FROM ${db}.otel_traces`, format: 'JSONEachRow' });
  return Number(((await rs.json()) as { n: string }[])[0]?.n ?? 0);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function loader(): Promise<Loader> {
  return startLoader({
    brokers,
    topics: { [topic]: 'traces' },
    groupId,
    client,
    database: db,
    logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
    registry: new Registry(),
    batch: { maxBytes: 40_000, maxWaitMs: 100 },
  });
}

test('a loader joining and another leaving mid-stream: exactly once', { timeout: 180_000 }, async () => {
  await migrate({ client, database: db });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
  const producer = kafka.producer();
  await producer.connect();
  const MESSAGES = 900;
  const PER = 10;
  let sent = 0;
  const produce = (async () => {
    for (let b = 0; b < MESSAGES; b += 10) {
      const messages = Array.from({ length: 10 }, (_, i) => ({
        key: `k${b + i}`,
        value: Buffer.from(encodeProtobuf('traces', makeTraces(b + i, PER))),
      }));
      await producer.send({ topic, messages });
      sent += messages.length;
      await sleep(60);
    }
  })();

  const first = await loader();
  loaders.push(first);
  while (sent < MESSAGES / 3) await sleep(50);
  const second = await loader(); // rebalance: some partitions move to the second loader
  loaders.push(second);
  while (sent < (2 * MESSAGES) / 3) await sleep(50);
  await first.stop(); // rebalance: everything moves to the second loader
  loaders.shift();
  await produce;
  await producer.disconnect();

  const total = MESSAGES * PER;
  await until('every span', async () => (await count()) >= total, 90_000);
  await sleep(3000); // a late duplicate insert would have landed by now
  assert.equal(await count(), total, 'every span exactly once');

  const end = await admin.fetchTopicOffsets(topic);
  const committed = (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions;
  for (const p of end)
    assert.equal(committed.find((c) => c.partition === p.partition)?.offset, p.high, `partition ${p.partition}`);
  await admin.disconnect();
});
