// 30 days of seeded telemetry and every dashboard/alert query with its macros expanded, shared by
// the dashboards integration test and the dashboards benchmark.
import type { ClickHouseClient } from '@clickhouse/client';
import { ALERTS } from '../../src/grafana/alerts.js';
import { buildDashboards } from '../../src/grafana/dashboards.js';
import { ALL, expandGrafanaMacros, type TemplateVariable } from './grafana-macros.js';

export const DAY = 86_400_000;
export const now = Date.now();
const SPANS = 120_000;
const LOGS = 60_000;

export async function seed(client: ClickHouseClient, spans = SPANS, logs = LOGS): Promise<void> {
  const start = now - 30 * DAY;
  const step = (30 * DAY) / spans;
  await client.command({
    query: `INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, Duration, StatusCode, StatusMessage,
      TenantId, Environment, GenAiProvider, GenAiOperation, GenAiRequestModel, GenAiResponseModel, GenAiInputTokens, GenAiOutputTokens,
      GenAiCacheReadTokens, GenAiReasoningTokens, GenAiToolName, GenAiAgentName, GenAiPromptHash, GenAiCostUsd, GenAiCostSource)
    SELECT toDateTime64(fromUnixTimestamp64Milli(toInt64(${start} + number * ${step})), 9),
      leftPad(lower(hex(cityHash64(intDiv(number, 4)))), 32, '0'), leftPad(lower(hex(cityHash64(number))), 16, '0'),
      if(number % 4 = 3, '', leftPad(lower(hex(cityHash64(number + 1))), 16, '0')),
      ['GET /cart', 'chat', 'execute_tool search', 'invoke_agent support'][number % 4 + 1], 'Server',
      ['checkout', 'agent-runtime', 'agent-runtime', 'support-bot', 'cart', 'llm-gateway'][number % 6 + 1],
      (cityHash64(number, 1) % 2000 + 1) * 1000000,
      if(cityHash64(number, 2) % 100 < 4, 'Error', 'Ok'), if(cityHash64(number, 2) % 100 < 4, 'timeout', ''),
      ['acme', 'globex', 'initech'][cityHash64(number, 3) % 3 + 1], ['prod', 'staging'][number % 7 = 0 ? 2 : 1],
      if(number % 4 = 0, '', ['openai', 'anthropic'][number % 2 + 1]),
      ['', 'chat', 'execute_tool', 'invoke_agent'][number % 4 + 1],
      multiIf(number % 4 = 0, '', number % 40 = 1, 'llama-3-70b', ['gpt-4o', 'claude-sonnet-4', 'gpt-4o-mini'][cityHash64(number, 4) % 3 + 1]), '',
      if(number % 4 = 1, cityHash64(number, 5) % 2000, 0), if(number % 4 = 1, cityHash64(number, 6) % 500, 0), 0, 0,
      if(number % 4 = 2, ['search', 'fetch_url', 'sql'][number % 3 + 1], ''), if(number % 4 = 3, 'support', ''),
      if(number % 4 = 1, lower(hex(cityHash64(number % 50))), ''),
      if(number % 4 = 1 AND number % 40 != 1, (cityHash64(number, 5) % 2000) * 2.5e-6 + (cityHash64(number, 6) % 500) * 1e-5, 0),
      multiIf(number % 4 = 0, '', number % 40 = 1, 'unknown_model', 'pricing')
    FROM numbers(${spans})`,
  });
  await seedMetrics(client, start);
  const lstep = (30 * DAY) / logs;
  await client.command({
    query: `INSERT INTO otel_logs (Timestamp, TraceId, SpanId, SeverityText, SeverityNumber, ServiceName, Body, TenantId, Environment)
    SELECT toDateTime64(fromUnixTimestamp64Milli(toInt64(${start} + number * ${lstep})), 9),
      leftPad(lower(hex(cityHash64(number))), 32, '0'), leftPad(lower(hex(cityHash64(number, 9))), 16, '0'),
      ['INFO', 'INFO', 'WARN', 'ERROR', 'DEBUG'][number % 5 + 1], [9, 9, 13, 17, 5][number % 5 + 1],
      ['checkout', 'cart', 'agent-runtime'][number % 3 + 1], concat('request handled ', toString(number)),
      ['acme', 'globex', 'initech'][cityHash64(number, 3) % 3 + 1], 'prod'
    FROM numbers(${logs})`,
  });
}

/**
 * 30 days of metrics every 5 minutes: cumulative AI counters and a latency histogram that restart
 * every 3 days, for a service that also sends spans (agent-runtime) and a metrics-only one
 * (metrics-agent); a gauge.
 */
async function seedMetrics(client: ClickHouseClient, start: number): Promise<void> {
  const points = (30 * DAY) / 300_000;
  const restartEvery = (3 * DAY) / 300_000;
  const time = 'toDateTime64(fromUnixTimestamp64Milli(toInt64(${start} + n * 300000)), 9)'.replace(
    '${start}',
    String(start),
  );
  const startTime = `toDateTime64(fromUnixTimestamp64Milli(toInt64(${start} + intDiv(n, ${restartEvery}) * ${3 * DAY})), 9)`;
  const since = `(n % ${restartEvery} + 1)`;
  await client.command({
    query: `INSERT INTO otel_metrics_sum (ResourceAttributes, ServiceName, MetricName, Attributes, StartTimeUnix, TimeUnix,
      Value, AggregationTemporality, IsMonotonic, TenantId, Environment, GenAiMetric, GenAiProvider, GenAiModel,
      GenAiTokenType, GenAiPricePerToken)
    SELECT map('service.name', svc), svc, 'llm_tokens_total', map('model', 'gpt-4o', 'token_type', tt), ${startTime}, ${time},
      ${since} * if(tt = 'input', 120, 30), 2, true, 'acme', 'prod', 'tokens', 'openai', 'gpt-4o', tt, if(tt = 'input', 2.5e-6, 1e-5)
    FROM (SELECT intDiv(number, 4) AS n, ['agent-runtime', 'metrics-agent'][number % 2 + 1] AS svc,
      ['input', 'output'][intDiv(number % 4, 2) + 1] AS tt FROM numbers(${points * 4}))`,
  });
  await client.command({
    query: `INSERT INTO otel_metrics_histogram (ResourceAttributes, ServiceName, MetricName, Attributes, StartTimeUnix, TimeUnix,
      Count, Sum, BucketCounts, ExplicitBounds, AggregationTemporality, TenantId, Environment, GenAiMetric, GenAiProvider,
      GenAiModel, GenAiUnitSeconds)
    SELECT map('service.name', svc), svc, 'llm_call_duration_seconds', map('model', 'gpt-4o'), ${startTime}, ${time},
      ${since} * 11, ${since} * 11 * 0.9, arrayMap(x -> toUInt64(x * ${since}), [1, 3, 4, 2, 1, 0]), [0.1, 0.5, 1, 2, 5], 2,
      'acme', 'prod', 'duration', 'openai', 'gpt-4o', 1
    FROM (SELECT intDiv(number, 2) AS n, ['agent-runtime', 'metrics-agent'][number % 2 + 1] AS svc FROM numbers(${points * 2}))`,
  });
  await client.command({
    query: `INSERT INTO otel_metrics_gauge (ServiceName, MetricName, TimeUnix, Value, TenantId, Environment)
    SELECT 'agent-runtime', 'queue_depth', ${time}, n % 50, 'acme', 'prod' FROM (SELECT number AS n FROM numbers(${points}))`,
  });
}

export interface RunnableQuery {
  name: string;
  sql: string;
  columns: string[];
  from: number;
  to: number;
  intervalMs: number;
}

const OPTIONS: Record<string, string[]> = {
  tenant: ['acme', 'globex', 'initech'],
  service: ['checkout', 'cart', 'agent-runtime', 'support-bot', 'llm-gateway'],
  environment: ['prod', 'staging'],
  model: ['gpt-4o', 'claude-sonnet-4', 'gpt-4o-mini'],
  severity: ['INFO', 'WARN', 'ERROR', 'DEBUG'],
  metric: ['llm_tokens_total', 'llm_call_duration_seconds', 'queue_depth'],
};
const SPECIFIC: Record<string, string | string[]> = {
  tenant: 'acme',
  service: 'agent-runtime',
  environment: 'prod',
  model: 'gpt-4o',
  severity: 'ERROR',
  // one of each metric type, so every panel of the metrics dashboard has data
  metric: ['llm_tokens_total', 'llm_call_duration_seconds', 'queue_depth'],
};

export function varsFor(all: boolean, traceId: string): Record<string, TemplateVariable> {
  const vars: Record<string, TemplateVariable> = {};
  for (const [k, opts] of Object.entries(OPTIONS))
    vars[k] = { value: all ? ALL : [SPECIFIC[k] as string].flat(), options: opts };
  vars.slo_agent_success = { value: '0.99' };
  vars.daily_budget_usd = { value: '50' };
  vars.search = { value: '' };
  vars.trace_id = { value: traceId };
  vars.min_duration_ms = { value: '0' };
  return vars;
}

/** Every ClickHouse query of the dashboards (panels and variables) and alerts, macros expanded. */
export function allQueries(all: boolean, traceId: string): RunnableQuery[] {
  const from = now - 30 * DAY;
  const intervalMs = 1_800_000;
  const vars = varsFor(all, traceId);
  const out: RunnableQuery[] = [];
  for (const { dashboard, columns } of buildDashboards()) {
    for (const p of dashboard.panels)
      for (const t of p.targets)
        if ('rawSql' in t)
          out.push({
            name: `${dashboard.uid}/${p.title}`,
            sql: expandGrafanaMacros(t.rawSql, { from, to: now, intervalMs, vars }),
            columns: columns.get(p.id) ?? [],
            from,
            to: now,
            intervalMs,
          });
    for (const v of dashboard.templating.list)
      if (v.type === 'query')
        out.push({
          name: `${dashboard.uid}/$${v.name}`,
          sql: expandGrafanaMacros(String(v.query), { from, to: now, intervalMs, vars }),
          columns: [],
          from,
          to: now,
          intervalMs,
        });
  }
  for (const a of ALERTS)
    if (a.sql)
      out.push({
        name: `alert/${a.uid}`,
        sql: expandGrafanaMacros(a.sql, { from: now - a.lookbackSeconds * 1000, to: now, intervalMs: 60_000 }),
        columns: a.columns,
        from,
        to: now,
        intervalMs: 60_000,
      });
  return out;
}

/** Every Sieve metric name the dashboards' Prometheus panels and the alert rules query. */
export function queriedSieveMetrics(): Set<string> {
  const exprs: string[] = ALERTS.flatMap((a) => (a.promql ? [a.promql] : []));
  for (const { dashboard } of buildDashboards())
    for (const p of dashboard.panels) for (const t of p.targets) if ('expr' in t) exprs.push(t.expr);
  const names = new Set<string>();
  for (const e of exprs) for (const m of e.matchAll(/\bsieve_[a-z0-9_]+/g)) names.add(m[0]);
  return names;
}
