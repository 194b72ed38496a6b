/**
 * Pure helpers that cut OTLP requests into Kafka-message-sized pieces.
 *
 * - splitByItems: pieces of at most `max` items (spans / log records / data points), keeping the
 *   resource and scope of every item (the Collector batch processor's split).
 * - groupSpansByTraceId: one request per trace id (kafka exporter `partition_traces_by_id`).
 * The trace helpers also take RawTraces (spans kept encoded, ../otlp/raw-traces.ts).
 */

import { countItems, metricDataPointCount } from '../otlp/codec.js';
import { bytesToHex } from '../otlp/ids.js';
import type { Metric, RequestBySignal, Signal } from '../otlp/model.js';

type Req<S extends Signal> = RequestBySignal[S];

/** Splits a request into requests of at most `max` items each (max ≥ 1). Returns [request] when it already fits. */
export function splitByItems<S extends Signal>(signal: S, request: Req<S>, max: number): Req<S>[] {
  if (max <= 0 || countItems(signal, request) <= max) return [request];
  if (signal === 'traces') return splitSpanTree(request as Req<'traces'>, max) as Req<S>[];
  if (signal === 'logs') return splitLogs(request as Req<'logs'>, max) as Req<S>[];
  return splitMetrics(request as Req<'metrics'>, max) as Req<S>[];
}

/**
 * The nesting decoded trace requests and RawTraces (../otlp/raw-traces.ts) share: resources →
 * scopes → spans with a trace id. Resource and scope are carried over by reference.
 */
export interface SpanTree {
  resourceSpans?: SpanTreeResource[] | null;
}
interface SpanTreeResource {
  resource?: unknown;
  schemaUrl?: string | null;
  scopeSpans?: SpanTreeScope[] | null;
}
interface SpanTreeScope {
  scope?: unknown;
  schemaUrl?: string | null;
  spans?: { traceId?: Uint8Array | null }[] | null;
}

/** Appends `spans` under (rs, ss) to `out`, reusing its last resource when it is the same one. */
function appendSpans(out: SpanTree, rs: SpanTreeResource, ss: SpanTreeScope, spans: SpanTreeScope['spans']): void {
  const list = (out.resourceSpans ??= []);
  let last = list[list.length - 1];
  if (last === undefined || last.resource !== rs.resource || last.schemaUrl !== rs.schemaUrl) {
    last = { resource: rs.resource, schemaUrl: rs.schemaUrl, scopeSpans: [] };
    list.push(last);
  }
  (last.scopeSpans ??= []).push({ scope: ss.scope, schemaUrl: ss.schemaUrl, spans });
}

/** Splits a span tree into trees of at most `max` spans each, in order. */
export function splitSpanTree<T extends SpanTree>(req: T, max: number): T[] {
  const out: SpanTree[] = [];
  let cur: SpanTree = { resourceSpans: [] };
  let n = 0;
  for (const rs of req.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      const spans = ss.spans ?? [];
      let i = 0;
      while (i < spans.length) {
        if (n === max) {
          out.push(cur);
          cur = { resourceSpans: [] };
          n = 0;
        }
        const take = Math.min(max - n, spans.length - i);
        appendSpans(cur, rs, ss, spans.slice(i, i + take));
        i += take;
        n += take;
      }
    }
  }
  if (n > 0) out.push(cur);
  return out as T[];
}

function splitLogs(req: Req<'logs'>, max: number): Req<'logs'>[] {
  const out: Req<'logs'>[] = [];
  let cur: Req<'logs'> = { resourceLogs: [] };
  let n = 0;
  for (const rl of req.resourceLogs ?? []) {
    for (const sl of rl.scopeLogs ?? []) {
      const recs = sl.logRecords ?? [];
      let i = 0;
      while (i < recs.length) {
        if (n === max) {
          out.push(cur);
          cur = { resourceLogs: [] };
          n = 0;
        }
        const take = Math.min(max - n, recs.length - i);
        const list = cur.resourceLogs ?? [];
        let last = list[list.length - 1];
        if (last === undefined || last.resource !== rl.resource || last.schemaUrl !== rl.schemaUrl) {
          last = { resource: rl.resource, schemaUrl: rl.schemaUrl, scopeLogs: [] };
          list.push(last);
        }
        (last.scopeLogs ??= []).push({ scope: sl.scope, schemaUrl: sl.schemaUrl, logRecords: recs.slice(i, i + take) });
        i += take;
        n += take;
      }
    }
  }
  if (n > 0) out.push(cur);
  return out;
}

/** Metrics split at metric granularity, and inside a metric at data-point granularity. */
function splitMetrics(req: Req<'metrics'>, max: number): Req<'metrics'>[] {
  const out: Req<'metrics'>[] = [];
  let cur: Req<'metrics'> = { resourceMetrics: [] };
  let n = 0;
  const flush = () => {
    if (n > 0) out.push(cur);
    cur = { resourceMetrics: [] };
    n = 0;
  };
  for (const rm of req.resourceMetrics ?? []) {
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) {
        for (const piece of splitMetric(m, max)) {
          const c = metricDataPointCount(piece);
          if (n + c > max) flush();
          const list = cur.resourceMetrics ?? [];
          let lastR = list[list.length - 1];
          if (lastR === undefined || lastR.resource !== rm.resource || lastR.schemaUrl !== rm.schemaUrl) {
            lastR = { resource: rm.resource, schemaUrl: rm.schemaUrl, scopeMetrics: [] };
            list.push(lastR);
          }
          const sms = (lastR.scopeMetrics ??= []);
          let lastS = sms[sms.length - 1];
          if (lastS === undefined || lastS.scope !== sm.scope || lastS.schemaUrl !== sm.schemaUrl) {
            lastS = { scope: sm.scope, schemaUrl: sm.schemaUrl, metrics: [] };
            sms.push(lastS);
          }
          (lastS.metrics ??= []).push(piece);
          n += c;
        }
      }
    }
  }
  flush();
  return out;
}

function splitMetric(m: Metric, max: number): Metric[] {
  const total = metricDataPointCount(m);
  if (total <= max) return [m];
  const kinds = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const;
  const out: Metric[] = [];
  for (const k of kinds) {
    const data = m[k] as { dataPoints?: unknown[] | null } | null | undefined;
    const dps = data?.dataPoints;
    if (data == null || dps == null) continue;
    for (let i = 0; i < dps.length; i += max) {
      out.push({
        ...m,
        gauge: undefined,
        sum: undefined,
        histogram: undefined,
        exponentialHistogram: undefined,
        summary: undefined,
        [k]: { ...data, dataPoints: dps.slice(i, i + max) },
      } as Metric);
    }
  }
  return out.map((x) => {
    const y: Record<string, unknown> = { ...x };
    for (const k of kinds) if (y[k] === undefined) delete y[k];
    return y as Metric;
  });
}

/** Groups the spans of a request by trace id: Map<hex trace id, request holding only that trace's spans>. */
export function groupSpansByTraceId<T extends SpanTree>(req: T): Map<string, T> {
  const out = new Map<string, SpanTree>();
  for (const rs of req.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      const byTrace = new Map<string, NonNullable<SpanTreeScope['spans']>>();
      for (const span of ss.spans ?? []) {
        const key = bytesToHex(span.traceId);
        let arr = byTrace.get(key);
        if (arr === undefined) byTrace.set(key, (arr = []));
        arr.push(span);
      }
      for (const [key, spans] of byTrace) {
        let r = out.get(key);
        if (r === undefined) out.set(key, (r = { resourceSpans: [] }));
        appendSpans(r, rs, ss, spans);
      }
    }
  }
  return out as Map<string, T>;
}
