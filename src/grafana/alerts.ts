// Grafana alert rules (file provisioning format, apiVersion 1) over ClickHouse and Prometheus.
import { CLICKHOUSE, Format, PROMETHEUS } from './panels.js';

/** p95 latency thresholds per service (ms); services not listed use DEFAULT_P95_MS. */
export const P95_THRESHOLDS_MS: Record<string, number> = { checkout: 800, 'llm-gateway': 8000, 'agent-runtime': 15000 };
export const DEFAULT_P95_MS = 1000;
export const DAILY_TENANT_BUDGET_USD = 50;
export const TOKEN_SPIKE_RATIO = 3;

export interface AlertQuery {
  uid: string;
  title: string;
  /** seconds before now the query looks back */
  lookbackSeconds: number;
  sql?: string;
  promql?: string;
  /** the numeric column the threshold reads, and the label columns */
  columns: string[];
  op: 'gt' | 'lt';
  threshold: number;
  for: string;
  noDataState: 'OK' | 'NoData' | 'Alerting';
  summary: string;
  severity: 'page' | 'ticket';
}

const thresholdsMap = `map(${Object.entries(P95_THRESHOLDS_MS)
  .map(([k, v]) => `'${k}', ${v}`)
  .join(', ')})`;

export const ALERTS: AlertQuery[] = [
  {
    uid: 'sieve-service-error-rate',
    title: 'Service error rate above 5 %',
    lookbackSeconds: 300,
    sql: `SELECT ServiceName, sum(Errors) / sum(Calls) AS ErrorRate
FROM spans_1m WHERE $__timeFilter(Minute)
GROUP BY ServiceName HAVING sum(Calls) > 0`,
    columns: ['ServiceName', 'ErrorRate'],
    op: 'gt',
    threshold: 0.05,
    for: '5m',
    noDataState: 'OK',
    summary: '{{ $labels.ServiceName }} fails {{ humanizePercentage $values.A.Value }} of its spans',
    severity: 'page',
  },
  {
    uid: 'sieve-service-p95',
    title: 'Service p95 latency above its threshold',
    lookbackSeconds: 600,
    sql: `SELECT ServiceName,
quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)(DurationState)[3] / 1e6
  / if(mapContains(${thresholdsMap}, ServiceName), ${thresholdsMap}[ServiceName], ${DEFAULT_P95_MS}) AS P95OverThreshold
FROM spans_1m WHERE $__timeFilter(Minute)
GROUP BY ServiceName`,
    columns: ['ServiceName', 'P95OverThreshold'],
    op: 'gt',
    threshold: 1,
    for: '10m',
    noDataState: 'OK',
    summary: '{{ $labels.ServiceName }} p95 is {{ $values.A.Value }}× its threshold',
    severity: 'ticket',
  },
  {
    uid: 'sieve-llm-tenant-daily-cost',
    title: 'LLM cost per tenant today over budget',
    lookbackSeconds: 86400,
    sql: `SELECT TenantId, sum(CostUsd) AS CostUsd
FROM llm_usage_1m_v(from = toStartOfDay($__toTime), to = $__toTime)
GROUP BY TenantId`,
    columns: ['TenantId', 'CostUsd'],
    op: 'gt',
    threshold: DAILY_TENANT_BUDGET_USD,
    for: '0s',
    noDataState: 'OK',
    summary: `tenant {{ $labels.TenantId }} spent \${{ $values.A.Value }} today (budget $${DAILY_TENANT_BUDGET_USD})`,
    severity: 'ticket',
  },
  {
    uid: 'sieve-llm-token-spike',
    title: 'Token rate spike vs 7-day baseline',
    lookbackSeconds: 7 * 86400,
    sql: `SELECT TenantId, Recent / greatest(Baseline, 1) AS SpikeRatio FROM (
SELECT TenantId,
  sumIf(InputTokens + OutputTokens, Minute >= $__toTime - INTERVAL 15 MINUTE) / 15 AS Recent,
  sumIf(InputTokens + OutputTokens, Minute < $__toTime - INTERVAL 15 MINUTE) / (7 * 24 * 60 - 15) AS Baseline
FROM llm_usage_1m_v(from = $__toTime - INTERVAL 7 DAY, to = $__toTime)
GROUP BY TenantId)`,
    columns: ['TenantId', 'SpikeRatio'],
    op: 'gt',
    threshold: TOKEN_SPIKE_RATIO,
    for: '15m',
    noDataState: 'OK',
    summary: 'tenant {{ $labels.TenantId }} uses {{ $values.A.Value }}× its usual tokens per minute',
    severity: 'ticket',
  },
  {
    uid: 'sieve-no-data',
    title: 'No spans for 5 minutes',
    lookbackSeconds: 300,
    sql: `SELECT count() AS Spans FROM otel_traces WHERE $__timeFilter(Timestamp)`,
    columns: ['Spans'],
    op: 'lt',
    threshold: 1,
    for: '5m',
    noDataState: 'Alerting',
    summary: 'Sieve loaded no spans in the last 5 minutes',
    severity: 'page',
  },
  {
    uid: 'sieve-loader-lag-growing',
    title: 'Loader consumer lag growing',
    lookbackSeconds: 900,
    promql: 'sum(deriv(sieve_loader_consumer_lag[10m])) > 0 and sum(sieve_loader_consumer_lag) > 10000',
    columns: [],
    op: 'gt',
    threshold: 0,
    for: '10m',
    noDataState: 'OK',
    summary: 'Kafka consumer lag keeps growing: the loader is not keeping up',
    severity: 'page',
  },
];

function rule(a: AlertQuery): Record<string, unknown> {
  const query = a.sql
    ? {
        refId: 'A',
        relativeTimeRange: { from: a.lookbackSeconds, to: 0 },
        datasourceUid: CLICKHOUSE.uid,
        model: {
          refId: 'A',
          datasource: CLICKHOUSE,
          editorType: 'sql',
          queryType: 'table',
          format: Format.TABLE,
          rawSql: a.sql,
          intervalMs: 60000,
          maxDataPoints: 43200,
        },
      }
    : {
        refId: 'A',
        relativeTimeRange: { from: a.lookbackSeconds, to: 0 },
        datasourceUid: PROMETHEUS.uid,
        model: {
          refId: 'A',
          datasource: PROMETHEUS,
          expr: a.promql,
          instant: true,
          intervalMs: 60000,
          maxDataPoints: 43200,
        },
      };
  return {
    uid: a.uid,
    title: a.title,
    condition: 'C',
    data: [
      query,
      {
        refId: 'B',
        relativeTimeRange: { from: 0, to: 0 },
        datasourceUid: '__expr__',
        model: {
          refId: 'B',
          type: 'reduce',
          expression: 'A',
          reducer: 'last',
          datasource: { type: '__expr__', uid: '__expr__' },
        },
      },
      {
        refId: 'C',
        relativeTimeRange: { from: 0, to: 0 },
        datasourceUid: '__expr__',
        model: {
          refId: 'C',
          type: 'threshold',
          expression: 'B',
          datasource: { type: '__expr__', uid: '__expr__' },
          conditions: [{ evaluator: { type: a.op, params: [a.threshold] } }],
        },
      },
    ],
    noDataState: a.noDataState,
    execErrState: 'Error',
    for: a.for,
    annotations: { summary: a.summary },
    labels: { team: 'sre', severity: a.severity, source: 'sieve' },
    isPaused: false,
  };
}

export function alertProvisioning(): Record<string, unknown> {
  return {
    apiVersion: 1,
    groups: [
      {
        orgId: 1,
        name: 'sieve-services',
        folder: 'Sieve',
        interval: '1m',
        rules: ALERTS.filter((a) => a.uid.startsWith('sieve-service') || a.uid === 'sieve-no-data').map(rule),
      },
      {
        orgId: 1,
        name: 'sieve-llm',
        folder: 'Sieve',
        interval: '1m',
        rules: ALERTS.filter((a) => a.uid.startsWith('sieve-llm')).map(rule),
      },
      {
        orgId: 1,
        name: 'sieve-pipeline',
        folder: 'Sieve',
        interval: '1m',
        rules: ALERTS.filter((a) => a.uid.startsWith('sieve-loader')).map(rule),
      },
    ],
  };
}
