/**
 * OTLP/JSON written byte for byte as the OpenTelemetry Collector's pdata JSONMarshaler writes it
 * (`ptrace/plog/pmetric.JSONMarshaler`, the kafka exporter's `otlp_json` encoding):
 *
 * - keys lowerCamelCase, in the .proto declaration order (Span: traceId, spanId, traceState,
 *   parentSpanId, flags, name, …), no whitespace;
 * - fields at their proto3 default are omitted, except the messages pdata treats as non-nullable
 *   (resource, scope, span status, KeyValue.value, LogRecord.body, exponential histogram buckets),
 *   written as `{}` when empty; oneof members and proto3 `optional` fields whenever set;
 * - trace and span ids as lowercase hex, other bytes as standard base64;
 * - 64-bit integers as decimal strings, 32-bit integers and enums as JSON numbers;
 * - doubles as Go's strconv shortest form (the same digits as JavaScript's), NaN/±Infinity as
 *   strings; strings escaped as jsoniter does without HTML escaping.
 *
 * The generic OTLP/JSON encoder (codec.ts `encodeJson`) writes the same data in field-number order;
 * any OTLP/JSON reader accepts both. This one exists so that Sieve's Kafka messages equal the
 * Collector's (tests compare against captured Collector output).
 */
import { int64IsZero, int64ToString } from './ids.js';
import type { Int64, RequestBySignal, Signal } from './model.js';
import { type FieldInfo, INT64_KINDS, requestTypes, type TypeInfo, typeInfo } from './schema.js';

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

/** Field order as declared in the .proto files (typeInfo sorts by field number). */
const declared = new Map<TypeInfo, FieldInfo[]>();
function declaredFields(info: TypeInfo): FieldInfo[] {
  let fields = declared.get(info);
  if (fields === undefined) {
    const order = new Map(info.type.fieldsArray.map((f, i) => [f.id, i]));
    fields = info.fields.slice().sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
    declared.set(info, fields);
  }
  return fields;
}

// jsoniter's WriteString without HTML escaping: `"` and `\` escaped, \n \r \t short, other control
// characters as \u00XX; everything else (including U+2028/9) as is.
function needsEscape(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c) return true;
  }
  return false;
}
function jsonString(s: string): string {
  if (!needsEscape(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20) out += `\\u00${HEX[c]}`;
    else out += s[i];
  }
  return `${out}"`;
}

/** Go's strconv.FormatFloat(v, 'f' or 'e', -1, 64) as jsoniter picks it; JavaScript's digits agree. */
function jsonDouble(v: number): string {
  if (Number.isNaN(v)) return '"NaN"';
  if (v === Number.POSITIVE_INFINITY) return '"Infinity"';
  if (v === Number.NEGATIVE_INFINITY) return '"-Infinity"';
  if (Object.is(v, -0)) return '-0';
  return String(v); // exponent form below 1e-6 and from 1e21, as Go's; "1e-7" (jsoniter trims e-07)
}

function hexOf(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i] as number];
  return s;
}

function bytesOf(v: unknown): Uint8Array {
  if (typeof v === 'string') return Buffer.from(v, 'base64');
  return v as Uint8Array;
}

function isDefault(v: unknown, fi: FieldInfo): boolean {
  switch (fi.kind) {
    case 'string':
      return v === '';
    case 'bool':
      return v === false;
    case 'bytes':
      return bytesOf(v).length === 0;
    case 'double':
    case 'float':
      return v === 0; // Go compares -0 == 0 too
    case 'message':
      return false;
    default:
      if (INT64_KINDS.has(fi.kind)) return int64IsZero(v as Int64);
      return Number(v) === 0;
  }
}

function value(v: unknown, fi: FieldInfo): string {
  switch (fi.kind) {
    case 'message':
      return message(v as Record<string, unknown> | null | undefined, fi.message as TypeInfo);
    case 'enum':
      return String(typeof v === 'string' ? (fi.enumValues?.[v] ?? 0) : Number(v));
    case 'string':
      return jsonString(v as string);
    case 'bool':
      return v ? 'true' : 'false';
    case 'bytes': {
      const b = bytesOf(v);
      return fi.hexId ? `"${hexOf(b)}"` : `"${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')}"`;
    }
    case 'double':
    case 'float':
      return jsonDouble(Number(v));
    default:
      if (INT64_KINDS.has(fi.kind)) return `"${int64ToString(v as Int64)}"`;
      return String(Number(v));
  }
}

const hasOwn = Object.prototype.hasOwnProperty;

function message(m: Record<string, unknown> | null | undefined, info: TypeInfo): string {
  if (m == null) return '{}';
  let out = '{';
  let first = true;
  const field = (name: string, text: string) => {
    out += `${first ? '' : ','}"${name}":${text}`;
    first = false;
  };
  for (const fi of declaredFields(info)) {
    const v = m[fi.name];
    if (fi.repeated) {
      const arr = v as unknown[] | null | undefined;
      if (arr == null || arr.length === 0) continue;
      let items = '';
      for (let i = 0; i < arr.length; i++) items += (i === 0 ? '' : ',') + value(arr[i], fi);
      field(fi.name, `[${items}]`);
    } else if (fi.alwaysEmit) {
      field(fi.name, message(v as Record<string, unknown> | null | undefined, fi.message as TypeInfo));
    } else if (v === null || v === undefined) {
    } else if (fi.presence) {
      if (hasOwn.call(m, fi.name)) field(fi.name, value(v, fi)); // protobufjs puts oneof defaults on the prototype
    } else if (!isDefault(v, fi)) {
      field(fi.name, value(v, fi));
    }
  }
  return `${out}}`;
}

/** The request as the Collector's pdata JSONMarshaler writes it (its kafka exporter's otlp_json value). */
export function encodePdataJson<S extends Signal>(signal: S, request: RequestBySignal[S]): string {
  const type = requestTypes[signal];
  if (type === undefined) throw new TypeError(`unknown OTLP signal: ${String(signal)}`);
  return message(request as unknown as Record<string, unknown>, typeInfo(type));
}
