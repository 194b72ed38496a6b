/**
 * Collector `attributes` processor: actions insert, update, upsert, delete, hash, extract, convert on
 * span / log record / data point attributes, optionally limited by `include` / `exclude`.
 * The action engine (`compileActions`) is shared with the `resource` processor.
 */
import { anyValueKind, anyValueToString, getAttribute, getStringAttribute, setAttribute } from '../otlp/anyvalue.js';
import type { AnyValue, KeyValue, Metric, NumberDataPoint, RequestBySignal } from '../otlp/model.js';
import type { Processor } from './api.js';
import { type ChangeAction, type ExplainSink, keySegment } from './explain.js';
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

/** `where`: the attribute list's OTLP JSON path, given only when explaining */
export type AttrAction = (attrs: KeyValue[], where?: string) => void;

/** Explain reporting for compiled actions: `list` names the YAML list (`actions`, `attributes`). */
export interface ActionsExplain {
  report: (path: string, action: ChangeAction, rule: string) => void;
  list: string;
}

export function actionsExplain(
  processor: string,
  list: string,
  sink: ExplainSink | undefined,
): ActionsExplain | undefined {
  return sink ? { list, report: (path, action, rule) => sink({ processor, path, action, rule }) } : undefined;
}

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

/** Compiles the Collector action list. `hasher` is created lazily only when a hash action exists. */
export function compileActions(
  cfg: { actions: ActionConfig[] } & HashSettings,
  env?: NodeJS.ProcessEnv,
  explain?: ActionsExplain,
): AttrAction[] {
  let hasher: Hasher | undefined;
  const getHasher = () => {
    hasher ??= makeHasher(cfg, env);
    return hasher;
  };
  // Runs of delete/hash actions depend only on each attribute's key: they become one pass over the
  // attributes (fuseKeyActions) instead of one pass per action. Other actions keep their place.
  const out: AttrAction[] = [];
  let run: Indexed[] = [];
  const flush = () => {
    if (run.length > 0) out.push(fuseKeyActions(run, getHasher, explain));
    run = [];
  };
  cfg.actions.forEach((a, index) => {
    if (a.action === 'delete' || a.action === 'hash') run.push({ a, index });
    else {
      flush();
      out.push(compileAction(a, explain && { ...explain, rule: ruleText(explain.list, index, a) }));
    }
  });
  flush();
  return out;
}

interface Indexed {
  a: ActionConfig;
  index: number;
}

/** `actions[3] delete (key user.id)` */
function ruleText(list: string, index: number, a: ActionConfig): string {
  const what = a.key != null ? `key ${a.key}` : a.pattern != null ? `pattern ${a.pattern}` : '';
  return `${list}[${index}] ${a.action}${what ? ` (${what})` : ''}`;
}

/** What a run of delete/hash actions does to an attribute with a given key: deletes it, or hashes its value n times (0: untouched). */
const DELETED = -1;
const VERDICT_CACHE_MAX = 10_000;

/**
 * A run of delete/hash actions as one pass. Applied in order, the actions matching a key either
 * delete the attribute (nothing after a delete can see it again) or hash its value once per
 * matching hash action, so the outcome per key is computed once and cached.
 */
function fuseKeyActions(run: Indexed[], getHasher: () => Hasher, explain?: ActionsExplain): AttrAction {
  const matchers = run.map(({ a, index }) => {
    const re = a.pattern != null ? new RegExp(a.pattern) : undefined;
    return {
      isDelete: a.action === 'delete',
      rule: explain ? ruleText(explain.list, index, a) : '',
      matches: (k: string) => (a.key != null && k === a.key) || re?.test(k) === true,
    };
  });
  const h = run.some(({ a }) => a.action === 'hash') ? getHasher() : undefined;
  const verdicts = new Map<string, number>();
  const verdictOf = (key: string): number => {
    let v = verdicts.get(key);
    if (v !== undefined) return v;
    v = 0;
    for (const m of matchers) {
      if (!m.matches(key)) continue;
      if (m.isDelete) {
        v = DELETED;
        break;
      }
      v++;
    }
    if (verdicts.size >= VERDICT_CACHE_MAX) verdicts.clear();
    verdicts.set(key, v);
    return v;
  };
  /** the rules that decided a key's verdict, for explain */
  const rulesOf = (key: string): string => {
    const rules: string[] = [];
    for (const m of matchers) {
      if (!m.matches(key)) continue;
      rules.push(m.rule);
      if (m.isDelete) return m.rule;
    }
    return rules.join(', ');
  };
  return (attrs, where) => {
    let w = 0;
    for (let r = 0; r < attrs.length; r++) {
      const kv = attrs[r] as KeyValue;
      const hashes = verdictOf(kv.key);
      if (hashes === DELETED) {
        if (explain && where !== undefined) explain.report(where + keySegment(kv.key), 'deleted', rulesOf(kv.key));
        continue;
      }
      if (hashes > 0 && h !== undefined) {
        let value = kv.value;
        for (let i = 0; i < hashes; i++) value = hashAnyValue(value, h);
        attrs[w++] = { key: kv.key, value };
        if (explain && where !== undefined) explain.report(where + keySegment(kv.key), 'hashed', rulesOf(kv.key));
      } else attrs[w++] = kv;
    }
    attrs.length = w;
  };
}

/** Any action but delete and hash (those are fused, above). */
function compileAction(a: ActionConfig, explain?: ActionsExplain & { rule: string }): AttrAction {
  const key = a.key ?? '';
  const wrote = (where: string | undefined, k: string) => {
    if (explain && where !== undefined) explain.report(where + keySegment(k), 'set', explain.rule);
  };
  const valueFor = (attrs: KeyValue[]): AnyValue | undefined => {
    if (a.from_attribute != null) return getAttribute(attrs, a.from_attribute);
    if (a.from_context != null) return undefined; // Sieve has no request context; ignored
    return toAnyValue(a.value);
  };
  switch (a.action) {
    case 'insert':
      return (attrs, where) => {
        if (getAttribute(attrs, key) !== undefined) return;
        const v = valueFor(attrs);
        if (v === undefined) return;
        attrs.push({ key, value: v });
        wrote(where, key);
      };
    case 'update':
      return (attrs, where) => {
        if (getAttribute(attrs, key) === undefined) return;
        const v = valueFor(attrs);
        if (v === undefined) return;
        setAttribute(attrs, key, v);
        wrote(where, key);
      };
    case 'upsert':
      return (attrs, where) => {
        const v = valueFor(attrs);
        if (v === undefined) return;
        setAttribute(attrs, key, v);
        wrote(where, key);
      };
    case 'extract': {
      const re = new RegExp(a.pattern ?? '');
      return (attrs, where) => {
        const v = getAttribute(attrs, key);
        if (v === undefined || anyValueKind(v) !== 'string') return;
        const m = re.exec(v.stringValue as string);
        if (!m?.groups) return;
        for (const [g, val] of Object.entries(m.groups))
          if (val !== undefined) {
            setAttribute(attrs, g, { stringValue: val });
            wrote(where, g);
          }
      };
    }
    case 'convert': {
      const to = a.converted_type ?? 'string';
      return (attrs, where) => {
        for (let i = 0; i < attrs.length; i++) {
          const kv = attrs[i] as KeyValue;
          if (kv.key !== key || kv.value == null) continue;
          const c = convert(kv.value, to);
          if (c) {
            attrs[i] = { key, value: c };
            wrote(where, key);
          }
        }
      };
    }
  }
  return () => {}; // unreachable: the schema rejects unknown actions
}

export function applyActions(actions: AttrAction[], attrs: KeyValue[], where?: string): void {
  for (const act of actions) act(attrs, where);
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

export function createAttributesProcessor(
  id: string,
  cfg: AttributesConfig,
  env?: NodeJS.ProcessEnv,
  explain?: ExplainSink,
): Processor {
  const actions = compileActions(cfg, env, actionsExplain(id, 'actions', explain));
  const select = compileIncludeExclude(cfg.include, cfg.exclude);
  const X = explain !== undefined;
  return {
    id,
    traces(req: RequestBySignal['traces']) {
      let ri = 0;
      for (const rs of req.resourceSpans ?? []) {
        const resAttrs = rs.resource?.attributes;
        const serviceName = getStringAttribute(resAttrs, 'service.name');
        let si = 0;
        for (const ss of rs.scopeSpans ?? []) {
          let i = 0;
          for (const span of ss.spans ?? []) {
            const where = X ? `resourceSpans[${ri}].scopeSpans[${si}].spans[${i}].attributes` : undefined;
            i++;
            if (select) {
              const t: MatchTarget = {
                serviceName,
                spanName: span.name ?? '',
                attributes: span.attributes,
                resourceAttributes: resAttrs,
              };
              if (!select(t)) continue;
            }
            applyActions(actions, ensureAttrs(span), where);
          }
          si++;
        }
        ri++;
      }
      return req;
    },
    logs(req: RequestBySignal['logs']) {
      let ri = 0;
      for (const rl of req.resourceLogs ?? []) {
        const resAttrs = rl.resource?.attributes;
        const serviceName = getStringAttribute(resAttrs, 'service.name');
        let si = 0;
        for (const sl of rl.scopeLogs ?? []) {
          let i = 0;
          for (const lr of sl.logRecords ?? []) {
            const where = X ? `resourceLogs[${ri}].scopeLogs[${si}].logRecords[${i}].attributes` : undefined;
            i++;
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
            applyActions(actions, ensureAttrs(lr), where);
          }
          si++;
        }
        ri++;
      }
      return req;
    },
    metrics(req: RequestBySignal['metrics']) {
      let ri = 0;
      for (const rm of req.resourceMetrics ?? []) {
        const resAttrs = rm.resource?.attributes;
        const serviceName = getStringAttribute(resAttrs, 'service.name');
        let si = 0;
        for (const sm of rm.scopeMetrics ?? []) {
          let mi = 0;
          for (const m of sm.metrics ?? []) {
            let di = 0;
            for (const dp of metricDataPoints(m)) {
              const where = X
                ? `resourceMetrics[${ri}].scopeMetrics[${si}].metrics[${mi}].dataPoints[${di}].attributes`
                : undefined;
              di++;
              if (select) {
                const t: MatchTarget = {
                  serviceName,
                  attributes: dp.attributes,
                  resourceAttributes: resAttrs,
                  metricName: m.name,
                };
                if (!select(t)) continue;
              }
              applyActions(actions, ensureAttrs(dp), where);
            }
            mi++;
          }
          si++;
        }
        ri++;
      }
      return req;
    },
  };
}
