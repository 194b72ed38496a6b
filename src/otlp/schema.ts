/**
 * The OTLP schema: the opentelemetry-proto files in ./proto (plus google.rpc.Status), loaded once
 * with protobufjs reflection, and per-message field tables that the codecs are built from.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { Signal } from './model.js';

// ---------------------------------------------------------------------------------------------
// Schema loading
// ---------------------------------------------------------------------------------------------

function findProtoDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, 'proto'), resolve(here, '../../../src/otlp/proto')];
  for (const c of candidates) if (existsSync(resolve(c, 'opentelemetry/proto/common/v1/common.proto'))) return c;
  throw new Error(`OTLP .proto files not found (looked in ${candidates.join(', ')})`);
}

const PROTO_DIR = findProtoDir();

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string) =>
    target.startsWith('/') ? target : resolve(PROTO_DIR, target);
  root.loadSync(
    [
      'opentelemetry/proto/collector/trace/v1/trace_service.proto',
      'opentelemetry/proto/collector/logs/v1/logs_service.proto',
      'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
      'google/rpc/status.proto',
    ],
    { keepCase: false },
  );
  root.resolveAll();
  return root;
}

/** The protobufjs root with every OTLP type (exported for tools and tests). */
export const otlpRoot: protobuf.Root = loadRoot();

const REQUEST_TYPE_NAMES: Record<Signal, string> = {
  traces: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
  logs: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest',
  metrics: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
};
const RESPONSE_TYPE_NAMES: Record<Signal, string> = {
  traces: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse',
  logs: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse',
  metrics: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse',
};
/** Field of the partial_success message that counts rejected items, per signal. */
export const REJECTED_FIELD: Record<Signal, 'rejectedSpans' | 'rejectedLogRecords' | 'rejectedDataPoints'> = {
  traces: 'rejectedSpans',
  logs: 'rejectedLogRecords',
  metrics: 'rejectedDataPoints',
};
export const ITEM_NOUN: Record<Signal, string> = { traces: 'spans', logs: 'log records', metrics: 'data points' };

export const requestTypes: Record<Signal, protobuf.Type> = {
  traces: otlpRoot.lookupType(REQUEST_TYPE_NAMES.traces),
  logs: otlpRoot.lookupType(REQUEST_TYPE_NAMES.logs),
  metrics: otlpRoot.lookupType(REQUEST_TYPE_NAMES.metrics),
};
export const responseTypes: Record<Signal, protobuf.Type> = {
  traces: otlpRoot.lookupType(RESPONSE_TYPE_NAMES.traces),
  logs: otlpRoot.lookupType(RESPONSE_TYPE_NAMES.logs),
  metrics: otlpRoot.lookupType(RESPONSE_TYPE_NAMES.metrics),
};
export const statusType = otlpRoot.lookupType('google.rpc.Status');

export type ScalarKind =
  | 'double'
  | 'float'
  | 'int32'
  | 'uint32'
  | 'sint32'
  | 'fixed32'
  | 'sfixed32'
  | 'int64'
  | 'uint64'
  | 'sint64'
  | 'fixed64'
  | 'sfixed64'
  | 'bool'
  | 'string'
  | 'bytes';

export interface FieldInfo {
  /** camelCase name: model property and JSON key */
  name: string;
  snake: string;
  id: number;
  repeated: boolean;
  /** 'message' | 'enum' | scalar kind */
  kind: ScalarKind | 'message' | 'enum';
  /** set for message fields */
  message?: TypeInfo;
  /** set for enum fields */
  enumValues?: Record<string, number>;
  /** 64-bit unsigned (decoded to unsigned Long) */
  unsigned: boolean;
  /** bytes written as hex in OTLP/JSON (trace and span ids) */
  hexId: boolean;
  /** oneof member or proto3 optional: emitted in JSON whenever set, even at its default */
  presence: boolean;
  /**
   * Message field the Collector's pdata always marshals, even when unset (gogoproto nullable=false:
   * resource, scope, span status, KeyValue.value, LogRecord.body, exponential histogram buckets).
   */
  alwaysEmit: boolean;
  /**
   * A string the model types as always present (KeyValue.key): decoded as '' when the wire or JSON
   * leaves it out, as the Collector's pdata reads it, so a processor never sees it undefined.
   */
  alwaysSet: boolean;
}

export interface TypeInfo {
  type: protobuf.Type;
  ctor: new () => Record<string, unknown>;
  /** fields in field-number order */
  fields: FieldInfo[];
  /** the repeated fields (always present as arrays in decoded objects) */
  repeated: FieldInfo[];
  /** the fields with alwaysSet */
  alwaysSet: FieldInfo[];
  /** JSON key (camelCase or snake_case) → field */
  byKey: Map<string, FieldInfo>;
}

const HEX_ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);
/** Non-nullable message fields in the Collector's pdata (see its proto_patch.sed). */
const ALWAYS_EMIT = new Set([
  'resource',
  'scope',
  'opentelemetry.proto.trace.v1.Span.status',
  'opentelemetry.proto.common.v1.KeyValue.value',
  'opentelemetry.proto.logs.v1.LogRecord.body',
  'opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint.positive',
  'opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint.negative',
]);
/** Strings the model (model.ts) types as required: absent on the wire when empty (proto3). */
const ALWAYS_SET = new Set(['opentelemetry.proto.common.v1.KeyValue.key']);
export const INT64_KINDS = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const typeInfos = new Map<protobuf.Type, TypeInfo>();

export function typeInfo(type: protobuf.Type): TypeInfo {
  let info = typeInfos.get(type);
  if (info !== undefined) return info;
  info = {
    type,
    ctor: type.ctor as unknown as new () => Record<string, unknown>,
    fields: [],
    repeated: [],
    alwaysSet: [],
    byKey: new Map(),
  };
  typeInfos.set(type, info); // before recursing: AnyValue is recursive
  const fields = type.fieldsArray.slice().sort((a, b) => a.id - b.id);
  for (const f of fields) {
    f.resolve();
    const rt = f.resolvedType;
    const qualifiedName = `${type.fullName.replace(/^\./, '')}.${f.name}`;
    const fi: FieldInfo = {
      name: f.name,
      snake: f.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      id: f.id,
      repeated: f.repeated,
      kind: rt instanceof protobuf.Type ? 'message' : rt instanceof protobuf.Enum ? 'enum' : (f.type as ScalarKind),
      unsigned: f.type === 'uint64' || f.type === 'fixed64',
      hexId: f.type === 'bytes' && HEX_ID_FIELDS.has(f.name),
      presence: f.partOf != null,
      alwaysEmit:
        rt instanceof protobuf.Type && !f.repeated && (ALWAYS_EMIT.has(f.name) || ALWAYS_EMIT.has(qualifiedName)),
      alwaysSet: f.type === 'string' && ALWAYS_SET.has(qualifiedName),
    };
    if (rt instanceof protobuf.Enum) fi.enumValues = rt.values;
    info.fields.push(fi);
    if (fi.repeated) info.repeated.push(fi);
    if (fi.alwaysSet) info.alwaysSet.push(fi);
    info.byKey.set(fi.name, fi);
    info.byKey.set(fi.snake, fi);
    if (f.options?.json_name) info.byKey.set(String(f.options.json_name), fi);
  }
  for (const fi of info.fields) {
    if (fi.kind === 'message') {
      const f = type.fields[fi.name] as protobuf.Field;
      fi.message = typeInfo(f.resolvedType as protobuf.Type);
    }
  }
  return info;
}
