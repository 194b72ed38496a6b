// A topic written with zstd (a Collector's `producer.compression: zstd`, here Kafka's own Java
// producer) loads into ClickHouse like any other: before, the loader stopped at the first batch
// ("a zstd-compressed batch: Sieve reads gzip, lz4, snappy, none"). Real Kafka, the Java client from
// the broker's jars, and the ClickHouse engine (npm run services; Java 17+).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { migrate } from '../../src/clickhouse/migrate.js';
import { startLoader } from '../../src/loader/loader.js';
import { makeTraces } from '../../src/loader/testdata/spans.js';
import { encodeProtobuf } from '../../src/otlp/codec.js';
import { javaKafkaClient } from '../support/java-kafka-client.js';
import { BROKERS, deleteTopics, ensureTopicsRetry } from '../support/kafka-harness.js';

const id = randomBytes(4).toString('hex');
const client = createClickHouseClient();
const db = `sieve_zstd_${id}`;
const topic = `it_zstd_${id}`;
const dir = mkdtempSync(join(tmpdir(), 'sieve-zstd-'));

after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
  await deleteTopics([topic, `${topic}.dlq`]);
});

test('spans a Java producer wrote with zstd are loaded, every one, with nothing in the DLQ', {
  timeout: 120_000,
}, async () => {
  await migrate({ client, database: db });
  await ensureTopicsRetry([topic]);
  // 20 records of the same 50 spans (recent: older rows fall to the table's TTL), in one zstd batch
  const request = makeTraces(0, 50);
  const llmSpans = request.resourceSpans![0]!.scopeSpans![0]!.spans!.filter((s) =>
    s.attributes?.some((a) => a.key === 'gen_ai.provider.name'),
  ).length;
  const file = join(dir, 'traces.pb');
  writeFileSync(file, encodeProtobuf('traces', request));
  await javaKafkaClient('produce', BROKERS.join(','), file, '20', `${topic}=zstd`);
  const registry = new Registry();
  const loader = await startLoader({
    brokers: BROKERS,
    topics: { [topic]: 'traces' },
    groupId: `g_zstd_${id}`,
    client,
    database: db,
    logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
    registry,
    batch: { maxWaitMs: 100 },
  });
  try {
    const count = async () => {
      const rs = await client.query({
        query: `SELECT count() AS n, countIf(GenAiProvider = 'openai') AS llm FROM ${db}.otel_traces`,
        format: 'JSONEachRow',
      });
      const [row] = (await rs.json()) as { n: string; llm: string }[];
      return { rows: Number(row?.n ?? 0), llm: Number(row?.llm ?? 0) };
    };
    let seen = { rows: 0, llm: 0 };
    for (
      const end = Date.now() + 60_000;
      Date.now() < end && seen.rows < 1000;
      await new Promise((r) => setTimeout(r, 200))
    )
      seen = await count();
    assert.deepEqual(seen, { rows: 1000, llm: 20 * llmSpans }, 'every span, its AI columns decoded');
    const dlq = await registry.getSingleMetric('sieve_loader_dlq_messages_total')?.get();
    assert.equal(
      dlq?.values.reduce((n, v) => n + v.value, 0),
      0,
      'nothing went to the DLQ',
    );
  } finally {
    await loader.stop();
  }
});
