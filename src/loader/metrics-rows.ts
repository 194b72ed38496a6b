import { attributesToRecord } from '../otlp/anyvalue.js';
import { bytesToHex, int64ToNumber, int64ToString } from '../otlp/ids.js';
import type { Exemplar, ExportMetricsServiceRequest } from '../otlp/model.js';
import { resourceFields } from './common.js';
import { resolveMetricPoint } from './genai/metrics.js';
import { type CompiledDialects, defaultDialects, resolveList } from './genai.js';
import type { PricingTable } from './pricing.js';
import { nanosToDateTime64 } from './time.js';

export type MetricTable =
  | 'otel_metrics_gauge'
  | 'otel_metrics_sum'
  | 'otel_metrics_histogram'
  | 'otel_metrics_exp_histogram'
  | 'otel_metrics_summary';
export type MetricRows = Record<MetricTable, Record<string, unknown>[]>;

function exemplarCols(ex: Exemplar[] | null | undefined): Record<string, unknown> {
  const e = ex ?? [];
  return {
    'Exemplars.FilteredAttributes': e.map((x) => attributesToRecord(x.filteredAttributes)),
    'Exemplars.TimeUnix': e.map((x) => nanosToDateTime64(x.timeUnixNano)),
    'Exemplars.Value': e.map((x) => (x.asDouble != null ? x.asDouble : int64ToNumber(x.asInt))),
    'Exemplars.SpanId': e.map((x) => bytesToHex(x.spanId)),
    'Exemplars.TraceId': e.map((x) => bytesToHex(x.traceId)),
  };
}

export interface MetricMapOptions {
  pricing?: PricingTable;
  /** AI dialect tables (default: the shipped presets): AI instruments get GenAi* labels */
  dialects?: CompiledDialects;
}

/** Rows for the five otel_metrics_* tables (one row per data point). */
export function metricRows(req: ExportMetricsServiceRequest, opts: MetricMapOptions = {}): MetricRows {
  const dialects = opts.dialects ?? defaultDialects();
  const out: MetricRows = {
    otel_metrics_gauge: [],
    otel_metrics_sum: [],
    otel_metrics_histogram: [],
    otel_metrics_exp_histogram: [],
    otel_metrics_summary: [],
  };
  for (const rm of req.resourceMetrics ?? []) {
    const rattrs = rm.resource?.attributes;
    const res = resourceFields(rattrs);
    const resourceAttributes = attributesToRecord(rattrs);
    let resourceAi: ReturnType<typeof resolveList> | undefined;
    for (const sm of rm.scopeMetrics ?? []) {
      const scopeAttributes = attributesToRecord(sm.scope?.attributes);
      for (const m of sm.metrics ?? []) {
        const base = {
          ResourceAttributes: resourceAttributes,
          ResourceSchemaUrl: rm.schemaUrl ?? '',
          ScopeName: sm.scope?.name ?? '',
          ScopeVersion: sm.scope?.version ?? '',
          ScopeAttributes: scopeAttributes,
          ScopeDroppedAttrCount: sm.scope?.droppedAttributesCount ?? 0,
          ScopeSchemaUrl: sm.schemaUrl ?? '',
          ServiceName: res.ServiceName,
          MetricName: m.name ?? '',
          MetricDescription: m.description ?? '',
          MetricUnit: m.unit ?? '',
        };
        const sieve = { TenantId: res.TenantId, Environment: res.Environment };
        const times = (p: { attributes?: unknown; startTimeUnixNano?: unknown; timeUnixNano?: unknown }) => ({
          Attributes: attributesToRecord(p.attributes as never),
          StartTimeUnix: nanosToDateTime64(p.startTimeUnixNano as never),
          TimeUnix: nanosToDateTime64(p.timeUnixNano as never),
        });
        // AI instruments only (a Set lookup for every other metric)
        const ai = dialects.metrics.has(m.name ?? '')
          ? (p: { attributes?: unknown; timeUnixNano?: unknown }) =>
              resolveMetricPoint(
                dialects,
                m.name ?? '',
                p.attributes as never,
                (resourceAi ??= resolveList(dialects, rattrs)),
                opts.pricing,
                Math.floor(int64ToNumber(p.timeUnixNano as never) / 1e6),
              )
          : () => undefined;
        const num = (p: { asDouble?: number | null; asInt?: unknown }) =>
          p.asDouble != null ? p.asDouble : int64ToNumber(p.asInt as never);
        for (const p of m.gauge?.dataPoints ?? []) {
          out.otel_metrics_gauge.push({
            ...base,
            ...times(p),
            Value: num(p),
            Flags: p.flags ?? 0,
            ...exemplarCols(p.exemplars),
            ...sieve,
          });
        }
        for (const p of m.sum?.dataPoints ?? []) {
          out.otel_metrics_sum.push({
            ...base,
            ...times(p),
            Value: num(p),
            Flags: p.flags ?? 0,
            ...exemplarCols(p.exemplars),
            AggregationTemporality: m.sum?.aggregationTemporality ?? 0,
            IsMonotonic: m.sum?.isMonotonic ?? false,
            ...sieve,
            ...ai(p),
          });
        }
        for (const p of m.histogram?.dataPoints ?? []) {
          out.otel_metrics_histogram.push({
            ...base,
            ...times(p),
            Count: int64ToString(p.count),
            Sum: p.sum ?? 0,
            BucketCounts: (p.bucketCounts ?? []).map((c) => int64ToString(c)),
            ExplicitBounds: p.explicitBounds ?? [],
            ...exemplarCols(p.exemplars),
            Flags: p.flags ?? 0,
            Min: p.min ?? 0,
            Max: p.max ?? 0,
            AggregationTemporality: m.histogram?.aggregationTemporality ?? 0,
            ...sieve,
            ...ai(p),
          });
        }
        for (const p of m.exponentialHistogram?.dataPoints ?? []) {
          out.otel_metrics_exp_histogram.push({
            ...base,
            ...times(p),
            Count: int64ToString(p.count),
            Sum: p.sum ?? 0,
            Scale: p.scale ?? 0,
            ZeroCount: int64ToString(p.zeroCount),
            PositiveOffset: p.positive?.offset ?? 0,
            PositiveBucketCounts: (p.positive?.bucketCounts ?? []).map((c) => int64ToString(c)),
            NegativeOffset: p.negative?.offset ?? 0,
            NegativeBucketCounts: (p.negative?.bucketCounts ?? []).map((c) => int64ToString(c)),
            ...exemplarCols(p.exemplars),
            Flags: p.flags ?? 0,
            Min: p.min ?? 0,
            Max: p.max ?? 0,
            AggregationTemporality: m.exponentialHistogram?.aggregationTemporality ?? 0,
            ...sieve,
          });
        }
        for (const p of m.summary?.dataPoints ?? []) {
          const q = p.quantileValues ?? [];
          out.otel_metrics_summary.push({
            ...base,
            ...times(p),
            Count: int64ToString(p.count),
            Sum: p.sum ?? 0,
            'ValueAtQuantiles.Quantile': q.map((x) => x.quantile ?? 0),
            'ValueAtQuantiles.Value': q.map((x) => x.value ?? 0),
            Flags: p.flags ?? 0,
            ...sieve,
          });
        }
      }
    }
  }
  return out;
}
