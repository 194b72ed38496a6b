/**
 * Collector `redaction` processor plus Sieve's PII detectors and key rules.
 *
 * Collector keys: allow_all_keys, allowed_keys, ignored_keys, blocked_key_patterns, blocked_values,
 * allowed_values, summary (debug|info|silent), hash_function (none → `****`, sha256, hmac_sha256).
 * Sieve keys: detectors (built-in names), custom [{name, pattern}], hash_key_env / hash_key_file /
 * key_id, identifier_keys (value replaced by its hash) and credential_keys (attribute deleted), both
 * matched in any spelling (key-names.ts).
 * Default hash_function: hmac_sha256 when a key is available, else mask `****`.
 *
 * Per attribute, in order: ignored_keys keep it; a key not allowed is deleted; a credential key is
 * deleted; an identifier key is hashed; a blocked_key_patterns key is hashed/masked; otherwise the
 * detectors replace what they find in the value, choosing by what the key says (a version key holds
 * no IPv4 address, a time key no card/phone/SSN). Boolean values are never treated as identifiers or
 * credentials. The key decisions are made once per distinct key (cached).
 *
 * Applies to attribute values (inside arrays and maps too) of resources, scopes, spans, span events,
 * span links, log records and data points; log bodies (string and structured); span and event names;
 * span status messages. Attribute keys are dropped (when not allowed) only in attribute lists.
 * Summary attributes (info: counts, debug: also keys) go on spans, log records and data points, as the
 * Collector writes them: redaction.redacted.* (deleted), redaction.masked.* (value changed),
 * redaction.ignored.count, and for log bodies redaction.body.redacted.* / redaction.body.masked.*.
 */
import { anyValueKind, anyValueToString } from '../otlp/anyvalue.js';
import type { AnyValue, KeyValue, RequestBySignal } from '../otlp/model.js';
import type { Processor } from './api.js';
import { metricDataPoints } from './attributes.js';
import { customDetector, type Detector, detectorsByName, detectorsForKey, scrubString } from './detectors.js';
import { type ChangeAction, detectorRule, type ExplainSink, keySegment } from './explain.js';
import { type HashFunction, type HashSettings, MASK, makeHasher, resolveHashKey } from './hash.js';
import { compileKeyRules, type KeyContext, type KeyRuleMatch, keyContext } from './key-names.js';

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
  identifier_keys?: string[] | undefined;
  credential_keys?: string[] | undefined;
}

interface Tally {
  redactedKeys: string[];
  maskedKeys: string[];
  ignored: number;
  bodyRedactedKeys: string[];
  bodyMaskedKeys: string[];
}
const newTally = (): Tally => ({
  redactedKeys: [],
  maskedKeys: [],
  ignored: 0,
  bodyRedactedKeys: [],
  bodyMaskedKeys: [],
});

/** The detectors for one kind of key, with their own memo of scrub results. */
interface Profile {
  detectors: readonly Detector[];
  memo: Map<string, string>;
}

/** Everything decided from a key alone, once per distinct key. */
interface KeyInfo {
  ignored: boolean;
  allowed: boolean;
  rule: KeyRuleMatch | undefined;
  /** index into blocked_key_patterns, -1 when none matches */
  blocked: number;
  profile: Profile;
}

/** reports one changed field: path, how, by which rule, how many spans */
type Report = (path: string, action: ChangeAction, rule: string, spans?: number) => void;

export function defaultHashFunction(cfg: HashSettings, env: NodeJS.ProcessEnv = process.env): HashFunction {
  if (cfg.hash_function) return cfg.hash_function;
  try {
    resolveHashKey(cfg, env);
    return 'hmac_sha256';
  } catch {
    return 'none';
  }
}

const SCRUB_MEMO_MAX = 8192;
const SCRUB_MEMO_LEN = 512;
const KEY_CACHE_MAX = 10_000;

export function createRedactionProcessor(
  id: string,
  cfg: RedactionConfig,
  env: NodeJS.ProcessEnv = process.env,
  explain?: ExplainSink,
): Processor {
  const hashFn = defaultHashFunction(cfg, env);
  const replace = makeHasher({ ...cfg, hash_function: hashFn }, env);
  const wholeAction: ChangeAction = hashFn === 'none' ? 'masked' : 'hashed';
  const allowAll = cfg.allow_all_keys ?? false;
  const allowed = new Set(cfg.allowed_keys ?? []);
  const ignored = new Set(cfg.ignored_keys ?? []);
  const blockedPatterns = cfg.blocked_key_patterns ?? [];
  const blockedKeys = blockedPatterns.map((p) => new RegExp(p));
  const allowedValues = (cfg.allowed_values ?? []).map((p) => new RegExp(p));
  const keyRule = compileKeyRules(cfg.identifier_keys ?? [], cfg.credential_keys ?? []);
  const detectors: Detector[] = [
    ...(cfg.blocked_values ?? []).map((p, i) => customDetector(`blocked_values[${i}]`, p)),
    ...(cfg.custom ?? []).map((c) => customDetector(c.name, c.pattern)),
    ...detectorsByName(cfg.detectors ?? []),
  ];
  const summary = cfg.summary ?? 'silent';
  const profiles = new Map<KeyContext, Profile>();
  const profileFor = (ctx: KeyContext): Profile => {
    let p = profiles.get(ctx);
    if (!p) profiles.set(ctx, (p = { detectors: detectorsForKey(detectors, ctx), memo: new Map() }));
    return p;
  };
  const plain = profileFor(undefined);

  const keyInfos = new Map<string, KeyInfo>();
  const keyInfo = (key: string): KeyInfo => {
    let k = keyInfos.get(key);
    if (k === undefined) {
      k = {
        ignored: ignored.has(key),
        allowed: allowAll || allowed.has(key),
        rule: keyRule(key),
        blocked: blockedKeys.findIndex((re) => re.test(key)),
        profile: profileFor(keyContext(key)),
      };
      if (keyInfos.size >= KEY_CACHE_MAX) keyInfos.clear();
      keyInfos.set(key, k);
    }
    return k;
  };

  const allowedValue = (s: string): boolean => {
    for (let i = 0; i < allowedValues.length; i++) if ((allowedValues[i] as RegExp).test(s)) return true;
    return false;
  };
  // Values repeat heavily across items (methods, routes, user agents, statements): memoize the scrub
  // result per string and key profile (bounded; it depends only on the input and the fixed hasher).
  const scrub = (s: string, p: Profile): string => {
    if (p.detectors.length === 0 || s.length < 6) return s;
    if (s.length > SCRUB_MEMO_LEN) return allowedValue(s) ? s : scrubString(s, p.detectors, replace);
    let out = p.memo.get(s);
    if (out === undefined) {
      out = allowedValue(s) ? s : scrubString(s, p.detectors, replace);
      if (p.memo.size >= SCRUB_MEMO_MAX) p.memo.clear();
      p.memo.set(s, out);
    }
    return out;
  };
  /** scrubs a string; reports the detectors that fired (explain and body summaries only) */
  const scrubReported = (s: string, p: Profile, path: string, report: Report | undefined): string => {
    if (report === undefined) return scrub(s, p);
    if (p.detectors.length === 0 || s.length < 6 || allowedValue(s)) return s;
    const hits: string[] = [];
    const out = scrubString(s, p.detectors, replace, (d) => hits.push(d));
    if (out !== s) report(path, 'redacted', detectorRule(hits), hits.length);
    return out;
  };

  /** an identifier's value → its hash; arrays element by element so each id still joins */
  const hashWhole = (v: AnyValue | null | undefined): AnyValue => {
    if (v?.arrayValue?.values) return { arrayValue: { values: v.arrayValue.values.map((x) => hashWhole(x)) } };
    return { stringValue: replace(anyValueToString(v)) };
  };
  const maskWhole = (v: AnyValue | null | undefined): string => {
    if (hashFn === 'none') return MASK;
    const k = anyValueKind(v);
    return replace(k === 'string' ? (v?.stringValue as string) : JSON.stringify(v ?? null));
  };
  const isBool = (v: AnyValue | null | undefined) => v?.boolValue != null;
  /** shows a key in explain paths unless the detectors would redact it */
  const shownKey = (k: string) => keySegment(scrub(k, plain) === k ? k : '(redacted key)');

  /** scrubs a value in place; returns whether it changed */
  const scrubValue = (
    v: AnyValue | null | undefined,
    p: Profile,
    depth: number,
    path: string,
    report: Report | undefined,
  ): boolean => {
    if (v == null || depth > 32) return false;
    const sv = v.stringValue;
    if (typeof sv === 'string') {
      if (sv.length < 6 || p.detectors.length === 0) return false;
      const out = scrubReported(sv, p, path, report);
      if (out === sv) return false;
      v.stringValue = out;
      return true;
    }
    if (sv === undefined && v.arrayValue == null && v.kvlistValue == null) return false;
    switch (anyValueKind(v)) {
      case 'string': {
        const s = v.stringValue as string;
        const out = scrubReported(s, p, path, report);
        if (out === s) return false;
        v.stringValue = out;
        return true;
      }
      case 'array': {
        let changed = false;
        const xs = v.arrayValue?.values ?? [];
        for (let i = 0; i < xs.length; i++)
          if (scrubValue(xs[i], p, depth + 1, report ? `${path}[${i}]` : '', report)) changed = true;
        return changed;
      }
      case 'kvlist': {
        const kvs = v.kvlistValue?.values;
        return kvs ? redactMap(kvs, depth, path, report) : false;
      }
      default:
        return false;
    }
  };

  /** a map inside a value (structured log body, kvlist attribute): key rules apply, nothing is "not allowed" */
  const redactMap = (kvs: KeyValue[], depth: number, path: string, report: Report | undefined): boolean => {
    let changed = false;
    let w = 0;
    for (let r = 0; r < kvs.length; r++) {
      const kv = kvs[r] as KeyValue;
      const info = keyInfo(kv.key);
      const at = report ? path + shownKey(kv.key) : '';
      if (!info.ignored && info.rule && !isBool(kv.value)) {
        changed = true;
        if (info.rule.kind === 'credential') {
          report?.(at, 'deleted', `credential_keys: ${info.rule.rule}`);
          continue;
        }
        kv.value = hashWhole(kv.value);
        report?.(at, wholeAction, `identifier_keys: ${info.rule.rule}`);
      } else if (!info.ignored && info.blocked >= 0) {
        kv.value = { stringValue: maskWhole(kv.value) };
        changed = true;
        report?.(at, hashFn === 'none' ? 'masked' : 'hashed', `blocked_key_patterns: ${blockedPatterns[info.blocked]}`);
      } else if (!info.ignored && scrubValue(kv.value, info.profile, depth + 1, at, report)) changed = true;
      kvs[w++] = kv;
    }
    kvs.length = w;
    return changed;
  };

  const explainReport: Report | undefined = explain
    ? (p, action, rule, spans) =>
        explain({ processor: id, path: p, action, rule, ...(spans !== undefined ? { spans } : {}) })
    : undefined;

  /** attribute list of an item; `where` is its OTLP JSON path (explain only) */
  const redactAttrs = (attrs: KeyValue[] | null | undefined, t: Tally | undefined, where: string): void => {
    if (attrs == null || attrs.length === 0) {
      if (t && attrs) addSummary(attrs, t);
      return;
    }
    const report = explainReport;
    let w = 0;
    for (let r = 0; r < attrs.length; r++) {
      const kv = attrs[r] as KeyValue;
      const info = keyInfo(kv.key);
      if (info.ignored) {
        if (t) t.ignored++;
        attrs[w++] = kv;
        continue;
      }
      const at = report ? where + shownKey(kv.key) : '';
      if (!info.allowed) {
        t?.redactedKeys.push(kv.key);
        report?.(at, 'deleted', 'allowed_keys: not listed');
        continue;
      }
      if (info.rule && !isBool(kv.value)) {
        if (info.rule.kind === 'credential') {
          t?.redactedKeys.push(kv.key);
          report?.(at, 'deleted', `credential_keys: ${info.rule.rule}`);
          continue;
        }
        attrs[w++] = { key: kv.key, value: hashWhole(kv.value) };
        t?.maskedKeys.push(kv.key);
        report?.(at, wholeAction, `identifier_keys: ${info.rule.rule}`);
        continue;
      }
      if (info.blocked >= 0) {
        attrs[w++] = { key: kv.key, value: { stringValue: maskWhole(kv.value) } };
        t?.maskedKeys.push(kv.key);
        report?.(at, hashFn === 'none' ? 'masked' : 'hashed', `blocked_key_patterns: ${blockedPatterns[info.blocked]}`);
        continue;
      }
      if (scrubValue(kv.value, info.profile, 0, at, report)) t?.maskedKeys.push(kv.key);
      attrs[w++] = kv;
    }
    attrs.length = w;
    if (t) addSummary(attrs, t);
  };

  /** a log body: leaves changed are counted for redaction.body.* (Collector paths: `msg`, `user.email`, `[0]`) */
  const redactBody = (body: AnyValue | null | undefined, t: Tally | undefined, where: string): void => {
    if (body == null) return;
    if (!t && !explain) {
      scrubValue(body, plain, 0, '', undefined);
      return;
    }
    const report: Report = (p, action, rule, spans) => {
      const rel = collectorPath(p.slice(where.length)) || 'body';
      if (action === 'deleted') t?.bodyRedactedKeys.push(rel);
      else t?.bodyMaskedKeys.push(rel);
      explain?.({ processor: id, path: p, action, rule, ...(spans !== undefined ? { spans } : {}) });
    };
    scrubValue(body, plain, 0, where, report);
  };

  const addSummary = (attrs: KeyValue[], t: Tally) => {
    const put = (keysAttr: string, countAttr: string, keys: string[]) => {
      if (keys.length === 0) return;
      if (summary === 'debug') attrs.push({ key: keysAttr, value: { stringValue: [...keys].sort().join(',') } });
      attrs.push({ key: countAttr, value: { intValue: keys.length } });
    };
    put('redaction.redacted.keys', 'redaction.redacted.count', t.redactedKeys);
    put('redaction.masked.keys', 'redaction.masked.count', t.maskedKeys);
    if (t.ignored) attrs.push({ key: 'redaction.ignored.count', value: { intValue: t.ignored } });
    put('redaction.body.redacted.keys', 'redaction.body.redacted.count', t.bodyRedactedKeys);
    put('redaction.body.masked.keys', 'redaction.body.masked.count', t.bodyMaskedKeys);
  };

  const scrubName = <T extends { name?: string | null }>(o: T, path: string) => {
    if (!o.name) return;
    const out = scrubReported(o.name, plain, path, explainReport);
    if (out !== o.name) o.name = out;
  };
  const withSummary = summary !== 'silent';
  const tally = () => (withSummary ? newTally() : undefined);
  // OTLP JSON paths are built only when explaining
  const X = explain !== undefined;

  return {
    id,
    traces(req: RequestBySignal['traces']) {
      const rss = req.resourceSpans ?? [];
      for (let ri = 0; ri < rss.length; ri++) {
        const rs = rss[ri] as (typeof rss)[number];
        const rp = X ? `resourceSpans[${ri}]` : '';
        redactAttrs(rs.resource?.attributes, undefined, X ? `${rp}.resource.attributes` : '');
        const sss = rs.scopeSpans ?? [];
        for (let si = 0; si < sss.length; si++) {
          const ss = sss[si] as (typeof sss)[number];
          const sp = X ? `${rp}.scopeSpans[${si}]` : '';
          redactAttrs(ss.scope?.attributes, undefined, X ? `${sp}.scope.attributes` : '');
          const spans = ss.spans ?? [];
          for (let i = 0; i < spans.length; i++) {
            const span = spans[i] as (typeof spans)[number];
            const p = X ? `${sp}.spans[${i}]` : '';
            scrubName(span, X ? `${p}.name` : '');
            span.attributes ??= [];
            redactAttrs(span.attributes, tally(), X ? `${p}.attributes` : '');
            const events = span.events ?? [];
            for (let e = 0; e < events.length; e++) {
              const ev = events[e] as (typeof events)[number];
              scrubName(ev, X ? `${p}.events[${e}].name` : '');
              redactAttrs(ev.attributes, undefined, X ? `${p}.events[${e}].attributes` : '');
            }
            const links = span.links ?? [];
            for (let l = 0; l < links.length; l++)
              redactAttrs(links[l]?.attributes, undefined, X ? `${p}.links[${l}].attributes` : '');
            const st = span.status;
            if (st?.message) {
              const path = X ? `${p}.status.message` : '';
              st.message = scrubReported(st.message, plain, path, explainReport);
            }
          }
        }
      }
      return req;
    },
    logs(req: RequestBySignal['logs']) {
      const rls = req.resourceLogs ?? [];
      for (let ri = 0; ri < rls.length; ri++) {
        const rl = rls[ri] as (typeof rls)[number];
        const rp = X ? `resourceLogs[${ri}]` : '';
        redactAttrs(rl.resource?.attributes, undefined, X ? `${rp}.resource.attributes` : '');
        const sls = rl.scopeLogs ?? [];
        for (let si = 0; si < sls.length; si++) {
          const sl = sls[si] as (typeof sls)[number];
          const sp = X ? `${rp}.scopeLogs[${si}]` : '';
          redactAttrs(sl.scope?.attributes, undefined, X ? `${sp}.scope.attributes` : '');
          const lrs = sl.logRecords ?? [];
          for (let i = 0; i < lrs.length; i++) {
            const lr = lrs[i] as (typeof lrs)[number];
            const p = X ? `${sp}.logRecords[${i}]` : '';
            const t = tally();
            redactBody(lr.body, t, X ? `${p}.body` : '');
            lr.attributes ??= [];
            redactAttrs(lr.attributes, t, X ? `${p}.attributes` : '');
          }
        }
      }
      return req;
    },
    metrics(req: RequestBySignal['metrics']) {
      const rms = req.resourceMetrics ?? [];
      for (let ri = 0; ri < rms.length; ri++) {
        const rm = rms[ri] as (typeof rms)[number];
        const rp = X ? `resourceMetrics[${ri}]` : '';
        redactAttrs(rm.resource?.attributes, undefined, X ? `${rp}.resource.attributes` : '');
        const sms = rm.scopeMetrics ?? [];
        for (let si = 0; si < sms.length; si++) {
          const sm = sms[si] as (typeof sms)[number];
          const sp = X ? `${rp}.scopeMetrics[${si}]` : '';
          redactAttrs(sm.scope?.attributes, undefined, X ? `${sp}.scope.attributes` : '');
          const metrics = sm.metrics ?? [];
          for (let mi = 0; mi < metrics.length; mi++) {
            const dps = metricDataPoints(metrics[mi] as (typeof metrics)[number]);
            for (let di = 0; di < dps.length; di++) {
              const dp = dps[di] as (typeof dps)[number];
              const p = X ? `${sp}.metrics[${mi}].dataPoints[${di}]` : '';
              dp.attributes ??= [];
              redactAttrs(dp.attributes, tally(), X ? `${p}.attributes` : '');
              const exemplars =
                (dp as { exemplars?: { filteredAttributes?: KeyValue[] | null }[] | null }).exemplars ?? [];
              for (let x = 0; x < exemplars.length; x++)
                redactAttrs(
                  exemplars[x]?.filteredAttributes,
                  undefined,
                  X ? `${p}.exemplars[${x}].filteredAttributes` : '',
                );
            }
          }
        }
      }
      return req;
    },
  };
}

/** `["user"]["email"]` → `user.email`, `[0]` → `[0]` (the Collector's body key paths) */
function collectorPath(rel: string): string {
  const parts: string[] = [];
  for (const m of rel.matchAll(/\[("(?:[^"\\]|\\.)*"|\d+)\]/g)) {
    const seg = m[1] as string;
    parts.push(seg.startsWith('"') ? (JSON.parse(seg) as string) : `[${seg}]`);
  }
  return parts.join('.');
}
