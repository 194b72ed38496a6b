import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildDashboards } from '../../../src/grafana/dashboards.js';
import * as Q from '../../../src/grafana/queries.js';
import type { StatsSnapshot } from '../../../src/stats/collect.js';
import { explainNoData, type NoDataFacts } from '../../../src/stats/diagnose.js';
import { type PipelineHealth, parsePrometheusText, sumOf } from '../../../src/stats/ops.js';
import { formatMs, formatUsd, renderStats } from '../../../src/stats/render.js';
import { perMinuteScope, statsWindow, wholeWindowScope, windowMinutes } from '../../../src/stats/scope.js';
import { sparkline } from '../../../src/stats/sparkline.js';

test('the dashboards run the shared queries: same SQL for Grafana and sieve stats', () => {
  const panels = buildDashboards().flatMap((d) => d.dashboard.panels);
  const sqlOf = (title: string) => {
    const p = panels.find((x) => x.title === title);
    assert.ok(p, title);
    return (p.targets[0] as { rawSql: string }).rawSql;
  };
  const g = Q.GRAFANA_SCOPE;
  const norm = (sql: string) => sql.trim().replace(/\n\s*/g, '\n');
  for (const [title, sql] of [
    ['Request rate by service', Q.requestRateByService(g)],
    ['Error rate by service', Q.errorRateByService(g)],
    ['Latency p50 / p95 / p99 by service', Q.latencyByService(g)],
    ['Models: calls, error rate, latency', Q.modelsTable(g)],
    ['Tokens over time', Q.tokensOverTime(g)],
    ['Cost by model', Q.costByModel(g)],
    ['Cost by provider', Q.costByProvider(g)],
    ['Cost by tenant', Q.costByTenant(g)],
    ['Top failing tools', Q.topFailingTools(g)],
    ['Log volume by severity', Q.logVolumeBySeverity(g)],
  ] as const)
    assert.equal(sqlOf(title), norm(sql), title);
});

test('stats scope: the last N minutes, whole minutes, every filter open, no macros left', () => {
  const w = statsWindow(10, Date.UTC(2026, 0, 1, 12, 30, 45));
  assert.equal(w.to, Date.UTC(2026, 0, 1, 12, 30, 45) / 1000);
  assert.equal(w.from, Date.UTC(2026, 0, 1, 12, 21, 0) / 1000);
  assert.equal(windowMinutes(w).length, 10);
  const perMinute = Q.requestRateByService(perMinuteScope(w));
  assert.doesNotMatch(perMinute, /\$/);
  assert.match(perMinute, /Minute >= toDateTime\(\d+\) AND Minute <= toDateTime\(\d+\) AND 1=1 AND 1=1 AND 1=1/);
  assert.match(perMinute, /INTERVAL 60 second\) AS time, ServiceName, sum\(Calls\) \/ 60 AS Rate/);
  const whole = Q.requestRateByService(wholeWindowScope(w));
  assert.match(
    whole,
    new RegExp(`toDateTime\\(${w.from}\\) AS time, ServiceName, sum\\(Calls\\) / ${w.to - w.from} AS Rate`),
  );
});

test('sparklines scale to the largest value; empty minutes are dots', () => {
  assert.equal(sparkline([0, 1, 2, 4, 8]), '·▂▃▅█');
  assert.equal(sparkline([0, 0]), '··');
  assert.equal(sparkline([5]), '█');
  assert.equal(sparkline([1, 1, 0, 0, 2, 2], 3), '▅·█', 'long windows are summed into at most `width` characters');
  assert.equal(sparkline(Array.from({ length: 60 }, () => 1)).length, 30);
});

test('Prometheus text: samples with labels, summed by label match', () => {
  const samples = parsePrometheusText(`# HELP sieve_receiver_items_total x
# TYPE sieve_receiver_items_total counter
sieve_receiver_items_total{signal="traces",outcome="accepted",reason=""} 120
sieve_receiver_items_total{signal="logs",outcome="accepted",reason=""} 30
sieve_receiver_items_total{signal="traces",outcome="refused",reason="kafka \\"down\\""} 5
sieve_loader_consumer_lag{topic="otlp_spans",partition="0"} 3
sieve_loader_consumer_lag{topic="otlp_spans",partition="1"} 4
process_cpu_seconds_total 1.5
garbage line
`);
  assert.equal(sumOf(samples, 'sieve_receiver_items_total', { outcome: 'accepted' }), 150);
  assert.equal(sumOf(samples, 'sieve_receiver_items_total', { outcome: 'refused' }), 5);
  assert.equal(sumOf(samples, 'sieve_loader_consumer_lag'), 7);
  assert.equal(samples.find((s) => s.labels.outcome === 'refused')?.labels.reason, 'kafka "down"');
});

const health = (
  over: { receiver?: Partial<PipelineHealth['receiver']>; loader?: Partial<PipelineHealth['loader']> } = {},
): PipelineHealth => ({
  receiver: {
    url: 'http://127.0.0.1:13133',
    reachable: true,
    ready: true,
    accepted: { traces: 0, logs: 0, metrics: 0 },
    refused: 0,
    rejected: 0,
    ...over.receiver,
  },
  loader: {
    url: 'http://127.0.0.1:13134',
    reachable: true,
    ready: true,
    lag: 0,
    rowsInserted: 0,
    dlqMessages: 0,
    insertRetries: 0,
    ...over.loader,
  },
});

const facts = (over: Partial<NoDataFacts> = {}): NoDataFacts => ({
  clickhouse: { url: 'http://127.0.0.1:8123', database: 'otel' },
  schema: { databaseExists: true, missingTables: [] },
  newestMinute: 0,
  window: statsWindow(10, Date.UTC(2026, 0, 1, 12, 0, 0)),
  health: health(),
  ...over,
});

test('no data: each cause is said plainly with what to do', () => {
  assert.match(
    explainNoData(
      facts({ schema: { databaseExists: false, missingTables: ['spans_1m', 'llm_1m', 'logs_1m'] } }),
    ).join(),
    /no database "otel".*CLICKHOUSE_DATABASE/,
  );
  assert.match(
    explainNoData(facts({ schema: { databaseExists: true, missingTables: ['llm_1m'] } })).join(),
    /has no llm_1m: the migrations have not run.*sieve migrate/,
  );
  assert.match(explainNoData(facts()).join(), /Nothing sent yet.*npx sieve demo/);
  assert.match(
    explainNoData(facts({ health: health({ receiver: { reachable: false }, loader: { reachable: false } }) })).join(),
    /No Sieve answers at .*npm run up/,
  );
  const sent = { accepted: { traces: 10, logs: 0, metrics: 0 } };
  assert.match(
    explainNoData(facts({ health: health({ receiver: sent, loader: { reachable: false } }) })).join(),
    /No loader answers .*waits in Kafka/,
  );
  assert.match(
    explainNoData(facts({ health: health({ receiver: sent, loader: { lag: 42 } }) })).join(),
    /loader is behind: 42 Kafka messages/,
  );
  assert.match(
    explainNoData(facts({ health: health({ receiver: sent }) })).join(),
    /accepted 10 items.*within seconds/,
  );
  const old = facts({ newestMinute: Date.UTC(2026, 0, 1, 10, 0, 0) / 1000, health: health({ receiver: sent }) });
  assert.match(explainNoData(old).join(), /newest data .* 2026-01-01 10:00 UTC \(2 h ago\).*--minutes 121/);
});

test('money has a $, small bills keep their digits; durations pick their unit', () => {
  assert.equal(formatUsd(0), '$0');
  assert.equal(formatUsd(0.000042), '<$0.0001');
  assert.equal(formatUsd(0.01234), '$0.0123');
  assert.equal(formatUsd(1234.5), '$1,234.50');
  assert.equal(formatMs(0.5), '0.50 ms');
  assert.equal(formatMs(42.4), '42 ms');
  assert.equal(formatMs(2500), '2.50 s');
  assert.equal(formatMs(0), '–');
});

test('a stats screen shows services, models with cost, tools, logs and pipeline health', () => {
  const w = statsWindow(3, Date.UTC(2026, 0, 1, 12, 2, 30));
  const snapshot: StatsSnapshot = {
    window: w,
    services: [
      {
        service: 'checkout-api',
        calls: 300,
        ratePerSecond: 2,
        errorRate: 0.02,
        p50Ms: 20,
        p95Ms: 90,
        p99Ms: 150,
        callsPerMinute: [0, 100, 200],
      },
    ],
    models: [
      {
        provider: 'openai',
        model: 'gpt-4o-mini',
        calls: 40,
        errorRate: 0,
        p50Ms: 700,
        p95Ms: 1500,
        inputTokens: 30_000,
        outputTokens: 4000,
        costUsd: 0.0123,
      },
      {
        provider: 'anthropic',
        model: 'claude-sonnet-4',
        calls: 5,
        errorRate: 0,
        p50Ms: Number.NaN,
        p95Ms: Number.NaN,
        inputTokens: 1200,
        outputTokens: 300,
        costUsd: 0.0081,
      },
    ],
    costByProvider: [{ provider: 'openai', costUsd: 0.0123 }],
    costByTenant: [{ tenant: 'acme', costUsd: 0.0123 }],
    tokens: { input: 30_000, output: 4000, cacheRead: 0, reasoning: 0, perMinute: [0, 10, 20] },
    tools: [{ tool: 'web_search', calls: 10, errors: 2, errorRate: 0.2, p95Ms: 8000 }],
    logs: [{ severity: 'ERROR', count: 3, perMinute: [0, 1, 2] }],
  };
  const text = renderStats(snapshot, health({ receiver: { accepted: { traces: 500, logs: 20, metrics: 4 } } }), {
    color: false,
    clickhouse: { url: 'http://ch:8123', database: 'otel' },
    at: new Date(w.to * 1000),
  });
  assert.ok(!text.includes('\u001b['), 'no colour codes');
  assert.match(text, /last 3 min · ClickHouse http:\/\/ch:8123 database otel · 12:02:30 UTC/);
  assert.match(text, /checkout-api\s+300\s+2\.0\s+2\.0%\s+20 ms\s+90 ms\s+150 ms\s+·▅█/);
  assert.match(text, /45 calls · 34k tokens \(30k in, 4,000 out\) · \$0\.0123/);
  assert.match(text, /openai\s+gpt-4o-mini\s+40\s+0%\s+700 ms\s+1\.50 s\s+30k\s+4,000\s+\$0\.0123/);
  // a model only metrics report: tokens and cost, no span latency
  assert.match(text, /anthropic\s+claude-sonnet-4\s+5\s+0%\s+–\s+–\s+1,200\s+300\s+\$0\.0081/);
  assert.match(text, /cost by tenant:\s+acme \$0\.0123/);
  assert.match(text, /web_search\s+10\s+2\s+20%\s+8\.00 s/);
  assert.match(text, /ERROR\s+3\s+·▅█/);
  assert.match(
    text,
    /receiver\s+http:\/\/127\.0\.0\.1:13133\s+ready · accepted 500 spans, 20 log records, 4 metric points/,
  );
  assert.match(text, /loader\s+http:\/\/127\.0\.0\.1:13134\s+ready · lag 0 messages/);
  assert.doesNotMatch(text, /sieve dlq/);
  const dead = renderStats(snapshot, health({ loader: { dlqMessages: 3 } }), {
    color: false,
    clickhouse: { url: 'http://ch:8123', database: 'otel' },
    at: new Date(w.to * 1000),
  });
  assert.match(dead, /DLQ 3\n {2}3 went to the DLQ: `sieve dlq` says why; `sieve dlq replay` loads them again/);
});
