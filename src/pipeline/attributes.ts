/**
 * Collector `attributes` processor: actions insert, update, upsert, delete, hash, extract, convert on
 * span / log record / data point attributes, optionally limited by `include` / `exclude`.
 * The action engine (`compileActions`) is shared with the `resource` processor.
 */
import { anyValueKind, anyValueToString, getAttribute, getStringAttribute, setAttribute } from '../otlp/anyvalue.js';
import type { AnyValue, KeyValue, Metric, NumberDataPoint, RequestBySignal } from '../otlp/model.js';
import type { Processor } from './api.js';
import { type Hasher, type HashSettings, makeHasher } from './hash.js';
import { compileIncludeExclude, type MatchPropertiesConfig, type MatchTarget } from './match.js';

export interface ActionConfig {
  key?: string | undefined;
  action: 'insert' | 'update' | 'upsert' | 'delete' | 'hash' | 'extract' | 'convert';
  value?: unknown;
  from_attribute?: string | undefined;
  from_context?: string | undefined;
  pattern?: string | undefined;
  converted_type?: 'int' | 'double' | 'string' | undefined;
}

export interface AttributesConfig extends HashSettings {
  actions: ActionConfig[];
  include?: MatchPropertiesConfig | undefined;
  exclude?: MatchPropertiesConfig | undefined;
}

export type AttrAction = (attrs: KeyValue[]) => void;

/** YAML value → AnyValue (strings, ints, doubles, bools, lists, maps). */
export function toAnyValue(v: unknown): AnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: v } : { doubleValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(toAnyValue) } };
  if (v != null && typeof v === 'object')
    return {
      kvlistValue: {
        values: Object.entries(v).map(([key, x]) => ({
          key,
          value: toAnyValue(x),
        })),
      },
    };
  return {};
}

function hashAnyValue(v: AnyValue | null | undefined, h: Hasher): AnyValue {
  return { stringValue: h(anyValueToString(v)) };
}

function convert(v: AnyValue, to: 'int' | 'double' | 'string'): AnyValue | undefined {
  const kind = anyValueKind(v);
  if (to === 'string') return { stringValue: anyValueToString(v) };
  let n: number;
  if (kind === 'int' || kind === 'double') n = Number(anyValueToString(v));
  else if (kind === 'bool') n = v.boolValue ? 1 : 0;
  else if (kind === 'string') {
    const s = (v.stringValue as string).trim();
    n = s === '' ? Number.NaN : Number(s);
  } else return undefined;
  if (!Number.isFinite(n)) return undefined; // Collector leaves unconvertible values unchanged
  return to === 'int' ? { intValue: Math.trunc(n) } : { doubleValue: n };
}

function removeWhere(attrs: KeyValue[], pred: (k: string) => boolean): void {
  let w = 0;
  for (let r = 0; r < attrs.length; r++) {
    const kv = attrs[r] as KeyValue;
    if (!pred(kv.key)) attrs[w++] = kv;
  }
  attrs.length = w;
}

/** Compiles the Collector action list. `hasher` is created lazily only when a hash action exists. */
export function compileActions(cfg: { actions: ActionConfig[] } & HashSettings, env?: NodeJS.ProcessEnv): AttrAction[] {
  let hasher: Hasher | undefined;
  const getHasher = () => {
    hasher ??= makeHasher(cfg, env);
    return hasher;
  };
  return cfg.actions.map((a): AttrAction => {
    const key = a.key ?? '';
    const valueFor = (attrs: KeyValue[]): AnyValue | undefined => {
      if (a.from_attribute != null) return getAttribute(attrs, a.from_attribute);
      if (a.from_context != null) return undefined; // Sieve has no request context; ignored
      return toAnyValue(a.value);
    };
    switch (a.action) {
      case 'insert':
        return (attrs) => {
          if (getAttribute(attrs, key) !== undefined) return;
          const v = valueFor(attrs);
          if (v !== undefined) attrs.push({ key, value: v });
        };
      case 'update':
        return (attrs) => {
          if (getAttribute(attrs, key) === undefined) return;
          const v = valueFor(attrs);
          if (v !== undefined) setAttribute(attrs, key, v);
        };
      case 'upsert':
        return (attrs) => {
          const v = valueFor(attrs);
          if (v !== undefined) setAttribute(attrs, key, v);
        };
      case 'delete': {
        const re = a.pattern != null ? new RegExp(a.pattern) : undefined;
        return (attrs) => removeWhere(attrs, (k) => (a.key != null && k === a.key) || (re?.test(k) ?? false));
      }
      case 'hash': {
        const re = a.pattern != null ? new RegExp(a.pattern) : undefined;
        const h = getHasher();
        return (attrs) => {
          for (let i = 0; i < attrs.length; i++) {
            const kv = attrs[i] as KeyValue;
            if ((a.key != null && kv.key === a.key) || re?.test(kv.key))
              attrs[i] = { key: kv.key, value: hashAnyValue(kv.value, h) };
          }
        };
      }
      case 'extract': {
        const re = new RegExp(a.pattern ?? '');
        return (attrs) => {
          const v = getAttribute(attrs, key);
          if (v === undefined || anyValueKind(v) !== 'string') return;
          const m = re.exec(v.stringValue as string);
          if (!m?.groups) return;
          for (const [g, val] of Object.entries(m.groups))
            if (val !== undefined) setAttribute(attrs, g, { stringValue: val });
        };
      }
      case 'convert': {
        const to = a.converted_type ?? 'string';
        return (attrs) => {
          for (let i = 0; i < attrs.length; i++) {
            const kv = attrs[i] as KeyValue;
            if (kv.key !== key || kv.value == null) continue;
            const c = convert(kv.value, to);
            if (c) attrs[i] = { key, value: c };
          }
        };
      }
    }
    return () => {}; // unreachable: the schema rejects unknown actions
  });
}

export function applyActions(actions: AttrAction[], attrs: KeyValue[]): void {
  for (const act of actions) act(attrs);
}

function ensureAttrs(o: { attributes?: KeyValue[] | null }): KeyValue[] {
  if (o.attributes == null) o.attributes = [];
  return o.attributes;
}

export function metricDataPoints(m: Metric): { attributes?: KeyValue[] | null }[] {
  return (m.gauge?.dataPoints ??
    m.sum?.dataPoints ??
    m.histogram?.dataPoints ??
    m.exponentialHistogram?.dataPoints ??
    m.summary?.dataPoints ??
    []) as NumberDataPoint[];
}

export function createAttributesProcessor(id: string, cfg: AttributesConfig, env?: NodeJS.ProcessEnv): Processor {
  const actions = compileActions(cfg, env);
  const select = compileIncludeExclude(cfg.include, cfg.exclude);
  return {
    id,
    traces(req: RequestBySignal['traces']) {
      for (const rs of req.resourceSpans ?? []) {
        const resAttrs = rs.resource?.attributes;
        const serviceName = getStringAttribute(resAttrs, 'service.name');
        for (const ss of rs.scopeSpans ?? [])
          for (const span of ss.spans ?? []) {
            if (select) {
              const t: MatchTarget = {
                serviceName,
                spanName: span.name ?? '',
                attributes: span.attributes,
                resourceAttributes: resAttrs,
              };
              if (!select(t)) continue;
            }
            applyActions(actions, ensureAttrs(span));
          }
      }
      return req;
    },
    logs(req: RequestBySignal['logs']) {
      for (const rl of req.resourceLogs ?? []) {
        const resAttrs = rl.resource?.attributes;
        const serviceName = getStringAttribute(resAttrs, 'service.name');
        for (const sl of rl.scopeLogs ?? [])
          for (const lr of sl.logRecords ?? []) {
            if (select) {
              const t: MatchTarget = {
                serviceName,
                attributes: lr.attributes,
                resourceAttributes: resAttrs,
                logBody: lr.body,
                severityText: lr.severityText,
              };
              if (!select(t)) continue;
            }
            applyActions(actions, ensureAttrs(lr));
          }
      }
      return req;
    },
    metrics(req: RequestBySignal['metrics']) {
      for (const rm of req.resourceMetrics ?? []) {
        const resAttrs = rm.resource?.attributes;
        const serviceName = getStringAttribute(resAttrs, 'service.name');
        for (const sm of rm.scopeMetrics ?? [])
          for (const m of sm.metrics ?? []) {
            for (const dp of metricDataPoints(m)) {
              if (select) {
                const t: MatchTarget = {
                  serviceName,
                  attributes: dp.attributes,
                  resourceAttributes: resAttrs,
                  metricName: m.name,
                };
                if (!select(t)) continue;
              }
              applyActions(actions, ensureAttrs(dp));
            }
          }
      }
      return req;
    },
  };
}
