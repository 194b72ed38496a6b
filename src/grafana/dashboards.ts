// Sieve's provisioned Grafana dashboards, as data. `node --import tsx src/grafana/build.ts` writes them
// to grafana/dashboards/*.json; test/integration/dashboards.test.ts runs every query against ClickHouse.
import { bucketQuantile, METRICS, USAGE } from './metric-sql.js';
import { metricsDashboard } from './metrics-dashboard.js';
import {
  type Dashboard,
  dashboard,
  Format,
  layout,
  type PanelSpec,
  PROMETHEUS,
  queryVariable,
  unitOverride,
} from './panels.js';
import * as Q from './queries.js';
import { GRAFANA_SCOPE, llmFilter, QUANTILES, spanFilter } from './queries.js';

/** Filters shared by the rollup queries; every variable is multi-value with All. */
const G = GRAFANA_SCOPE;
const TENANT = G.tenant;
const SERVICE = G.service;
const ENV = G.environment;
const MODEL = G.model;
const RAW_MODEL = '$__conditionalAll(GenAiRequestModel IN (${model:singlequote}), $model)';
const SPAN_FILTER = spanFilter(G);
const LLM_FILTER = llmFilter(G);
/** model calls, not the tool, agent and workflow spans around them */
const MODEL_CALL =
  "Operation NOT IN ('execute_tool', 'invoke_agent', 'invoke_workflow', 'task', 'retrieval', 'guardrail', 'evaluation', 'prompt')";

/**
 * Histogram buckets of AI duration metrics per model (columns b = bounds in seconds, c = merged
 * counts), for models that sent no spans in the range; the bucket layout with the most observations
 * when a model's series use several.
 */
function metricLatency(groupExpr = '', groupAlias = ''): string {
  const g = groupExpr ? `${groupExpr}, ` : '';
  const ga = groupAlias ? `${groupAlias}, ` : '';
  return `SELECT ${g}Model, Bounds AS b, sumForEach(Buckets) AS c, arraySum(c) AS n
        FROM ${METRICS}
        WHERE GenAiMetric = 'duration' AND Model != '' AND ${TENANT} AND ${SERVICE} AND ${ENV} AND ${MODEL}
          AND Model NOT IN (SELECT Model FROM llm_1m WHERE ${LLM_FILTER} AND Calls > 0)
        GROUP BY ${ga}Model, Bounds ORDER BY n DESC LIMIT 1 BY ${ga}Model`;
}

/** SLO objectives, editable as dashboard constants */
export const SLO = { agentRunSuccess: 0.99, p90TargetMs: 5000, dailyTenantBudgetUsd: 50 } as const;

export interface BuiltDashboard {
  dashboard: Dashboard;
  /** panel id → columns its queries must return */
  columns: Map<number, string[]>;
}

function variables(withModel: boolean): Record<string, unknown>[] {
  const vars = [
    queryVariable({
      name: 'environment',
      label: 'Environment',
      query: 'SELECT DISTINCT Environment FROM spans_1m WHERE $__timeFilter(Minute) ORDER BY 1',
    }),
    queryVariable({
      name: 'tenant',
      label: 'Tenant',
      query: 'SELECT DISTINCT TenantId FROM spans_1m WHERE $__timeFilter(Minute) ORDER BY 1',
    }),
    queryVariable({
      name: 'service',
      label: 'Service',
      query: `SELECT DISTINCT ServiceName FROM spans_1m WHERE $__timeFilter(Minute) AND ${TENANT} AND ${ENV} ORDER BY 1`,
    }),
  ];
  if (withModel)
    vars.push(
      queryVariable({
        name: 'model',
        label: 'Model',
        query: `SELECT DISTINCT Model FROM llm_1m WHERE $__timeFilter(Minute) AND Model != '' AND ${TENANT} ORDER BY 1`,
      }),
    );
  return vars;
}

function constant(name: string, label: string, value: number): Record<string, unknown> {
  return {
    type: 'constant',
    name,
    label,
    query: String(value),
    hide: 2,
    current: { text: String(value), value: String(value) },
  };
}

const pct = (t: number[]): Record<string, unknown> => ({
  min: 0,
  max: 1,
  thresholds: {
    mode: 'absolute',
    steps: [{ color: 'green', value: null }, ...t.map((v, i) => ({ color: i === 0 ? 'orange' : 'red', value: v }))],
  },
});

// ---------------------------------------------------------------- 1 Service overview
function serviceOverview(): BuiltDashboard {
  const specs: PanelSpec[] = [
    {
      type: 'stat',
      title: 'Requests',
      unit: 'short',
      w: 6,
      h: 4,
      columns: ['Calls'],
      sql: `SELECT sum(Calls) AS Calls FROM spans_1m WHERE ${SPAN_FILTER}`,
    },
    {
      type: 'stat',
      title: 'Error rate',
      unit: 'percentunit',
      w: 6,
      h: 4,
      columns: ['ErrorRate'],
      defaults: pct([0.01, 0.05]),
      sql: `SELECT sum(Errors) / greatest(sum(Calls), 1) AS ErrorRate FROM spans_1m WHERE ${SPAN_FILTER}`,
    },
    {
      type: 'stat',
      title: 'p95 latency',
      unit: 'ms',
      w: 6,
      h: 4,
      columns: ['P95Ms'],
      sql: `SELECT ${QUANTILES}[3] / 1e6 AS P95Ms FROM spans_1m WHERE ${SPAN_FILTER}`,
    },
    {
      type: 'stat',
      title: 'Services',
      unit: 'short',
      w: 6,
      h: 4,
      columns: ['Services'],
      sql: `SELECT uniqExact(ServiceName) AS Services FROM spans_1m WHERE ${SPAN_FILTER}`,
    },
    {
      title: 'Request rate by service',
      unit: 'reqps',
      columns: ['time', 'ServiceName', 'Rate'],
      sql: Q.requestRateByService(G),
    },
    {
      title: 'Error rate by service',
      unit: 'percentunit',
      columns: ['time', 'ServiceName', 'ErrorRate'],
      sql: Q.errorRateByService(G),
    },
    {
      title: 'Latency p50 / p95 / p99 by service',
      unit: 'ms',
      w: 24,
      columns: ['time', 'ServiceName', 'P50Ms', 'P95Ms', 'P99Ms'],
      sql: Q.latencyByService(G),
      transformations: [{ id: 'organize', options: { excludeByName: { q: true } } }],
    },
    {
      type: 'table',
      title: 'Operations by service and span name',
      unit: 'ms',
      w: 24,
      h: 10,
      columns: ['ServiceName', 'SpanName', 'SpanKind', 'Calls', 'ErrorRate', 'P50Ms', 'P95Ms', 'P99Ms'],
      overrides: [unitOverride('Calls', 'short'), unitOverride('ErrorRate', 'percentunit')],
      sql: `SELECT ServiceName, SpanName, any(SpanKind) AS SpanKind, sum(Calls) AS Calls,
        sum(Errors) / greatest(Calls, 1) AS ErrorRate,
        ${QUANTILES} AS q, q[1] / 1e6 AS P50Ms, q[3] / 1e6 AS P95Ms, q[4] / 1e6 AS P99Ms
        FROM spans_1m WHERE ${SPAN_FILTER}
        GROUP BY ServiceName, SpanName ORDER BY Calls DESC LIMIT 200`,
      transformations: [{ id: 'organize', options: { excludeByName: { q: true } } }],
    },
  ];
  const { panels, columns } = layout(specs);
  return {
    dashboard: dashboard({
      uid: 'sieve-services',
      title: 'Sieve / Service overview',
      tags: ['services'],
      variables: variables(false),
      panels,
    }),
    columns,
  };
}

// ---------------------------------------------------------------- 2 AI agents & LLMs
function aiAgents(): BuiltDashboard {
  const dailyTenantCost = `SELECT toDate(Minute) AS Day, TenantId, sum(CostUsd) AS CostUsd
      FROM llm_usage_1m_v(from = toStartOfDay($__fromTime) - INTERVAL 28 DAY, to = $__toTime)
      WHERE 1 = 1
      AND ${TENANT} AND ${SERVICE} AND ${ENV} AND ${MODEL}
      GROUP BY Day, TenantId`;
  const specs: PanelSpec[] = [
    {
      type: 'stat',
      title: 'LLM calls',
      unit: 'short',
      w: 6,
      h: 4,
      columns: ['Calls'],
      sql: `SELECT sum(Calls) AS Calls FROM ${USAGE} WHERE ${LLM_FILTER} AND ${MODEL_CALL}`,
    },
    {
      type: 'stat',
      title: 'Cost',
      unit: 'currencyUSD',
      w: 6,
      h: 4,
      columns: ['CostUsd'],
      sql: `SELECT sum(CostUsd) AS CostUsd FROM ${USAGE} WHERE ${LLM_FILTER}`,
    },
    {
      type: 'stat',
      title: 'Tokens (input + output)',
      unit: 'short',
      w: 6,
      h: 4,
      columns: ['Tokens'],
      sql: `SELECT sum(InputTokens) + sum(OutputTokens) AS Tokens FROM ${USAGE} WHERE ${LLM_FILTER}`,
    },
    {
      type: 'stat',
      title: 'Agent-run success',
      unit: 'percentunit',
      w: 6,
      h: 4,
      columns: ['SuccessRate'],
      defaults: {
        thresholds: {
          mode: 'absolute',
          steps: [
            { color: 'red', value: null },
            { color: 'green', value: SLO.agentRunSuccess },
          ],
        },
      },
      sql: `SELECT 1 - sum(Errors) / greatest(sum(Calls), 1) AS SuccessRate FROM llm_1m WHERE ${LLM_FILTER} AND Operation = 'invoke_agent'`,
    },
    {
      title: 'LLM calls by model',
      unit: 'short',
      columns: ['time', 'Model', 'Calls'],
      sql: `SELECT $__timeInterval(Minute) AS time, Model, sum(Calls) AS Calls
        FROM ${USAGE} WHERE ${LLM_FILTER} AND Model != '' AND ${MODEL_CALL}
        GROUP BY time, Model ORDER BY time`,
    },
    {
      title: 'LLM error rate by provider',
      unit: 'percentunit',
      columns: ['time', 'Provider', 'ErrorRate'],
      sql: `SELECT $__timeInterval(Minute) AS time, Provider, sum(Errors) / greatest(sum(Calls), 1) AS ErrorRate
        FROM llm_1m WHERE ${LLM_FILTER} AND Model != ''
        GROUP BY time, Provider ORDER BY time`,
    },
    {
      type: 'table',
      title: 'Models: calls, error rate, latency',
      unit: 'ms',
      w: 24,
      columns: ['Provider', 'Model', 'Calls', 'ErrorRate', 'P50Ms', 'P90Ms', 'P95Ms'],
      overrides: [unitOverride('Calls', 'short'), unitOverride('ErrorRate', 'percentunit')],
      sql: Q.modelsTable(G),
      transformations: [{ id: 'organize', options: { excludeByName: { q: true } } }],
    },
    {
      title: 'Latency p50 / p95 by model',
      unit: 'ms',
      columns: ['time', 'Model', 'P50Ms', 'P95Ms'],
      description: 'From spans; for models only seen in metrics, from gen_ai.client.operation.duration buckets.',
      sql: `SELECT $__timeInterval(Minute) AS time, Model, ${QUANTILES} AS q, q[1] / 1e6 AS P50Ms, q[3] / 1e6 AS P95Ms
        FROM llm_1m WHERE ${LLM_FILTER} AND Model != ''
        GROUP BY time, Model
        UNION ALL
        SELECT time, Model, [0] AS q, ${bucketQuantile(0.5)} * 1000 AS P50Ms, ${bucketQuantile(0.95)} * 1000 AS P95Ms
        FROM (${metricLatency('$__timeInterval(Minute) AS time', 'time')})
        ORDER BY time`,
      transformations: [{ id: 'organize', options: { excludeByName: { q: true } } }],
    },
    {
      title: 'Tokens over time',
      unit: 'short',
      columns: ['time', 'InputTokens', 'OutputTokens', 'CacheReadTokens', 'ReasoningTokens'],
      sql: Q.tokensOverTime(G),
    },
    {
      type: 'table',
      title: 'Tokens and cost by model',
      description: 'From spans, or from gen_ai.client.token.usage where an agent sends only metrics.',
      unit: 'short',
      w: 24,
      h: 7,
      columns: ['Provider', 'Model', 'Calls', 'InputTokens', 'OutputTokens', 'CostUsd'],
      overrides: [unitOverride('CostUsd', 'currencyUSD')],
      sql: Q.usageByModel(G),
    },
    {
      type: 'barchart',
      title: 'Cost by model',
      unit: 'currencyUSD',
      w: 8,
      columns: ['Model', 'CostUsd'],
      options: { orientation: 'horizontal', xField: 'Model' },
      sql: Q.costByModel(G),
    },
    {
      type: 'piechart',
      title: 'Cost by provider',
      unit: 'currencyUSD',
      w: 8,
      columns: ['Provider', 'CostUsd'],
      options: { reduceOptions: { values: true, calcs: ['lastNotNull'] }, pieType: 'donut' },
      sql: Q.costByProvider(G),
    },
    {
      type: 'barchart',
      title: 'Cost by tenant',
      unit: 'currencyUSD',
      w: 8,
      columns: ['TenantId', 'CostUsd'],
      options: { orientation: 'horizontal', xField: 'TenantId' },
      sql: Q.costByTenant(G),
    },
    {
      type: 'table',
      title: 'Models without a price (cost not counted)',
      description:
        'LLM calls whose provider/model has no entry in pricing.yaml valid at their time: add one, then `sieve reprice`.',
      unit: 'short',
      w: 24,
      h: 6,
      columns: ['Provider', 'Model', 'Calls', 'InputTokens', 'OutputTokens', 'LastSeen'],
      overrides: [unitOverride('LastSeen', 'dateTimeAsIso')],
      sql: `SELECT Provider, Model, sum(UnpricedCalls) AS Calls, sum(InputTokens) AS InputTokens,
        sum(OutputTokens) AS OutputTokens, max(Minute) AS LastSeen
        FROM llm_1m WHERE ${SPAN_FILTER} AND UnpricedCalls > 0
        GROUP BY Provider, Model ORDER BY Calls DESC LIMIT 50`,
    },
    {
      type: 'table',
      title: 'Top failing tools',
      unit: 'short',
      columns: ['ToolName', 'Calls', 'Errors', 'ErrorRate', 'P95Ms'],
      overrides: [unitOverride('ErrorRate', 'percentunit'), unitOverride('P95Ms', 'ms')],
      sql: Q.topFailingTools(G),
    },
    {
      title: 'Tool success rate per hour',
      unit: 'percentunit',
      columns: ['time', 'ToolName', 'SuccessRate'],
      defaults: { min: 0, max: 1 },
      sql: `SELECT toStartOfHour(Minute) AS time, ToolName, 1 - sum(Errors) / greatest(sum(Calls), 1) AS SuccessRate
        FROM llm_1m WHERE ${LLM_FILTER} AND Operation = 'execute_tool'
        GROUP BY time, ToolName ORDER BY time`,
    },
    {
      title: 'Agent-run success rate',
      unit: 'percentunit',
      columns: ['time', 'AgentName', 'SuccessRate'],
      defaults: { min: 0, max: 1 },
      sql: `SELECT $__timeInterval(Minute) AS time, AgentName, 1 - sum(Errors) / greatest(sum(Calls), 1) AS SuccessRate
        FROM llm_1m WHERE ${SPAN_FILTER} AND Operation = 'invoke_agent'
        GROUP BY time, AgentName ORDER BY time`,
    },
    {
      type: 'table',
      title: 'Top failing prompts (by prompt hash)',
      description: 'Prompt hashes only: Sieve never stores prompt text.',
      unit: 'short',
      columns: ['PromptHash', 'Model', 'Calls', 'Errors', 'ErrorRate', 'LastError'],
      overrides: [
        unitOverride('ErrorRate', 'percentunit'),
        unitOverride('LastError', 'string'),
        unitOverride('PromptHash', 'string'),
      ],
      sql: `SELECT GenAiPromptHash AS PromptHash, any(GenAiRequestModel) AS Model, count() AS Calls,
        countIf(StatusCode = 'Error') AS Errors, Errors / Calls AS ErrorRate,
        argMaxIf(StatusMessage, Timestamp, StatusCode = 'Error') AS LastError
        FROM otel_traces
        WHERE $__timeFilter(Timestamp) AND GenAiPromptHash != '' AND ${TENANT} AND ${SERVICE} AND ${ENV} AND ${RAW_MODEL}
        GROUP BY GenAiPromptHash HAVING Errors > 0 ORDER BY Errors DESC LIMIT 20`,
    },
    {
      title: 'Daily cost per tenant',
      unit: 'currencyUSD',
      columns: ['time', 'TenantId', 'CostUsd'],
      defaults: { custom: { drawStyle: 'bars', fillOpacity: 60, stacking: { mode: 'normal' } } },
      sql: `SELECT toDateTime(toDate(Minute)) AS time, TenantId, sum(CostUsd) AS CostUsd
        FROM ${USAGE} WHERE ${LLM_FILTER}
        GROUP BY time, TenantId ORDER BY time`,
    },
    {
      title: 'Tenant spend anomaly (z-score vs trailing 28 days)',
      description: '(daily cost − mean of the 28 previous days) / their standard deviation; |z| > 3 is unusual.',
      unit: 'suffix:σ',
      columns: ['time', 'TenantId', 'ZScore'],
      defaults: {
        thresholds: {
          mode: 'absolute',
          steps: [
            { color: 'green', value: null },
            { color: 'red', value: 3 },
          ],
        },
      },
      sql: `SELECT toDateTime(Day) AS time, TenantId, if(Std28 > 0, (CostUsd - Avg28) / Std28, 0) AS ZScore
        FROM (
        SELECT Day, TenantId, CostUsd,
        avg(CostUsd) OVER w AS Avg28, stddevPop(CostUsd) OVER w AS Std28
        FROM (${dailyTenantCost})
        WINDOW w AS (PARTITION BY TenantId ORDER BY Day ROWS BETWEEN 28 PRECEDING AND 1 PRECEDING)
        )
        WHERE Day >= toDate($__fromTime) ORDER BY time`,
    },
    // SLOs
    {
      type: 'timeseries',
      title: 'SLO: agent-run success error budget remaining (99 % per day)',
      unit: 'percentunit',
      columns: ['time', 'BudgetRemaining'],
      defaults: {
        thresholds: {
          mode: 'absolute',
          steps: [
            { color: 'red', value: null },
            { color: 'green', value: 0 },
          ],
        },
      },
      sql: `SELECT toDateTime(toDate(Minute)) AS time,
        1 - (sum(Errors) / greatest(sum(Calls), 1)) / (1 - $slo_agent_success) AS BudgetRemaining
        FROM llm_1m WHERE ${LLM_FILTER} AND Operation = 'invoke_agent'
        GROUP BY time ORDER BY time`,
    },
    {
      type: 'timeseries',
      title: 'SLO burn rate, 15-minute windows (agent runs)',
      description: 'error ratio / (1 − objective); 1 spends the budget exactly over the day, > 14.4 pages.',
      unit: 'suffix:×',
      columns: ['time', 'BurnRate'],
      defaults: {
        thresholds: {
          mode: 'absolute',
          steps: [
            { color: 'green', value: null },
            { color: 'orange', value: 1 },
            { color: 'red', value: 14.4 },
          ],
        },
      },
      sql: `SELECT toStartOfInterval(Minute, INTERVAL 15 minute) AS time,
        (sum(Errors) / greatest(sum(Calls), 1)) / (1 - $slo_agent_success) AS BurnRate
        FROM llm_1m WHERE ${LLM_FILTER} AND Operation = 'invoke_agent'
        GROUP BY time ORDER BY time`,
    },
    {
      type: 'bargauge',
      title: 'SLO: p90 latency per model vs target',
      unit: 'ms',
      columns: ['Model', 'P90Ms'],
      defaults: {
        thresholds: {
          mode: 'absolute',
          steps: [
            { color: 'green', value: null },
            { color: 'red', value: SLO.p90TargetMs },
          ],
        },
      },
      options: { orientation: 'horizontal', reduceOptions: { values: true, calcs: ['lastNotNull'] } },
      sql: `SELECT Model, ${QUANTILES}[2] / 1e6 AS P90Ms
        FROM llm_1m WHERE ${LLM_FILTER} AND Model != '' AND ${MODEL_CALL}
        GROUP BY Model
        UNION ALL
        SELECT Model, ${bucketQuantile(0.9)} * 1000 AS P90Ms FROM (${metricLatency()})
        ORDER BY P90Ms DESC`,
    },
    {
      type: 'table',
      title: 'SLO: cost guardrail per tenant per day',
      unit: 'currencyUSD',
      columns: ['Day', 'TenantId', 'CostUsd', 'BudgetUsed'],
      overrides: [
        unitOverride('Day', 'string'),
        unitOverride('BudgetUsed', 'percentunit', [
          { id: 'custom.cellOptions', value: { type: 'color-background' } },
          {
            id: 'thresholds',
            value: {
              mode: 'absolute',
              steps: [
                { color: 'green', value: null },
                { color: 'orange', value: 0.8 },
                { color: 'red', value: 1 },
              ],
            },
          },
        ]),
      ],
      sql: `SELECT toString(toDate(Minute)) AS Day, TenantId, sum(CostUsd) AS CostUsd, CostUsd / $daily_budget_usd AS BudgetUsed
        FROM ${USAGE} WHERE ${LLM_FILTER}
        GROUP BY Day, TenantId ORDER BY Day DESC, BudgetUsed DESC LIMIT 500`,
    },
  ];
  const { panels, columns } = layout(specs);
  return {
    dashboard: dashboard({
      uid: 'sieve-ai',
      title: 'Sieve / AI agents & LLMs',
      tags: ['ai', 'llm'],
      time: 'now-7d',
      variables: [
        ...variables(true),
        constant('slo_agent_success', 'Agent-run success objective', SLO.agentRunSuccess),
        constant('daily_budget_usd', 'Daily budget per tenant (USD)', SLO.dailyTenantBudgetUsd),
      ],
      panels,
    }),
    columns,
  };
}

// ---------------------------------------------------------------- 3 Logs
function logs(): BuiltDashboard {
  const filter = `${TENANT} AND ${SERVICE} AND ${ENV}`;
  const specs: PanelSpec[] = [
    {
      title: 'Log volume by severity',
      unit: 'short',
      columns: ['time', 'SeverityText', 'Count'],
      defaults: { custom: { drawStyle: 'bars', fillOpacity: 70, stacking: { mode: 'normal' } } },
      sql: Q.logVolumeBySeverity(G),
    },
    {
      title: 'Log volume by service',
      unit: 'short',
      columns: ['time', 'ServiceName', 'Count'],
      sql: `SELECT $__timeInterval(Minute) AS time, ServiceName, sum(Count) AS Count
        FROM logs_1m WHERE $__timeFilter(Minute) AND ${filter}
        GROUP BY time, ServiceName ORDER BY time`,
    },
    {
      title: 'Errors and fatals by service',
      unit: 'short',
      w: 24,
      h: 6,
      columns: ['time', 'ServiceName', 'Count'],
      sql: `SELECT $__timeInterval(Minute) AS time, ServiceName, sum(Count) AS Count
        FROM logs_1m WHERE $__timeFilter(Minute) AND ${filter} AND SeverityNumber >= 17
        GROUP BY time, ServiceName ORDER BY time`,
    },
    {
      type: 'logs',
      title: 'Logs',
      unit: 'none',
      w: 24,
      h: 14,
      format: Format.LOGS,
      columns: ['timestamp', 'body', 'level', 'ServiceName', 'TraceId', 'SpanId'],
      options: { showTime: true, wrapLogMessage: true, sortOrder: 'Descending', enableLogDetails: true },
      overrides: [
        {
          matcher: { id: 'byName', options: 'TraceId' },
          properties: [
            {
              id: 'links',
              value: [
                {
                  title: 'Open trace',
                  url: '/d/sieve-traces/sieve-traces?${__url_time_range}&var-trace_id=${__value.raw}',
                },
              ],
            },
          ],
        },
      ],
      sql: `SELECT Timestamp AS timestamp, Body AS body, SeverityText AS level, ServiceName, TraceId, SpanId
        FROM otel_logs
        WHERE $__timeFilter(Timestamp) AND ${filter}
        AND $__conditionalAll(SeverityText IN (\${severity:singlequote}), $severity)
        AND ('$search' = '' OR positionCaseInsensitive(Body, '$search') > 0)
        ORDER BY Timestamp DESC LIMIT 1000`,
    },
  ];
  const { panels, columns } = layout(specs);
  return {
    dashboard: dashboard({
      uid: 'sieve-logs',
      title: 'Sieve / Logs',
      tags: ['logs'],
      time: 'now-1h',
      variables: [
        ...variables(false),
        queryVariable({
          name: 'severity',
          label: 'Severity',
          query: 'SELECT DISTINCT SeverityText FROM logs_1m WHERE $__timeFilter(Minute) ORDER BY 1',
        }),
        { type: 'textbox', name: 'search', label: 'Body contains', query: '', current: { text: '', value: '' } },
      ],
      panels,
    }),
    columns,
  };
}

// ---------------------------------------------------------------- 4 Traces (plugin OpenTelemetry mode)
function traces(): BuiltDashboard {
  const specs: PanelSpec[] = [
    {
      type: 'table',
      title: 'Trace search (root spans)',
      unit: 'ms',
      w: 24,
      h: 10,
      columns: ['traceID', 'serviceName', 'operationName', 'startTime', 'duration'],
      overrides: [
        unitOverride('startTime', 'dateTimeAsIso'),
        {
          matcher: { id: 'byName', options: 'traceID' },
          properties: [
            {
              id: 'links',
              value: [
                {
                  title: 'Open trace',
                  url: '/d/sieve-traces/sieve-traces?${__url_time_range}&var-trace_id=${__value.raw}',
                },
              ],
            },
          ],
        },
      ],
      sql: `SELECT TraceId AS traceID, ServiceName AS serviceName, SpanName AS operationName, Timestamp AS startTime,
        multiply(Duration, 0.000001) AS duration
        FROM otel_traces
        WHERE $__timeFilter(Timestamp) AND ParentSpanId = '' AND Duration > 0
        AND ${TENANT} AND ${SERVICE} AND ${ENV}
        AND ($min_duration_ms = 0 OR Duration >= $min_duration_ms * 1000000)
        ORDER BY Timestamp DESC, Duration DESC LIMIT 1000`,
    },
    {
      type: 'traces',
      title: 'Trace ${trace_id}',
      unit: 'ms',
      w: 24,
      h: 16,
      format: Format.TRACE,
      traceView: true,
      columns: [
        'traceID',
        'spanID',
        'parentSpanID',
        'serviceName',
        'operationName',
        'startTime',
        'duration',
        'tags',
        'serviceTags',
        'statusCode',
      ],
      sql: `WITH '\${trace_id}' AS trace_id,
        (SELECT min(Start) FROM otel_traces_trace_id_ts WHERE TraceId = trace_id) AS trace_start,
        (SELECT max(End) + 1 FROM otel_traces_trace_id_ts WHERE TraceId = trace_id) AS trace_end
        SELECT TraceId AS traceID, SpanId AS spanID, ParentSpanId AS parentSpanID, ServiceName AS serviceName,
        SpanName AS operationName, multiply(toUnixTimestamp64Nano(Timestamp), 0.000001) AS startTime,
        multiply(Duration, 0.000001) AS duration,
        arrayMap(key -> map('key', key, 'value', SpanAttributes[key]), mapKeys(SpanAttributes)) AS tags,
        arrayMap(key -> map('key', key, 'value', ResourceAttributes[key]), mapKeys(ResourceAttributes)) AS serviceTags,
        if(StatusCode IN ('Error', 'STATUS_CODE_ERROR'), 2, 0) AS statusCode
        FROM otel_traces
        WHERE traceID = trace_id AND Timestamp >= trace_start AND Timestamp <= trace_end
        LIMIT 1000`,
    },
  ];
  const { panels, columns } = layout(specs);
  return {
    dashboard: dashboard({
      uid: 'sieve-traces',
      title: 'Sieve / Traces',
      tags: ['traces'],
      time: 'now-1h',
      variables: [
        ...variables(false),
        { type: 'textbox', name: 'trace_id', label: 'Trace ID', query: '', current: { text: '', value: '' } },
        {
          type: 'textbox',
          name: 'min_duration_ms',
          label: 'Min duration (ms)',
          query: '0',
          current: { text: '0', value: '0' },
        },
      ],
      panels,
    }),
    columns,
  };
}

// ---------------------------------------------------------------- 5 Pipeline health (Prometheus)
function pipelineHealth(): BuiltDashboard {
  const specs: PanelSpec[] = [
    {
      title: 'Accepted items/s by signal',
      unit: 'short',
      columns: [],
      promql: [
        {
          expr: 'sum by (signal) (rate(sieve_receiver_items_total{outcome="accepted"}[$__rate_interval]))',
          legend: '{{signal}}',
        },
      ],
    },
    {
      title: 'Rejected / refused items/s by reason',
      unit: 'short',
      columns: [],
      promql: [
        {
          expr: 'sum by (signal, outcome, reason) (rate(sieve_receiver_items_total{outcome!="accepted"}[$__rate_interval]))',
          legend: '{{signal}} {{outcome}} {{reason}}',
        },
      ],
    },
    {
      title: 'Receiver request latency p50 / p99',
      unit: 's',
      columns: [],
      promql: [
        {
          expr: 'histogram_quantile(0.5, sum by (le) (rate(sieve_receiver_request_duration_seconds_bucket[$__rate_interval])))',
          legend: 'p50',
        },
        {
          expr: 'histogram_quantile(0.99, sum by (le) (rate(sieve_receiver_request_duration_seconds_bucket[$__rate_interval])))',
          legend: 'p99',
        },
      ],
    },
    {
      title: 'Kafka produce latency p99',
      unit: 's',
      columns: [],
      promql: [
        {
          expr: 'histogram_quantile(0.99, sum by (le) (rate(sieve_kafka_produce_duration_seconds_bucket[$__rate_interval])))',
          legend: 'p99',
        },
      ],
    },
    {
      title: 'Receiver in-flight bytes',
      unit: 'bytes',
      columns: [],
      promql: [{ expr: 'sum(sieve_receiver_inflight_bytes)', legend: 'in flight' }],
    },
    {
      title: 'Loader rows inserted/s by table',
      unit: 'short',
      columns: [],
      promql: [
        { expr: 'sum by (table) (rate(sieve_loader_rows_inserted_total[$__rate_interval]))', legend: '{{table}}' },
      ],
    },
    {
      title: 'Loader insert latency p50 / p99',
      unit: 's',
      columns: [],
      promql: [
        {
          expr: 'histogram_quantile(0.5, sum by (le) (rate(sieve_loader_insert_duration_seconds_bucket[$__rate_interval])))',
          legend: 'p50',
        },
        {
          expr: 'histogram_quantile(0.99, sum by (le) (rate(sieve_loader_insert_duration_seconds_bucket[$__rate_interval])))',
          legend: 'p99',
        },
      ],
    },
    {
      // with the receiver's request latency: span end → queryable (Kafka timestamp → rows inserted)
      title: 'Loader freshness: Kafka → ClickHouse age p50 / p99 by topic',
      unit: 's',
      columns: [],
      promql: [
        {
          expr: 'histogram_quantile(0.5, sum by (le, topic) (rate(sieve_loader_message_age_seconds_bucket[$__rate_interval])))',
          legend: 'p50 {{topic}}',
        },
        {
          expr: 'histogram_quantile(0.99, sum by (le, topic) (rate(sieve_loader_message_age_seconds_bucket[$__rate_interval])))',
          legend: 'p99 {{topic}}',
        },
      ],
    },
    {
      title: 'Consumer lag by topic',
      unit: 'short',
      columns: [],
      promql: [{ expr: 'sum by (topic) (sieve_loader_consumer_lag)', legend: '{{topic}}' }],
    },
    {
      title: 'Dead-letter messages/s',
      unit: 'short',
      columns: [],
      promql: [{ expr: 'sum(rate(sieve_loader_dlq_messages_total[$__rate_interval]))', legend: 'dlq' }],
    },
    {
      title: 'GenAI usage values refused (negative, not a number, > 1e9)/s',
      unit: 'short',
      columns: [],
      promql: [
        {
          expr: 'sum by (field) (rate(sieve_loader_genai_invalid_usage_total[$__rate_interval]))',
          legend: '{{field}}',
        },
      ],
    },
    {
      title: 'Spans priced with an unknown model/s',
      unit: 'short',
      columns: [],
      promql: [{ expr: 'sum(rate(sieve_loader_cost_unknown_model_total[$__rate_interval]))', legend: 'unknown model' }],
    },
  ];
  const { panels, columns } = layout(specs);
  return {
    dashboard: dashboard({
      uid: 'sieve-pipeline',
      title: 'Sieve / Pipeline health',
      tags: ['pipeline'],
      time: 'now-1h',
      variables: [
        {
          type: 'datasource',
          name: 'prometheus',
          label: 'Prometheus',
          query: 'prometheus',
          current: { text: 'Prometheus', value: PROMETHEUS.uid },
          hide: 2,
        },
      ],
      panels,
    }),
    columns,
  };
}

export function buildDashboards(): BuiltDashboard[] {
  return [serviceOverview(), aiAgents(), logs(), traces(), pipelineHealth(), metricsDashboard()];
}
