// A loader that starts before any receiver (services started together on a new cluster, the local
// broker with topic auto-creation off) creates the topics it reads (and their dead-letter topics), as
// the receiver does, and loads what is sent to them: before, it failed to subscribe ("This server
// does not host this topic-partition") and exited. Real Kafka and ClickHouse engine (npm run services).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { migrate } from '../../src/clickhouse/migrate.js';
import { TOPIC_PARTITIONS } from '../../src/kafka/topics.js';
import { startLoader } from '../../src/loader/loader.js';
import { makeTraces } from '../../src/loader/testdata/spans.js';
import { encodeProtobuf } from '../../src/otlp/codec.js';
import { deleteTopics } from '../support/kafka-harness.js';

const id = randomBytes(4).toString('hex');
const brokers = [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'];
const client = createClickHouseClient();
const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
const db = `sieve_missing_topic_${id}`;
const topic = `it_missing_topic_${id}`;

after(async () => {
  await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
  await deleteTopics([topic, `${topic}.dlq`]);
});

test('a loader started before its topic exists creates it (as the receiver would) and loads what is then sent', {
  timeout: 90_000,
}, async () => {
  await migrate({ client, database: db });
  const admin = kafka.admin();
  await admin.connect();
  try {
    assert.ok(!(await admin.listTopics()).includes(topic), 'the topic does not exist before the loader starts');
    const loader = await startLoader({
      brokers,
      topics: { [topic]: 'traces' },
      groupId: `g_missing_topic_${id}`,
      client,
      database: db,
      logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
      registry: new Registry(),
      batch: { maxWaitMs: 100 },
    });
    try {
      const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      assert.equal(metadata?.partitions.length, TOPIC_PARTITIONS, "the receiver's partition count");
      assert.ok((await admin.listTopics()).includes(`${topic}.dlq`), 'and its dead-letter topic');
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic, messages: [{ value: Buffer.from(encodeProtobuf('traces', makeTraces(7, 5))) }] });
      await producer.disconnect();
      let rows = 0;
      for (
        const end = Date.now() + 60_000;
        Date.now() < end && rows < 5;
        await new Promise((r) => setTimeout(r, 200))
      ) {
        const rs = await client.query({ query: `SELECT count() AS n FROM ${db}.otel_traces`, format: 'JSONEachRow' });
        rows = Number(((await rs.json()) as { n: string }[])[0]?.n ?? 0);
      }
      assert.equal(rows, 5, 'the five spans sent after the loader started are loaded');
    } finally {
      await loader.stop();
    }
  } finally {
    await admin.disconnect();
  }
});
