// SIEVE_LOADER_INSERT_FORMAT=Native: the same messages give the same otel_traces rows and rollups as
// RowBinary — every column, events, links, GenAI, attribute maps with hundreds of distinct keys — in
// the real ClickHouse engine (npm run services).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { migrate } from '../../src/clickhouse/migrate.js';
import { startLoader } from '../../src/loader/loader.js';
import type { RowFormat } from '../../src/loader/rows.js';
import { BASE, makeTraces } from '../../src/loader/testdata/spans.js';
import { encodeProtobuf } from '../../src/otlp/codec.js';
import type { ExportTraceServiceRequest } from '../../src/otlp/model.js';
import { until } from '../support/until.js';

const id = randomBytes(4).toString('hex');
const topic = `it_native_${id}`;
const brokers = [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'];
const client = createClickHouseClient();
const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
const databases: Record<RowFormat, string> = { RowBinary: `sieve_rb_${id}`, Native: `sieve_native_${id}` };

/** A span with everything: events (with attributes), links, status, unicode, 300 distinct attribute keys. */
function richRequest(i: number): ExportTraceServiceRequest {
  const start = BASE + BigInt(i) * 1_000_000_000n;
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'checkout ☃' } },
            { key: 'deployment.environment.name', value: { stringValue: 'prod' } },
          ],
        },
        scopeSpans: [
          {
            scope: { name: 'openinference', version: '1.0' },
            spans: [
              {
                traceId: randomBytes(16),
                spanId: randomBytes(8),
                parentSpanId: randomBytes(8),
                traceState: 'k=v',
                name: `llm call ${i}`,
                kind: 3,
                startTimeUnixNano: start.toString(),
                endTimeUnixNano: (start + 2_500_000n).toString(),
                attributes: [
                  { key: 'llm.model_name', value: { stringValue: 'gpt-4o' } },
                  { key: 'llm.provider', value: { stringValue: 'openai' } },
                  { key: 'llm.token_count.prompt', value: { intValue: 1200 } },
                  { key: 'llm.token_count.completion', value: { intValue: 80 } },
                  { key: 'ratio', value: { doubleValue: 0.25 } },
                  { key: 'flags', value: { arrayValue: { values: [{ boolValue: true }, { intValue: 7 }] } } },
                  ...Array.from({ length: 300 }, (_, k) => ({ key: `k.${i}.${k}`, value: { stringValue: `v${k}` } })),
                ],
                events: [
                  {
                    timeUnixNano: (start + 1_000n).toString(),
                    name: 'exception',
                    attributes: [{ key: 'exception.type', value: { stringValue: 'Timeout' } }],
                  },
                  { timeUnixNano: (start + 2_000n).toString(), name: 'retry' },
                ],
                links: [
                  {
                    traceId: randomBytes(16),
                    spanId: randomBytes(8),
                    traceState: 'a=b',
                    attributes: [{ key: 'link.kind', value: { stringValue: 'follows' } }],
                  },
                ],
                status: { code: 2, message: 'timed out' },
              },
            ],
          },
        ],
      },
    ],
  };
}

before(async () => {
  for (const db of Object.values(databases)) await migrate({ client, database: db });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const messages = [];
  for (let b = 0; b < 30; b++) messages.push({ value: Buffer.from(encodeProtobuf('traces', makeTraces(b, 40))) });
  for (let i = 0; i < 5; i++) messages.push({ value: Buffer.from(encodeProtobuf('traces', richRequest(i))) });
  await producer.send({ topic, messages });
  await producer.disconnect();
});
after(async () => {
  for (const db of Object.values(databases)) await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
});

async function rows(sql: string): Promise<string> {
  return (await client.query({ query: sql, format: 'TabSeparated' })).text();
}

test('RowBinary and Native inserts of the same messages: identical otel_traces and rollups', {
  timeout: 120_000,
}, async () => {
  const EXPECTED = 30 * 40 + 5;
  const logs: { msg?: string; table?: string; format?: string }[] = [];
  for (const format of ['RowBinary', 'Native'] as const) {
    const loader = await startLoader({
      brokers,
      topics: { [topic]: 'traces' },
      groupId: `g_${format}_${id}`,
      client,
      database: databases[format],
      logger: pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) }),
      registry: new Registry(),
      insertFormat: format,
    });
    try {
      await until(
        `${format} rows`,
        async () => Number(await rows(`SELECT count() FROM ${databases[format]}.otel_traces`)) >= EXPECTED,
      );
    } finally {
      await loader.stop();
    }
  }
  assert.deepEqual(
    logs.filter((l) => l.msg === 'loader insert format').map((l) => `${l.table} ${l.format}`),
    ['otel_traces RowBinary', 'otel_traces Native'],
  );
  const table = (db: string) =>
    rows(
      `SELECT * EXCEPT (TraceId, SpanId, ParentSpanId, \`Links.TraceId\`, \`Links.SpanId\`) FROM ${db}.otel_traces ORDER BY Timestamp, SpanName`,
    );
  const [rb, native] = await Promise.all([table(databases.RowBinary), table(databases.Native)]);
  assert.equal(rb.trim().split('\n').length, EXPECTED);
  assert.equal(native, rb);
  // the ids (random per run) are the same too: compare them as sets
  const ids = (db: string) =>
    rows(`SELECT TraceId, SpanId, ParentSpanId FROM ${db}.otel_traces ORDER BY TraceId, SpanId`);
  assert.equal(await ids(databases.Native), await ids(databases.RowBinary));
  const rollup = (db: string) =>
    rows(`SELECT ServiceName, sum(Calls), sum(Errors) FROM ${db}.spans_1m_v GROUP BY ServiceName ORDER BY ServiceName`);
  assert.equal(await rollup(databases.Native), await rollup(databases.RowBinary));
  const llm = (db: string) =>
    rows(
      `SELECT GenAiProvider, GenAiRequestModel, sum(GenAiInputTokens), sum(GenAiOutputTokens), round(sum(GenAiCostUsd), 9) FROM ${db}.otel_traces GROUP BY 1, 2 ORDER BY 1, 2`,
    );
  const llmRows = await llm(databases.Native);
  assert.equal(llmRows, await llm(databases.RowBinary));
  assert.match(llmRows, /openai\tgpt-4o\t/, 'OpenInference and GenAI semconv spans resolved in both');
  const wide = await rows(
    `SELECT length(SpanAttributes), Events.Name, StatusMessage FROM ${databases.Native}.otel_traces WHERE SpanName = 'llm call 3'`,
  );
  assert.equal(wide.trim(), "306\t['exception','retry']\ttimed out");
});
