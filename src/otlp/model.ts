/**
 * Sieve's in-memory OTLP model: the shape protobufjs produces when it decodes the
 * opentelemetry-proto messages with camelCase field names (the same names OTLP/JSON uses).
 *
 * Every stage (receiver → pipeline → kafka exporter → loader) works on these objects:
 * - 64-bit integers (timestamps, counts, intValue) are `Int64` — a protobufjs `Long`, a decimal
 *   string or a safe number; never narrow them to number before the edge that needs it.
 * - ids (traceId, spanId, parentSpanId) are raw bytes (Uint8Array / Buffer), 16 and 8 bytes.
 * - fields may be missing/null/undefined when not set on the wire, so read them defensively
 *   (`span.attributes ?? []`).
 * Decoded objects (protobuf via ./codec.ts' compiled codec, and OTLP/JSON) are plain objects that
 * hold only the fields present with non-default values (oneof members such as AnyValue.intValue = 0
 * whenever present); repeated fields are always arrays; 64-bit ints are `Long` (unsigned for
 * fixed64/uint64 fields); ids are Buffer views into the request body. Objects built by code may use
 * any Int64 form and omit fields. protobufjs message instances also encode correctly, but they
 * carry oneof defaults on their prototype — read AnyValue through ./anyvalue.ts, never with
 * `v.stringValue != null`.
 */
import type Long from 'long';

export type Int64 = Long | number | string;

export type Signal = 'traces' | 'logs' | 'metrics';

export interface AnyValue {
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: Int64 | null;
  doubleValue?: number | null;
  arrayValue?: { values?: AnyValue[] | null } | null;
  kvlistValue?: { values?: KeyValue[] | null } | null;
  bytesValue?: Uint8Array | null;
}

export interface KeyValue {
  key: string;
  value?: AnyValue | null;
}

export interface Resource {
  attributes?: KeyValue[] | null;
  droppedAttributesCount?: number | null;
}

export interface InstrumentationScope {
  name?: string | null;
  version?: string | null;
  attributes?: KeyValue[] | null;
  droppedAttributesCount?: number | null;
}

// ---- traces ----
export interface SpanEvent {
  timeUnixNano?: Int64 | null;
  name?: string | null;
  attributes?: KeyValue[] | null;
  droppedAttributesCount?: number | null;
}
export interface SpanLink {
  traceId?: Uint8Array | null;
  spanId?: Uint8Array | null;
  traceState?: string | null;
  attributes?: KeyValue[] | null;
  droppedAttributesCount?: number | null;
  flags?: number | null;
}
export interface Status {
  message?: string | null;
  /** 0 UNSET, 1 OK, 2 ERROR */
  code?: number | null;
}
export interface Span {
  traceId?: Uint8Array | null;
  spanId?: Uint8Array | null;
  traceState?: string | null;
  parentSpanId?: Uint8Array | null;
  flags?: number | null;
  name?: string | null;
  /** 0 UNSPECIFIED, 1 INTERNAL, 2 SERVER, 3 CLIENT, 4 PRODUCER, 5 CONSUMER */
  kind?: number | null;
  startTimeUnixNano?: Int64 | null;
  endTimeUnixNano?: Int64 | null;
  attributes?: KeyValue[] | null;
  droppedAttributesCount?: number | null;
  events?: SpanEvent[] | null;
  droppedEventsCount?: number | null;
  links?: SpanLink[] | null;
  droppedLinksCount?: number | null;
  status?: Status | null;
}
export interface ScopeSpans {
  scope?: InstrumentationScope | null;
  spans?: Span[] | null;
  schemaUrl?: string | null;
}
export interface ResourceSpans {
  resource?: Resource | null;
  scopeSpans?: ScopeSpans[] | null;
  schemaUrl?: string | null;
}
export interface ExportTraceServiceRequest {
  resourceSpans?: ResourceSpans[] | null;
}

// ---- logs ----
export interface LogRecord {
  timeUnixNano?: Int64 | null;
  observedTimeUnixNano?: Int64 | null;
  severityNumber?: number | null;
  severityText?: string | null;
  body?: AnyValue | null;
  attributes?: KeyValue[] | null;
  droppedAttributesCount?: number | null;
  flags?: number | null;
  traceId?: Uint8Array | null;
  spanId?: Uint8Array | null;
  eventName?: string | null;
}
export interface ScopeLogs {
  scope?: InstrumentationScope | null;
  logRecords?: LogRecord[] | null;
  schemaUrl?: string | null;
}
export interface ResourceLogs {
  resource?: Resource | null;
  scopeLogs?: ScopeLogs[] | null;
  schemaUrl?: string | null;
}
export interface ExportLogsServiceRequest {
  resourceLogs?: ResourceLogs[] | null;
}

// ---- metrics ----
export interface Exemplar {
  filteredAttributes?: KeyValue[] | null;
  timeUnixNano?: Int64 | null;
  asDouble?: number | null;
  asInt?: Int64 | null;
  spanId?: Uint8Array | null;
  traceId?: Uint8Array | null;
}
export interface NumberDataPoint {
  attributes?: KeyValue[] | null;
  startTimeUnixNano?: Int64 | null;
  timeUnixNano?: Int64 | null;
  asDouble?: number | null;
  asInt?: Int64 | null;
  exemplars?: Exemplar[] | null;
  flags?: number | null;
}
export interface HistogramDataPoint {
  attributes?: KeyValue[] | null;
  startTimeUnixNano?: Int64 | null;
  timeUnixNano?: Int64 | null;
  count?: Int64 | null;
  sum?: number | null;
  bucketCounts?: Int64[] | null;
  explicitBounds?: number[] | null;
  exemplars?: Exemplar[] | null;
  flags?: number | null;
  min?: number | null;
  max?: number | null;
}
export interface ExponentialHistogramBuckets {
  offset?: number | null;
  bucketCounts?: Int64[] | null;
}
export interface ExponentialHistogramDataPoint {
  attributes?: KeyValue[] | null;
  startTimeUnixNano?: Int64 | null;
  timeUnixNano?: Int64 | null;
  count?: Int64 | null;
  sum?: number | null;
  scale?: number | null;
  zeroCount?: Int64 | null;
  positive?: ExponentialHistogramBuckets | null;
  negative?: ExponentialHistogramBuckets | null;
  flags?: number | null;
  exemplars?: Exemplar[] | null;
  min?: number | null;
  max?: number | null;
  zeroThreshold?: number | null;
}
export interface SummaryDataPoint {
  attributes?: KeyValue[] | null;
  startTimeUnixNano?: Int64 | null;
  timeUnixNano?: Int64 | null;
  count?: Int64 | null;
  sum?: number | null;
  quantileValues?: { quantile?: number | null; value?: number | null }[] | null;
  flags?: number | null;
}
export interface Metric {
  name?: string | null;
  description?: string | null;
  unit?: string | null;
  gauge?: { dataPoints?: NumberDataPoint[] | null } | null;
  /** aggregationTemporality: 0 UNSPECIFIED, 1 DELTA, 2 CUMULATIVE */
  sum?: {
    dataPoints?: NumberDataPoint[] | null;
    aggregationTemporality?: number | null;
    isMonotonic?: boolean | null;
  } | null;
  histogram?: { dataPoints?: HistogramDataPoint[] | null; aggregationTemporality?: number | null } | null;
  exponentialHistogram?: {
    dataPoints?: ExponentialHistogramDataPoint[] | null;
    aggregationTemporality?: number | null;
  } | null;
  summary?: { dataPoints?: SummaryDataPoint[] | null } | null;
  metadata?: KeyValue[] | null;
}
export interface ScopeMetrics {
  scope?: InstrumentationScope | null;
  metrics?: Metric[] | null;
  schemaUrl?: string | null;
}
export interface ResourceMetrics {
  resource?: Resource | null;
  scopeMetrics?: ScopeMetrics[] | null;
  schemaUrl?: string | null;
}
export interface ExportMetricsServiceRequest {
  resourceMetrics?: ResourceMetrics[] | null;
}

export interface RequestBySignal {
  traces: ExportTraceServiceRequest;
  logs: ExportLogsServiceRequest;
  metrics: ExportMetricsServiceRequest;
}
