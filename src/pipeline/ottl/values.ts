/**
 * OTTL runtime values with the Collector's types: string, int64 (bigint), float64 (number), bool,
 * nil (null), bytes (Uint8Array), maps (OMap: a live view of a KeyValue list) and slices (OSlice:
 * a live view of an AnyValue list, or a plain JS array for list literals and converter results).
 * Conversions and comparisons follow pkg/ottl (expression.go, compare.go).
 */
import { anyValueKind } from '../../otlp/anyvalue.js';
import { int64ToString } from '../../otlp/ids.js';
import type { AnyValue, Int64, KeyValue } from '../../otlp/model.js';

export class OMap {
  constructor(readonly kvs: KeyValue[]) {}
}
export class OSlice {
  constructor(readonly values: AnyValue[]) {}
}
export type Value = string | bigint | number | boolean | null | Uint8Array | OMap | OSlice | Value[];

/** A runtime error of a statement (the Collector's error, handled per error_mode). */
export class OttlRuntimeError extends Error {}
/** The Collector's ottl.TypeError: a getter got a value of the wrong type. */
export class OttlTypeError extends OttlRuntimeError {}

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

export function toBigInt(v: Int64 | null | undefined): bigint {
  if (v == null) return 0n;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  return BigInt(int64ToString(v));
}
/** int64 for the OTLP model: a number when safe, else a decimal string. */
export function fromBigInt(v: bigint): number | string {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v.toString();
}
export function wrapInt64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}
export function inInt64(v: bigint): boolean {
  return v >= INT64_MIN && v <= INT64_MAX;
}

/** AnyValue → runtime value (maps and slices stay live views, as pcommon.Map / pcommon.Slice). */
export function fromAnyValue(v: AnyValue | null | undefined): Value {
  switch (anyValueKind(v)) {
    case 'string':
      return v?.stringValue as string;
    case 'bool':
      return v?.boolValue as boolean;
    case 'int':
      return toBigInt(v?.intValue);
    case 'double':
      return v?.doubleValue as number;
    case 'bytes':
      return v?.bytesValue as Uint8Array;
    case 'kvlist': {
      const kv = v?.kvlistValue as { values?: KeyValue[] | null };
      kv.values ??= [];
      return new OMap(kv.values);
    }
    case 'array': {
      const a = v?.arrayValue as { values?: AnyValue[] | null };
      a.values ??= [];
      return new OSlice(a.values);
    }
    default:
      return null;
  }
}

function copyKvs(kvs: KeyValue[]): KeyValue[] {
  return kvs.map((kv) => ({ key: kv.key, value: toAnyValue(fromAnyValue(kv.value)) }));
}

/** Runtime value → a fresh AnyValue (deep copies maps and slices, as pdata CopyTo does). */
export function toAnyValue(v: Value): AnyValue {
  if (v === null) return {};
  switch (typeof v) {
    case 'string':
      return { stringValue: v };
    case 'bigint':
      return { intValue: fromBigInt(v) };
    case 'number':
      return { doubleValue: v };
    case 'boolean':
      return { boolValue: v };
  }
  if (v instanceof Uint8Array) return { bytesValue: Uint8Array.from(v) };
  if (v instanceof OMap) return { kvlistValue: { values: copyKvs(v.kvs) } };
  if (v instanceof OSlice) return { arrayValue: { values: v.values.map((x) => toAnyValue(fromAnyValue(x))) } };
  return { arrayValue: { values: v.map(toAnyValue) } };
}

export function typeName(v: Value): string {
  if (v === null) return 'nil';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'bigint':
      return 'int64';
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
  }
  if (v instanceof Uint8Array) return '[]byte';
  if (v instanceof OMap) return 'pcommon.Map';
  if (v instanceof OSlice) return 'pcommon.Slice';
  return '[]any';
}

// ---------- Go-compatible text forms ----------

/** Go's encoding/json for strings (HTML-safe escapes, as json.Marshal writes them). */
export function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Go's strconv.FormatFloat(f, 'g'-like JSON form) as encoding/json writes float64. */
function goJsonFloat(n: number): string {
  if (!Number.isFinite(n)) throw new OttlRuntimeError(`json: unsupported value: ${n}`);
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) {
    // Go: exponent form with at least two exponent digits, e.g. 1e+21, 1e-07
    const [mant, exp] = n.toExponential().split('e') as [string, string];
    const sign = exp[0] === '-' ? '-' : '+';
    const digits = exp.replace(/^[-+]/, '');
    return `${mant}e${sign}${digits.length < 2 ? `0${digits}` : digits}`;
  }
  return String(n);
}

/** encoding/json of the raw value (maps sorted by key, as Go marshals map[string]any). */
export function goJson(v: Value): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return goJsonString(v);
    case 'bigint':
      return v.toString();
    case 'number':
      return goJsonFloat(v);
    case 'boolean':
      return v ? 'true' : 'false';
  }
  if (v instanceof Uint8Array) return goJsonString(Buffer.from(v).toString('base64'));
  if (v instanceof OMap) {
    const byKey = new Map<string, Value>();
    for (const kv of v.kvs) byKey.set(kv.key, fromAnyValue(kv.value));
    const keys = [...byKey.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${keys.map((k) => `${goJsonString(k)}:${goJson(byKey.get(k) as Value)}`).join(',')}}`;
  }
  const items = v instanceof OSlice ? v.values.map(fromAnyValue) : v;
  return `[${items.map(goJson).join(',')}]`;
}

/** Go's strconv.FormatFloat(f, 'f', -1, 64)-like text used by pcommon Value.AsString for doubles. */
export function goFormatFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  return goJsonFloat(n);
}

// ---------- typed getters (expression.go) ----------

export function asString(v: Value): string {
  if (typeof v === 'string') return v;
  throw new OttlTypeError(`expected string but got ${typeName(v)}`);
}
export function asInt(v: Value): bigint {
  if (typeof v === 'bigint') return v;
  throw new OttlTypeError(`expected int64 but got ${typeName(v)}`);
}
export function asFloat(v: Value): number {
  if (typeof v === 'number') return v;
  throw new OttlTypeError(`expected float64 but got ${typeName(v)}`);
}
export function asBool(v: Value): boolean {
  if (typeof v === 'boolean') return v;
  throw new OttlTypeError(`expected bool but got ${typeName(v)}`);
}
export function asMap(v: Value): OMap {
  if (v instanceof OMap) return v;
  throw new OttlTypeError(`expected pcommon.Map but got ${typeName(v)}`);
}

/** StringLikeGetter: undefined for nil. */
export function stringLike(v: Value): string | undefined {
  if (v === null) return undefined;
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return goJson(v);
}

function parseGoInt(s: string): bigint {
  if (!/^[+-]?\d+$/.test(s)) throw new OttlRuntimeError(`strconv.ParseInt: parsing ${goJsonString(s)}: invalid syntax`);
  const n = BigInt(s);
  if (!inInt64(n)) throw new OttlRuntimeError(`strconv.ParseInt: parsing ${goJsonString(s)}: value out of range`);
  return n;
}
function parseGoFloat(s: string): number {
  const t = s.trim() === s ? s : '';
  if (!/^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|[iI]nf(inity)?|NaN)$/.test(t))
    throw new OttlRuntimeError(`strconv.ParseFloat: parsing ${goJsonString(s)}: invalid syntax`);
  if (/inf/i.test(t)) return t.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  return Number(t);
}

/** IntLikeGetter: undefined for nil. */
export function intLike(v: Value): bigint | undefined {
  if (v === null) return undefined;
  switch (typeof v) {
    case 'bigint':
      return v;
    case 'string':
      return parseGoInt(v);
    case 'number':
      // Go's int64(float64) truncates toward zero
      if (!Number.isFinite(v)) return INT64_MIN;
      return wrapInt64(BigInt(Math.trunc(v)));
    case 'boolean':
      return v ? 1n : 0n;
  }
  throw new OttlTypeError(`unsupported type: ${typeName(v)}`);
}

/** FloatLikeGetter: undefined for nil. */
export function floatLike(v: Value): number | undefined {
  if (v === null) return undefined;
  switch (typeof v) {
    case 'number':
      return v;
    case 'bigint':
      return Number(v);
    case 'string':
      return parseGoFloat(v);
    case 'boolean':
      return v ? 1 : 0;
  }
  throw new OttlTypeError(`unsupported type: ${typeName(v)}`);
}

/** ByteSliceLikeGetter: undefined for nil; numbers and bools as 8 big-endian bytes (binary.Write). */
export function bytesLike(v: Value): Uint8Array | undefined {
  if (v === null) return undefined;
  if (v instanceof Uint8Array) return v;
  switch (typeof v) {
    case 'string':
      return Buffer.from(v, 'utf8');
    case 'bigint': {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(v);
      return b;
    }
    case 'number': {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(v);
      return b;
    }
    case 'boolean':
      return Buffer.from([v ? 1 : 0]);
  }
  throw new OttlTypeError(`unsupported type: ${typeName(v)}`);
}

// ---------- comparisons (compare.go) ----------

export type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

function prim<T extends string | number | bigint>(a: T, b: T, op: CmpOp): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}
function bytesCmp(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(
    Buffer.from(a.buffer, a.byteOffset, a.byteLength),
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}
/** reflect.DeepEqual of the raw forms, approximated by their canonical JSON */
function rawEqual(a: Value, b: Value): boolean {
  return goJson(a) === goJson(b);
}

export function compare(a: Value, b: Value, op: CmpOp): boolean {
  const invalid = op === '!=';
  if (a === null && b === null) return op === '==' || op === '<=' || op === '>=';
  if (a === null) return compare(b, null, op);
  switch (typeof a) {
    case 'boolean': {
      if (typeof b !== 'boolean') return invalid;
      switch (op) {
        case '==':
          return a === b;
        case '!=':
          return a !== b;
        case '<':
          return !a && b;
        case '<=':
          return !a || b;
        case '>=':
          return a || !b;
        case '>':
          return a && !b;
      }
      return false;
    }
    case 'bigint':
      if (typeof b === 'bigint') return prim(a, b, op);
      if (typeof b === 'number') return prim(Number(a), b, op);
      return invalid;
    case 'number':
      if (typeof b === 'number') return prim(a, b, op);
      if (typeof b === 'bigint') return prim(a, Number(b), op);
      return invalid;
    case 'string':
      return typeof b === 'string' ? prim(a, b, op) : invalid;
  }
  if (a instanceof Uint8Array) {
    if (b === null) return op === '!=';
    if (!(b instanceof Uint8Array)) return invalid;
    return prim(bytesCmp(a, b), 0, op);
  }
  const aIsMap = a instanceof OMap;
  const bIsMap = b instanceof OMap;
  if (aIsMap || bIsMap) {
    if (!(aIsMap && bIsMap)) return invalid;
    if (op === '==') return rawEqual(a, b);
    if (op === '!=') return !rawEqual(a, b);
    return false;
  }
  const aIsList = a instanceof OSlice || Array.isArray(a);
  const bIsList = b instanceof OSlice || Array.isArray(b);
  if (aIsList) {
    if (!bIsList) return invalid;
    if (op === '==') return rawEqual(a, b);
    if (op === '!=') return !rawEqual(a, b);
    return false;
  }
  return invalid;
}
