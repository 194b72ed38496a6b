/**
 * Rollup queries shared by the Grafana dashboards (src/grafana/dashboards.ts) and `sieve stats`:
 * one SQL text for both. A query is a function of its scope — the time range, the time bucket and
 * the filters — which the dashboards fill with the ClickHouse plugin's macros and variables, and
 * `sieve stats` with literal SQL for "the last N minutes, every tenant/service/environment/model".
 * Only the queries `sieve stats` shows live here; the other panels keep their SQL in dashboards.ts.
 */

export interface QueryScope {
  /** condition selecting the time range on a DateTime column */
  timeFilter(column: string): string;
  /** start of the time bucket a DateTime column falls in */
  timeBucket(column: string): string;
  /** seconds per time bucket (turns counts into rates) */
  intervalSeconds: string;
  /** start and end of the time range as DateTime expressions (parameters of the rollup views) */
  fromTime: string;
  toTime: string;
  /** filter conditions; `1=1` selects everything */
  tenant: string;
  service: string;
  environment: string;
  model: string;
}

/** The dashboards' scope: clickhouse-datasource macros over multi-value variables with All. */
export const GRAFANA_SCOPE: QueryScope = {
  timeFilter: (column) => `$__timeFilter(${column})`,
  timeBucket: (column) => `$__timeInterval(${column})`,
  intervalSeconds: '$__interval_s',
  fromTime: '$__fromTime',
  toTime: '$__toTime',
  tenant: '$__conditionalAll(TenantId IN (${tenant:singlequote}), $tenant)',
  service: '$__conditionalAll(ServiceName IN (${service:singlequote}), $service)',
  environment: '$__conditionalAll(Environment IN (${environment:singlequote}), $environment)',
  model: '$__conditionalAll(Model IN (${model:singlequote}), $model)',
};

/** The quantile states of a rollup merged: [p50, p90, p95, p99] in ns. */
export const QUANTILES = 'quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)(DurationState)';

export const spanFilter = (s: QueryScope): string =>
  `${s.timeFilter('Minute')} AND ${s.tenant} AND ${s.service} AND ${s.environment}`;
export const llmFilter = (s: QueryScope): string => `${spanFilter(s)} AND ${s.model}`;
/** AI usage per minute from spans, or from metrics where a service sent no spans (clickhouse/0005). */
export const usageSource = (s: QueryScope): string => `llm_usage_1m_v(from = ${s.fromTime}, to = ${s.toTime})`;
/** Increases of every sum and histogram series per minute over the range (clickhouse/0005). */
export const metricsSource = (s: QueryScope): string => `metrics_1m_v(from = ${s.fromTime}, to = ${s.toTime})`;

// ---- Service overview
/** time, ServiceName, Rate (spans per second) */
export const requestRateByService = (s: QueryScope): string =>
  `SELECT ${s.timeBucket('Minute')} AS time, ServiceName, sum(Calls) / ${s.intervalSeconds} AS Rate
        FROM spans_1m WHERE ${spanFilter(s)}
        GROUP BY time, ServiceName ORDER BY time`;

/** time, ServiceName, ErrorRate (0..1) */
export const errorRateByService = (s: QueryScope): string =>
  `SELECT ${s.timeBucket('Minute')} AS time, ServiceName, sum(Errors) / greatest(sum(Calls), 1) AS ErrorRate
        FROM spans_1m WHERE ${spanFilter(s)}
        GROUP BY time, ServiceName ORDER BY time`;

/** time, ServiceName, q, P50Ms, P95Ms, P99Ms */
export const latencyByService = (s: QueryScope): string =>
  `SELECT ${s.timeBucket('Minute')} AS time, ServiceName,
        ${QUANTILES} AS q, q[1] / 1e6 AS P50Ms, q[3] / 1e6 AS P95Ms, q[4] / 1e6 AS P99Ms
        FROM spans_1m WHERE ${spanFilter(s)}
        GROUP BY time, ServiceName ORDER BY time`;

// ---- AI agents & LLMs
/** Provider, Model, Calls, ErrorRate, q, P50Ms, P90Ms, P95Ms */
export const modelsTable = (s: QueryScope): string =>
  `SELECT Provider, Model, sum(Calls) AS Calls, sum(Errors) / greatest(Calls, 1) AS ErrorRate,
        ${QUANTILES} AS q, q[1] / 1e6 AS P50Ms, q[2] / 1e6 AS P90Ms, q[3] / 1e6 AS P95Ms
        FROM llm_1m WHERE ${llmFilter(s)} AND Model != ''
        GROUP BY Provider, Model ORDER BY Calls DESC`;

/** time, InputTokens, OutputTokens, CacheReadTokens, ReasoningTokens, CacheCreationTokens */
export const tokensOverTime = (s: QueryScope): string =>
  `SELECT ${s.timeBucket('Minute')} AS time, sum(InputTokens) AS InputTokens, sum(OutputTokens) AS OutputTokens,
        sum(CacheReadTokens) AS CacheReadTokens, sum(ReasoningTokens) AS ReasoningTokens,
        sum(CacheCreationTokens) AS CacheCreationTokens
        FROM ${usageSource(s)} WHERE ${llmFilter(s)}
        GROUP BY time ORDER BY time`;

/** Model, CostUsd */
export const costByModel = (s: QueryScope): string =>
  `SELECT Model, sum(CostUsd) AS CostUsd FROM ${usageSource(s)} WHERE ${llmFilter(s)} AND Model != '' GROUP BY Model ORDER BY CostUsd DESC`;

/** Provider, Model, Calls, InputTokens, OutputTokens, CostUsd — from spans, or metrics where an agent sends only those */
export const usageByModel = (s: QueryScope): string =>
  `SELECT Provider, Model, sum(Calls) AS Calls, sum(InputTokens) AS InputTokens, sum(OutputTokens) AS OutputTokens,
        sum(CostUsd) AS CostUsd
        FROM ${usageSource(s)} WHERE ${llmFilter(s)} AND Model != ''
        GROUP BY Provider, Model ORDER BY CostUsd DESC, Calls DESC`;

/** Provider, CostUsd */
export const costByProvider = (s: QueryScope): string =>
  `SELECT Provider, sum(CostUsd) AS CostUsd FROM ${usageSource(s)} WHERE ${llmFilter(s)} AND Provider != '' GROUP BY Provider ORDER BY CostUsd DESC`;

/** TenantId, CostUsd */
export const costByTenant = (s: QueryScope): string =>
  `SELECT TenantId, sum(CostUsd) AS CostUsd FROM ${usageSource(s)} WHERE ${llmFilter(s)} GROUP BY TenantId ORDER BY CostUsd DESC`;

/** ToolName, Calls, Errors, ErrorRate, P95Ms */
export const topFailingTools = (s: QueryScope): string =>
  `SELECT ToolName, sum(Calls) AS Calls, sum(Errors) AS Errors, Errors / greatest(Calls, 1) AS ErrorRate,
        ${QUANTILES}[3] / 1e6 AS P95Ms
        FROM llm_1m WHERE ${llmFilter(s)} AND Operation = 'execute_tool'
        GROUP BY ToolName ORDER BY Errors DESC LIMIT 20`;

// ---- Logs
/** time, SeverityText, Count */
export const logVolumeBySeverity = (s: QueryScope): string =>
  `SELECT ${s.timeBucket('Minute')} AS time, SeverityText, sum(Count) AS Count
        FROM logs_1m WHERE ${spanFilter(s)}
        GROUP BY time, SeverityText ORDER BY time`;
