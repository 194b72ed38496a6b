// "Sieve / Metrics": any metric an application sends — rates of counters (cumulative or delta, resets
// and restarts handled by metrics_1m_v), gauges, and quantiles merged from histogram buckets.
import { bucketQuantile, METRICS } from './metric-sql.js';
import { type Dashboard, dashboard, layout, type PanelSpec, queryVariable } from './panels.js';

const TENANT = '$__conditionalAll(TenantId IN (${tenant:singlequote}), $tenant)';
const SERVICE = '$__conditionalAll(ServiceName IN (${service:singlequote}), $service)';
const METRIC = 'MetricName IN (${metric:singlequote})';
const FILTER = `${TENANT} AND ${SERVICE} AND ${METRIC}`;

export function metricsDashboard(): { dashboard: Dashboard; columns: Map<number, string[]> } {
  const specs: PanelSpec[] = [
    {
      title: 'Rate per second (counters)',
      description:
        'Increase per second of monotonic sums; cumulative points become increases, resets and restarts never go negative.',
      unit: 'short',
      columns: ['time', 'ServiceName', 'Rate'],
      sql: `SELECT $__timeInterval(Minute) AS time, ServiceName, sum(Value) / $__interval_s AS Rate
        FROM ${METRICS} WHERE ${FILTER} AND Type = 'sum' AND IsMonotonic = 1
        GROUP BY time, ServiceName ORDER BY time`,
    },
    {
      title: 'Value (gauges and up-down counters)',
      unit: 'short',
      columns: ['time', 'ServiceName', 'Avg', 'Max'],
      sql: `SELECT $__timeInterval(TimeUnix) AS time, ServiceName, avg(Value) AS Avg, max(Value) AS Max
        FROM otel_metrics_gauge WHERE $__timeFilter(TimeUnix) AND ${FILTER}
        GROUP BY time, ServiceName
        UNION ALL
        SELECT $__timeInterval(Minute) AS time, ServiceName, avg(Current) AS Avg, max(Current) AS Max
        FROM ${METRICS} WHERE ${FILTER} AND Type = 'sum' AND IsMonotonic = 0
        GROUP BY time, ServiceName
        ORDER BY time`,
    },
    {
      title: 'Histogram quantiles p50 / p90 / p99',
      description:
        'Bucket counts merged over series and time first, then interpolated inside the bucket (never averaged).',
      unit: 'short',
      columns: ['time', 'P50', 'P90', 'P99'],
      sql: `SELECT time, ${bucketQuantile(0.5)} AS P50, ${bucketQuantile(0.9)} AS P90, ${bucketQuantile(0.99)} AS P99
        FROM (
          SELECT $__timeInterval(Minute) AS time, Bounds AS b, sumForEach(Buckets) AS c, arraySum(c) AS n
          FROM ${METRICS} WHERE ${FILTER} AND Type = 'histogram'
          GROUP BY time, Bounds ORDER BY n DESC LIMIT 1 BY time
        ) ORDER BY time`,
    },
    {
      title: 'Histogram observations per second',
      unit: 'short',
      columns: ['time', 'ServiceName', 'Rate'],
      sql: `SELECT $__timeInterval(Minute) AS time, ServiceName, sum(Count) / $__interval_s AS Rate
        FROM ${METRICS} WHERE ${FILTER} AND Type = 'histogram'
        GROUP BY time, ServiceName ORDER BY time`,
    },
    {
      type: 'table',
      title: 'Series',
      unit: 'short',
      w: 24,
      columns: ['MetricName', 'ServiceName', 'Type', 'Temporality', 'Attributes', 'Increase', 'Points'],
      sql: `SELECT MetricName, ServiceName, Type, if(Temporality = 2, 'cumulative', 'delta') AS Temporality,
        toString(any(Attributes)) AS Attributes, sum(Value) AS Increase, count() AS Points
        FROM ${METRICS} WHERE ${FILTER}
        GROUP BY MetricName, ServiceName, Type, Temporality, SeriesId ORDER BY Increase DESC LIMIT 200`,
    },
  ];
  const { panels, columns } = layout(specs);
  return {
    dashboard: dashboard({
      uid: 'sieve-metrics',
      title: 'Sieve / Metrics',
      tags: ['metrics'],
      time: 'now-6h',
      variables: [
        queryVariable({
          name: 'tenant',
          label: 'Tenant',
          query: 'SELECT DISTINCT TenantId FROM metrics_1m WHERE $__timeFilter(Minute) ORDER BY 1',
        }),
        queryVariable({
          name: 'service',
          label: 'Service',
          query: `SELECT DISTINCT ServiceName FROM metrics_1m WHERE $__timeFilter(Minute) AND ${TENANT} ORDER BY 1`,
        }),
        queryVariable({
          name: 'metric',
          label: 'Metric',
          query: `SELECT DISTINCT MetricName FROM metrics_1m WHERE $__timeFilter(Minute) AND ${TENANT} AND ${SERVICE}
            UNION DISTINCT SELECT DISTINCT MetricName FROM otel_metrics_gauge WHERE $__timeFilter(TimeUnix) ORDER BY 1`,
        }),
      ],
      panels,
    }),
    columns,
  };
}
