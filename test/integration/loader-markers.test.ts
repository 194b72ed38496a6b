// A transactional producer (`sieve dlq replay`, or any other) ends each transaction with a commit
// marker: a record of its own, which no consumer is handed. The loader commits past the markers that
// follow its last message, so the group's offset reaches the end of the topic and its lag gauge reads
// 0 once everything is loaded, instead of 1 for ever (a stall to Burrow and to lag alerts).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { migrate } from '../../src/clickhouse/migrate.js';
import type { Loader } from '../../src/loader/loader.js';
import { makeTraces } from '../../src/loader/testdata/spans.js';
import { encodeProtobuf } from '../../src/otlp/codec.js';
import { deleteTopics } from '../support/kafka-harness.js';
import { startTestLoader } from '../support/test-loader.js';
import { until } from '../support/until.js';

const runId = randomBytes(4).toString('hex');
const brokers = [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'];
const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
const client = createClickHouseClient();
const db = `sieve_markers_${runId}`;
const topic = `markers_spans_${runId}`;
const groupId = `g_markers_${runId}`;
let loader: Loader | undefined;

async function scalar(sql: string): Promise<number> {
  const rs = await client.query({ query: sql, format: 'JSONEachRow' });
  return Number(Object.values(((await rs.json()) as Record<string, unknown>[])[0] ?? {})[0] ?? 0);
}

after(async () => {
  await loader?.stop().catch(() => undefined);
  await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
  await deleteTopics([topic, `${topic}.dlq`]);
});

test("transactions' commit markers: the loader's offset reaches the end of the topic and its lag reads 0", async () => {
  await migrate({ client, database: db });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  const PER = 5;
  const producer = kafka.producer({ transactionalId: `markers_${runId}`, maxInFlightRequests: 1, idempotent: true });
  await producer.connect();
  /** one transaction of `n` messages (offsets: n records, then the commit marker) */
  const transaction = async (from: number, n: number) => {
    const tx = await producer.transaction();
    const messages = Array.from({ length: n }, (_, i) => ({
      key: `m${from + i}`,
      value: Buffer.from(encodeProtobuf('traces', makeTraces(from + i, PER))),
    }));
    await tx.send({ topic, messages });
    await tx.commit();
  };
  const registry = new Registry();
  const endOffsets = async () => {
    const [end] = await admin.fetchTopicOffsets(topic);
    const [committed] = (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions;
    return { end: end!.high, committed: committed!.offset };
  };
  const lag = async () =>
    Number(/sieve_loader_consumer_lag\{[^}]*\} (\d+)/.exec(await registry.metrics())?.[1] ?? Number.NaN);
  /** `spans` rows loaded, the group's offset at the topic's end `end` (past the marker), the lag gauge at 0 */
  const caughtUp = async (what: string, spans: number, end: string) => {
    await until(`${what} loaded`, async () => (await scalar(`SELECT count() FROM ${db}.otel_traces`)) >= spans);
    await until(`offsets committed past ${what}'s marker`, async () => {
      const now = await endOffsets();
      return now.end === end && now.committed === end;
    });
    assert.equal(await lag(), 0);
  };
  try {
    await transaction(0, 3); // offsets 0–2, marker 3
    loader = await startTestLoader({ topic, groupId, client, database: db, registry });
    await caughtUp('the first transaction', 3 * PER, '4');

    // a second transaction while the loader runs: offsets 4–5, marker 6
    await transaction(3, 2);
    await caughtUp('the second transaction', 5 * PER, '7');
    await new Promise((r) => setTimeout(r, 1000)); // a duplicate insert would have landed by now
    assert.equal(await scalar(`SELECT count() FROM ${db}.otel_traces`), 5 * PER, 'every span exactly once');
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
});
