// Kafka → ClickHouse round trip through the real loader. Needs Kafka + ClickHouse (npm run services).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { migrate } from '../../src/clickhouse/migrate.js';
import { type Loader, startLoader } from '../../src/loader/loader.js';
import { parsePricing } from '../../src/loader/pricing.js';
import { BASE, makeTraces } from '../../src/loader/testdata/spans.js';
import { stringValue } from '../../src/otlp/anyvalue.js';
import { encodeProtobuf } from '../../src/otlp/codec.js';
import type { ExportLogsServiceRequest } from '../../src/otlp/model.js';

const id = randomBytes(4).toString('hex');
const db = `sieve_loader_${id}`;
const spansTopic = `it_spans_${id}`;
const logsTopic = `it_logs_${id}`;
const client = createClickHouseClient();
const kafka = new Kafka({ brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'], logLevel: logLevel.NOTHING });
const producer = kafka.producer({ allowAutoTopicCreation: true });
const registry = new Registry();
let loader: Loader | undefined;

before(async () => {
  await migrate({ client, database: db });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic: spansTopic, numPartitions: 2 }, { topic: logsTopic }],
    waitForLeaders: true,
  });
  await admin.disconnect();
  await producer.connect();
});
after(async () => {
  await loader?.stop();
  await producer.disconnect();
  await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
});

async function scalar(q: string): Promise<number> {
  const rs = await client.query({ query: q, format: 'JSONEachRow' });
  const rows = (await rs.json()) as Record<string, unknown>[];
  return Number(Object.values(rows[0] ?? {})[0] ?? 0);
}
async function waitFor(q: string, want: number, ms = Number(process.env.WAIT_MS ?? 60_000)): Promise<number> {
  const end = Date.now() + ms;
  let got = -1;
  while (Date.now() < end) {
    got = await scalar(q);
    if (got >= want) return got;
    await new Promise((r) => setTimeout(r, 300));
  }
  return got;
}

test('round trip: spans + logs load, garbage goes to the DLQ, rollups equal raw aggregates', async () => {
  const BATCHES = 40;
  const PER = 25;
  for (let b = 0; b < BATCHES; b++) {
    const msgs = [{ value: Buffer.from(encodeProtobuf('traces', makeTraces(b, PER))) }];
    if (b === 7) msgs.push({ value: Buffer.from([0xff, 0xff, 0xff, 0x0f, 0x01]) });
    await producer.send({ topic: spansTopic, messages: msgs });
  }
  const logs: ExportLogsServiceRequest = {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: stringValue('svc') }] },
        scopeLogs: [
          {
            logRecords: Array.from({ length: 50 }, (_, i) => ({
              timeUnixNano: (BASE + BigInt(i) * 10_000_000_000n).toString(),
              severityText: i % 2 ? 'INFO' : 'ERROR',
              severityNumber: i % 2 ? 9 : 17,
              body: stringValue(`line ${i}`),
            })),
          },
        ],
      },
    ],
  };
  await producer.send({ topic: logsTopic, messages: [{ value: Buffer.from(encodeProtobuf('logs', logs)) }] });

  loader = await startLoader({
    brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'],
    topics: { [spansTopic]: 'traces', [logsTopic]: 'logs' },
    groupId: `g_${id}`,
    client,
    database: db,
    logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
    registry,
    pricing: parsePricing('providers:\n  openai:\n    gpt-4o: {input_per_million: 2.5, output_per_million: 10}\n'),
    batch: { maxBytes: 20_000 },
  });
  const total = BATCHES * PER;
  assert.equal(await waitFor(`SELECT count() FROM ${db}.otel_traces`, total), total);
  assert.equal(await waitFor(`SELECT count() FROM ${db}.otel_logs`, 50), 50);

  // DLQ
  const dlqConsumer = kafka.consumer({ groupId: `dlq_${id}` });
  await dlqConsumer.connect();
  await dlqConsumer.subscribe({ topic: `${spansTopic}.dlq`, fromBeginning: true });
  const dlq = await new Promise<{ headers: Record<string, string> }>((resolve) => {
    void dlqConsumer.run({
      eachMessage: async ({ message }) =>
        resolve({ headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])) }),
    });
  });
  await dlqConsumer.disconnect();
  assert.equal(dlq.headers['original.topic'], spansTopic);
  assert.ok(dlq.headers.error);
  assert.match(
    await registry.metrics(),
    /sieve_loader_dlq_messages_total\{topic="it_spans_\w+",reason="undecodable"\} 1/,
  );
  assert.match(
    await registry.metrics(),
    /sieve_loader_cost_unknown_model_total\{provider="openai",model="mystery"\} \d+/,
  );
  // every span message has its age counted once its batch is in: BATCHES, and the one sent to the DLQ
  type Sample = { metricName?: string; labels: Record<string, unknown>; value: number };
  const ages = ((await registry.getSingleMetric('sieve_loader_message_age_seconds')?.get())?.values ?? []) as Sample[];
  const agesOf = (name: string) =>
    ages.find((v) => v.metricName === name && v.labels.topic === spansTopic && v.labels.le === undefined)?.value;
  assert.equal(agesOf('sieve_loader_message_age_seconds_count'), BATCHES + 1);
  const ageSum = agesOf('sieve_loader_message_age_seconds_sum') ?? -1;
  assert.ok(ageSum > 0 && ageSum < BATCHES * 120, `ages summed: ${ageSum} s`);

  // rollups vs raw
  const raw = `SELECT count() c, countIf(StatusCode='Error') e, sum(Duration) d FROM ${db}.otel_traces`;
  const rolled = `SELECT sum(Calls) c, sum(Errors) e, sum(DurationSumNs) d FROM ${db}.spans_1m_v`;
  const a = await (await client.query({ query: raw, format: 'JSONEachRow' })).json();
  const b = await (await client.query({ query: rolled, format: 'JSONEachRow' })).json();
  assert.deepEqual(b, a);
  const rawLlm = `SELECT count() c, sum(GenAiInputTokens) i, sum(GenAiOutputTokens) o, round(sum(GenAiCostUsd), 9) cost FROM ${db}.otel_traces WHERE GenAiOperation != ''`;
  const rolledLlm = `SELECT sum(Calls) c, sum(InputTokens) i, sum(OutputTokens) o, round(sum(CostUsd), 9) cost FROM ${db}.llm_1m_v`;
  assert.deepEqual(
    await (await client.query({ query: rolledLlm, format: 'JSONEachRow' })).json(),
    await (await client.query({ query: rawLlm, format: 'JSONEachRow' })).json(),
  );
  assert.ok((await scalar(`SELECT sum(GenAiCostUsd) FROM ${db}.otel_traces`)) > 0);
  // per-minute p90 within tolerance of exact quantile
  const q = (await (
    await client.query({
      query: `SELECT r.m m, r.p p, v.P90Ms * 1e6 t FROM (SELECT toStartOfMinute(toDateTime(Timestamp)) m, quantileExact(0.9)(Duration) p FROM ${db}.otel_traces GROUP BY m) r JOIN (SELECT Minute, sum(Calls) c, quantilesTDigestMerge(0.5,0.9,0.95,0.99)(DurationState)[2] / 1e6 AS P90Ms FROM ${db}.spans_1m GROUP BY Minute) v ON v.Minute = r.m`,
      format: 'JSONEachRow',
    })
  ).json()) as { p: number; t: number }[];
  assert.ok(q.length > 50);
  for (const r of q) assert.ok(Math.abs(Number(r.t) - Number(r.p)) <= 0.15 * Number(r.p) + 1e6, JSON.stringify(r));
  assert.equal(await scalar(`SELECT sum(Count) FROM ${db}.logs_1m_v`), 50);
});
