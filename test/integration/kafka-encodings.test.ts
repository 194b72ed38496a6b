// otlp_json and otlp_proto on Kafka, both ways, against the real broker and ClickHouse engine:
// Sieve's exporter writes pdata's JSON; the loader reads topics in either encoding — messages as the
// OpenTelemetry Collector's kafka exporter wrote them (test/fixtures/collector-kafka, captured from a
// real Collector by test/collector/capture-kafka-fixtures.ts) and Sieve's own, one topic per signal
// or one topic several signals share (issue 12's config). Needs Kafka + ClickHouse (npm run services).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { kafkaSecurityOf, loaderTopicsOf } from '../../src/cli/kafka-access.js';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { migrate } from '../../src/clickhouse/migrate.js';
import { loadConfigText } from '../../src/config/load.js';
import { KafkaExporter } from '../../src/kafka/exporter.js';
import { startLoader } from '../../src/loader/loader.js';
import { messageToRows } from '../../src/loader/rows.js';
import { countItems, decodeProtobuf } from '../../src/otlp/codec.js';
import type { TopicFormat } from '../../src/otlp/kafka-value.js';
import type { RequestBySignal, Signal } from '../../src/otlp/model.js';
import { encodePdataJson } from '../../src/otlp/pdata-json.js';
import { scanTraces } from '../../src/otlp/raw-traces.js';
import type { KafkaExporterSettings } from '../../src/pipeline/api.js';
import { BROKERS, consumeValues, deleteTopics, ensureTopicsRetry, exporterSettings } from '../support/kafka-harness.js';
import { until } from '../support/until.js';

const id = randomBytes(4).toString('hex');
const client = createClickHouseClient();
const kafka = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING });
const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const SIGNALS: Signal[] = ['traces', 'logs', 'metrics'];
const TABLES: Record<Signal, string[]> = {
  traces: ['otel_traces'],
  logs: ['otel_logs'],
  metrics: [
    'otel_metrics_gauge',
    'otel_metrics_sum',
    'otel_metrics_histogram',
    'otel_metrics_exp_histogram',
    'otel_metrics_summary',
  ],
};
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'collector-kafka');
const topics: string[] = [];
const databases: string[] = [];

before(async () => {
  await ensureTopicsRetry([`kafka_enc_probe_${id}`]);
  topics.push(`kafka_enc_probe_${id}`);
});
after(async () => {
  await deleteTopics(topics.flatMap((t) => [t, `${t}.dlq`]));
  for (const db of databases) await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
});

async function newDatabase(name: string): Promise<string> {
  const db = `sieve_enc_${name}_${id}`;
  databases.push(db);
  // the test data is from 2023: keep it past the default 30-day TTL
  await migrate({ client, database: db, rawTtlDays: 3650 });
  return db;
}

async function produce(topic: string, values: Buffer[]): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    // a topic just created may not be served by its leader yet: retry that for a while
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value })) });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    await producer.disconnect();
  }
}

async function rows(db: string, table: string): Promise<string[]> {
  const rs = await client.query({ query: `SELECT * FROM ${db}.${table}`, format: 'JSONEachRow' });
  return ((await rs.json()) as unknown[]).map((r) => JSON.stringify(r)).sort();
}

async function count(db: string, table: string): Promise<number> {
  const rs = await client.query({ query: `SELECT count() AS n FROM ${db}.${table}`, format: 'JSONEachRow' });
  return Number(((await rs.json()) as { n: string }[])[0]?.n ?? 0);
}

/** Runs a loader over `topicsBySignal` into `db` until every table has `expected` rows, then stops it. */
async function load(
  db: string,
  topicMap: Record<string, Signal>,
  expected: Record<string, number>,
  topicFormats?: Record<string, TopicFormat>,
): Promise<void> {
  const loader = await startLoader({
    brokers: BROKERS,
    topics: topicMap,
    ...(topicFormats ? { topicFormats } : {}),
    groupId: `enc_${db}`,
    client,
    database: db,
    logger,
    registry: new Registry(),
  });
  try {
    for (const [table, n] of Object.entries(expected))
      await until(`${n} rows in ${db}.${table}`, async () => (await count(db, table)) >= n, 90_000);
  } finally {
    await loader.stop();
  }
  for (const [table, n] of Object.entries(expected)) assert.equal(await count(db, table), n, `${db}.${table}`);
}

const testdata = (s: Signal) => readFileSync(`src/otlp/testdata/${s}.pb`);

function encodedAs(topic: string, encoding: KafkaExporterSettings['encoding']): KafkaExporterSettings {
  return exporterSettings(topic, { clientId: 'enc-test', encoding, compression: 'gzip', timeoutMs: 10_000 });
}

test("Sieve's exporter writes otlp_json as the Collector's pdata does; requests batched into one message stay one JSON", async () => {
  const t = { traces: `enc_exp_traces_${id}`, logs: `enc_exp_logs_${id}`, metrics: `enc_exp_metrics_${id}` };
  topics.push(...Object.values(t));
  await ensureTopicsRetry(Object.values(t));
  const exporter = new KafkaExporter({ brokers: BROKERS, clientId: 'enc-test', logger, registry: new Registry() });
  await exporter.start();
  const batch = { sendBatchSize: 1_000_000, sendBatchMaxSize: 0, timeoutMs: 500 };
  try {
    // three requests per signal at once: one is sent at once (nothing in flight), the other two arrive
    // while it is in flight and go together in the next message (traces: decoded and kept encoded)
    await Promise.all([
      exporter.export('traces', decodeProtobuf('traces', testdata('traces')), encodedAs(t.traces, 'otlp_json'), batch),
      exporter.export('traces', decodeProtobuf('traces', testdata('traces')), encodedAs(t.traces, 'otlp_json'), batch),
      exporter.exportRawTraces(scanTraces(testdata('traces')).traces, encodedAs(t.traces, 'otlp_json'), batch),
      ...(['logs', 'metrics'] as const).flatMap((s) =>
        [1, 2, 3].map(() => exporter.export(s, decodeProtobuf(s, testdata(s)), encodedAs(t[s], 'otlp_json'), batch)),
      ),
    ]);
  } finally {
    await exporter.stop();
  }
  for (const s of SIGNALS) {
    // which request goes alone depends on timing; either way two messages, one of them two requests
    const [first, merged] = (await consumeValues(t[s], 2)).sort((a, b) => a.length - b.length);
    const one = decodeProtobuf(s, testdata(s)) as unknown as Record<string, unknown[]>;
    const key = Object.keys(one)[0] as string;
    const twice = {
      [key]: [...(one[key] as unknown[]), ...(one[key] as unknown[])],
    } as unknown as RequestBySignal[typeof s];
    assert.equal(first?.toString('utf8'), encodePdataJson(s, one as unknown as RequestBySignal[typeof s]), s);
    assert.equal(merged?.toString('utf8'), encodePdataJson(s, twice), s);
  }
  // and the loader loads them: 3 × the test data's items
  const db = await newDatabase('exp');
  await load(
    db,
    { [t.traces]: 'traces', [t.logs]: 'logs', [t.metrics]: 'metrics' },
    {
      otel_traces: 3 * countItems('traces', decodeProtobuf('traces', testdata('traces'))),
      otel_logs: 3 * countItems('logs', decodeProtobuf('logs', testdata('logs'))),
    },
  );
});

test("issue 12's exporter (one topic, encoding: json, traces and metrics): the loader routes each message by its signal", async () => {
  const topic = `enc_shared_${id}`;
  topics.push(topic);
  await ensureTopicsRetry([topic]);
  const yaml = `receivers:
  otlp:
    protocols:
      http:
processors:
  batch:
exporters:
  kafka:
    brokers: [ "${BROKERS.join('", "')}" ]
    topic: ${topic}
    encoding: json
    retry_on_failure:
      enabled: true
      max_elapsed_time: 10s
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [kafka]
    metrics:
      receivers: [otlp]
      processors: [batch]
      exporters: [kafka]
`;
  const r = loadConfigText(yaml, 'issue12.yaml', { env: {} });
  assert.deepEqual(r.issues, []);
  const config = r.config as NonNullable<typeof r.config>;
  const exporter = new KafkaExporter({
    brokers: BROKERS,
    clientId: 'enc-test',
    logger,
    registry: new Registry(),
    security: kafkaSecurityOf(config),
  });
  await exporter.start();
  try {
    for (const s of ['traces', 'metrics'] as const) {
      const p = config.pipelines[s];
      assert.ok(p);
      await exporter.export(s, decodeProtobuf(s, testdata(s)), p.exporter, p.batch);
    }
  } finally {
    await exporter.stop();
  }
  const { topics: topicMap, topicFormats } = loaderTopicsOf(config);
  assert.deepEqual(topicFormats[topic], { signals: ['traces', 'metrics'], encoding: 'auto' });
  // logs has no pipeline: the loader reads only the shared topic
  assert.deepEqual(topicMap, { [topic]: 'traces' });
  const db = await newDatabase('shared');
  const expectedDb = await newDatabase('shared_proto');
  // the same data through otlp_proto topics of its own, as the reference
  const ref = { traces: `enc_ref_traces_${id}`, metrics: `enc_ref_metrics_${id}` };
  topics.push(...Object.values(ref));
  await ensureTopicsRetry(Object.values(ref));
  await produce(ref.traces, [testdata('traces')]);
  await produce(ref.metrics, [testdata('metrics')]);
  const expected = expectedRows([
    ['traces', [testdata('traces')]],
    ['metrics', [testdata('metrics')]],
  ]);
  await load(expectedDb, { [ref.traces]: 'traces', [ref.metrics]: 'metrics' }, expected);
  await load(db, topicMap, expected, topicFormats);
  for (const table of [...TABLES.traces, ...TABLES.metrics])
    assert.deepEqual(await rows(db, table), await rows(expectedDb, table), table);
});

/** Captured Collector messages: <encoding>/<signal>.<n>.{json,pb} (see the capture script). */
function collectorMessages(encoding: 'otlp_json' | 'otlp_proto', signal: Signal): Buffer[] {
  const dir = join(FIXTURES, encoding);
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${signal}.`))
    .sort()
    .map((f) => readFileSync(join(dir, f)));
}

test("messages as the Collector's kafka exporter writes them, otlp_json and otlp_proto in two topics per signal: both load, the same rows", {
  skip: !existsSync(FIXTURES) && 'no captured Collector fixtures',
}, async () => {
  const byEncoding = { otlp_json: {} as Record<string, Signal>, otlp_proto: {} as Record<string, Signal> };
  for (const enc of ['otlp_json', 'otlp_proto'] as const) {
    for (const s of SIGNALS) {
      const topic = `enc_col_${enc}_${s}_${id}`;
      topics.push(topic);
      await ensureTopicsRetry([topic]);
      const values = collectorMessages(enc, s);
      assert.ok(values.length > 0, `fixtures for ${enc} ${s}`);
      await produce(topic, values);
      byEncoding[enc][topic] = s;
    }
  }
  const proto = await newDatabase('col_proto');
  const json = await newDatabase('col_json');
  // as many rows as the protobuf messages hold spans, log records and data points
  const expected = expectedRows(SIGNALS.map((s) => [s, collectorMessages('otlp_proto', s)]));
  await load(proto, byEncoding.otlp_proto, expected);
  await load(json, byEncoding.otlp_json, expected);
  for (const s of SIGNALS)
    for (const table of TABLES[s]) assert.deepEqual(await rows(json, table), await rows(proto, table), table);
});

/** Rows per table the loader makes of these protobuf messages. */
function expectedRows(messages: [Signal, Buffer[]][]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [signal, values] of messages)
    for (const value of values)
      for (const [table, r] of messageToRows(signal, value)) out[table] = (out[table] ?? 0) + r.rows;
  return out;
}
