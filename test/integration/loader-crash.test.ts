// SIGKILL the loader mid-stream, restart it: exactly-once row counts (dedup tokens + commit after insert).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { after, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { migrate } from '../../src/clickhouse/migrate.js';
import { makeTraces } from '../../src/loader/testdata/spans.js';
import { encodeProtobuf } from '../../src/otlp/codec.js';

const id = randomBytes(4).toString('hex');
const db = `sieve_crash_${id}`;
const topic = `crash_spans_${id}`;
const client = createClickHouseClient();
const brokers = [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'];
const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) if (c.exitCode == null) c.kill('SIGKILL');
  await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
});

function runLoader(): ChildProcess {
  const c = spawn(
    process.execPath,
    ['--import', 'tsx', resolve(import.meta.dirname, '../../src/loader/run-from-env.ts')],
    {
      env: {
        ...process.env,
        CLICKHOUSE_DATABASE: db,
        LOADER_TOPICS: `${topic}:traces`,
        LOADER_GROUP: `g_${id}`,
        LOADER_OPS_PORT: '0',
        LOADER_MAX_BYTES: '30000',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  children.push(c);
  return c;
}
async function count(table: string, col = 'count()'): Promise<number> {
  const rs = await client.query({ query: `SELECT ${col} AS n FROM ${db}.${table}`, format: 'JSONEachRow' });
  return Number(((await rs.json()) as { n: string }[])[0]?.n ?? 0);
}

test('SIGKILL mid-stream then restart → counts exactly equal', async () => {
  await migrate({ client, database: db });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const BATCHES = 300;
  const PER = 20;
  for (let b = 0; b < BATCHES; b += 20) {
    await producer.send({
      topic,
      messages: Array.from({ length: 20 }, (_, i) => ({
        value: Buffer.from(encodeProtobuf('traces', makeTraces(b + i, PER))),
      })),
    });
  }
  await producer.disconnect();
  const total = BATCHES * PER;

  const first = runLoader();
  const t0 = Date.now();
  while ((await count('otel_traces')) < total / 5 && Date.now() - t0 < 60_000)
    await new Promise((r) => setTimeout(r, 100));
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  const atKill = await count('otel_traces');
  assert.ok(atKill > 0 && atKill < total, `killed mid-stream at ${atKill}/${total}`);

  const second = runLoader();
  const t1 = Date.now();
  while ((await count('otel_traces')) < total && Date.now() - t1 < 90_000) await new Promise((r) => setTimeout(r, 300));
  await new Promise((r) => setTimeout(r, 3000)); // any duplicate would land by now
  second.kill('SIGTERM');
  assert.equal(await count('otel_traces'), total);
  assert.equal(await count('spans_1m_v', 'sum(Calls)'), total);
});
