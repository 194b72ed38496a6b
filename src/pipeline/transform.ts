/**
 * Collector `transform` processor: OTTL statements run on traces, logs and metrics.
 *
 * Config (as the Collector's transformprocessor v0.161): `error_mode` (ignore | silent | propagate,
 * default ignore), `trace_statements` / `log_statements` / `metric_statements` as groups
 * `{context, statements, conditions, error_mode}` or as a flat list of statements (context inferred
 * from the paths' first segment, e.g. `span.name`, `resource.attributes["k"]`). Sieve also accepts
 * `traces:` / `logs:` / `metrics:` flat lists, and flat statements whose paths name no context
 * (`set(name, …)` runs on spans, logs or data points); the Collector rejects both.
 *
 * error_mode propagate: a failing statement refuses the whole request (PipelineRefusal → the
 * receiver answers 400 with the statement and the error; nothing reaches Kafka). ignore and silent
 * skip the failing statement for that item and go on (ignore counts it in `statementErrors`).
 *
 * Hashing: SHA256(x) (also as the function of replace_*) is the pipeline's keyed hash, HMAC-SHA256
 * with the key from hash_key_env / hash_key_file / SIEVE_HASH_KEY(_FILE), unless the processor sets
 * `hash_function: sha256` (plain SHA-256 hex, as the Collector writes it).
 */
import type { LogRecord, Metric, RequestBySignal, Signal, Span } from '../otlp/model.js';
import { PipelineRefusal, type Processor } from './api.js';
import { type Hasher, type HashSettings, makeHasher } from './hash.js';
import { compileCondition, compileStatement, contextsNamed, type Predicate, type Statement } from './ottl/compile.js';
import { type AnyDataPoint, CONTEXT_NAMES, type ContextName, type TransformContext } from './ottl/contexts.js';
import type { FnEnv } from './ottl/functions.js';
import { OttlSyntaxError } from './ottl/parser.js';
import { OttlRuntimeError } from './ottl/values.js';

export type ErrorMode = 'ignore' | 'silent' | 'propagate';

export interface ContextStatementsConfig {
  context?: ContextName | undefined;
  conditions?: string[] | undefined;
  statements: string[];
  error_mode?: ErrorMode | undefined;
}
type StatementList = (string | ContextStatementsConfig)[];

export interface TransformConfig extends HashSettings {
  error_mode?: ErrorMode | undefined;
  trace_statements?: StatementList | undefined;
  log_statements?: StatementList | undefined;
  metric_statements?: StatementList | undefined;
  traces?: string[] | undefined;
  logs?: string[] | undefined;
  metrics?: string[] | undefined;
}

const SIGNAL_KEYS: Record<
  Signal,
  { grouped: 'trace_statements' | 'log_statements' | 'metric_statements'; flat: Signal }
> = {
  traces: { grouped: 'trace_statements', flat: 'traces' },
  logs: { grouped: 'log_statements', flat: 'logs' },
  metrics: { grouped: 'metric_statements', flat: 'metrics' },
};
export const SIGNAL_CONTEXTS: Record<Signal, readonly ContextName[]> = {
  traces: ['resource', 'scope', 'span', 'spanevent'],
  logs: ['resource', 'scope', 'log'],
  metrics: ['resource', 'scope', 'metric', 'datapoint'],
};
/** The Collector's inference priority: the most specific context named by any path wins. */
const PRIORITY: readonly ContextName[] = ['log', 'datapoint', 'metric', 'spanevent', 'span', 'scope', 'resource'];
/** Sieve's fallback when no path names a context: the signal's item, then (metrics) the metric. */
const FALLBACK: Record<Signal, readonly ContextName[]> = {
  traces: ['span'],
  logs: ['log'],
  metrics: ['datapoint', 'metric'],
};

/** A config problem, with the key path under the processor and the offset in the statement. */
export interface TransformIssue {
  path: (string | number)[];
  message: string;
  /** offset of the error in the statement text, when it is about one statement */
  offset?: number;
}

interface Group {
  context: ContextName;
  statements: { run: Statement; text: string }[];
  conditions: Predicate[];
  errorMode: ErrorMode;
}

interface RawGroup {
  context?: ContextName | undefined;
  statements: string[];
  conditions: string[];
  errorMode: ErrorMode;
  path: (string | number)[];
  flat: boolean;
}

const GROUP_KEYS = new Set(['context', 'statements', 'conditions', 'error_mode']);
const ERROR_MODES = ['ignore', 'silent', 'propagate'];

function stringArray(v: unknown, path: (string | number)[], what: string, issues: TransformIssue[]): string[] {
  if (v == null) return [];
  if (!Array.isArray(v)) {
    issues.push({ path, message: `${what} must be a list of OTTL strings` });
    return [];
  }
  const out: string[] = [];
  v.forEach((x, i) => {
    if (typeof x === 'string') out.push(x);
    else
      issues.push({
        path: [...path, i],
        message: `${what} entries must be strings, got ${x === null ? 'null' : typeof x}`,
      });
  });
  return out;
}

/** The statement groups of one signal, with shape errors reported (the schema leaves lists loose). */
function rawGroups(cfg: TransformConfig, signal: Signal, issues: TransformIssue[]): RawGroup[] {
  const { grouped, flat } = SIGNAL_KEYS[signal];
  const mode = cfg.error_mode ?? 'ignore';
  const out: RawGroup[] = [];
  const rawList: unknown = cfg[grouped];
  const list: unknown[] = Array.isArray(rawList) ? rawList : [];
  if (rawList != null && !Array.isArray(rawList))
    issues.push({
      path: [grouped],
      message: `${grouped} must be a list of statements or of groups {context, statements}`,
    });
  const strings = list.filter((x): x is string => typeof x === 'string');
  if (strings.length > 0 && strings.length !== list.length)
    issues.push({
      path: [grouped],
      message:
        'configuring multiple configuration styles is not supported: use only statements (a flat list) or only groups with context and statements',
    });
  list.forEach((item, i) => {
    if (typeof item === 'string') return;
    const path = [grouped, i];
    if (item == null || typeof item !== 'object' || Array.isArray(item)) {
      issues.push({ path, message: 'each entry is a statement string or a group {context, statements}' });
      return;
    }
    const o = item as Record<string, unknown>;
    for (const k of Object.keys(o))
      if (!GROUP_KEYS.has(k))
        issues.push({
          path: [...path, k],
          message: `unknown key ${JSON.stringify(k)} (a group has context, statements, conditions, error_mode)`,
        });
    let context: ContextName | undefined;
    if (o.context != null) {
      if (typeof o.context === 'string' && (CONTEXT_NAMES as readonly string[]).includes(o.context.toLowerCase()))
        context = o.context.toLowerCase() as ContextName;
      else {
        issues.push({
          path: [...path, 'context'],
          message: `unknown context ${JSON.stringify(o.context)} (valid for ${grouped}: ${SIGNAL_CONTEXTS[signal].join(', ')})`,
        });
        return;
      }
    }
    let errorMode = mode;
    if (o.error_mode != null) {
      if (typeof o.error_mode === 'string' && ERROR_MODES.includes(o.error_mode)) errorMode = o.error_mode as ErrorMode;
      else issues.push({ path: [...path, 'error_mode'], message: 'error_mode must be ignore, silent or propagate' });
    }
    const statements = stringArray(o.statements, [...path, 'statements'], 'statements', issues);
    if (o.statements == null) issues.push({ path, message: 'a group needs statements' });
    out.push({
      context,
      statements,
      conditions: stringArray(o.conditions, [...path, 'conditions'], 'conditions', issues),
      errorMode,
      path,
      flat: false,
    });
  });
  if (strings.length > 0 && strings.length === list.length)
    out.push({ statements: strings, conditions: [], errorMode: mode, path: [grouped], flat: true });
  const flatList = stringArray(cfg[flat], [flat], flat, issues);
  if (flatList.length > 0)
    out.push({ statements: flatList, conditions: [], errorMode: mode, path: [flat], flat: true });
  return out;
}

function statementPath(g: RawGroup, i: number): (string | number)[] {
  return g.flat ? [...g.path, i] : [...g.path, 'statements', i];
}

function inferContext(g: RawGroup, signal: Signal, env: FnEnv, issues: TransformIssue[]): ContextName | undefined {
  let found: ReturnType<typeof contextsNamed>;
  try {
    found = contextsNamed(g.statements, g.conditions);
  } catch {
    return FALLBACK[signal][0]; // syntax errors are reported by the compile step
  }
  const allowed = SIGNAL_CONTEXTS[signal];
  for (const c of found.named)
    if (!allowed.includes(c)) {
      const i = g.statements.findIndex((s) => {
        try {
          return contextsNamed([s], []).named.has(c);
        } catch {
          return false;
        }
      });
      issues.push({
        path: i >= 0 ? statementPath(g, i) : g.path,
        message: `context "${c}" is not available for ${SIGNAL_KEYS[signal].grouped} (valid contexts: ${allowed.join(', ')})`,
      });
      return undefined;
    }
  if (!found.unprefixed) return PRIORITY.find((c) => found.named.has(c)) ?? FALLBACK[signal][0];
  // Sieve only: paths without a context name belong to the signal's items (span, log, data point
  // or metric); the most specific candidate that compiles every statement and condition wins.
  const candidates = PRIORITY.filter((c) => found.named.has(c) || FALLBACK[signal].includes(c));
  for (const c of candidates) {
    try {
      for (const s of g.statements) compileStatement(s, c, { env });
      for (const s of g.conditions) compileCondition(s, c, { env });
      return c;
    } catch {}
  }
  return candidates[0];
}

function compileGroups(cfg: TransformConfig, signal: Signal, env: FnEnv, issues: TransformIssue[]): Group[] {
  const out: Group[] = [];
  for (const g of rawGroups(cfg, signal, issues)) {
    const context = g.context ?? inferContext(g, signal, env, issues);
    if (!context) continue;
    if (!SIGNAL_CONTEXTS[signal].includes(context)) {
      issues.push({
        path: [...g.path, 'context'],
        message: `context "${context}" is not available for ${SIGNAL_KEYS[signal].grouped} (valid contexts: ${SIGNAL_CONTEXTS[signal].join(', ')})`,
      });
      continue;
    }
    const group: Group = { context, statements: [], conditions: [], errorMode: g.errorMode };
    g.statements.forEach((text, i) => {
      try {
        group.statements.push({ run: compileStatement(text, context, { env }), text });
      } catch (err) {
        issues.push(ottlIssue(err, statementPath(g, i), text, context));
      }
    });
    g.conditions.forEach((text, i) => {
      try {
        group.conditions.push(compileCondition(text, context, { env }));
      } catch (err) {
        issues.push(ottlIssue(err, [...g.path, 'conditions', i], text, context));
      }
    });
    out.push(group);
  }
  return out;
}

function ottlIssue(err: unknown, path: (string | number)[], text: string, context: ContextName): TransformIssue {
  if (err instanceof OttlSyntaxError)
    return {
      path,
      offset: err.offset,
      message: `${err.message} (column ${err.offset + 1} of \`${text}\`, ${context} context)`,
    };
  throw err;
}

/** Every problem of a transform config (no hash key needed): used by the config schema. */
export function validateTransformConfig(cfg: TransformConfig): TransformIssue[] {
  const issues: TransformIssue[] = [];
  const env: FnEnv = { hasher: () => (v: string) => v };
  for (const signal of ['traces', 'logs', 'metrics'] as const) compileGroups(cfg, signal, env, issues);
  return issues;
}

export class TransformConfigError extends Error {
  constructor(readonly issues: TransformIssue[]) {
    super(issues.map((i) => i.message).join('; '));
  }
}

export interface TransformProcessor extends Processor {
  /** statements that failed under error_mode ignore (they were skipped for that item) */
  statementErrors: number;
}

export function createTransformProcessor(
  id: string,
  cfg: TransformConfig,
  envVars?: NodeJS.ProcessEnv,
): TransformProcessor {
  let hasher: Hasher | undefined;
  let needsKey = false;
  const env: FnEnv = {
    hasher: () => {
      hasher ??= makeHasher(cfg, envVars);
      return hasher;
    },
    usesHasher: () => {
      needsKey = true;
    },
  };
  const issues: TransformIssue[] = [];
  const groups = {
    traces: compileGroups(cfg, 'traces', env, issues),
    logs: compileGroups(cfg, 'logs', env, issues),
    metrics: compileGroups(cfg, 'metrics', env, issues),
  };
  if (issues.length) throw new TransformConfigError(issues);
  if (needsKey) env.hasher(); // a missing key fails at start, not on the first request

  const p: TransformProcessor = { id, statementErrors: 0 };
  const runGroup = (g: Group, c: TransformContext) => {
    c.cache = undefined;
    if (g.conditions.length > 0 && !evalConditions(g, c)) return;
    for (const s of g.statements) {
      try {
        s.run(c);
      } catch (err) {
        handleError(g, s.text, err);
      }
    }
  };
  const evalConditions = (g: Group, c: TransformContext): boolean => {
    for (const cond of g.conditions) {
      try {
        if (cond(c)) return true;
      } catch (err) {
        handleError(g, 'conditions', err);
      }
    }
    return false;
  };
  const handleError = (g: Group, text: string, err: unknown) => {
    if (!(err instanceof OttlRuntimeError)) throw err;
    if (g.errorMode === 'propagate')
      throw new PipelineRefusal(
        `processor ${id}: failed to execute statement: ${text}: ${err.message} (error_mode: propagate)`,
      );
    if (g.errorMode === 'ignore') p.statementErrors++;
  };

  if (groups.traces.length)
    p.traces = (req: RequestBySignal['traces']) => {
      for (const g of groups.traces) forEachTraceItem(req, g.context, (c) => runGroup(g, c));
      return req;
    };
  if (groups.logs.length)
    p.logs = (req: RequestBySignal['logs']) => {
      for (const g of groups.logs) forEachLogItem(req, g.context, (c) => runGroup(g, c));
      return req;
    };
  if (groups.metrics.length)
    p.metrics = (req: RequestBySignal['metrics']) => {
      for (const g of groups.metrics) forEachMetricItem(req, g.context, (c) => runGroup(g, c));
      return req;
    };
  return p;
}

// ---------- iteration over the items of a context ----------

function newContext(rc: TransformContext['rc']): TransformContext {
  return {
    rc,
    sc: undefined,
    span: undefined,
    event: undefined,
    log: undefined,
    metric: undefined,
    dp: undefined,
    cache: undefined,
  };
}

function forEachTraceItem(req: RequestBySignal['traces'], ctx: ContextName, fn: (c: TransformContext) => void) {
  for (const rs of req.resourceSpans ?? []) {
    const c = newContext(rs);
    if (ctx === 'resource') {
      fn(c);
      continue;
    }
    for (const ss of rs.scopeSpans ?? []) {
      c.sc = ss;
      if (ctx === 'scope') {
        fn(c);
        continue;
      }
      for (const span of ss.spans ?? []) {
        c.span = span as Span;
        if (ctx === 'span') fn(c);
        else
          for (const ev of span.events ?? []) {
            c.event = ev;
            fn(c);
          }
      }
    }
  }
}

function forEachLogItem(req: RequestBySignal['logs'], ctx: ContextName, fn: (c: TransformContext) => void) {
  for (const rl of req.resourceLogs ?? []) {
    const c = newContext(rl);
    if (ctx === 'resource') {
      fn(c);
      continue;
    }
    for (const sl of rl.scopeLogs ?? []) {
      c.sc = sl;
      if (ctx === 'scope') {
        fn(c);
        continue;
      }
      for (const lr of sl.logRecords ?? []) {
        c.log = lr as LogRecord;
        fn(c);
      }
    }
  }
}

function dataPoints(m: Metric): AnyDataPoint[] {
  const h = m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram ?? m.summary;
  return (h?.dataPoints ?? []) as AnyDataPoint[];
}

function forEachMetricItem(req: RequestBySignal['metrics'], ctx: ContextName, fn: (c: TransformContext) => void) {
  for (const rm of req.resourceMetrics ?? []) {
    const c = newContext(rm);
    if (ctx === 'resource') {
      fn(c);
      continue;
    }
    for (const sm of rm.scopeMetrics ?? []) {
      c.sc = sm;
      if (ctx === 'scope') {
        fn(c);
        continue;
      }
      for (const m of sm.metrics ?? []) {
        c.metric = m;
        if (ctx === 'metric') fn(c);
        else
          for (const dp of dataPoints(m)) {
            c.dp = dp;
            fn(c);
          }
      }
    }
  }
}
