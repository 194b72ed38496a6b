/**
 * OTLP codecs for the three Export*ServiceRequest messages, their responses and google.rpc.Status.
 *
 * Protobuf: a codec compiled at module load (./wire.ts) from the opentelemetry-proto files in
 * ./proto (loaded once with protobufjs reflection, ./schema.ts). Decoding yields plain model objects
 * (see ./model.ts); encoding writes fields in field-number order, omits proto3 defaults and always
 * writes the messages the Collector's pdata treats as non-nullable (resource, scope, span status,
 * KeyValue.value, LogRecord.body, exponential histogram buckets) — the Collector's otlp_proto
 * bytes. decode → encode is a fixed point. SDK payloads re-encode to the same bytes minus the
 * explicit zero fields the JS SDK writes (e.g. droppedAttributesCount: 0).
 *
 * OTLP/JSON: lowerCamelCase keys (snake_case accepted), trace/span ids as hex, other bytes as
 * base64, 64-bit ints as decimal strings (numbers accepted), enums as ints (names accepted),
 * NaN/Infinity as strings, unknown fields ignored. decodeJson produces exactly what decodeProtobuf
 * produces for the same data.
 *
 * Every malformed input raises OtlpDecodeError with a message naming the problem (and, for JSON,
 * the path, e.g. `resourceSpans[0].scopeSpans[0].spans[2].traceId`).
 */
import type protobuf from 'protobufjs';
import { int64IsZero, int64ToString, isAllZero, isHex, LongClass } from './ids.js';
import type {
  ExponentialHistogramDataPoint,
  HistogramDataPoint,
  Int64,
  LogRecord,
  Metric,
  RequestBySignal,
  Signal,
  Span,
} from './model.js';
import {
  type FieldInfo,
  INT64_KINDS,
  ITEM_NOUN,
  otlpRoot,
  REJECTED_FIELD,
  requestTypes,
  responseTypes,
  type ScalarKind,
  statusType,
  type TypeInfo,
  typeInfo,
} from './schema.js';

import { type CompiledCodec, compileCodec, WireError } from './wire.js';

export type { RequestBySignal, Signal } from './model.js';
export { otlpRoot } from './schema.js';

/** Malformed OTLP input (protobuf or JSON). The message says what and where. */
export class OtlpDecodeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OtlpDecodeError';
  }
}

/** The protobufjs Type of a signal's Export*ServiceRequest. */
export function requestType(signal: Signal): protobuf.Type {
  const t = requestTypes[signal];
  if (t === undefined) throw new TypeError(`unknown OTLP signal: ${String(signal)}`);
  return t;
}

// ---------------------------------------------------------------------------------------------
// Protobuf
// ---------------------------------------------------------------------------------------------

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const wireCodecs: Record<Signal, CompiledCodec> = {
  traces: compileCodec(requestTypes.traces),
  logs: compileCodec(requestTypes.logs),
  metrics: compileCodec(requestTypes.metrics),
};

function wireCodec(signal: Signal): CompiledCodec {
  const c = wireCodecs[signal];
  if (c === undefined) throw new TypeError(`unknown OTLP signal: ${String(signal)}`);
  return c;
}

/**
 * Decodes an Export*ServiceRequest from protobuf bytes into plain model objects.
 * Throws OtlpDecodeError (truncated input, wrong wire type, invalid UTF-8, too deep nesting).
 * Bytes fields are views into `bytes`: do not reuse that buffer while the request is in use.
 */
export function decodeProtobuf<S extends Signal>(signal: S, bytes: Uint8Array): RequestBySignal[S] {
  const codec = wireCodec(signal);
  if (!(bytes instanceof Uint8Array)) throw new OtlpDecodeError(`protobuf body must be bytes, got ${typeof bytes}`);
  try {
    return codec.decode(asBuffer(bytes)) as unknown as RequestBySignal[S];
  } catch (err) {
    throw protobufDecodeError(signal, err);
  }
}

/** Throws exactly what decodeProtobuf would throw for `bytes`, without building the request. */
export function validateProtobuf(signal: Signal, bytes: Uint8Array): void {
  const codec = wireCodec(signal);
  try {
    codec.validate(asBuffer(bytes));
  } catch (err) {
    throw protobufDecodeError(signal, err);
  }
}

/** The span attribute lists, which a traceSpanValidator leaves to the caller. */
export const SPAN_ATTRIBUTES_FIELD = 'opentelemetry.proto.trace.v1.Span.attributes';
/** The spans of a scope, which validateTracesOutsideSpans leaves to the caller. */
export const SCOPE_SPANS_FIELD = 'opentelemetry.proto.trace.v1.ScopeSpans.spans';
/** How deep a span is in an ExportTraceServiceRequest (request, resource, scope: 3). */
export const SPAN_DEPTH = 3;
/** How deep a span's KeyValue (or its event, link or status) is in an ExportTraceServiceRequest (4). */
export const SPAN_KEY_VALUE_DEPTH = SPAN_DEPTH + 1;
let tracesOutsideSpans: CompiledCodec | undefined;
let keyValueCodec: CompiledCodec | undefined;
let anyValueCodec: CompiledCodec | undefined;

/**
 * validateProtobuf('traces'), except that spans are only bounds-checked: the caller checks each span
 * (a traceSpanValidator, or checks of its own that accept no more). A message it accepts and whose spans
 * pass is one validateProtobuf accepts.
 */
export function validateTracesOutsideSpans(bytes: Buffer): void {
  tracesOutsideSpans ??= compileCodec(requestTypes.traces, { shallow: [SCOPE_SPANS_FIELD], validateOnly: true });
  try {
    tracesOutsideSpans.validate(bytes);
  } catch (err) {
    throw protobufDecodeError('traces', err);
  }
}

/** A part of a span that a traceSpanValidator checks. */
export type SpanPart = 'Span' | 'Span.Event' | 'Span.Link' | 'Status';
/**
 * A check of a span, or of a span's event, link or status, at bytes[start, end): throws (an
 * OtlpDecodeError) when it is malformed. A span's attribute KeyValues are only bounds-checked
 * (validateSpanKeyValue checks each).
 */
export function traceSpanValidator(part: SpanPart): (bytes: Buffer, start: number, end: number) => void {
  const type = otlpRoot.lookupType(`opentelemetry.proto.trace.v1.${part}`);
  const codec = compileCodec(type, { shallow: [SPAN_ATTRIBUTES_FIELD], validateOnly: true });
  const depth = part === 'Span' ? SPAN_DEPTH : SPAN_KEY_VALUE_DEPTH;
  return (bytes, start, end) => {
    try {
      codec.validateRange(bytes, start, end, depth);
    } catch (err) {
      throw protobufDecodeError('traces', err);
    }
  };
}

/** Throws what validateProtobuf('traces') throws for a malformed span KeyValue at bytes[start, end). */
export function validateSpanKeyValue(bytes: Buffer, start: number, end: number): void {
  keyValueCodec ??= compileCodec(otlpRoot.lookupType('opentelemetry.proto.common.v1.KeyValue'), { validateOnly: true });
  try {
    keyValueCodec.validateRange(bytes, start, end, SPAN_KEY_VALUE_DEPTH);
  } catch (err) {
    throw protobufDecodeError('traces', err);
  }
}

/** Throws what validateProtobuf('traces') throws for a malformed span attribute's AnyValue at bytes[start, end). */
export function validateSpanAnyValue(bytes: Buffer, start: number, end: number): void {
  anyValueCodec ??= compileCodec(otlpRoot.lookupType('opentelemetry.proto.common.v1.AnyValue'), { validateOnly: true });
  try {
    anyValueCodec.validateRange(bytes, start, end, SPAN_KEY_VALUE_DEPTH + 1);
  } catch (err) {
    throw protobufDecodeError('traces', err);
  }
}

function protobufDecodeError(signal: Signal, err: unknown): OtlpDecodeError {
  const msg = err instanceof WireError ? err.message : err instanceof RangeError ? 'nesting too deep' : String(err);
  return new OtlpDecodeError(`invalid protobuf ${requestType(signal).name}: ${msg}`, { cause: err });
}

let resourceCodec: CompiledCodec | undefined;
/** Codec of a lone Resource message (the receiver stamps tenant.id into forwarded resources). */
export function resourceProtobuf(): Pick<CompiledCodec, 'decode' | 'encode'> {
  resourceCodec ??= compileCodec(otlpRoot.lookupType('opentelemetry.proto.resource.v1.Resource'));
  return resourceCodec;
}

/**
 * Encodes an Export*ServiceRequest as protobuf: fields in field-number order, proto3 defaults
 * omitted — the Collector's otlp_proto marshaling. Accepts decoded objects, plain objects and
 * protobufjs message instances; 64-bit ints as Long, number, decimal string or bigint.
 */
export function encodeProtobuf<S extends Signal>(signal: S, request: RequestBySignal[S]): Uint8Array {
  return wireCodec(signal).encode(request as object);
}

/** Reference implementation through protobufjs' own reflection codec (tests and tools only). */
export const protobufjsReference = {
  decode<S extends Signal>(signal: S, bytes: Uint8Array): RequestBySignal[S] {
    return requestType(signal).decode(asBuffer(bytes)) as unknown as RequestBySignal[S];
  },
  encode<S extends Signal>(signal: S, request: RequestBySignal[S]): Uint8Array {
    return requestType(signal)
      .encode(request as protobuf.Message)
      .finish();
  },
};

// ---------------------------------------------------------------------------------------------
// JSON <-> model, driven by the reflection data
// ---------------------------------------------------------------------------------------------

const MAX_DEPTH = 64;

class JsonPathError extends Error {
  path: string;
  reason: string;
  constructor(reason: string, path = '') {
    super(reason);
    this.reason = reason;
    this.path = path;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

const INT_RE = /^-?\d+$/;

function jsonInt32(v: unknown, kind: ScalarKind): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && INT_RE.test(v.trim())) n = Number(v.trim());
  else throw new JsonPathError(`expected an integer, got ${describe(v)}`);
  if (!Number.isInteger(n)) throw new JsonPathError(`expected an integer, got ${describe(v)}`);
  const unsigned = kind === 'uint32' || kind === 'fixed32';
  if (unsigned ? n < 0 || n > 0xffffffff : n < -0x80000000 || n > 0x7fffffff)
    throw new JsonPathError(`integer ${n} out of range for ${kind}`);
  return n;
}

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

function jsonInt64(v: unknown, unsigned: boolean): Int64 {
  let s: string;
  if (typeof v === 'string') s = v.trim();
  else if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new JsonPathError(`expected an integer, got ${describe(v)}`);
    if (Number.isSafeInteger(v)) return LongClass.fromNumber(v, unsigned);
    s = BigInt(v).toString();
  } else throw new JsonPathError(`expected a 64-bit integer (decimal string or number), got ${describe(v)}`);
  if (!INT_RE.test(s)) throw new JsonPathError(`expected a 64-bit integer (decimal string), got ${describe(v)}`);
  const b = BigInt(s);
  if (unsigned ? b < 0n || b > U64_MAX : b < I64_MIN || b > I64_MAX)
    throw new JsonPathError(`integer ${s} out of range for ${unsigned ? 'uint64' : 'int64'}`);
  return LongClass.fromString(s, unsigned);
}

function jsonDouble(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return Number.NaN;
    if (v === 'Infinity') return Number.POSITIVE_INFINITY;
    if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
    const t = v.trim();
    if (t !== '' && !Number.isNaN(Number(t))) return Number(t);
  }
  throw new JsonPathError(`expected a number, got ${describe(v)}`);
}

const B64_RE = /^[A-Za-z0-9+/\-_]*={0,2}$/;

function jsonBytes(v: unknown, hexId: boolean): Buffer {
  if (typeof v !== 'string')
    throw new JsonPathError(`expected a ${hexId ? 'hex' : 'base64'} string, got ${describe(v)}`);
  if (hexId) {
    if (!isHex(v)) throw new JsonPathError(`expected a hex id, got ${describe(v)}`);
    return Buffer.from(v, 'hex');
  }
  if (!B64_RE.test(v)) throw new JsonPathError(`expected a base64 string, got ${describe(v)}`);
  return Buffer.from(v, v.includes('-') || v.includes('_') ? 'base64url' : 'base64');
}

function jsonEnum(v: unknown, fi: FieldInfo): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') {
    const n = fi.enumValues?.[v];
    if (n !== undefined) return n;
    if (INT_RE.test(v)) return Number(v);
  }
  throw new JsonPathError(`expected an enum value (integer or name), got ${describe(v)}`);
}

function jsonScalar(v: unknown, fi: FieldInfo, depth: number): unknown {
  switch (fi.kind) {
    case 'message':
      return jsonMessage(v, fi.message as TypeInfo, depth + 1);
    case 'enum':
      return jsonEnum(v, fi);
    case 'string':
      if (typeof v !== 'string') throw new JsonPathError(`expected a string, got ${describe(v)}`);
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw new JsonPathError(`expected true or false, got ${describe(v)}`);
      return v;
    case 'double':
    case 'float':
      return jsonDouble(v);
    case 'bytes':
      return jsonBytes(v, fi.hexId);
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return jsonInt64(v, fi.unsigned);
    default:
      return jsonInt32(v, fi.kind);
  }
}

function jsonMessage(obj: unknown, info: TypeInfo, depth: number): Record<string, unknown> {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
    throw new JsonPathError(`expected an object for ${info.type.name}, got ${describe(obj)}`);
  if (depth > MAX_DEPTH) throw new JsonPathError(`nesting deeper than ${MAX_DEPTH} levels`);
  const m: Record<string, unknown> = {};
  for (const fi of info.repeated) m[fi.name] = [];
  for (const fi of info.alwaysSet) m[fi.name] = '';
  for (const key in obj) {
    const fi = info.byKey.get(key);
    if (fi === undefined) continue; // unknown field: ignored
    const v = (obj as Record<string, unknown>)[key];
    if (v === null || v === undefined) continue;
    try {
      if (fi.repeated) {
        if (!Array.isArray(v)) throw new JsonPathError(`expected an array, got ${describe(v)}`);
        const out = new Array(v.length);
        for (let i = 0; i < v.length; i++) {
          try {
            out[i] = jsonScalar(v[i], fi, depth);
          } catch (err) {
            throw prependPath(err, `[${i}]`);
          }
        }
        m[fi.name] = out;
      } else {
        const x = jsonScalar(v, fi, depth);
        // like the protobuf decoder: proto3 defaults are "unset" (oneof/optional members excepted)
        if (fi.presence || fi.alwaysSet || fi.kind === 'message' || !isDefault(x, fi)) m[fi.name] = x;
        else delete m[fi.name];
      }
    } catch (err) {
      throw prependPath(err, `.${fi.name}`);
    }
  }
  return m;
}

function prependPath(err: unknown, seg: string): unknown {
  if (err instanceof JsonPathError) {
    err.path = seg + err.path;
    return err;
  }
  if (err instanceof RangeError) return new JsonPathError('nesting too deep', seg); // stack overflow
  return err;
}

/**
 * Decodes an OTLP/JSON Export*ServiceRequest (a JSON text, its bytes, or an already-parsed value).
 * Throws OtlpDecodeError naming the offending path, e.g. `resourceSpans[0].scopeSpans[0].spans[2].traceId`.
 */
export function decodeJson<S extends Signal>(
  signal: S,
  body: string | Buffer | Uint8Array | object,
): RequestBySignal[S] {
  const type = requestType(signal);
  let obj: unknown = body;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const text = typeof body === 'string' ? body : asBuffer(body).toString('utf8');
    try {
      obj = JSON.parse(text);
    } catch (err) {
      throw new OtlpDecodeError(`invalid JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  try {
    return jsonMessage(obj, typeInfo(type), 0) as unknown as RequestBySignal[S];
  } catch (err) {
    if (err instanceof JsonPathError) {
      const where = err.path === '' ? '' : ` at ${err.path.replace(/^\./, '')}`;
      throw new OtlpDecodeError(`invalid OTLP/JSON ${type.name}${where}: ${err.reason}`, { cause: err });
    }
    throw new OtlpDecodeError(`invalid OTLP/JSON ${type.name}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

const hasOwn = Object.prototype.hasOwnProperty;

function jsonOutDouble(n: number): number | string {
  if (Object.is(n, -0)) return '-0'; // JSON.stringify(-0) would lose the sign
  if (Number.isFinite(n)) return n;
  return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
}

function toJsonValue(v: unknown, fi: FieldInfo): unknown {
  switch (fi.kind) {
    case 'message':
      return toJsonMessage(v as Record<string, unknown>, fi.message as TypeInfo);
    case 'enum':
      return typeof v === 'string' ? (fi.enumValues?.[v] ?? 0) : v;
    case 'bytes': {
      const b = typeof v === 'string' ? Buffer.from(v, 'base64') : asBuffer(v as Uint8Array);
      return fi.hexId ? b.toString('hex') : b.toString('base64');
    }
    case 'double':
    case 'float':
      return jsonOutDouble(Number(v));
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return int64ToString(v as Int64);
    default:
      return v;
  }
}

function isDefault(v: unknown, fi: FieldInfo): boolean {
  switch (fi.kind) {
    case 'message':
      return false;
    case 'string':
      return v === '';
    case 'bool':
      return v === false;
    case 'bytes':
      return (v as { length: number }).length === 0;
    case 'double':
    case 'float':
      return v === 0 && !Object.is(v, -0);
    default:
      if (INT64_KINDS.has(fi.kind)) return int64IsZero(v as Int64);
      return v === 0 || v === '0';
  }
}

function toJsonMessage(m: Record<string, unknown>, info: TypeInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const fi of info.fields) {
    const v = m[fi.name];
    if (v === null || v === undefined) continue;
    if (fi.repeated) {
      const arr = v as unknown[];
      if (arr.length === 0) continue;
      const o = new Array(arr.length);
      for (let i = 0; i < arr.length; i++) o[i] = toJsonValue(arr[i], fi);
      out[fi.name] = o;
    } else if (fi.presence) {
      if (!hasOwn.call(m, fi.name)) continue; // protobufjs puts oneof defaults on the prototype
      out[fi.name] = toJsonValue(v, fi);
    } else {
      if (isDefault(v, fi)) continue;
      out[fi.name] = toJsonValue(v, fi);
    }
  }
  return out;
}

/** The OTLP/JSON object of a request (hex ids, int64 as decimal strings, enums as ints, unset omitted). */
export function toOtlpJsonObject<S extends Signal>(signal: S, request: RequestBySignal[S]): object {
  return toJsonMessage(request as unknown as Record<string, unknown>, typeInfo(requestType(signal)));
}

/** OTLP/JSON text of a request. */
export function encodeJson<S extends Signal>(signal: S, request: RequestBySignal[S]): string {
  return JSON.stringify(toOtlpJsonObject(signal, request));
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

export type OtlpFormat = 'protobuf' | 'json';

export interface PartialSuccess {
  rejected: number;
  message: string;
}

/**
 * Export*ServiceResponse. With `partial` (rejected > 0 or a message), partial_success carries
 * rejected_spans / rejected_log_records / rejected_data_points and error_message.
 */
export function encodeExportResponse(signal: Signal, format: 'protobuf', partial?: PartialSuccess): Uint8Array;
export function encodeExportResponse(signal: Signal, format: 'json', partial?: PartialSuccess): string;
export function encodeExportResponse(signal: Signal, format: OtlpFormat, partial?: PartialSuccess): Uint8Array | string;
export function encodeExportResponse(
  signal: Signal,
  format: OtlpFormat,
  partial?: PartialSuccess,
): Uint8Array | string {
  const type = responseTypes[signal];
  if (type === undefined) throw new TypeError(`unknown OTLP signal: ${String(signal)}`);
  const msg: Record<string, unknown> = {};
  if (partial !== undefined && (partial.rejected > 0 || partial.message !== '')) {
    msg.partialSuccess = {
      [REJECTED_FIELD[signal]]: Math.max(0, Math.trunc(partial.rejected)),
      errorMessage: partial.message,
    };
  }
  if (format === 'json') return JSON.stringify(toJsonMessage(msg, typeInfo(type)));
  return type.encode(msg).finish();
}

/** Decodes an Export*ServiceResponse (for tests and clients). */
export function decodeExportResponse(
  signal: Signal,
  format: OtlpFormat,
  body: Uint8Array | string,
): { partialSuccess?: PartialSuccess } {
  const type = responseTypes[signal];
  if (type === undefined) throw new TypeError(`unknown OTLP signal: ${String(signal)}`);
  let m: Record<string, unknown>;
  if (format === 'json') {
    const text = typeof body === 'string' ? body : asBuffer(body).toString('utf8');
    let obj: unknown;
    try {
      obj = JSON.parse(text === '' ? '{}' : text);
      m = jsonMessage(obj, typeInfo(type), 0);
    } catch (err) {
      throw new OtlpDecodeError(
        `invalid ${type.name} JSON: ${err instanceof JsonPathError ? `${err.path} ${err.reason}` : String(err)}`,
      );
    }
  } else {
    try {
      m = type.decode(asBuffer(typeof body === 'string' ? Buffer.from(body, 'binary') : body)) as unknown as Record<
        string,
        unknown
      >;
    } catch (err) {
      throw new OtlpDecodeError(`invalid ${type.name} protobuf: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const ps = m.partialSuccess as Record<string, unknown> | null | undefined;
  if (ps == null) return {};
  return {
    partialSuccess: {
      rejected: Number(int64ToString(ps[REJECTED_FIELD[signal]] as Int64 | null | undefined)),
      message: hasOwn.call(ps, 'errorMessage') ? String(ps.errorMessage ?? '') : '',
    },
  };
}

/** google.rpc.Status body of an OTLP/HTTP error response. */
export function encodeStatus(format: 'protobuf', code: number, message: string): Uint8Array;
export function encodeStatus(format: 'json', code: number, message: string): string;
export function encodeStatus(format: OtlpFormat, code: number, message: string): Uint8Array | string;
export function encodeStatus(format: OtlpFormat, code: number, message: string): Uint8Array | string {
  const msg = { code, message };
  if (format === 'json') return JSON.stringify(toJsonMessage(msg, typeInfo(statusType)));
  return statusType.encode(msg).finish();
}

/** Decodes a google.rpc.Status (for tests and clients). */
export function decodeStatus(format: OtlpFormat, body: Uint8Array | string): { code: number; message: string } {
  try {
    let m: Record<string, unknown>;
    if (format === 'json') {
      const text = typeof body === 'string' ? body : asBuffer(body).toString('utf8');
      m = jsonMessage(JSON.parse(text === '' ? '{}' : text), typeInfo(statusType), 0);
    } else {
      m = statusType.decode(
        asBuffer(typeof body === 'string' ? Buffer.from(body, 'binary') : body),
      ) as unknown as Record<string, unknown>;
    }
    return { code: Number(m.code ?? 0), message: String(m.message ?? '') };
  } catch (err) {
    const reason =
      err instanceof JsonPathError ? `${err.path} ${err.reason}` : err instanceof Error ? err.message : String(err);
    throw new OtlpDecodeError(`invalid google.rpc.Status: ${reason}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------------------------
// Counting and validation
// ---------------------------------------------------------------------------------------------

/** Number of data points of one metric (all data types). */
export function metricDataPointCount(metric: Metric): number {
  return (
    (metric.gauge?.dataPoints?.length ?? 0) +
    (metric.sum?.dataPoints?.length ?? 0) +
    (metric.histogram?.dataPoints?.length ?? 0) +
    (metric.exponentialHistogram?.dataPoints?.length ?? 0) +
    (metric.summary?.dataPoints?.length ?? 0)
  );
}

/** Spans, log records or metric data points in a request. */
export function countItems<S extends Signal>(signal: S, request: RequestBySignal[S]): number {
  let n = 0;
  if (signal === 'traces') {
    for (const rs of (request as RequestBySignal['traces']).resourceSpans ?? [])
      for (const ss of rs.scopeSpans ?? []) n += ss.spans?.length ?? 0;
  } else if (signal === 'logs') {
    for (const rl of (request as RequestBySignal['logs']).resourceLogs ?? [])
      for (const sl of rl.scopeLogs ?? []) n += sl.logRecords?.length ?? 0;
  } else if (signal === 'metrics') {
    for (const rm of (request as RequestBySignal['metrics']).resourceMetrics ?? [])
      for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) n += metricDataPointCount(m);
  } else {
    throw new TypeError(`unknown OTLP signal: ${String(signal)}`);
  }
  return n;
}

/** Rejected items by reason, for partial_success. */
export class Rejections {
  count = 0;
  private readonly reasons = new Map<string, number>();
  add(reason: string, n = 1): void {
    this.count += n;
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + n);
  }
  note(reason: string): void {
    if (!this.reasons.has(reason)) this.reasons.set(reason, 0);
  }
  message(noun: string): string {
    if (this.reasons.size === 0) return '';
    const parts = [...this.reasons].map(([r, n]) => (n > 0 ? `${n} ${r}` : r));
    return `${this.count} ${noun} rejected: ${parts.join('; ')}`;
  }
}

/** Why a span is rejected (bad ids), or undefined when it is valid. */
function spanProblem(s: Pick<Span, 'traceId' | 'spanId' | 'parentSpanId'>): string | undefined {
  const t = s.traceId;
  if (t == null || t.length !== 16) return 'with a trace id that is not 16 bytes';
  if (isAllZero(t)) return 'with an all-zero trace id';
  const sp = s.spanId;
  if (sp == null || sp.length !== 8) return 'with a span id that is not 8 bytes';
  if (isAllZero(sp)) return 'with an all-zero span id';
  const p = s.parentSpanId;
  if (p != null && p.length !== 0 && p.length !== 8) return 'with a parent span id that is not 8 bytes';
  return undefined;
}

function logProblem(l: LogRecord): string | undefined {
  const t = l.traceId;
  if (t != null && t.length !== 0 && t.length !== 16) return 'with a trace id that is not 16 bytes';
  const s = l.spanId;
  if (s != null && s.length !== 0 && s.length !== 8) return 'with a span id that is not 8 bytes';
  return undefined;
}

function histogramProblem(dp: HistogramDataPoint): string | undefined {
  const buckets = dp.bucketCounts?.length ?? 0;
  const bounds = dp.explicitBounds?.length ?? 0;
  if (buckets !== 0 && buckets !== bounds + 1)
    return 'histogram points whose bucket_counts size is not explicit_bounds size + 1';
  return undefined;
}

function expHistogramProblem(_dp: ExponentialHistogramDataPoint): string | undefined {
  return undefined;
}

/** Filters `arr` in place, recording rejected items; returns the number removed. */
function pruneArray<T>(arr: T[] | null | undefined, problem: (x: T) => string | undefined, rej: Rejections): number {
  if (arr == null) return 0;
  let w = 0;
  for (let r = 0; r < arr.length; r++) {
    const x = arr[r] as T;
    const p = problem(x);
    if (p === undefined) arr[w++] = x;
    else rej.add(p);
  }
  const removed = arr.length - w;
  arr.length = w;
  return removed;
}

/** Removes, in place, the empty containers left behind by pruning. */
function pruneEmpty<T>(arr: T[] | null | undefined, isEmpty: (x: T) => boolean): void {
  if (arr == null) return;
  let w = 0;
  for (let r = 0; r < arr.length; r++) {
    const x = arr[r] as T;
    if (!isEmpty(x)) arr[w++] = x;
  }
  arr.length = w;
}

/**
 * Removes invalid items in place and says what was removed (for partial_success):
 * - spans: trace id not 16 bytes or all zero, span id not 8 bytes or all zero, parent span id
 *   neither empty nor 8 bytes;
 * - log records: trace id / span id present but of the wrong length;
 * - metrics: metrics without any data (no data type or no points) are dropped (they hold no data
 *   points, so they are not counted), histogram points with inconsistent buckets are rejected.
 * Scopes and resources emptied by the pruning are removed too.
 */
export function validateAndPrune<S extends Signal>(signal: S, request: RequestBySignal[S]): PartialSuccess {
  const rej = new Rejections();
  if (signal === 'traces') {
    const req = request as RequestBySignal['traces'];
    let touched = false;
    for (const rs of req.resourceSpans ?? [])
      for (const ss of rs.scopeSpans ?? []) if (pruneArray(ss.spans, spanProblem, rej) > 0) touched = true;
    if (touched) {
      for (const rs of req.resourceSpans ?? []) pruneEmpty(rs.scopeSpans, (ss) => (ss.spans?.length ?? 0) === 0);
      pruneEmpty(req.resourceSpans, (r) => (r.scopeSpans?.length ?? 0) === 0);
    }
  } else if (signal === 'logs') {
    const req = request as RequestBySignal['logs'];
    let touched = false;
    for (const rl of req.resourceLogs ?? [])
      for (const sl of rl.scopeLogs ?? []) if (pruneArray(sl.logRecords, logProblem, rej) > 0) touched = true;
    if (touched) {
      for (const rl of req.resourceLogs ?? []) pruneEmpty(rl.scopeLogs, (sl) => (sl.logRecords?.length ?? 0) === 0);
      pruneEmpty(req.resourceLogs, (r) => (r.scopeLogs?.length ?? 0) === 0);
    }
  } else if (signal === 'metrics') {
    const req = request as RequestBySignal['metrics'];
    let touched = false;
    let emptyMetrics = 0;
    for (const rm of req.resourceMetrics ?? [])
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          if (m.histogram?.dataPoints != null && pruneArray(m.histogram.dataPoints, histogramProblem, rej) > 0)
            touched = true;
          if (m.exponentialHistogram?.dataPoints != null)
            pruneArray(m.exponentialHistogram.dataPoints, expHistogramProblem, rej);
        }
        const before = sm.metrics?.length ?? 0;
        pruneEmpty(sm.metrics, (m) => metricDataPointCount(m) === 0);
        const dropped = before - (sm.metrics?.length ?? 0);
        if (dropped > 0) {
          emptyMetrics += dropped;
          touched = true;
        }
      }
    if (emptyMetrics > 0) rej.note(`${emptyMetrics} metrics without data points dropped`);
    if (touched) {
      for (const rm of req.resourceMetrics ?? []) pruneEmpty(rm.scopeMetrics, (sm) => (sm.metrics?.length ?? 0) === 0);
      pruneEmpty(req.resourceMetrics, (r) => (r.scopeMetrics?.length ?? 0) === 0);
    }
  } else {
    throw new TypeError(`unknown OTLP signal: ${String(signal)}`);
  }
  return { rejected: rej.count, message: rej.message(ITEM_NOUN[signal]) };
}
