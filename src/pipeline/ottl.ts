/**
 * A small OTTL condition subset for the filter processor:
 *   comparisons `==`, `!=`, `<`, `<=`, `>`, `>=` between a path and a literal (string, number, bool, nil, enum),
 *   `IsMatch(path, "regex")`, `and`, `or`, `not`, parentheses.
 * Paths: name, kind, status.code, status.message, attributes["k"], resource.attributes["k"],
 *   instrumentation_scope.name, severity_number, severity_text, body, metric.name, metric.type, event_name.
 */
import { anyValueKind, anyValueToString, getAttribute } from '../otlp/anyvalue.js';
import type { AnyValue, KeyValue } from '../otlp/model.js';

export class OttlError extends Error {}

export interface OttlContext {
  name?: string | null | undefined;
  kind?: number | null | undefined;
  statusCode?: number | null | undefined;
  statusMessage?: string | null | undefined;
  attributes?: KeyValue[] | null | undefined;
  resourceAttributes?: KeyValue[] | null | undefined;
  scopeName?: string | null | undefined;
  severityNumber?: number | null | undefined;
  severityText?: string | null | undefined;
  body?: AnyValue | null | undefined;
  metricName?: string | null | undefined;
  metricType?: number | undefined;
  eventName?: string | null | undefined;
}

const ENUMS: Record<string, number> = {
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
  METRIC_DATA_TYPE_NONE: 0,
  METRIC_DATA_TYPE_GAUGE: 1,
  METRIC_DATA_TYPE_SUM: 2,
  METRIC_DATA_TYPE_HISTOGRAM: 3,
  METRIC_DATA_TYPE_EXPONENTIAL_HISTOGRAM: 4,
  METRIC_DATA_TYPE_SUMMARY: 5,
};
const SEV = [
  'UNSPECIFIED',
  'TRACE',
  'TRACE2',
  'TRACE3',
  'TRACE4',
  'DEBUG',
  'DEBUG2',
  'DEBUG3',
  'DEBUG4',
  'INFO',
  'INFO2',
  'INFO3',
  'INFO4',
  'WARN',
  'WARN2',
  'WARN3',
  'WARN4',
  'ERROR',
  'ERROR2',
  'ERROR3',
  'ERROR4',
  'FATAL',
  'FATAL2',
  'FATAL3',
  'FATAL4',
];
SEV.forEach((s, i) => {
  ENUMS[`SEVERITY_NUMBER_${s}`] = i;
});

type Val = string | number | boolean | null | undefined;
type Getter = (c: OttlContext) => Val;
export type Condition = (c: OttlContext) => boolean;

function anyToVal(v: AnyValue | null | undefined): Val {
  if (v == null) return undefined;
  switch (anyValueKind(v)) {
    case 'string':
      return v.stringValue as string;
    case 'bool':
      return v.boolValue as boolean;
    case 'int':
    case 'double':
      return Number(anyValueToString(v));
    case 'empty':
      return null;
    default:
      return anyValueToString(v);
  }
}

const TOKEN =
  /\s*(?:(==|!=|<=|>=|<|>|\(|\)|,|\[|\]|\.)|("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*))/y;

function tokenize(src: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(src);
    if (!m) throw new OttlError(`unexpected character at ${pos}: ${src.slice(pos, pos + 10)}`);
    out.push((m[1] ?? m[2] ?? m[3] ?? m[4]) as string);
    pos = TOKEN.lastIndex;
  }
  return out;
}

/** Parses one OTTL boolean condition. Throws OttlError on anything outside the supported subset. */
export function parseCondition(src: string): Condition {
  const toks = tokenize(src);
  let i = 0;
  const peek = () => toks[i];
  const next = () => {
    const t = toks[i++];
    if (t === undefined) throw new OttlError('unexpected end of condition');
    return t;
  };
  const expect = (t: string) => {
    const got = next();
    if (got !== t) throw new OttlError(`expected ${t}, got ${got}`);
  };

  const parsePath = (first: string): Getter => {
    const parts = [first];
    while (peek() === '.') {
      next();
      parts.push(next());
    }
    let keyIdx: string | undefined;
    if (peek() === '[') {
      next();
      const k = next();
      if (!k.startsWith('"')) throw new OttlError(`attribute key must be a string, got ${k}`);
      keyIdx = JSON.parse(k) as string;
      expect(']');
    }
    const path = parts.join('.');
    if (keyIdx !== undefined) {
      const key = keyIdx;
      if (path === 'attributes') return (c) => anyToVal(getAttribute(c.attributes, key));
      if (path === 'resource.attributes') return (c) => anyToVal(getAttribute(c.resourceAttributes, key));
      throw new OttlError(`unsupported path ${path}[…]`);
    }
    switch (path) {
      case 'name':
      case 'span.name':
        return (c) => c.name ?? '';
      case 'kind':
        return (c) => c.kind ?? 0;
      case 'status.code':
        return (c) => c.statusCode ?? 0;
      case 'status.message':
        return (c) => c.statusMessage ?? '';
      case 'instrumentation_scope.name':
        return (c) => c.scopeName ?? '';
      case 'severity_number':
        return (c) => c.severityNumber ?? 0;
      case 'severity_text':
        return (c) => c.severityText ?? '';
      case 'body':
        return (c) => anyToVal(c.body);
      case 'metric.name':
        return (c) => c.metricName ?? c.name ?? '';
      case 'type':
      case 'metric.type':
        return (c) => c.metricType ?? 0;
      case 'event_name':
        return (c) => c.eventName ?? '';
      default:
        throw new OttlError(`unsupported path ${path}`);
    }
  };

  const parseValue = (): Getter => {
    const t = next();
    if (t.startsWith('"')) {
      const s = JSON.parse(t) as string;
      return () => s;
    }
    if (/^-?\d/.test(t)) {
      const n = Number(t);
      return () => n;
    }
    if (t === 'true' || t === 'false') {
      const b = t === 'true';
      return () => b;
    }
    if (t === 'nil') return () => null;
    if (t in ENUMS) {
      const n = ENUMS[t] as number;
      return () => n;
    }
    return parsePath(t);
  };

  const parsePrimary = (): Condition => {
    const t = peek();
    if (t === '(') {
      next();
      const c = parseOr();
      expect(')');
      return c;
    }
    if (t === 'not') {
      next();
      const c = parsePrimary();
      return (x) => !c(x);
    }
    if (t === 'IsMatch') {
      next();
      expect('(');
      const g = parseValue();
      expect(',');
      const p = next();
      if (!p.startsWith('"')) throw new OttlError('IsMatch pattern must be a string');
      let re: RegExp;
      try {
        re = new RegExp(JSON.parse(p) as string);
      } catch (err) {
        throw new OttlError(`bad regex in IsMatch: ${(err as Error).message}`);
      }
      expect(')');
      return (c) => {
        const v = g(c);
        return v != null && re.test(String(v));
      };
    }
    if (t === 'true') {
      next();
      return () => true;
    }
    if (t === 'false') {
      next();
      return () => false;
    }
    const left = parseValue();
    const op = next();
    const right = parseValue();
    switch (op) {
      case '==':
        return (c) => eq(left(c), right(c));
      case '!=':
        return (c) => !eq(left(c), right(c));
      case '<':
        return (c) => cmp(left(c), right(c), (a, b) => a < b);
      case '<=':
        return (c) => cmp(left(c), right(c), (a, b) => a <= b);
      case '>':
        return (c) => cmp(left(c), right(c), (a, b) => a > b);
      case '>=':
        return (c) => cmp(left(c), right(c), (a, b) => a >= b);
      default:
        throw new OttlError(`unsupported operator ${op}`);
    }
  };
  const parseAnd = (): Condition => {
    let c = parsePrimary();
    while (peek() === 'and') {
      next();
      const l = c;
      const r = parsePrimary();
      c = (x) => l(x) && r(x);
    }
    return c;
  };
  const parseOr = (): Condition => {
    let c = parseAnd();
    while (peek() === 'or') {
      next();
      const l = c;
      const r = parseAnd();
      c = (x) => l(x) || r(x);
    }
    return c;
  };
  const cond = parseOr();
  if (i !== toks.length) throw new OttlError(`unexpected ${toks[i]}`);
  return cond;
}

function eq(a: Val, b: Val): boolean {
  if (a == null || b == null) return a == null && b == null;
  return a === b;
}
function cmp(a: Val, b: Val, f: (a: number | string, b: number | string) => boolean): boolean {
  if (typeof a === 'number' && typeof b === 'number') return f(a, b);
  if (typeof a === 'string' && typeof b === 'string') return f(a, b);
  return false;
}
