/**
 * OTTL contexts (resource, scope, span, spanevent, log, metric, datapoint): which paths each one
 * offers and how they read and write Sieve's OTLP model, as pkg/ottl/contexts/internal/ctx* do.
 * A path either starts with a context name (`resource.attributes["k"]`, `span.name`) or belongs
 * to the context the statement runs in (`name`, `attributes["k"]`).
 */
import { anyValueKind, anyValueToString } from '../../otlp/anyvalue.js';
import { bytesToHex } from '../../otlp/ids.js';
import type {
  AnyValue,
  InstrumentationScope,
  KeyValue,
  LogRecord,
  Metric,
  Resource,
  Span,
  SpanEvent,
} from '../../otlp/model.js';
import {
  fromAnyValue,
  fromBigInt,
  OMap,
  OttlRuntimeError,
  toAnyValue,
  toBigInt,
  typeName,
  type Value,
} from './values.js';

export type ContextName = 'resource' | 'scope' | 'span' | 'spanevent' | 'log' | 'metric' | 'datapoint';
export const CONTEXT_NAMES: readonly ContextName[] = [
  'resource',
  'scope',
  'span',
  'spanevent',
  'log',
  'metric',
  'datapoint',
];

/** Any data point: number, histogram, exponential histogram or summary. */
export interface AnyDataPoint {
  attributes?: KeyValue[] | null;
  startTimeUnixNano?: unknown;
  timeUnixNano?: unknown;
  asDouble?: number | null;
  asInt?: unknown;
  flags?: number | null;
  count?: unknown;
  sum?: number | null;
  bucketCounts?: unknown[] | null;
  explicitBounds?: number[] | null;
  scale?: number | null;
  zeroCount?: unknown;
}

/** The item a statement runs on, with its parents. One object is reused across items. */
export interface TransformContext {
  /** ResourceSpans / ResourceLogs / ResourceMetrics */
  rc: { resource?: Resource | null; schemaUrl?: string | null };
  /** ScopeSpans / ScopeLogs / ScopeMetrics */
  sc?: { scope?: InstrumentationScope | null; schemaUrl?: string | null } | undefined;
  span?: Span | undefined;
  event?: SpanEvent | undefined;
  log?: LogRecord | undefined;
  metric?: Metric | undefined;
  dp?: AnyDataPoint | undefined;
  /** the `cache` map: one per item and statement group */
  cache?: KeyValue[] | undefined;
}

export type Key = string | bigint;
/** A compiled key: a literal or an expression evaluated per item. */
export type KeyGetter = (c: TransformContext) => Value;

export interface Accessor {
  get(c: TransformContext): Value;
  /** undefined: read-only path */
  set?: ((c: TransformContext, v: Value) => void) | undefined;
  /** true when the path is a map (attributes, cache …) written through keys */
  isMap?: boolean;
}

/** Contexts reachable from each context (its own and its parents), besides `cache`. */
const REACHABLE: Record<ContextName, readonly string[]> = {
  resource: ['resource'],
  scope: ['scope', 'instrumentation_scope', 'resource'],
  span: ['span', 'scope', 'instrumentation_scope', 'resource'],
  spanevent: ['spanevent', 'span', 'scope', 'instrumentation_scope', 'resource'],
  log: ['log', 'scope', 'instrumentation_scope', 'resource'],
  metric: ['metric', 'scope', 'instrumentation_scope', 'resource'],
  datapoint: ['datapoint', 'metric', 'scope', 'instrumentation_scope', 'resource'],
};

/** Names that can open a path: the context names, plus the Collector's older `instrumentation_scope`. */
export const PATH_CONTEXT_NAMES = new Set<string>([...CONTEXT_NAMES, 'instrumentation_scope']);

export class PathError extends Error {}

// ---------- keyed access into maps and values (ctxutil map.go / value.go) ----------

function keyOf(k: Value, what: 'map' | 'slice'): Key {
  if (what === 'map') {
    if (typeof k === 'string') return k;
    throw new OttlRuntimeError(`unable to resolve a string index in map: got ${typeName(k)}`);
  }
  if (typeof k === 'bigint') return k;
  throw new OttlRuntimeError(`unable to resolve an integer index in slice: got ${typeName(k)}`);
}

function findKv(kvs: KeyValue[], key: string): number {
  for (let i = 0; i < kvs.length; i++) if ((kvs[i] as KeyValue).key === key) return i;
  return -1;
}

function getIndexed(v: AnyValue | null | undefined, keys: Value[], from: number): Value {
  let cur = v;
  for (let i = from; i < keys.length; i++) {
    const kind = anyValueKind(cur);
    if (kind === 'kvlist') {
      const kvs = cur?.kvlistValue?.values ?? [];
      const j = findKv(kvs, keyOf(keys[i] as Value, 'map') as string);
      if (j < 0) return null;
      cur = (kvs[j] as KeyValue).value;
    } else if (kind === 'array') {
      const arr = cur?.arrayValue?.values ?? [];
      const idx = keyOf(keys[i] as Value, 'slice') as bigint;
      if (idx < 0n || idx >= BigInt(arr.length)) throw new OttlRuntimeError(`index ${idx} out of bounds`);
      cur = arr[Number(idx)];
    } else throw new OttlRuntimeError(`type ${valueTypeName(cur)} does not support string indexing`);
  }
  return fromAnyValue(cur);
}

function valueTypeName(v: AnyValue | null | undefined): string {
  const k = anyValueKind(v);
  return {
    string: 'Str',
    bool: 'Bool',
    int: 'Int',
    double: 'Double',
    array: 'Slice',
    kvlist: 'Map',
    bytes: 'Bytes',
    empty: 'Empty',
  }[k];
}

/** The value at keys[from…] below `cur`, set to v; returns the (possibly new) value for the parent to store. */
function setIndexed(cur: AnyValue | null | undefined, keys: Value[], from: number, v: Value): AnyValue {
  if (from === keys.length) return toAnyValue(v);
  const k = keys[from] as Value;
  const kind = anyValueKind(cur);
  if (kind === 'kvlist' && cur?.kvlistValue) {
    const kvs = (cur.kvlistValue.values ??= []);
    const key = keyOf(k, 'map') as string;
    const j = findKv(kvs, key);
    const child = setIndexed(j >= 0 ? (kvs[j] as KeyValue).value : undefined, keys, from + 1, v);
    if (j >= 0) kvs[j] = { key, value: child };
    else kvs.push({ key, value: child });
    return cur;
  }
  if (kind === 'array' && cur?.arrayValue) {
    const arr = (cur.arrayValue.values ??= []);
    const idx = keyOf(k, 'slice') as bigint;
    if (idx < 0n || idx >= BigInt(arr.length)) throw new OttlRuntimeError(`index ${idx} out of bounds`);
    arr[Number(idx)] = setIndexed(arr[Number(idx)], keys, from + 1, v);
    return cur;
  }
  if (kind === 'empty') {
    if (typeof k === 'string')
      return { kvlistValue: { values: [{ key: k, value: setIndexed(undefined, keys, from + 1, v) }] } };
    if (typeof k === 'bigint') {
      const values: AnyValue[] = [];
      for (let i = 0n; i < k; i++) values.push({});
      values.push(setIndexed(undefined, keys, from + 1, v));
      return { arrayValue: { values } };
    }
    throw new OttlRuntimeError('neither a string nor an int index was given');
  }
  throw new OttlRuntimeError(`type ${valueTypeName(cur)} does not support string indexing`);
}

/** Read a map (KeyValue list) through keys: attributes["a"]["b"]. */
export function mapGet(kvs: KeyValue[] | null | undefined, keys: Value[]): Value {
  if (kvs == null) return null;
  const j = findKv(kvs, keyOf(keys[0] as Value, 'map') as string);
  if (j < 0) return null;
  return getIndexed((kvs[j] as KeyValue).value ?? {}, keys, 1);
}
export function mapSet(kvs: KeyValue[], keys: Value[], v: Value): void {
  const key = keyOf(keys[0] as Value, 'map') as string;
  const j = findKv(kvs, key);
  const value = setIndexed(j >= 0 ? (kvs[j] as KeyValue).value : undefined, keys, 1, v);
  if (j >= 0) kvs[j] = { key, value };
  else kvs.push({ key, value });
}
/** ctxutil.SetMap: replace the whole map with a copy of v (nil clears it). */
function replaceMap(kvs: KeyValue[], v: Value): void {
  if (v === null) {
    kvs.length = 0;
    return;
  }
  if (!(v instanceof OMap))
    throw new OttlRuntimeError(`unsupported type provided for setting a pcommon.Map: ${typeName(v)}`);
  const copy = (toAnyValue(v).kvlistValue?.values ?? []) as KeyValue[];
  kvs.length = 0;
  for (const kv of copy) kvs.push(kv);
}

// ---------- field helpers ----------

function expect<T>(v: Value, check: (v: Value) => v is T & Value, want: string): T {
  if (v === null) throw new OttlRuntimeError('setting a value to nil is not supported');
  if (!check(v)) throw new OttlRuntimeError(`expects ${want} but got ${typeName(v)}`);
  return v as T;
}
const isStr = (v: Value): v is string => typeof v === 'string';
const isInt = (v: Value): v is bigint => typeof v === 'bigint';
const isFloat = (v: Value): v is number => typeof v === 'number';
const isBool = (v: Value): v is boolean => typeof v === 'boolean';
const isBytes = (v: Value): v is Uint8Array => v instanceof Uint8Array;

type Obj<T> = (c: TransformContext) => T;

function strField<T>(obj: Obj<T>, field: keyof T): Accessor {
  return {
    get: (c) => ((obj(c) as Record<string, unknown>)[field as string] as string | null | undefined) ?? '',
    set: (c, v) => {
      (obj(c) as Record<string, unknown>)[field as string] = expect(v, isStr, 'string');
    },
  };
}
function intField<T>(obj: Obj<T>, field: keyof T, small = false): Accessor {
  return {
    get: (c) => toBigInt((obj(c) as Record<string, unknown>)[field as string] as string | number | null | undefined),
    set: (c, v) => {
      const n = expect(v, isInt, 'int64');
      (obj(c) as Record<string, unknown>)[field as string] = small ? Number(BigInt.asUintN(32, n)) : fromBigInt(n);
    },
  };
}
function attrField(obj: Obj<{ attributes?: KeyValue[] | null }>, keys: KeyGetter[]): Accessor {
  const kvsOf = (c: TransformContext) => {
    const o = obj(c);
    o.attributes ??= [];
    return o.attributes;
  };
  if (keys.length === 0) return { get: (c) => new OMap(kvsOf(c)), set: (c, v) => replaceMap(kvsOf(c), v), isMap: true };
  const k0 = keys[0] as KeyGetter & { literal?: true };
  if (keys.length === 1 && typeof k0(undefined as never) === 'string' && isConstKey(k0)) {
    // the common attributes["k"]: no key array, no indexing walk
    const key = k0(undefined as never) as string;
    return {
      get: (c) => {
        const kvs = obj(c).attributes;
        if (kvs == null) return null;
        const j = findKv(kvs, key);
        return j < 0 ? null : fromAnyValue((kvs[j] as KeyValue).value ?? {});
      },
      set: (c, v) => mapSet(kvsOf(c), [key], v),
    };
  }
  const evalKeys = keyEvaluator(keys);
  return {
    get: (c) => mapGet(obj(c).attributes, evalKeys(c)),
    set: (c, v) => mapSet(kvsOf(c), evalKeys(c), v),
  };
}

/** Keys compiled from string / int literals are marked constant by the compiler. */
export const CONST_KEY = Symbol('constKey');
function isConstKey(k: KeyGetter): boolean {
  return (k as { [CONST_KEY]?: true })[CONST_KEY] === true;
}
function idField<T>(obj: Obj<T>, field: keyof T, len: number, asString: boolean): Accessor {
  const read = (c: TransformContext) =>
    ((obj(c) as Record<string, unknown>)[field as string] as Uint8Array | null | undefined) ?? new Uint8Array(len);
  if (asString)
    return {
      // hex of the id's bytes: an unset id reads as zeros, as pdata's [16]byte / [8]byte
      get: (c) => {
        const b = read(c);
        return b.length === len ? bytesToHex(b) : '0'.repeat(len * 2);
      },
      set: (c, v) => {
        const s = expect(v, isStr, 'string');
        if (!/^[0-9a-fA-F]*$/.test(s) || s.length !== len * 2)
          throw new OttlRuntimeError(`${String(field)} must be a hex string of ${len} bytes`);
        (obj(c) as Record<string, unknown>)[field as string] = Buffer.from(s, 'hex');
      },
    };
  return {
    get: (c) => read(c),
    set: (c, v) => {
      const b = expect(v, isBytes, `[${len}]byte`);
      if (b.length !== len) throw new OttlRuntimeError(`expects [${len}]byte but got ${b.length} bytes`);
      (obj(c) as Record<string, unknown>)[field as string] = Uint8Array.from(b);
    },
  };
}

export function keyEvaluator(keys: KeyGetter[]): (c: TransformContext) => Value[] {
  if (keys.length === 1) {
    const k0 = keys[0] as KeyGetter;
    return (c) => [k0(c)];
  }
  return (c) => keys.map((k) => k(c));
}

// ---------- per-context path tables ----------

const resourceOf = (c: TransformContext): Resource => {
  c.rc.resource ??= {};
  return c.rc.resource;
};
const scopeOf = (c: TransformContext): InstrumentationScope => {
  if (!c.sc) throw new OttlRuntimeError('no instrumentation scope in this context');
  c.sc.scope ??= {};
  return c.sc.scope;
};
const spanOf = (c: TransformContext): Span => c.span as Span;
const eventOf = (c: TransformContext): SpanEvent => c.event as SpanEvent;
const logOf = (c: TransformContext): LogRecord => c.log as LogRecord;
const metricOf = (c: TransformContext): Metric => c.metric as Metric;
const dpOf = (c: TransformContext): AnyDataPoint => c.dp as AnyDataPoint;

interface Seg {
  name: string;
  keys: KeyGetter[];
}

function noKeys(s: Seg, path: string) {
  if (s.keys.length) throw new PathError(`${path} cannot be indexed with [...]`);
}
function leaf(rest: Seg[], i: number, path: string): Seg {
  const s = rest[i] as Seg;
  if (rest.length > i + 1)
    throw new PathError(`segment "${(rest[i + 1] as Seg).name}" from path "${path}" is not valid`);
  return s;
}

const KIND_NAMES = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'];
const KIND_ENUMS = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
];

function resourcePath(rest: Seg[], path: string): Accessor {
  const s = leaf(rest, 0, path);
  switch (s.name) {
    case 'attributes':
      return attrField(resourceOf, s.keys);
    case 'dropped_attributes_count':
      noKeys(s, path);
      return intField(resourceOf, 'droppedAttributesCount', true);
    case 'schema_url':
      noKeys(s, path);
      return strField((c) => c.rc, 'schemaUrl');
  }
  throw invalid(s.name, path, 'resource');
}

function scopePath(rest: Seg[], path: string): Accessor {
  const s = leaf(rest, 0, path);
  switch (s.name) {
    case 'name':
      noKeys(s, path);
      return strField(scopeOf, 'name');
    case 'version':
      noKeys(s, path);
      return strField(scopeOf, 'version');
    case 'attributes':
      return attrField(scopeOf, s.keys);
    case 'dropped_attributes_count':
      noKeys(s, path);
      return intField(scopeOf, 'droppedAttributesCount', true);
    case 'schema_url':
      noKeys(s, path);
      return strField((c) => c.sc ?? {}, 'schemaUrl');
  }
  throw invalid(s.name, path, 'scope');
}

function sub(rest: Seg[], path: string): string | undefined {
  if (rest.length > 2) throw new PathError(`path "${path}" is too long`);
  return rest[1]?.name;
}

function spanPath(rest: Seg[], path: string): Accessor {
  const s = rest[0] as Seg;
  const next = sub(rest, path);
  if (s.name !== 'attributes') noKeys(s, path);
  const onlyLeaf = () => {
    if (next !== undefined) throw invalid(next, path, 'span');
  };
  switch (s.name) {
    case 'trace_id':
    case 'span_id':
    case 'parent_span_id': {
      if (next !== undefined && next !== 'string') throw invalid(next, path, 'span');
      const field = s.name === 'trace_id' ? 'traceId' : s.name === 'span_id' ? 'spanId' : 'parentSpanId';
      return idField(spanOf, field, s.name === 'trace_id' ? 16 : 8, next === 'string');
    }
    case 'trace_state':
      onlyLeaf();
      return strField(spanOf, 'traceState');
    case 'name':
      onlyLeaf();
      return strField(spanOf, 'name');
    case 'kind': {
      if (next === undefined) return intField(spanOf, 'kind', true);
      if (next === 'string' || next === 'deprecated_string') {
        const names = next === 'string' ? KIND_NAMES : KIND_ENUMS;
        return {
          get: (c) => names[spanOf(c).kind ?? 0] ?? '',
          set: (c, v) => {
            const i = names.indexOf(expect(v, isStr, 'string'));
            if (i >= 0) spanOf(c).kind = i;
          },
        };
      }
      throw invalid(next, path, 'span');
    }
    case 'start_time_unix_nano':
      onlyLeaf();
      return intField(spanOf, 'startTimeUnixNano');
    case 'end_time_unix_nano':
      onlyLeaf();
      return intField(spanOf, 'endTimeUnixNano');
    case 'attributes':
      onlyLeaf();
      return attrField(spanOf, s.keys);
    case 'dropped_attributes_count':
      onlyLeaf();
      return intField(spanOf, 'droppedAttributesCount', true);
    case 'dropped_events_count':
      onlyLeaf();
      return intField(spanOf, 'droppedEventsCount', true);
    case 'dropped_links_count':
      onlyLeaf();
      return intField(spanOf, 'droppedLinksCount', true);
    case 'flags':
      onlyLeaf();
      return intField(spanOf, 'flags', true);
    case 'status': {
      const statusOf = (c: TransformContext) => {
        const sp = spanOf(c);
        sp.status ??= {};
        return sp.status;
      };
      if (next === 'code') return intField(statusOf, 'code', true);
      if (next === 'message') return strField(statusOf, 'message');
      throw invalid(next ?? 'status', path, 'span');
    }
  }
  throw invalid(s.name, path, 'span');
}

function spanEventPath(rest: Seg[], path: string): Accessor {
  const s = leaf(rest, 0, path);
  if (s.name !== 'attributes') noKeys(s, path);
  switch (s.name) {
    case 'name':
      return strField(eventOf, 'name');
    case 'time_unix_nano':
      return intField(eventOf, 'timeUnixNano');
    case 'attributes':
      return attrField(eventOf, s.keys);
    case 'dropped_attributes_count':
      return intField(eventOf, 'droppedAttributesCount', true);
  }
  throw invalid(s.name, path, 'spanevent');
}

function logPath(rest: Seg[], path: string): Accessor {
  const s = rest[0] as Seg;
  const next = sub(rest, path);
  if (s.name !== 'attributes' && s.name !== 'body') noKeys(s, path);
  const onlyLeaf = () => {
    if (next !== undefined) throw invalid(next, path, 'log');
  };
  switch (s.name) {
    case 'time_unix_nano':
      onlyLeaf();
      return intField(logOf, 'timeUnixNano');
    case 'observed_time_unix_nano':
      onlyLeaf();
      return intField(logOf, 'observedTimeUnixNano');
    case 'severity_number':
      onlyLeaf();
      return intField(logOf, 'severityNumber', true);
    case 'severity_text':
      onlyLeaf();
      return strField(logOf, 'severityText');
    case 'event_name':
      onlyLeaf();
      return strField(logOf, 'eventName');
    case 'flags':
      onlyLeaf();
      return intField(logOf, 'flags', true);
    case 'dropped_attributes_count':
      onlyLeaf();
      return intField(logOf, 'droppedAttributesCount', true);
    case 'attributes':
      onlyLeaf();
      return attrField(logOf, s.keys);
    case 'trace_id':
    case 'span_id': {
      if (next !== undefined && next !== 'string') throw invalid(next, path, 'log');
      return idField(
        logOf,
        s.name === 'trace_id' ? 'traceId' : 'spanId',
        s.name === 'trace_id' ? 16 : 8,
        next === 'string',
      );
    }
    case 'body': {
      if (next === 'string') {
        if (s.keys.length) throw new PathError(`${path}: body.string cannot be indexed`);
        return {
          get: (c) => anyValueToString(logOf(c).body),
          set: (c, v) => {
            logOf(c).body = { stringValue: expect(v, isStr, 'string') };
          },
        };
      }
      onlyLeaf();
      if (s.keys.length === 0)
        return {
          get: (c) => fromAnyValue(logOf(c).body),
          set: (c, v) => {
            logOf(c).body = toAnyValue(v);
          },
        };
      const evalKeys = keyEvaluator(s.keys);
      const indexable = (b: AnyValue | null | undefined) => {
        const kind = anyValueKind(b);
        if (kind !== 'kvlist' && kind !== 'array')
          throw new OttlRuntimeError(`log bodies of type ${valueTypeName(b)} cannot be indexed`);
        return b as AnyValue;
      };
      return {
        get: (c) => getIndexed(indexable(logOf(c).body), evalKeys(c), 0),
        set: (c, v) => {
          const lr = logOf(c);
          lr.body = setIndexed(indexable(lr.body), evalKeys(c), 0, v);
        },
      };
    }
  }
  throw invalid(s.name, path, 'log');
}

function metricType(m: Metric): number {
  if (m.gauge) return 1;
  if (m.sum) return 2;
  if (m.histogram) return 3;
  if (m.exponentialHistogram) return 4;
  if (m.summary) return 5;
  return 0;
}

function metricPath(rest: Seg[], path: string): Accessor {
  const s = leaf(rest, 0, path);
  noKeys(s, path);
  switch (s.name) {
    case 'name':
      return strField(metricOf, 'name');
    case 'description':
      return strField(metricOf, 'description');
    case 'unit':
      return strField(metricOf, 'unit');
    case 'type':
      return { get: (c) => BigInt(metricType(metricOf(c))) };
    case 'aggregation_temporality': {
      const holder = (m: Metric) =>
        (m.sum ?? m.histogram ?? m.exponentialHistogram) as { aggregationTemporality?: number | null } | undefined;
      return {
        get: (c) => BigInt(holder(metricOf(c))?.aggregationTemporality ?? 0),
        set: (c, v) => {
          const h = holder(metricOf(c));
          if (h) h.aggregationTemporality = Number(expect(v, isInt, 'int64'));
        },
      };
    }
    case 'is_monotonic':
      return {
        get: (c) => metricOf(c).sum?.isMonotonic ?? false,
        set: (c, v) => {
          const sum = metricOf(c).sum;
          if (sum) sum.isMonotonic = expect(v, isBool, 'bool');
        },
      };
  }
  throw invalid(s.name, path, 'metric');
}

function datapointPath(rest: Seg[], path: string): Accessor {
  const s = leaf(rest, 0, path);
  if (s.name !== 'attributes') noKeys(s, path);
  switch (s.name) {
    case 'attributes':
      return attrField(dpOf, s.keys);
    case 'start_time_unix_nano':
      return intField(dpOf, 'startTimeUnixNano');
    case 'time_unix_nano':
      return intField(dpOf, 'timeUnixNano');
    case 'value_double':
      return {
        get: (c) => dpOf(c).asDouble ?? 0,
        set: (c, v) => {
          const d = dpOf(c);
          d.asDouble = expect(v, isFloat, 'float64');
          delete d.asInt;
        },
      };
    case 'value_int':
      return {
        get: (c) => toBigInt(dpOf(c).asInt as string | number | null | undefined),
        set: (c, v) => {
          const d = dpOf(c);
          d.asInt = fromBigInt(expect(v, isInt, 'int64'));
          delete d.asDouble;
        },
      };
    case 'flags':
      return intField(dpOf, 'flags', true);
    case 'count':
      return intField(dpOf, 'count');
    case 'sum':
      return {
        get: (c) => dpOf(c).sum ?? 0,
        set: (c, v) => {
          dpOf(c).sum = expect(v, isFloat, 'float64');
        },
      };
    case 'scale':
      return {
        get: (c) => BigInt(dpOf(c).scale ?? 0),
        set: (c, v) => {
          dpOf(c).scale = Number(expect(v, isInt, 'int64'));
        },
      };
    case 'zero_count':
      return intField(dpOf, 'zeroCount');
    case 'bucket_counts':
      return { get: (c) => (dpOf(c).bucketCounts ?? []).map((x) => toBigInt(x as string | number)) };
    case 'explicit_bounds':
      return { get: (c) => [...(dpOf(c).explicitBounds ?? [])] };
  }
  throw invalid(s.name, path, 'datapoint');
}

function invalid(seg: string, path: string, ctx: string): PathError {
  return new PathError(`segment "${seg}" from path "${path}" is not a valid path for the ${ctx} context`);
}

/** The cache map of the statement group, one per item (`cache["k"]`). */
function cachePath(s: Seg): Accessor {
  const kvsOf = (c: TransformContext) => {
    c.cache ??= [];
    return c.cache;
  };
  if (s.keys.length === 0)
    return { get: (c) => new OMap(kvsOf(c)), set: (c, v) => replaceMap(kvsOf(c), v), isMap: true };
  const evalKeys = keyEvaluator(s.keys);
  return { get: (c) => mapGet(c.cache, evalKeys(c)), set: (c, v) => mapSet(kvsOf(c), evalKeys(c), v) };
}

/**
 * Resolves a path for a statement running in `ctx`. The first segment may name the context or one
 * of its parents; otherwise the path belongs to `ctx` (as when the Collector prepends the context).
 */
export function resolvePath(ctx: ContextName, segs: Seg[], path: string): Accessor {
  const first = segs[0] as Seg;
  if (first.name === 'cache') {
    if (segs.length > 1) throw new PathError(`path "${path}": cache takes keys, not fields`);
    return cachePath(first);
  }
  let target: string = ctx;
  let rest = segs;
  if (PATH_CONTEXT_NAMES.has(first.name) && segs.length > 1) {
    if (!REACHABLE[ctx].includes(first.name))
      throw new PathError(
        `path "${path}" names the ${first.name} context, which statements in the ${ctx} context cannot reach`,
      );
    noKeys(first, path);
    target = first.name === 'instrumentation_scope' ? 'scope' : first.name;
    rest = segs.slice(1);
  } else if (
    ctx !== 'resource' &&
    ctx !== 'scope' &&
    (first.name === 'resource' || first.name === 'instrumentation_scope')
  )
    throw new PathError(`path "${path}" needs a field, e.g. ${first.name}.attributes`);
  switch (target) {
    case 'resource':
      return resourcePath(rest, path);
    case 'scope':
      return scopePath(rest, path);
    case 'span':
      return spanPath(rest, path);
    case 'spanevent':
      return spanEventPath(rest, path);
    case 'log':
      return logPath(rest, path);
    case 'metric':
      return metricPath(rest, path);
    default:
      return datapointPath(rest, path);
  }
}

/** The context named by a path's first segment, if any (for context inference). */
export function pathContext(firstSegment: string, segmentCount: number): ContextName | undefined {
  if (segmentCount < 2 || !PATH_CONTEXT_NAMES.has(firstSegment)) return undefined;
  return firstSegment === 'instrumentation_scope' ? 'scope' : (firstSegment as ContextName);
}
