import { attributesToRecord } from '../otlp/anyvalue.js';
import { bytesToHex, int64ToBigInt } from '../otlp/ids.js';
import type { ExportTraceServiceRequest } from '../otlp/model.js';
import { resourceFields } from './common.js';
import { type CompiledDialects, defaultDialects, type GenAiHooks, resolveList, resolveSpan } from './genai.js';
import type { PricingTable } from './pricing.js';
import { nanosToDateTime64 } from './time.js';

export const SPAN_KIND = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'] as const;
export const STATUS_CODE = ['Unset', 'Ok', 'Error'] as const;

export interface TraceMapOptions extends GenAiHooks {
  pricing?: PricingTable;
  /** AI dialect tables (default: the shipped presets) */
  dialects?: CompiledDialects;
}

/** One otel_traces row per span (JSONEachRow object, clickhouseexporter column names). */
export function traceRows(req: ExportTraceServiceRequest, opts: TraceMapOptions = {}): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  const dialects = opts.dialects ?? defaultDialects();
  for (const rs of req.resourceSpans ?? []) {
    const rattrs = rs.resource?.attributes;
    const res = resourceFields(rattrs);
    const resourceAi = resolveList(dialects, rattrs);
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
          ...resolveSpan(
            dialects,
            s.attributes,
            resourceAi,
            { kind: s.kind ?? 0, timeMs: Number(start / 1_000_000n) },
            opts.pricing,
            opts,
          ),
        });
      }
    }
  }
  return rows;
}
