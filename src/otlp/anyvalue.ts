/**
 * Reading and writing OTLP AnyValue / attributes on both protobufjs message instances and plain
 * objects.
 *
 * Trap: protobufjs puts the proto3 default of every `oneof value` member on the message prototype
 * (`stringValue` reads as '' and `intValue` as Long(0) on an instance that holds a bool), so
 * "is this member set" must look at own, non-null properties only — never at `v.stringValue != null`.
 */
import { bytesToHex, int64ToNumber, int64ToString } from './ids.js';
import type { AnyValue, Int64, KeyValue } from './model.js';

export type AnyValueKind = 'string' | 'bool' | 'int' | 'double' | 'array' | 'kvlist' | 'bytes' | 'empty';

const hasOwn = Object.prototype.hasOwnProperty;

/** obj[key] = value, also for keys like '__proto__' (defined as an own property, never the prototype). */
function putKey<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** A KeyValue's key: '' (proto3's default) when the message had no key field, as decoding leaves it out. */
function keyOf(kv: KeyValue): string {
  return (kv.key as string | undefined) ?? '';
}

function own(v: object, k: string): boolean {
  return hasOwn.call(v, k) && (v as Record<string, unknown>)[k] != null;
}

/** Which oneof member of the AnyValue is set ('empty' when none, or v is null). */
export function anyValueKind(v: AnyValue | null | undefined): AnyValueKind {
  if (v == null) return 'empty';
  // fast paths without the own-property call: a prototype's default is '' or 0 / Long, never these
  const s = v.stringValue;
  if (typeof s === 'string' && s !== '') return 'string';
  if (s === undefined && typeof v.intValue === 'number' && v.intValue !== 0) return 'int';
  if (own(v, 'stringValue')) return 'string';
  if (own(v, 'intValue')) return 'int';
  if (own(v, 'boolValue')) return 'bool';
  if (own(v, 'doubleValue')) return 'double';
  if (own(v, 'arrayValue')) return 'array';
  if (own(v, 'kvlistValue')) return 'kvlist';
  if (own(v, 'bytesValue')) return 'bytes';
  return 'empty';
}

export function stringValue(s: string): AnyValue {
  return { stringValue: s };
}
export function intValue(n: Int64 | bigint): AnyValue {
  return { intValue: typeof n === 'bigint' ? n.toString() : n };
}
export function doubleValue(n: number): AnyValue {
  return { doubleValue: n };
}
export function boolValue(b: boolean): AnyValue {
  return { boolValue: b };
}
export function bytesValue(b: Uint8Array): AnyValue {
  return { bytesValue: b };
}
export function arrayValue(values: AnyValue[]): AnyValue {
  return { arrayValue: { values } };
}
export function kvlistValue(values: KeyValue[]): AnyValue {
  return { kvlistValue: { values } };
}

/** JSON-friendly JS value (ints as numbers when safe, else decimal strings; bytes as base64). */
export function anyValueToJs(v: AnyValue | null | undefined): unknown {
  switch (anyValueKind(v)) {
    case 'string':
      return v!.stringValue;
    case 'bool':
      return v!.boolValue;
    case 'int': {
      const s = int64ToString(v!.intValue);
      const n = Number(s);
      return Number.isSafeInteger(n) ? n : s;
    }
    case 'double':
      return jsonDouble(v!.doubleValue as number);
    case 'array':
      return (v!.arrayValue!.values ?? []).map(anyValueToJs);
    case 'kvlist': {
      const o: Record<string, unknown> = {};
      for (const kv of v!.kvlistValue!.values ?? []) putKey(o, keyOf(kv), anyValueToJs(kv.value));
      return o;
    }
    case 'bytes':
      return Buffer.from(v!.bytesValue!).toString('base64');
    default:
      return null;
  }
}

function jsonDouble(n: number): number | string {
  if (Number.isFinite(n)) return n;
  return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
}

/**
 * Text form, as the Collector's ClickHouse exporter writes attribute values (pcommon.Value.AsString):
 * strings as-is, bools true/false, ints decimal, doubles shortest form, bytes base64,
 * arrays and maps as JSON, empty as ''.
 */
export function anyValueToString(v: AnyValue | null | undefined): string {
  switch (anyValueKind(v)) {
    case 'string':
      return v!.stringValue as string;
    case 'bool':
      return v!.boolValue ? 'true' : 'false';
    case 'int':
      return int64ToString(v!.intValue);
    case 'double': {
      const d = v!.doubleValue as number;
      return Number.isFinite(d) ? String(d) : Number.isNaN(d) ? 'NaN' : d > 0 ? '+Inf' : '-Inf';
    }
    case 'bytes':
      return Buffer.from(v!.bytesValue!).toString('base64');
    case 'array':
    case 'kvlist':
      return goJson(v);
    default:
      return '';
  }
}

/** JSON string literal as Go's encoding/json writes it (HTML-safe escapes, U+2028/2029 escaped). */
function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * JSON of an AnyValue as the Collector's pcommon.Value.AsString writes maps and slices
 * (encoding/json of AsRaw(): map keys sorted, ints exact, bytes base64, empty as null).
 */
function goJson(v: AnyValue | null | undefined): string {
  switch (anyValueKind(v)) {
    case 'string':
      return goJsonString(v!.stringValue as string);
    case 'bool':
      return v!.boolValue ? 'true' : 'false';
    case 'int':
      return int64ToString(v!.intValue);
    case 'double': {
      const d = v!.doubleValue as number;
      return Number.isFinite(d) ? JSON.stringify(d) : goJsonString(Number.isNaN(d) ? 'NaN' : d > 0 ? '+Inf' : '-Inf');
    }
    case 'bytes':
      return goJsonString(Buffer.from(v!.bytesValue!).toString('base64'));
    case 'array':
      return `[${(v!.arrayValue!.values ?? []).map(goJson).join(',')}]`;
    case 'kvlist': {
      const byKey = new Map<string, AnyValue | null | undefined>();
      for (const kv of v!.kvlistValue!.values ?? []) byKey.set(kv.key, kv.value); // last duplicate wins, like a Go map
      const keys = [...byKey.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${keys.map((k) => `${goJsonString(k)}:${goJson(byKey.get(k))}`).join(',')}}`;
    }
    default:
      return 'null';
  }
}

/** Hex for id-like bytes values (helper for exporters). */
export function anyValueBytesHex(v: AnyValue | null | undefined): string {
  return anyValueKind(v) === 'bytes' ? bytesToHex(v!.bytesValue) : '';
}

/** The value of the first attribute with this key. */
export function getAttribute(attrs: KeyValue[] | null | undefined, key: string): AnyValue | undefined {
  if (attrs == null) return undefined;
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i] as KeyValue;
    if (kv.key === key) return kv.value ?? {};
  }
  return undefined;
}

/** The attribute's string value (non-string values are converted with anyValueToString). */
export function getStringAttribute(attrs: KeyValue[] | null | undefined, key: string): string | undefined {
  const v = getAttribute(attrs, key);
  if (v === undefined) return undefined;
  if (anyValueKind(v) === 'empty') return undefined;
  return anyValueToString(v);
}

/** The attribute as a number: int and double values, bools as 0/1, numeric strings parsed. */
export function getNumberAttribute(attrs: KeyValue[] | null | undefined, key: string): number | undefined {
  const v = getAttribute(attrs, key);
  switch (anyValueKind(v)) {
    case 'int':
      return int64ToNumber(v!.intValue);
    case 'double':
      return v!.doubleValue as number;
    case 'bool':
      return v!.boolValue ? 1 : 0;
    case 'string': {
      const s = (v!.stringValue as string).trim();
      if (s === '') return undefined;
      const n = Number(s);
      return Number.isNaN(n) ? undefined : n;
    }
    default:
      return undefined;
  }
}

/** Sets (replaces the first with this key, or appends) an attribute. */
export function setAttribute(attrs: KeyValue[], key: string, value: AnyValue): void {
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i] as KeyValue;
    if (kv.key === key) {
      attrs[i] = { key, value };
      return;
    }
  }
  attrs.push({ key, value });
}

/** Removes every attribute with this key; returns whether any was removed. */
export function deleteAttribute(attrs: KeyValue[] | null | undefined, key: string): boolean {
  if (attrs == null) return false;
  let w = 0;
  for (let r = 0; r < attrs.length; r++) {
    const kv = attrs[r] as KeyValue;
    if (kv.key !== key) attrs[w++] = kv;
  }
  const removed = w !== attrs.length;
  attrs.length = w;
  return removed;
}

/** Attributes as a string map (ClickHouse Map(String, String)); the first of duplicate keys wins. */
export function attributesToRecord(attrs: KeyValue[] | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (attrs == null) return out;
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i] as KeyValue;
    const key = keyOf(kv);
    if (!hasOwn.call(out, key)) putKey(out, key, anyValueToString(kv.value));
  }
  return out;
}
