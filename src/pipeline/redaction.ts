/**
 * Collector `redaction` processor plus Sieve's PII detectors.
 *
 * Collector keys: allow_all_keys, allowed_keys, ignored_keys, blocked_key_patterns, blocked_values,
 * allowed_values, summary (debug|info|silent), hash_function (none → `****`, sha256, hmac_sha256).
 * Sieve keys: detectors (built-in names), custom [{name, pattern}], hash_key_env / hash_key_file / key_id.
 * Default hash_function: hmac_sha256 when a key is available, else mask `****`.
 *
 * Applies to attribute values (inside arrays and maps too) of resources, scopes, spans, span events,
 * span links, log records and data points; log bodies (string and structured); span and event names.
 * Attribute keys are dropped (when not allowed) only in attribute lists.
 */
import { anyValueKind } from '../otlp/anyvalue.js';
import type { AnyValue, KeyValue, RequestBySignal } from '../otlp/model.js';
import type { Processor } from './api.js';
import { metricDataPoints } from './attributes.js';
import { customDetector, type Detector, detectorsByName, scrubString } from './detectors.js';
import { type HashFunction, type HashSettings, MASK, makeHasher, resolveHashKey } from './hash.js';

export interface RedactionConfig extends HashSettings {
  allow_all_keys?: boolean | undefined;
  allowed_keys?: string[] | undefined;
  ignored_keys?: string[] | undefined;
  blocked_key_patterns?: string[] | undefined;
  blocked_values?: string[] | undefined;
  allowed_values?: string[] | undefined;
  summary?: 'debug' | 'info' | 'silent' | undefined;
  detectors?: string[] | undefined;
  custom?: { name: string; pattern: string }[] | undefined;
}

interface Tally {
  redactedKeys: string[];
  maskedKeys: string[];
  ignored: number;
}

export function defaultHashFunction(cfg: HashSettings, env: NodeJS.ProcessEnv = process.env): HashFunction {
  if (cfg.hash_function) return cfg.hash_function;
  try {
    resolveHashKey(cfg, env);
    return 'hmac_sha256';
  } catch {
    return 'none';
  }
}

export function createRedactionProcessor(
  id: string,
  cfg: RedactionConfig,
  env: NodeJS.ProcessEnv = process.env,
): Processor {
  const hashFn = defaultHashFunction(cfg, env);
  const replace = makeHasher({ ...cfg, hash_function: hashFn }, env);
  const allowAll = cfg.allow_all_keys ?? false;
  const allowed = new Set(cfg.allowed_keys ?? []);
  const ignored = new Set(cfg.ignored_keys ?? []);
  const blockedKeys = (cfg.blocked_key_patterns ?? []).map((p) => new RegExp(p));
  const allowedValues = (cfg.allowed_values ?? []).map((p) => new RegExp(p));
  const detectors: Detector[] = [
    ...(cfg.blocked_values ?? []).map((p, i) => customDetector(`blocked_values[${i}]`, p)),
    ...(cfg.custom ?? []).map((c) => customDetector(c.name, c.pattern)),
    ...detectorsByName(cfg.detectors ?? []),
  ];
  const summary = cfg.summary ?? 'silent';

  // Values repeat heavily across items (methods, routes, user agents, statements): memoize the
  // scrub result per string (bounded; the output depends only on the input and the fixed hasher).
  const scrubMemo = new Map<string, string>();
  const SCRUB_MEMO_MAX = 8192;
  const SCRUB_MEMO_LEN = 512;
  const scrubUncached = (s: string): string => {
    if (allowedValues.length) {
      for (let i = 0; i < allowedValues.length; i++) if ((allowedValues[i] as RegExp).test(s)) return s;
    }
    return scrubString(s, detectors, replace);
  };
  const scrub = (s: string): string => {
    if (detectors.length === 0 || s.length < 6) return s;
    if (s.length > SCRUB_MEMO_LEN) return scrubUncached(s);
    let out = scrubMemo.get(s);
    if (out === undefined) {
      out = scrubUncached(s);
      if (scrubMemo.size >= SCRUB_MEMO_MAX) scrubMemo.clear();
      scrubMemo.set(s, out);
    }
    return out;
  };

  /** scrubs a value in place; returns whether it changed */
  const scrubValue = (v: AnyValue | null | undefined, depth = 0): boolean => {
    if (v == null || depth > 32) return false;
    const sv = v.stringValue;
    if (typeof sv === 'string') {
      if (sv.length < 6 || detectors.length === 0) return false;
      const out = scrub(sv);
      if (out === sv) return false;
      v.stringValue = out;
      return true;
    }
    if (sv === undefined && v.arrayValue == null && v.kvlistValue == null) return false;
    switch (anyValueKind(v)) {
      case 'string': {
        const s = v.stringValue as string;
        const out = scrub(s);
        if (out !== s) {
          v.stringValue = out;
          return true;
        }
        return false;
      }
      case 'array': {
        let changed = false;
        for (const x of v.arrayValue?.values ?? []) if (scrubValue(x, depth + 1)) changed = true;
        return changed;
      }
      case 'kvlist': {
        let changed = false;
        for (const kv of v.kvlistValue?.values ?? []) {
          if (blockedKeys.length && keyBlocked(kv.key)) {
            kv.value = { stringValue: maskWhole(kv.value) };
            changed = true;
          } else if (scrubValue(kv.value, depth + 1)) changed = true;
        }
        return changed;
      }
      default:
        return false;
    }
  };
  const maskWhole = (v: AnyValue | null | undefined): string => {
    if (hashFn === 'none') return MASK;
    const k = anyValueKind(v);
    return replace(k === 'string' ? (v?.stringValue as string) : JSON.stringify(v ?? null));
  };

  // attribute keys repeat on every item: remember the blocked_key_patterns verdict per key
  const keyVerdict = new Map<string, boolean>();
  const keyBlocked = (k: string): boolean => {
    let v = keyVerdict.get(k);
    if (v === undefined) {
      v = false;
      for (let i = 0; i < blockedKeys.length; i++) if ((blockedKeys[i] as RegExp).test(k)) v = true;
      if (keyVerdict.size > 10000) keyVerdict.clear();
      keyVerdict.set(k, v);
    }
    return v;
  };

  const redactAttrs = (attrs: KeyValue[] | null | undefined, withSummary: boolean): void => {
    if (attrs == null || attrs.length === 0) {
      if (withSummary && summary !== 'silent' && attrs)
        addSummary(attrs, { redactedKeys: [], maskedKeys: [], ignored: 0 });
      return;
    }
    const t: Tally | undefined =
      withSummary && summary !== 'silent' ? { redactedKeys: [], maskedKeys: [], ignored: 0 } : undefined;
    let w = 0;
    for (let r = 0; r < attrs.length; r++) {
      const kv = attrs[r] as KeyValue;
      if (ignored.has(kv.key)) {
        if (t) t.ignored++;
        attrs[w++] = kv;
        continue;
      }
      if (!allowAll && !allowed.has(kv.key)) {
        t?.redactedKeys.push(kv.key);
        continue;
      }
      if (blockedKeys.length && keyBlocked(kv.key)) {
        attrs[w++] = {
          key: kv.key,
          value: { stringValue: maskWhole(kv.value) },
        };
        t?.maskedKeys.push(kv.key);
        continue;
      }
      if (scrubValue(kv.value)) t?.maskedKeys.push(kv.key);
      attrs[w++] = kv;
    }
    attrs.length = w;
    if (t) addSummary(attrs, t);
  };

  const addSummary = (attrs: KeyValue[], t: Tally) => {
    const push = (key: string, value: AnyValue) => attrs.push({ key, value });
    if (summary === 'debug') {
      if (t.redactedKeys.length)
        push('redaction.redacted.keys', {
          stringValue: t.redactedKeys.sort().join(','),
        });
      if (t.maskedKeys.length)
        push('redaction.masked.keys', {
          stringValue: t.maskedKeys.sort().join(','),
        });
    }
    if (t.redactedKeys.length) push('redaction.redacted.count', { intValue: t.redactedKeys.length });
    if (t.maskedKeys.length) push('redaction.masked.count', { intValue: t.maskedKeys.length });
    if (t.ignored) push('redaction.ignored.count', { intValue: t.ignored });
  };

  const scrubName = <T extends { name?: string | null }>(o: T) => {
    if (o.name) {
      const out = scrub(o.name);
      if (out !== o.name) o.name = out;
    }
  };

  return {
    id,
    traces(req: RequestBySignal['traces']) {
      for (const rs of req.resourceSpans ?? []) {
        redactAttrs(rs.resource?.attributes, false);
        for (const ss of rs.scopeSpans ?? []) {
          redactAttrs(ss.scope?.attributes, false);
          for (const span of ss.spans ?? []) {
            scrubName(span);
            span.attributes ??= [];
            redactAttrs(span.attributes, true);
            for (const ev of span.events ?? []) {
              scrubName(ev);
              redactAttrs(ev.attributes, false);
            }
            for (const l of span.links ?? []) redactAttrs(l.attributes, false);
            if (span.status?.message) span.status.message = scrub(span.status.message);
          }
        }
      }
      return req;
    },
    logs(req: RequestBySignal['logs']) {
      for (const rl of req.resourceLogs ?? []) {
        redactAttrs(rl.resource?.attributes, false);
        for (const sl of rl.scopeLogs ?? []) {
          redactAttrs(sl.scope?.attributes, false);
          for (const lr of sl.logRecords ?? []) {
            scrubValue(lr.body);
            lr.attributes ??= [];
            redactAttrs(lr.attributes, true);
          }
        }
      }
      return req;
    },
    metrics(req: RequestBySignal['metrics']) {
      for (const rm of req.resourceMetrics ?? []) {
        redactAttrs(rm.resource?.attributes, false);
        for (const sm of rm.scopeMetrics ?? []) {
          redactAttrs(sm.scope?.attributes, false);
          for (const m of sm.metrics ?? [])
            for (const dp of metricDataPoints(m)) {
              dp.attributes ??= [];
              redactAttrs(dp.attributes, true);
              for (const ex of (
                dp as {
                  exemplars?: { filteredAttributes?: KeyValue[] | null }[] | null;
                }
              ).exemplars ?? [])
                redactAttrs(ex.filteredAttributes, false);
            }
        }
      }
      return req;
    },
  };
}
