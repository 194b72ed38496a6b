// A Kafka batch the loader cannot read (past SIEVE_LOADER_MAX_BATCH_BYTES) holds only its own
// partition, and says so: logged with its offsets and the setting, a gauge, /readyz false. Before,
// kafkajs failed the whole fetch (every partition waited) with its logging off, and the loader stayed
// "ready" while it loaded nothing. Once the cause is gone it goes on, losing nothing. A consumer
// failure kafkajs does not restart after resolves `failed` (`sieve loader` then exits). Real Kafka
// and ClickHouse.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { migrate } from '../../src/clickhouse/migrate.js';
import { DEFAULT_MAX_BATCH_BYTES, setMaxBatchBytes } from '../../src/kafka/batch-bound.js';
import { makeTraces } from '../../src/loader/testdata/spans.js';
import { encodeProtobuf } from '../../src/otlp/codec.js';
import {
  BROKERS,
  consumeValues,
  createTopicWithConfig,
  deleteTopics,
  ensureTopicsRetry,
} from '../support/kafka-harness.js';
import { startTestLoader } from '../support/test-loader.js';
import { until } from '../support/until.js';

const id = randomBytes(4).toString('hex');
const client = createClickHouseClient();
const db = `sieve_fetchfail_${id}`;
const kafka = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING });
const topics: string[] = [];

after(async () => {
  setMaxBatchBytes(DEFAULT_MAX_BATCH_BYTES);
  await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
  await deleteTopics(topics);
});

/** A logger whose JSON lines are kept in `lines`; `next(match)` resolves with the first line matching. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const waiting: { match: RegExp; resolve: (line: Record<string, unknown>) => void }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      const line = JSON.parse(chunk.toString()) as Record<string, unknown>;
      lines.push(line);
      for (const w of waiting.splice(0)) {
        if (w.match.test(JSON.stringify(line))) w.resolve(line);
        else waiting.push(w);
      }
      done();
    },
  });
  const next = (match: RegExp) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const seen = lines.find((l) => match.test(JSON.stringify(l)));
      if (seen) resolve(seen);
      else waiting.push({ match, resolve });
    });
  return { logger: pino({ level: 'info' }, stream), lines, next };
}

const rowCount = async () => {
  const rs = await client.query({ query: `SELECT count() AS c FROM ${db}.otel_traces`, format: 'JSONEachRow' });
  return Number(((await rs.json()) as { c: string }[])[0]!.c);
};

async function produce(
  topic: string,
  messages: { partition: number; value: Buffer }[],
  compression?: CompressionTypes,
) {
  const producer = kafka.producer();
  await producer.connect();
  for (const m of messages) await producer.send({ topic, compression, messages: [m] });
  await producer.disconnect();
}

test('a batch past the limit holds only its partition: logged with its offsets, shown, not ready; raised, it goes on (to the DLQ)', {
  timeout: 180_000,
}, async () => {
  await migrate({ client, database: db });
  const topic = `it_fetchfail_${id}`;
  topics.push(topic, `${topic}.dlq`);
  await ensureTopicsRetry([topic], 60_000, 2);
  // partition 0: spans, 8 MiB of one byte in a gzip batch of a few KiB (which the broker takes), spans;
  // partition 1: spans. Each a batch of its own.
  const spans = (first: number) => ({ value: Buffer.from(encodeProtobuf('traces', makeTraces(first, 10))) });
  await produce(topic, [{ partition: 0, ...spans(0) }]);
  await produce(topic, [{ partition: 0, value: Buffer.alloc(8 * 1024 * 1024, 0x61) }], CompressionTypes.GZIP);
  await produce(topic, [
    { partition: 0, ...spans(10) },
    { partition: 1, ...spans(20) },
  ]);
  setMaxBatchBytes(2 * 1024 * 1024);

  const first = capturedLogger();
  const registry = new Registry();
  const loader = await startTestLoader({
    topic,
    groupId: `g_${id}`,
    client,
    database: db,
    logger: first.logger,
    registry,
  });
  try {
    const line = await first.next(/Kafka batch unreadable/);
    assert.equal(line.level, 50);
    assert.deepEqual([line.partition, line.firstOffset, line.lastOffset], [0, '1', '1']);
    assert.match(
      String(line.err),
      /a gzip batch would decompress to more than 2097152 bytes.*SIEVE_LOADER_MAX_BATCH_BYTES/,
    );
    // what comes before it, and the other partition, are loaded meanwhile (kafkajs alone fails the
    // whole fetch); what comes after it waits
    await until('the spans before the batch and of partition 1', async () => (await rowCount()) === 20, 60_000);
    assert.ok(!loader.isReady(), 'not ready while a partition waits');
    const metrics = await registry.metrics();
    assert.match(metrics, /sieve_loader_unreadable_partitions 1\b/);
    assert.match(metrics, /sieve_loader_consumer_crashes_total 0\b/);
  } finally {
    await loader.stop();
  }

  // the limit raised (as SIEVE_LOADER_MAX_BATCH_BYTES would be), the same group goes on from the batch
  setMaxBatchBytes(64 * 1024 * 1024);
  const second = capturedLogger();
  const again = await startTestLoader({ topic, groupId: `g_${id}`, client, database: db, logger: second.logger });
  try {
    const dead = await second.next(/message sent to the DLQ/);
    assert.equal(dead.partition, 0);
    assert.equal(dead.reason, 'undecodable');
    await until('the spans after the batch', async () => (await rowCount()) === 30, 60_000);
    await until('ready', () => again.isReady(), 30_000);
    assert.ok(!second.lines.some((l) => l.level === 50), 'no failure after the limit was raised');
  } finally {
    await again.stop();
  }
  // the 8 MiB value went to the DLQ whole: compressed, as it came, where uncompressed the broker refuses it
  const values = await consumeValues(`${topic}.dlq`, 1);
  assert.ok(values[0]!.equals(Buffer.alloc(8 * 1024 * 1024, 0x61)));
});

test('a failure kafkajs does not restart the consumer after (a dead letter the broker refuses) resolves `failed`', {
  timeout: 120_000,
}, async () => {
  await migrate({ client, database: db });
  const topic = `it_fetchfail_big_${id}`;
  topics.push(topic, `${topic}.dlq`);
  // the source topic takes the local broker's 8 MiB messages; its DLQ, made beforehand, 1 MiB
  await ensureTopicsRetry([topic]);
  await createTopicWithConfig(`${topic}.dlq`, { 'max.message.bytes': String(1024 * 1024) });
  // random bytes: not OTLP, and gzip cannot shrink them under the DLQ's limit
  await produce(topic, [{ partition: 0, value: randomBytes(3 * 1024 * 1024) }]);

  const { logger, next } = capturedLogger();
  const loader = await startTestLoader({ topic, groupId: `g_big_${id}`, client, database: db, logger });
  try {
    let err: Error | undefined;
    void loader.failed.then((e) => {
      err = e;
    });
    await until('the loader to resolve `failed`', () => err !== undefined, 60_000);
    assert.match(String(err?.message), /larger than the max message size/);
    const line = await next(/does not restart/);
    assert.equal(line.restart, false);
    assert.ok(!loader.isReady());
  } finally {
    await loader.stop();
  }
});
