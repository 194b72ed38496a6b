import type { ExportTraceServiceRequest, KeyValue } from '../otlp/model.js';
import { anyValueToString, attributesToRecord } from '../otlp/anyvalue.js';
import { bytesToHex, int64ToBigInt } from '../otlp/ids.js';
import { extractGenAi, type UnknownModelHook } from './genai.js';
import { resourceFields } from './common.js';
import type { PricingTable } from './pricing.js';
import { nanosToDateTime64 } from './time.js';

export const SPAN_KIND = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'] as const;
export const STATUS_CODE = ['Unset', 'Ok', 'Error'] as const;

export interface TraceMapOptions {
  pricing?: PricingTable;
  onUnknownModel?: UnknownModelHook;
}

/** One otel_traces row per span (JSONEachRow object, clickhouseexporter column names). */
export function traceRows(req: ExportTraceServiceRequest, opts: TraceMapOptions = {}): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const rs of req.resourceSpans ?? []) {
    const rattrs = rs.resource?.attributes;
    const res = resourceFields(rattrs);
    const resourceAttributes = attributesToRecord(rattrs);
    for (const ss of rs.scopeSpans ?? []) {
      const scopeName = ss.scope?.name ?? '';
      const scopeVersion = ss.scope?.version ?? '';
      for (const s of ss.spans ?? []) {
        const start = int64ToBigInt(s.startTimeUnixNano);
        const end = int64ToBigInt(s.endTimeUnixNano);
        const events = s.events ?? [];
        const links = s.links ?? [];
        rows.push({
          Timestamp: nanosToDateTime64(start),
          TraceId: bytesToHex(s.traceId),
          SpanId: bytesToHex(s.spanId),
          ParentSpanId: bytesToHex(s.parentSpanId),
          TraceState: s.traceState ?? '',
          SpanName: s.name ?? '',
          SpanKind: SPAN_KIND[s.kind ?? 0] ?? 'Unspecified',
          ServiceName: res.ServiceName,
          ResourceAttributes: resourceAttributes,
          ScopeName: scopeName,
          ScopeVersion: scopeVersion,
          SpanAttributes: attributesToRecord(s.attributes),
          Duration: (end > start ? end - start : 0n).toString(),
          StatusCode: STATUS_CODE[s.status?.code ?? 0] ?? 'Unset',
          StatusMessage: s.status?.message ?? '',
          'Events.Timestamp': events.map((e) => nanosToDateTime64(e.timeUnixNano)),
          'Events.Name': events.map((e) => e.name ?? ''),
          'Events.Attributes': events.map((e) => attributesToRecord(e.attributes)),
          'Links.TraceId': links.map((l) => bytesToHex(l.traceId)),
          'Links.SpanId': links.map((l) => bytesToHex(l.spanId)),
          'Links.TraceState': links.map((l) => l.traceState ?? ''),
          'Links.Attributes': links.map((l) => attributesToRecord(l.attributes)),
          TenantId: res.TenantId,
          Environment: res.Environment,
          ...extractGenAi(s.attributes, opts.pricing, opts.onUnknownModel),
        });
      }
    }
  }
  return rows;
}

const q = JSON.stringify;
/** JSON object text of an attribute list (first occurrence of a key wins, as attributesToRecord). */
export function attributesJson(attrs: KeyValue[] | null | undefined): string {
  if (attrs == null || attrs.length === 0) return '{}';
  let s = '{';
  let seen: Set<string> | undefined;
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i] as KeyValue;
    const k = kv.key;
    if (i > 0) {
      if (seen === undefined) {
        seen = new Set();
        for (let j = 0; j < i; j++) seen.add((attrs[j] as KeyValue).key);
      }
      if (seen.has(k)) continue;
      seen.add(k);
      s += ',';
    }
    s += q(k) + ':' + q(anyValueToString(kv.value));
  }
  return s + '}';
}

const jsonArr = <T>(xs: T[], f: (x: T) => string): string => {
  if (xs.length === 0) return '[]';
  let s = '[';
  for (let i = 0; i < xs.length; i++) s += (i ? ',' : '') + f(xs[i] as T);
  return s + ']';
};

/** Same rows as traceRows, but emitted directly as JSONEachRow lines (no intermediate objects). */
export function traceLines(req: ExportTraceServiceRequest, opts: TraceMapOptions, out: string[]): number {
  let n = 0;
  for (const rs of req.resourceSpans ?? []) {
    const rattrs = rs.resource?.attributes;
    const res = resourceFields(rattrs);
    const resTail = ',"ServiceName":' + q(res.ServiceName) + ',"ResourceAttributes":' + attributesJson(rattrs) + ',"TenantId":' + q(res.TenantId) + ',"Environment":' + q(res.Environment);
    for (const ss of rs.scopeSpans ?? []) {
      const scopeTail = resTail + ',"ScopeName":' + q(ss.scope?.name ?? '') + ',"ScopeVersion":' + q(ss.scope?.version ?? '');
      for (const s of ss.spans ?? []) {
        const start = int64ToBigInt(s.startTimeUnixNano);
        const end = int64ToBigInt(s.endTimeUnixNano);
        const events = s.events ?? [];
        const links = s.links ?? [];
        const g = extractGenAi(s.attributes, opts.pricing, opts.onUnknownModel);
        out.push('{"Timestamp":"' + nanosToDateTime64(start) +
          '","TraceId":"' + bytesToHex(s.traceId) +
          '","SpanId":"' + bytesToHex(s.spanId) +
          '","ParentSpanId":"' + bytesToHex(s.parentSpanId) +
          '","TraceState":' + q(s.traceState ?? '') +
          ',"SpanName":' + q(s.name ?? '') +
          ',"SpanKind":"' + (SPAN_KIND[s.kind ?? 0] ?? 'Unspecified') + '"' +
          scopeTail +
          ',"SpanAttributes":' + attributesJson(s.attributes) +
          ',"Duration":"' + (end > start ? end - start : 0n).toString() +
          '","StatusCode":"' + (STATUS_CODE[s.status?.code ?? 0] ?? 'Unset') +
          '","StatusMessage":' + q(s.status?.message ?? '') +
          ',"Events.Timestamp":' + jsonArr(events, (e) => '"' + nanosToDateTime64(e.timeUnixNano) + '"') +
          ',"Events.Name":' + jsonArr(events, (e) => q(e.name ?? '')) +
          ',"Events.Attributes":' + jsonArr(events, (e) => attributesJson(e.attributes)) +
          ',"Links.TraceId":' + jsonArr(links, (l) => '"' + bytesToHex(l.traceId) + '"') +
          ',"Links.SpanId":' + jsonArr(links, (l) => '"' + bytesToHex(l.spanId) + '"') +
          ',"Links.TraceState":' + jsonArr(links, (l) => q(l.traceState ?? '')) +
          ',"Links.Attributes":' + jsonArr(links, (l) => attributesJson(l.attributes)) +
          ',"GenAiProvider":' + q(g.GenAiProvider) + ',"GenAiOperation":' + q(g.GenAiOperation) +
          ',"GenAiRequestModel":' + q(g.GenAiRequestModel) + ',"GenAiResponseModel":' + q(g.GenAiResponseModel) +
          ',"GenAiInputTokens":' + g.GenAiInputTokens + ',"GenAiOutputTokens":' + g.GenAiOutputTokens +
          ',"GenAiCacheReadTokens":' + g.GenAiCacheReadTokens + ',"GenAiReasoningTokens":' + g.GenAiReasoningTokens +
          ',"GenAiToolName":' + q(g.GenAiToolName) + ',"GenAiAgentName":' + q(g.GenAiAgentName) +
          ',"GenAiPromptHash":' + q(g.GenAiPromptHash) + ',"GenAiCostUsd":' + q(g.GenAiCostUsd) +
          ',"GenAiCostSource":"' + g.GenAiCostSource + '"}');
        n++;
      }
    }
  }
  return n;
}
