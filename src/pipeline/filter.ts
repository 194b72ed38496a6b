/**
 * Collector `filter` processor: OTTL conditions (./ottl/, the parser the transform processor uses) under traces.span,
 * traces.spanevent, logs.log_record, metrics.metric, metrics.datapoint, and the legacy
 * include/exclude forms under spans, logs, metrics. Matching items are dropped and counted;
 * containers left empty are pruned.
 */
import { getStringAttribute } from '../otlp/anyvalue.js';
import { metricDataPointCount } from '../otlp/codec.js';
import type { Metric, RequestBySignal } from '../otlp/model.js';
import { PipelineRefusal, type Processor } from './api.js';
import { compileMatch, type MatchAttributeConfig, type MatchPropertiesConfig, type MatchTarget } from './match.js';
import { compileCondition } from './ottl/compile.js';
import type { AnyDataPoint, ContextName, TransformContext } from './ottl/contexts.js';
import { OttlRuntimeError } from './ottl/values.js';

type Condition = (c: TransformContext) => boolean;

interface LegacyLogMatch {
  match_type?: 'strict' | 'regexp';
  record_attributes?: MatchAttributeConfig[];
  resource_attributes?: MatchAttributeConfig[];
  bodies?: string[];
  severity_texts?: string[];
}
interface LegacyMetricMatch {
  match_type?: 'strict' | 'regexp' | 'expr';
  metric_names?: string[];
  resource_attributes?: MatchAttributeConfig[];
}

export interface FilterConfig {
  error_mode?: 'ignore' | 'propagate' | 'silent';
  traces?: { span?: string[]; spanevent?: string[] };
  spans?: { include?: MatchPropertiesConfig; exclude?: MatchPropertiesConfig };
  logs?: {
    log_record?: string[];
    include?: LegacyLogMatch;
    exclude?: LegacyLogMatch;
  };
  metrics?: {
    metric?: string[];
    datapoint?: string[];
    include?: LegacyMetricMatch;
    exclude?: LegacyMetricMatch;
  };
}

/** Filter processors report drops through this extended shape; build.ts reads `lastDropped`. */
export interface CountingProcessor extends Processor {
  /** items dropped by the last call */
  lastDropped: number;
}

/** The conditions OR-ed; a failing condition counts as no match, or refuses the request under propagate. */
function any(conds: Condition[], id: string, mode: FilterConfig['error_mode']): Condition | undefined {
  if (conds.length === 0) return undefined;
  return (c) => {
    for (const f of conds) {
      try {
        if (f(c)) return true;
      } catch (err) {
        if (!(err instanceof OttlRuntimeError)) throw err;
        if (mode === 'propagate')
          throw new PipelineRefusal(
            `processor ${id}: failed to eval condition: ${err.message} (error_mode: propagate)`,
          );
      }
    }
    return false;
  };
}

/** Compiles OTTL conditions for a context; errors name the condition index (`traces.span[1]: …`). */
export function compileConditions(list: string[] | undefined, where: string, ctx: ContextName): Condition[] {
  return (list ?? []).map((src, i) => {
    try {
      return compileCondition(src, ctx);
    } catch (err) {
      throw new Error(`${where}[${i}]: ${(err as Error).message} in ${JSON.stringify(src)}`);
    }
  });
}

function legacyLog(m: LegacyLogMatch | undefined) {
  if (!m) return undefined;
  return compileMatch({
    match_type: m.match_type,
    attributes: m.record_attributes,
    resources: m.resource_attributes,
    log_bodies: m.bodies,
    log_severity_texts: m.severity_texts,
  });
}
function legacyMetric(m: LegacyMetricMatch | undefined) {
  if (!m) return undefined;
  return compileMatch({
    match_type: m.match_type === 'regexp' ? 'regexp' : 'strict',
    metric_names: m.metric_names,
    resources: m.resource_attributes,
  });
}

function dataPointHolder(m: Metric): { dataPoints?: AnyDataPoint[] | null } | undefined | null {
  return (m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram ?? m.summary) as
    | { dataPoints?: AnyDataPoint[] | null }
    | undefined;
}

export function createFilterProcessor(id: string, cfg: FilterConfig): CountingProcessor {
  // the Collector's filter processor defaults to propagate
  const mode = cfg.error_mode ?? 'propagate';
  const span = any(compileConditions(cfg.traces?.span, 'traces.span', 'span'), id, mode);
  const spanEvent = any(compileConditions(cfg.traces?.spanevent, 'traces.spanevent', 'spanevent'), id, mode);
  const logRecord = any(compileConditions(cfg.logs?.log_record, 'logs.log_record', 'log'), id, mode);
  const metricCond = any(compileConditions(cfg.metrics?.metric, 'metrics.metric', 'metric'), id, mode);
  const dpCond = any(compileConditions(cfg.metrics?.datapoint, 'metrics.datapoint', 'datapoint'), id, mode);
  const spanInc = compileMatch(cfg.spans?.include);
  const spanExc = compileMatch(cfg.spans?.exclude);
  const logInc = legacyLog(cfg.logs?.include);
  const logExc = legacyLog(cfg.logs?.exclude);
  const metInc = legacyMetric(cfg.metrics?.include);
  const metExc = legacyMetric(cfg.metrics?.exclude);

  const p: CountingProcessor = {
    id,
    lastDropped: 0,
    traces(req: RequestBySignal['traces']) {
      let dropped = 0;
      for (const rs of req.resourceSpans ?? []) {
        const resAttrs = rs.resource?.attributes;
        const serviceName = getStringAttribute(resAttrs, 'service.name');
        const c: TransformContext = { rc: rs };
        for (const ss of rs.scopeSpans ?? []) {
          c.sc = ss;
          const before = ss.spans?.length ?? 0;
          ss.spans = (ss.spans ?? []).filter((s) => {
            const t: MatchTarget = {
              serviceName,
              spanName: s.name ?? '',
              attributes: s.attributes,
              resourceAttributes: resAttrs,
            };
            if (spanInc && !spanInc(t)) return false;
            if (spanExc?.(t)) return false;
            c.span = s;
            if (span?.(c)) return false;
            if (spanEvent && s.events)
              s.events = s.events.filter((e) => {
                c.event = e;
                return !spanEvent(c);
              });
            return true;
          });
          dropped += before - ss.spans.length;
        }
        rs.scopeSpans = (rs.scopeSpans ?? []).filter((ss) => (ss.spans?.length ?? 0) > 0);
      }
      req.resourceSpans = (req.resourceSpans ?? []).filter((rs) => (rs.scopeSpans?.length ?? 0) > 0);
      p.lastDropped = dropped;
      return req;
    },
    logs(req: RequestBySignal['logs']) {
      let dropped = 0;
      for (const rl of req.resourceLogs ?? []) {
        const resAttrs = rl.resource?.attributes;
        const serviceName = getStringAttribute(resAttrs, 'service.name');
        const c: TransformContext = { rc: rl };
        for (const sl of rl.scopeLogs ?? []) {
          c.sc = sl;
          const before = sl.logRecords?.length ?? 0;
          sl.logRecords = (sl.logRecords ?? []).filter((lr) => {
            const t: MatchTarget = {
              serviceName,
              attributes: lr.attributes,
              resourceAttributes: resAttrs,
              logBody: lr.body,
              severityText: lr.severityText,
            };
            if (logInc && !logInc(t)) return false;
            if (logExc?.(t)) return false;
            if (!logRecord) return true;
            c.log = lr;
            return !logRecord(c);
          });
          dropped += before - sl.logRecords.length;
        }
        rl.scopeLogs = (rl.scopeLogs ?? []).filter((sl) => (sl.logRecords?.length ?? 0) > 0);
      }
      req.resourceLogs = (req.resourceLogs ?? []).filter((rl) => (rl.scopeLogs?.length ?? 0) > 0);
      p.lastDropped = dropped;
      return req;
    },
    metrics(req: RequestBySignal['metrics']) {
      let dropped = 0;
      for (const rm of req.resourceMetrics ?? []) {
        const resAttrs = rm.resource?.attributes;
        const serviceName = getStringAttribute(resAttrs, 'service.name');
        const c: TransformContext = { rc: rm };
        for (const sm of rm.scopeMetrics ?? []) {
          c.sc = sm;
          sm.metrics = (sm.metrics ?? []).filter((m) => {
            const t: MatchTarget = {
              serviceName,
              metricName: m.name,
              resourceAttributes: resAttrs,
            };
            c.metric = m;
            if ((metInc && !metInc(t)) || metExc?.(t) || metricCond?.(c)) {
              dropped += metricDataPointCount(m);
              return false;
            }
            const holder = dataPointHolder(m);
            if (dpCond && holder?.dataPoints) {
              const before = holder.dataPoints.length;
              holder.dataPoints = holder.dataPoints.filter((dp) => {
                c.dp = dp;
                return !dpCond(c);
              });
              dropped += before - holder.dataPoints.length;
              if (holder.dataPoints.length === 0) return false;
            }
            return true;
          });
        }
        rm.scopeMetrics = (rm.scopeMetrics ?? []).filter((sm) => (sm.metrics?.length ?? 0) > 0);
      }
      req.resourceMetrics = (req.resourceMetrics ?? []).filter((rm) => (rm.scopeMetrics?.length ?? 0) > 0);
      p.lastDropped = dropped;
      return req;
    },
  };
  return p;
}
