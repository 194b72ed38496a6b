/**
 * Collector `include` / `exclude` matching (match_type strict | regexp) shared by the attributes,
 * resource-less span/log/metric selection and the legacy filter processor forms.
 */
import { anyValueKind, anyValueToString, getAttribute } from '../otlp/anyvalue.js';
import type { AnyValue, KeyValue } from '../otlp/model.js';

export interface MatchAttributeConfig {
  key: string;
  value?: unknown;
}

export interface MatchPropertiesConfig {
  match_type?: 'strict' | 'regexp' | undefined;
  services?: string[] | undefined;
  span_names?: string[] | undefined;
  attributes?: MatchAttributeConfig[] | undefined;
  resources?: MatchAttributeConfig[] | undefined;
  log_bodies?: string[] | undefined;
  log_severity_texts?: string[] | undefined;
  metric_names?: string[] | undefined;
  span_kinds?: string[] | undefined;
}

/** What an item exposes to matching. */
export interface MatchTarget {
  serviceName?: string | undefined;
  spanName?: string | undefined;
  attributes?: KeyValue[] | null | undefined;
  resourceAttributes?: KeyValue[] | null | undefined;
  logBody?: AnyValue | null | undefined;
  severityText?: string | null | undefined;
  metricName?: string | null | undefined;
}

type StrMatcher = (s: string) => boolean;

function strMatcher(patterns: string[], regexp: boolean): StrMatcher {
  if (regexp) {
    const res = patterns.map((p) => new RegExp(p));
    return (s) => res.some((r) => r.test(s));
  }
  const set = new Set(patterns);
  return (s) => set.has(s);
}

function valueEquals(v: AnyValue, want: unknown, regexp: boolean): boolean {
  const kind = anyValueKind(v);
  if (regexp) return kind === 'string' && new RegExp(String(want)).test(v.stringValue as string);
  switch (kind) {
    case 'string':
      return typeof want === 'string' && v.stringValue === want;
    case 'bool':
      return typeof want === 'boolean' && v.boolValue === want;
    case 'int':
    case 'double':
      return typeof want === 'number' && Number(anyValueToString(v)) === want;
    default:
      return anyValueToString(v) === String(want);
  }
}

function attrMatcher(list: MatchAttributeConfig[], regexp: boolean): (attrs: KeyValue[] | null | undefined) => boolean {
  const compiled = list.map((a) => ({
    key: a.key,
    value: a.value,
    re: regexp && a.value != null ? new RegExp(String(a.value)) : undefined,
  }));
  return (attrs) =>
    compiled.every((a) => {
      const v = getAttribute(attrs, a.key);
      if (v === undefined) return false;
      if (a.value == null) return true;
      if (a.re) return anyValueKind(v) === 'string' && a.re.test(v.stringValue as string);
      return valueEquals(v, a.value, false);
    });
}

/** Compiles match properties into a predicate; all configured properties must match (AND), each list is OR. */
export function compileMatch(cfg: MatchPropertiesConfig | undefined): ((t: MatchTarget) => boolean) | undefined {
  if (!cfg) return undefined;
  const regexp = cfg.match_type === 'regexp';
  const checks: ((t: MatchTarget) => boolean)[] = [];
  if (cfg.services?.length) {
    const m = strMatcher(cfg.services, regexp);
    checks.push((t) => t.serviceName != null && m(t.serviceName));
  }
  if (cfg.span_names?.length) {
    const m = strMatcher(cfg.span_names, regexp);
    checks.push((t) => t.spanName != null && m(t.spanName));
  }
  if (cfg.log_bodies?.length) {
    const m = strMatcher(cfg.log_bodies, regexp);
    checks.push((t) => t.logBody != null && m(anyValueToString(t.logBody)));
  }
  if (cfg.log_severity_texts?.length) {
    const m = strMatcher(cfg.log_severity_texts, regexp);
    checks.push((t) => t.severityText != null && m(t.severityText));
  }
  if (cfg.metric_names?.length) {
    const m = strMatcher(cfg.metric_names, regexp);
    checks.push((t) => t.metricName != null && m(t.metricName));
  }
  if (cfg.attributes?.length) {
    const m = attrMatcher(cfg.attributes, regexp);
    checks.push((t) => m(t.attributes));
  }
  if (cfg.resources?.length) {
    const m = attrMatcher(cfg.resources, regexp);
    checks.push((t) => m(t.resourceAttributes));
  }
  if (checks.length === 0) return () => true;
  return (t) => checks.every((c) => c(t));
}

/** include/exclude → should this item be processed? */
export function compileIncludeExclude(
  include: MatchPropertiesConfig | undefined,
  exclude: MatchPropertiesConfig | undefined,
): ((t: MatchTarget) => boolean) | undefined {
  const inc = compileMatch(include);
  const exc = compileMatch(exclude);
  if (!inc && !exc) return undefined;
  return (t) => (inc ? inc(t) : true) && !(exc ? exc(t) : false);
}
