import { anyValueToString, attributesToRecord } from '../otlp/anyvalue.js';
import { bytesToHex, int64IsZero } from '../otlp/ids.js';
import type { ExportLogsServiceRequest } from '../otlp/model.js';
import { resourceFields } from './common.js';
import { nanosToDateTime64 } from './time.js';

/** One otel_logs row per log record; Timestamp falls back to observedTimeUnixNano when unset. */
export function logRows(req: ExportLogsServiceRequest): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const rl of req.resourceLogs ?? []) {
    const rattrs = rl.resource?.attributes;
    const res = resourceFields(rattrs);
    const resourceAttributes = attributesToRecord(rattrs);
    for (const sl of rl.scopeLogs ?? []) {
      const scopeAttributes = attributesToRecord(sl.scope?.attributes);
      for (const r of sl.logRecords ?? []) {
        const ts = int64IsZero(r.timeUnixNano) ? r.observedTimeUnixNano : r.timeUnixNano;
        rows.push({
          Timestamp: nanosToDateTime64(ts),
          TraceId: bytesToHex(r.traceId),
          SpanId: bytesToHex(r.spanId),
          TraceFlags: (r.flags ?? 0) & 0xff,
          SeverityText: r.severityText ?? '',
          SeverityNumber: Math.max(0, Math.min(255, r.severityNumber ?? 0)),
          ServiceName: res.ServiceName,
          Body: anyValueToString(r.body),
          ResourceSchemaUrl: rl.schemaUrl ?? '',
          ResourceAttributes: resourceAttributes,
          ScopeSchemaUrl: sl.schemaUrl ?? '',
          ScopeName: sl.scope?.name ?? '',
          ScopeVersion: sl.scope?.version ?? '',
          ScopeAttributes: scopeAttributes,
          LogAttributes: attributesToRecord(r.attributes),
          TenantId: res.TenantId,
          Environment: res.Environment,
        });
      }
    }
  }
  return rows;
}
