/**
 * Issue 12's Collector config as a platform team brings it (collector-config/examples/agent-events.yaml),
 * run by `sieve all` with only its endpoints changed (OTLP ports, the broker, a topic and database of
 * this test's own): the real OpenTelemetry JS SDK sends spans over OTLP/gRPC and over OTLP/HTTP; in
 * Kafka the messages are otlp_json (`encoding: json`) with the transform's span names, user_id as the
 * pipeline's HMAC and user_email gone; the loader loads the shared traces + metrics topic into
 * ClickHouse with the same values.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { Kafka, logLevel } from 'kafkajs';
import { BROKERS, deleteTopics } from '../support/kafka-harness.js';
import { freePort, type SieveProcess, startSieveAll, stopSieve, waitFor200 } from '../support/sieve-process.js';

const id = randomBytes(4).toString('hex');
const topic = `agent_events_${id}`;
const database = `dropin_${id}`;
const KEY = randomBytes(32).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'sieve-dropin-'));
const clickhouse = createClient({ url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123' });
const hmac = (v: string) => createHmac('sha256', KEY).update(v).digest('hex');
let sieve: SieveProcess;

/** The example with only endpoints changed (a topic of this test's own, so runs do not mix). */
function configText(ports: { otlp: number; grpc: number }): string {
  const text = readFileSync('collector-config/examples/agent-events.yaml', 'utf8');
  const changed = text
    .replace('      http:\n', `      http:\n        endpoint: 127.0.0.1:${ports.otlp}\n`)
    .replace('      grpc:\n', `      grpc:\n        endpoint: 127.0.0.1:${ports.grpc}\n`)
    .replace('[ "kafka:9092" ]', JSON.stringify(BROKERS))
    .replace('topic: agent_events_v1', `topic: ${topic}`);
  assert.notEqual(changed, text);
  return changed;
}

async function sendSpans(exporter: SpanExporter, via: string): Promise<void> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': `dropin-${via}-${id}` }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('dropin');
  for (const name of ['', 'already named']) {
    const span = tracer.startSpan(name, {
      attributes: {
        agent: 'order_bot',
        route: `/${via}`,
        user_id: `u-${via}-${id}`,
        user_email: `${via}.${id}@example.com`,
      },
    });
    span.end();
  }
  await provider.forceFlush();
  await provider.shutdown();
}

let ports: { otlp: number; grpc: number };

before(
  async () => {
    ports = { otlp: await freePort(), grpc: await freePort() };
    const configPath = join(dir, 'agent-events.yaml');
    writeFileSync(configPath, configText(ports));
    writeFileSync(join(dir, 'hash.key'), KEY);
    const admin = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
    sieve = await startSieveAll({
      configPath,
      hashKeyFile: join(dir, 'hash.key'),
      loaderGroup: `dropin-${id}`,
      database,
    });
    await waitFor200(`http://127.0.0.1:${sieve.ports.loaderOps}/readyz`, sieve, 90_000);
    await waitFor200(`http://127.0.0.1:${sieve.ports.receiverOps}/readyz`, sieve, 90_000);
  },
  { timeout: 180_000 },
);

after(async () => {
  if (sieve) await stopSieve(sieve);
  await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => {});
  await clickhouse.close();
  await deleteTopics([topic]).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

test('the issue 12 Collector config runs: gRPC and HTTP in, transform and hashing in Kafka (otlp_json) and ClickHouse', {
  timeout: 180_000,
}, async () => {
  await sendSpans(new GrpcTraceExporter({ url: `http://127.0.0.1:${ports.grpc}` }), 'grpc');
  await sendSpans(new HttpTraceExporter({ url: `http://127.0.0.1:${ports.otlp}/v1/traces` }), 'http');

  // Kafka: otlp_json messages, as the Collector's kafka exporter writes them
  const consumer = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING }).consumer({
    groupId: `dropin-read-${id}`,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  // biome-ignore lint/suspicious/noExplicitAny: OTLP/JSON read back from Kafka
  const spans: any[] = [];
  const raw: string[] = [];
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        const text = message.value?.toString('utf8') ?? '';
        raw.push(text);
        const body = JSON.parse(text);
        for (const rs of body.resourceSpans ?? [])
          for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
        if (spans.length >= 4) resolve();
      },
    });
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    done,
    new Promise((_, no) => {
      timer = setTimeout(() => no(new Error(`${spans.length} of 4 spans in Kafka\n${sieve.log()}`)), 60_000);
    }),
  ]);
  clearTimeout(timer);
  await consumer.disconnect();

  const byRoute = (via: string) => spans.filter((s) => JSON.stringify(s).includes(`"/${via}"`));
  for (const via of ['grpc', 'http']) {
    const names = byRoute(via)
      .map((s) => s.name)
      .sort();
    assert.deepEqual(names, [`order_bot:/${via}`, 'already named'].sort(), via);
    for (const s of byRoute(via)) {
      const attr = (k: string) => s.attributes.find((a: { key: string }) => a.key === k)?.value?.stringValue;
      assert.equal(attr('user_id'), hmac(`u-${via}-${id}`), `${via}: user_id hashed with the pipeline's key`);
      assert.equal(attr('user_email'), undefined, `${via}: user_email deleted`);
    }
  }
  for (const text of raw) {
    assert.ok(!text.includes(`u-grpc-${id}`) && !text.includes(`u-http-${id}`), 'no clear user_id in Kafka');
    assert.ok(!text.includes(`@example.com`), 'no email in Kafka');
  }

  // ClickHouse: the loader reads the shared otlp_json topic
  const deadline = Date.now() + 90_000;
  let rows: { SpanName: string; UserId: string; Email: string }[] = [];
  while (Date.now() < deadline) {
    rows = (await (
      await clickhouse.query({
        query: `SELECT SpanName, SpanAttributes['user_id'] AS UserId, SpanAttributes['user_email'] AS Email
          FROM ${database}.otel_traces WHERE ServiceName LIKE 'dropin-%-${id}' ORDER BY SpanName`,
        format: 'JSONEachRow',
      })
    ).json()) as typeof rows;
    if (rows.length >= 4) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.deepEqual(
    rows.map((r) => r.SpanName),
    ['already named', 'already named', 'order_bot:/grpc', 'order_bot:/http'],
    sieve.log(),
  );
  for (const r of rows) {
    assert.match(r.UserId, /^[0-9a-f]{64}$/);
    assert.equal(r.Email, '');
  }
});
