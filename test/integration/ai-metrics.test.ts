/**
 * Agents that send only metrics, through the real OpenTelemetry JS SDK (OTLP/HTTP protobuf) to
 * `sieve all`: GenAI semconv histograms with cumulative temporality across a process restart, a
 * Prometheus-style counter with delta temporality; tokens, cost and latency are read with the AI
 * dashboard's own queries. A counter reset without a new start time, and an agent that sends spans and
 * metrics (counted once), are checked too.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { AggregationTemporalityPreference } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { buildDashboards } from '../../src/grafana/dashboards.js';
import { ALL, expandGrafanaMacros } from '../support/grafana-macros.js';
import { deleteTopics, presetWithTopics } from '../support/kafka-harness.js';
import { startSieveAll, waitFor200 } from '../support/sieve-process.js';
import { until } from '../support/until.js';

const id = randomBytes(4).toString('hex');
const database = `aimet_${id}`;
const prefix = `aimet_${id}`;
const topics = ['otlp_spans', 'otlp_logs', 'otlp_metrics'].map((t) => `${prefix}_${t}`);
const clickhouse = createClient({ url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123' });
const dir = mkdtempSync(join(tmpdir(), 'sieve-aimet-'));
let sieve: ChildProcess;
let ports: { otlp: number; receiverOps: number; loaderOps: number };
const t0 = Date.now();

/** One agent process: a MeterProvider exporting on demand (forceFlush). */
function agentProcess(service: string, temporality: AggregationTemporalityPreference) {
  const reader = new PeriodicExportingMetricReader({
    exporter: new OTLPMetricExporter({
      url: `http://127.0.0.1:${ports.otlp}/v1/metrics`,
      temporalityPreference: temporality,
    }),
    exportIntervalMillis: 3_600_000,
  });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'tenant.id': 'acme' }),
    readers: [reader],
  });
  return { meter: provider.getMeter('agent'), provider };
}

async function rows<T>(query: string): Promise<T[]> {
  return (await (await clickhouse.query({ query, format: 'JSONEachRow' })).json()) as T[];
}

/** Runs an AI dashboard panel's SQL for one service, macros expanded as Grafana does. */
async function panel(title: string, service: string): Promise<Record<string, unknown>[]> {
  const ai = buildDashboards().find((d) => d.dashboard.uid === 'sieve-ai')!;
  const p = ai.dashboard.panels.find((x) => x.title === title)!;
  const target = p.targets[0] as { rawSql: string };
  const sql = expandGrafanaMacros(target.rawSql, {
    from: t0 - 3_600_000,
    to: Date.now() + 120_000,
    intervalMs: 3_600_000,
    vars: {
      tenant: { value: ALL, options: ['acme'] },
      service: { value: [service], options: [service] },
      environment: { value: ALL, options: [''] },
      model: { value: ALL, options: ['gpt-4o', 'gpt-4o-mini'] },
    },
  });
  // as Grafana runs it: unqualified tables in the datasource's database
  const db = createClient({ url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123', database });
  try {
    return (await (await db.query({ query: sql, format: 'JSONEachRow' })).json()) as Record<string, unknown>[];
  } finally {
    await db.close();
  }
}

const usage = async (service: string) =>
  (
    await rows<Record<string, string>>(
      `SELECT sum(Calls) AS Calls, sum(InputTokens) AS InputTokens, sum(OutputTokens) AS OutputTokens,
         round(sum(CostUsd), 9) AS CostUsd, groupUniqArray(Source) AS Sources
       FROM ${database}.llm_usage_1m_v(from = toDateTime(${Math.floor(t0 / 1000) - 3600}), to = now() + 120)
       WHERE ServiceName = '${service}'`,
    )
  )[0]!;

before(async () => {
  const configPath = join(dir, 'sieve.yaml');
  writeFileSync(configPath, presetWithTopics('ai-agents.yaml', prefix));
  writeFileSync(join(dir, 'hash.key'), randomBytes(32).toString('hex'));
  const started = await startSieveAll({
    configPath,
    hashKeyFile: join(dir, 'hash.key'),
    loaderGroup: `aimet-${id}`,
    database,
  });
  sieve = started.child;
  ports = started.ports;
  for (const port of [ports.receiverOps, ports.loaderOps]) await waitFor200(`http://127.0.0.1:${port}/readyz`, started);
});

after(async () => {
  if (sieve && sieve.exitCode === null) sieve.kill('SIGKILL');
  await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => {});
  await clickhouse.close();
  await deleteTopics([...topics, ...topics.map((t) => `${t}.dlq`)]);
  rmSync(dir, { recursive: true, force: true });
});

const SEMCONV_TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
const SEMCONV_DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

describe('metrics-only agents', () => {
  test('GenAI semconv histograms, cumulative, with a process restart: tokens, cost and latency', async () => {
    const service = `semconv-agent-${id}`;
    const attrs = {
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.operation.name': 'chat',
    };
    const calls = async (meter: ReturnType<typeof agentProcess>['meter'], n: number) => {
      const tokens = meter.createHistogram('gen_ai.client.token.usage', {
        unit: '{token}',
        advice: { explicitBucketBoundaries: SEMCONV_TOKEN_BUCKETS },
      });
      const duration = meter.createHistogram('gen_ai.client.operation.duration', {
        unit: 's',
        advice: { explicitBucketBoundaries: SEMCONV_DURATION_BUCKETS },
      });
      for (let i = 0; i < n; i++) {
        tokens.record(1000, { ...attrs, 'gen_ai.token.type': 'input' });
        tokens.record(200, { ...attrs, 'gen_ai.token.type': 'output' });
        duration.record(1.0, attrs);
      }
    };
    // process 1: 3 calls, export, 2 more calls, export (cumulative: 3, then 5)
    const p1 = agentProcess(service, AggregationTemporalityPreference.CUMULATIVE);
    await calls(p1.meter, 3);
    await p1.provider.forceFlush();
    await calls(p1.meter, 2);
    await p1.provider.forceFlush();
    await p1.provider.shutdown();
    // the process restarts: its counters start again from zero, with a new start time
    await new Promise((r) => setTimeout(r, 20));
    const p2 = agentProcess(service, AggregationTemporalityPreference.CUMULATIVE);
    await calls(p2.meter, 2);
    await p2.provider.forceFlush();
    await p2.provider.shutdown();

    let u: Record<string, string> = {};
    await until(
      'metrics in llm_usage_1m_v',
      async () => {
        u = await usage(service);
        return Number(u.InputTokens) >= 7000 && Number(u.Calls) >= 7;
      },
      90_000,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(u)}`);
    });
    // 7 calls in all, never negative, never doubled by the restart
    assert.equal(Number(u.Calls), 7);
    assert.equal(Number(u.InputTokens), 7000);
    assert.equal(Number(u.OutputTokens), 1400);
    assert.equal(Number(u.CostUsd), 0.0315, '7000 × 2.5 + 1400 × 10 per million');
    assert.deepEqual(u.Sources, ['metrics']);

    // the AI dashboard's own panels
    const [tokens] = await panel('Tokens (input + output)', service);
    assert.equal(Number(tokens?.Tokens), 8400);
    const [cost] = await panel('Cost', service);
    assert.ok(Math.abs(Number(cost?.CostUsd) - 0.0315) < 1e-9);
    const latency = await panel('Latency p50 / p95 by model', service);
    assert.equal(latency.length > 0, true, 'latency rows from the duration histogram');
    for (const r of latency) {
      // 1.0 s lands in the (0.64, 1.28] bucket: interpolated inside it, never outside
      assert.equal(r.Model, 'gpt-4o');
      assert.ok(Number(r.P50Ms) > 640 && Number(r.P50Ms) <= 1280, `p50 ${r.P50Ms}`);
      assert.ok(Number(r.P95Ms) > 640 && Number(r.P95Ms) <= 1280, `p95 ${r.P95Ms}`);
    }
  });

  test('Prometheus-style counter, delta temporality: llm_tokens_total{model, token_type}', async () => {
    const service = `prom-agent-${id}`;
    const p = agentProcess(service, AggregationTemporalityPreference.DELTA);
    const counter = p.meter.createCounter('llm_tokens_total');
    const duration = p.meter.createHistogram('llm_call_duration_seconds', {
      advice: { explicitBucketBoundaries: [0.1, 0.5, 1, 2, 5] },
    });
    counter.add(500, { model: 'gpt-4o-mini', provider: 'openai', token_type: 'prompt' });
    counter.add(50, { model: 'gpt-4o-mini', provider: 'openai', token_type: 'completion' });
    duration.record(0.3, { model: 'gpt-4o-mini', provider: 'openai' });
    await p.provider.forceFlush();
    counter.add(300, { model: 'gpt-4o-mini', provider: 'openai', token_type: 'prompt' });
    duration.record(0.4, { model: 'gpt-4o-mini', provider: 'openai' });
    await p.provider.forceFlush();
    await p.provider.shutdown();
    let u: Record<string, string> = {};
    await until(
      'delta metrics in llm_usage_1m_v',
      async () => {
        u = await usage(service);
        return Number(u.InputTokens) >= 800 && Number(u.Calls) >= 2;
      },
      90_000,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(u)}`);
    });
    assert.deepEqual([Number(u.Calls), Number(u.InputTokens), Number(u.OutputTokens)], [2, 800, 50]);
    assert.equal(Number(u.CostUsd), 0.00015, '800 × 0.15 + 50 × 0.6 per million (gpt-4o-mini)');
  });

  test('an agent sending spans and metrics is counted once, from its spans', async () => {
    const service = `both-agent-${id}`;
    const tp = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'tenant.id': 'acme' }),
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: new OTLPTraceExporter({ url: `http://127.0.0.1:${ports.otlp}/v1/traces` }),
          scheduledDelayMillis: 50,
        }),
      ],
    });
    const attrs = {
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.operation.name': 'chat',
    };
    tp.getTracer('t')
      .startSpan('chat gpt-4o', {
        attributes: { ...attrs, 'gen_ai.usage.input_tokens': 100, 'gen_ai.usage.output_tokens': 10 },
      })
      .end();
    await tp.forceFlush();
    await tp.shutdown();
    const p = agentProcess(service, AggregationTemporalityPreference.CUMULATIVE);
    p.meter
      .createHistogram('gen_ai.client.token.usage', { advice: { explicitBucketBoundaries: SEMCONV_TOKEN_BUCKETS } })
      .record(100, { ...attrs, 'gen_ai.token.type': 'input' });
    await p.provider.forceFlush();
    await p.provider.shutdown();
    await until(
      'the metric point in metrics_1m',
      async () =>
        Number(
          (
            await rows<{ n: string }>(
              `SELECT count() AS n FROM ${database}.metrics_1m WHERE ServiceName = '${service}'`,
            )
          )[0]?.n,
        ) > 0,
      90_000,
    );
    await until('the span in llm_1m', async () => Number((await usage(service)).InputTokens) >= 100, 90_000);
    const u = await usage(service);
    assert.equal(Number(u.InputTokens), 100, 'not 200');
    assert.deepEqual(u.Sources, ['spans']);
  });

  test('a counter reset without a new start time counts the new value, never a negative one', async () => {
    const service = `reset-${id}`;
    const minute = Math.floor(Date.now() / 60_000) * 60 - 600; // ten minutes ago, whole minutes
    const start = minute - 60;
    const points: [number, number][] = [
      [0, 100],
      [60, 160],
      [120, 20], // reset (Prometheus-style scrape of a restarted process, start time unknown and unchanged)
      [180, 50],
    ];
    await clickhouse.command({
      query: `INSERT INTO ${database}.otel_metrics_sum (ServiceName, MetricName, Attributes, StartTimeUnix, TimeUnix, Value,
        AggregationTemporality, IsMonotonic, TenantId, GenAiMetric, GenAiModel, GenAiTokenType, GenAiPricePerToken) VALUES
        ${points
          .map(
            ([dt, v]) =>
              `('${service}', 'llm_tokens_total', {'model': 'gpt-4o'}, toDateTime64(${start}, 9), toDateTime64(${minute + dt}, 9), ${v}, 2, true, 'acme', 'tokens', 'gpt-4o', 'input', 2.5e-6)`,
          )
          .join(',')}`,
    });
    const got = await rows<{ Value: number }>(
      `SELECT Value FROM ${database}.metrics_1m_v(from = toDateTime(${minute - 3600}), to = now())
       WHERE ServiceName = '${service}' ORDER BY Minute`,
    );
    // the first point is what accumulated since the (known) start: 100; then +60; reset: 20; then +30
    assert.deepEqual(
      got.map((r) => Number(r.Value)),
      [100, 60, 20, 30],
    );
    // read from inside the series: the first point in the window is a baseline, not its whole history
    const inside = await rows<{ Value: number }>(
      `SELECT Value FROM ${database}.metrics_1m_v(from = toDateTime(${minute + 120}), to = now())
       WHERE ServiceName = '${service}' ORDER BY Minute`,
    );
    assert.deepEqual(
      inside.map((r) => Number(r.Value)),
      [20, 30],
      'the lookback hour still sees the previous point',
    );
  });
});
