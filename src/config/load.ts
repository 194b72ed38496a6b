/**
 * Loads a Collector-syntax YAML file into a SieveConfig: YAML with positions (LineCounter),
 * `${env:…}` substitution, component schemas (./components/schemas.ts), service.pipelines checks,
 * processor construction. Every problem becomes a ConfigIssue naming file:line:column and key path.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, parse as parseYaml, visit } from 'yaml';
import type { z } from 'zod';
import type { Signal } from '../otlp/model.js';
import type { KafkaExporterSettings, Processor, SieveConfig } from '../pipeline/api.js';
import { createAttributesProcessor } from '../pipeline/attributes.js';
import { batchSettings } from '../pipeline/batch.js';
import { buildSignalPipeline } from '../pipeline/build.js';
import { parseDurationMs } from '../pipeline/duration.js';
import type { ExplainSink } from '../pipeline/explain.js';
import { createFilterProcessor } from '../pipeline/filter.js';
import { HashKeyError, type HashSettings, resolveHashKey } from '../pipeline/hash.js';
import { memoryLimiterSettings } from '../pipeline/memory-limiter.js';
import { createRedactionProcessor } from '../pipeline/redaction.js';
import { createResourceProcessor } from '../pipeline/resource.js';
import { createTransformProcessor, TransformConfigError } from '../pipeline/transform.js';
import { insteadOf } from './components/alternatives.js';
import {
  encodingOf,
  kafkaSecurity,
  kafkaSecurityFromEnv,
  type Report,
  retrySettings,
  sendingQueueRule,
} from './components/kafka.js';
import * as S from './components/schemas.js';
import { transformSchema } from './components/transform.js';
import { hasEnvRef, isSingleRef, substituteEnv } from './env.js';
import { ConfigError, type ConfigIssue, formatIssue, pathToString } from './errors.js';
import { buildReceiverSettings } from './receiver-settings.js';
import { yamlPosition } from './yaml-position.js';

type Path = (string | number)[];
const SECTIONS = ['receivers', 'processors', 'exporters', 'extensions', 'connectors', 'service'] as const;
const PROCESSORS: Record<string, z.ZodType> = {
  attributes: S.attributesSchema,
  resource: S.resourceSchema,
  redaction: S.redactionSchema,
  filter: S.filterSchema,
  transform: transformSchema,
  batch: S.batchSchema,
  memory_limiter: S.memoryLimiterSchema,
};
const RECEIVERS: Record<string, z.ZodType> = { otlp: S.otlpReceiverSchema };
const EXPORTERS: Record<string, z.ZodType> = { kafka: S.kafkaExporterSchema };
const EXTENSIONS: Record<string, z.ZodType> = {
  apikeyauth: S.apiKeyAuthSchema,
};
const SIGNAL_TOPIC: Record<Signal, string> = {
  traces: 'otlp_spans',
  logs: 'otlp_logs',
  metrics: 'otlp_metrics',
};

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /**
   * For `sieve loader`, which reads only the exporters (brokers, topics): processors and the auth
   * extension are validated but not built, so the loader needs neither the PII hash key nor API keys.
   */
  exportersOnly?: boolean;
  /** `sieve scrub --explain`: processors report every field they change */
  explain?: ExplainSink;
}

class Ctx {
  issues: ConfigIssue[] = [];
  /** accepted keys Sieve treats differently from the Collector */
  warnings: ConfigIssue[] = [];
  constructor(
    readonly file: string,
    readonly doc: ReturnType<typeof parseDocument>,
    readonly lc: LineCounter,
  ) {}
  /** the node at path, or the deepest existing ancestor (key node for an unknown key) */
  pos(path: Path, preferKey = false): { line: number; col: number } {
    return yamlPosition(this.doc, this.lc, path, preferKey);
  }
  add(path: Path, message: string, preferKey = false, offsetInScalar?: number, to: ConfigIssue[] = this.issues) {
    const p = this.pos(path, preferKey);
    if (offsetInScalar !== undefined) p.col += this.scalarOffset(path, offsetInScalar);
    to.push({
      file: this.file,
      line: p.line,
      column: p.col,
      path: pathToString(path),
      message,
    });
  }
  /** columns from a scalar's start to character `offset` of its value (single-line scalars only) */
  scalarOffset(path: Path, offset: number): number {
    let cur: unknown = this.doc.contents;
    for (const seg of path) {
      if (isMap(cur)) cur = cur.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg))?.value;
      else if (isSeq(cur) && typeof seg === 'number') cur = cur.items[seg];
      else return 0;
    }
    if (!isScalar(cur) || typeof cur.value !== 'string' || cur.value.includes('\n')) return 0;
    const src = cur.source ?? cur.value;
    if (cur.type === 'PLAIN' && src === cur.value) return offset;
    if (
      (cur.type === 'QUOTE_SINGLE' && !cur.value.includes("'")) ||
      (cur.type === 'QUOTE_DOUBLE' && !/["\\]/.test(cur.value))
    )
      return offset + 1;
    return 0;
  }
  /** validates with zod, mapping issues to positions; returns undefined on failure */
  parse<T>(schema: z.ZodType<T>, value: unknown, path: Path): T | undefined {
    const r = schema.safeParse(value ?? {});
    if (r.success) return r.data;
    for (const iss of r.error.issues) {
      const p = [...path, ...(iss.path as Path)];
      if (iss.code === 'unrecognized_keys')
        for (const k of iss.keys) this.add([...p, k], `unknown key ${JSON.stringify(k)}`, true);
      else {
        const off = (iss as { params?: { ottlOffset?: number } }).params?.ottlOffset;
        this.add(p, iss.message, false, off);
      }
    }
    return undefined;
  }
}

/** issues in file order (they are collected section by section) */
function byPosition(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
}

function typeOf(id: string): string {
  const i = id.indexOf('/');
  return i < 0 ? id : id.slice(0, i);
}

export interface LoadResult {
  config?: SieveConfig;
  issues: ConfigIssue[];
}

export function loadConfigText(text: string, file: string, opts: LoadOptions = {}): LoadResult {
  const env = opts.env ?? process.env;
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lc,
    prettyErrors: false,
    uniqueKeys: true,
  });
  const ctx = new Ctx(file, doc, lc);
  const exporterExtras = new Map<string, Pick<KafkaExporterSettings, 'retry' | 'security'>>();
  if (doc.errors.length) {
    for (const e of doc.errors) {
      const p = e.linePos?.[0] ?? lc.linePos(e.pos[0]);
      ctx.issues.push({
        file,
        line: p.line,
        column: p.col,
        path: '',
        message: `YAML: ${e.message.split('\n')[0]}`,
      });
    }
    return { issues: ctx.issues };
  }
  visit(doc, {
    Scalar(_k, node) {
      if (typeof node.value !== 'string' || !hasEnvRef(node.value)) return;
      const raw = node.value;
      let sub: string;
      try {
        sub = substituteEnv(raw, env, dirname(resolve(file)));
      } catch (err) {
        const p = lc.linePos(node.range?.[0] ?? 0);
        ctx.issues.push({ file, line: p.line, column: p.col, path: '', message: (err as Error).message });
        return;
      }
      if (isSingleRef(raw) && (node.type === 'PLAIN' || node.type == null)) {
        try {
          const typed: unknown = parseYaml(sub);
          node.value = typed === null || typeof typed === 'object' ? sub : typed;
        } catch {
          node.value = sub;
        }
      } else node.value = sub;
    },
  });
  const root = doc.toJS() as Record<string, unknown> | null;
  if (root == null || typeof root !== 'object' || Array.isArray(root)) {
    ctx.add([], 'the config must be a YAML mapping with receivers, processors, exporters and service');
    return { issues: ctx.issues };
  }
  for (const k of Object.keys(root))
    if (!(SECTIONS as readonly string[]).includes(k)) ctx.add([k], `unknown top-level key ${JSON.stringify(k)}`, true);

  const section = (name: string) => {
    const v = root[name];
    if (v == null) return {} as Record<string, unknown>;
    if (typeof v !== 'object' || Array.isArray(v)) {
      ctx.add([name], `${name} must be a mapping of component id → config`);
      return {} as Record<string, unknown>;
    }
    return v as Record<string, unknown>;
  };
  const receivers = section('receivers');
  const processors = section('processors');
  const exporters = section('exporters');
  const extensions = section('extensions');
  if (root.connectors != null && Object.keys(section('connectors')).length)
    ctx.add(['connectors'], 'connectors are not supported by Sieve', true);

  // An OpenTelemetry Collector config (e.g. collector-config/otelcol-*.yaml) is not a Sieve config: say so.
  const foreign = [
    ...Object.keys(exporters)
      .filter((id) => !(typeOf(id) in EXPORTERS))
      .map((id) => ['exporters', id]),
    ...Object.keys(receivers)
      .filter((id) => !(typeOf(id) in RECEIVERS))
      .map((id) => ['receivers', id]),
  ];
  for (const [sec, id] of foreign)
    ctx.add(
      [sec as string, id as string],
      `${sec === 'exporters' ? 'exporter' : 'receiver'} "${typeOf(id as string)}" is not supported by Sieve (Sieve runs otlp receiver → processors → kafka exporter); if this is an OpenTelemetry Collector config, run it with otelcol-contrib, not sieve${insteadOf(sec === 'exporters' ? 'exporter' : 'receiver', typeOf(id as string))}`,
      true,
    );

  const parsedRecv = new Map<string, z.infer<typeof S.otlpReceiverSchema>>();
  for (const [id, v] of Object.entries(receivers)) {
    const schema = RECEIVERS[typeOf(id)];
    if (!schema) continue;
    const r = ctx.parse(S.otlpReceiverSchema, v, ['receivers', id]);
    if (r) parsedRecv.set(id, r);
  }
  const parsedExp = new Map<string, z.infer<typeof S.kafkaExporterSchema>>();
  for (const [id, v] of Object.entries(exporters)) {
    if (!(typeOf(id) in EXPORTERS)) continue;
    const r = ctx.parse(S.kafkaExporterSchema, v, ['exporters', id]);
    if (r) parsedExp.set(id, r);
  }
  const parsedExt = new Map<string, z.infer<typeof S.apiKeyAuthSchema>>();
  for (const [id, v] of Object.entries(extensions)) {
    if (!(typeOf(id) in EXTENSIONS)) {
      ctx.add(
        ['extensions', id],
        `extension "${typeOf(id)}" is not supported by Sieve (supported: apikeyauth)${insteadOf('extension', typeOf(id))}`,
        true,
      );
      continue;
    }
    const r = ctx.parse(S.apiKeyAuthSchema, v, ['extensions', id]);
    if (r) parsedExt.set(id, r);
  }
  const parsedProc = new Map<string, unknown>();
  for (const [id, v] of Object.entries(processors)) {
    const schema = PROCESSORS[typeOf(id)];
    if (!schema) {
      ctx.add(
        ['processors', id],
        `unknown processor type "${typeOf(id)}" (supported: ${Object.keys(PROCESSORS).join(', ')})${insteadOf('processor', typeOf(id))}`,
        true,
      );
      continue;
    }
    const r = ctx.parse(schema, v, ['processors', id]);
    if (r !== undefined) parsedProc.set(id, r);
    // a processor with config errors is never built: say now if its hashing will also lack a key
    else if (!opts.exportersOnly && needsHashKey(typeOf(id), v)) {
      try {
        resolveHashKey(v as HashSettings, env);
      } catch (err) {
        if (err instanceof HashKeyError) ctx.add(hashKeyPath(id, v), hashKeyHelp(err, v), true);
      }
    }
  }

  // service
  const service = root.service as Record<string, unknown> | undefined;
  if (service == null || typeof service !== 'object') {
    ctx.add(['service'], 'missing service.pipelines');
    return { issues: ctx.issues };
  }
  for (const k of Object.keys(service))
    if (!['pipelines', 'extensions', 'telemetry'].includes(k))
      ctx.add(['service', k], `unknown key ${JSON.stringify(k)}`, true);
  const svcExt = Array.isArray(service.extensions) ? (service.extensions as unknown[]) : [];
  svcExt.forEach((e, i) => {
    if (typeof e !== 'string' || !(e in extensions))
      ctx.add(
        ['service', 'extensions', i],
        `extension ${JSON.stringify(e)} is listed but not defined under extensions`,
      );
  });
  const pipelines = service.pipelines as Record<string, unknown> | undefined;
  if (pipelines == null || typeof pipelines !== 'object' || Object.keys(pipelines).length === 0) {
    ctx.add(['service', 'pipelines'], 'service.pipelines must define at least one of traces, logs, metrics');
    return { issues: ctx.issues };
  }

  // receiver settings (Sieve has one OTLP receiver: HTTP, and gRPC when configured)
  let receiverSettings: SieveConfig['receiver'] = {
    host: '0.0.0.0',
    port: 4318,
    maxRequestBodyBytes: 64 * 1024 * 1024,
  };
  const baseDir = dirname(resolve(file));
  const firstRecv = [...parsedRecv.entries()][0];
  if (firstRecv)
    receiverSettings = buildReceiverSettings({
      id: firstRecv[0],
      receiver: firstRecv[1],
      extensions: parsedExt,
      definedExtensions: new Set(Object.keys(extensions)),
      serviceExtensions: svcExt,
      baseDir,
      env,
      exportersOnly: opts.exportersOnly === true,
      add: (path, message) => ctx.add(path, message),
    });

  const built = new Map<string, Processor>();
  const out: SieveConfig['pipelines'] = {};
  for (const [pid, pv] of Object.entries(pipelines)) {
    const base = ['service', 'pipelines', pid];
    const sig = typeOf(pid);
    if (sig !== 'traces' && sig !== 'logs' && sig !== 'metrics') {
      ctx.add(base, `pipeline ${JSON.stringify(pid)} must be traces, logs or metrics (optionally with /name)`, true);
      continue;
    }
    const signal = sig as Signal;
    if (out[signal]) {
      ctx.add(base, `Sieve runs one pipeline per signal; ${signal} is already defined by ${out[signal]?.id}`, true);
      continue;
    }
    const p = (pv ?? {}) as Record<string, unknown>;
    for (const k of Object.keys(p))
      if (!['receivers', 'processors', 'exporters'].includes(k))
        ctx.add([...base, k], `unknown key ${JSON.stringify(k)}`, true);
    const list = (k: string): string[] => {
      const v = p[k];
      if (v == null) return [];
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
        ctx.add([...base, k], `${k} must be a list of component ids`);
        return [];
      }
      return v as string[];
    };
    const recv = list('receivers');
    const procs = list('processors');
    const exps = list('exporters');
    if (recv.length === 0) ctx.add(base, 'pipeline needs at least one receiver (receivers: [otlp])');
    recv.forEach((r, i) => {
      if (!(r in receivers))
        ctx.add([...base, 'receivers', i], `receiver ${JSON.stringify(r)} is listed but not defined under receivers`);
    });
    if (exps.length !== 1) ctx.add([...base, 'exporters'], 'Sieve pipelines need exactly one kafka exporter');
    exps.forEach((e, i) => {
      if (!(e in exporters))
        ctx.add([...base, 'exporters', i], `exporter ${JSON.stringify(e)} is listed but not defined under exporters`);
    });
    const processorsList: Processor[] = [];
    let batch: ReturnType<typeof batchSettings> | undefined;
    let memoryLimiter: ReturnType<typeof memoryLimiterSettings> | undefined;
    procs.forEach((id, i) => {
      if (!(id in processors)) {
        ctx.add(
          [...base, 'processors', i],
          `processor ${JSON.stringify(id)} is listed but not defined under processors`,
        );
        return;
      }
      const cfg = parsedProc.get(id);
      if (cfg === undefined) return; // already reported
      try {
        switch (typeOf(id)) {
          case 'batch':
            batch = batchSettings(cfg as S.BatchCfg);
            break;
          case 'memory_limiter':
            memoryLimiter = memoryLimiterSettings(cfg as S.MemoryLimiterCfg);
            break;
          default: {
            let proc = built.get(id);
            if (!proc) {
              proc = opts.exportersOnly ? { id } : makeProcessor(id, cfg, env, opts.explain);
              built.set(id, proc);
            }
            processorsList.push(proc);
          }
        }
      } catch (err) {
        if (err instanceof HashKeyError) ctx.add(hashKeyPath(id, cfg), hashKeyHelp(err, cfg), true);
        else if (err instanceof TransformConfigError)
          for (const i of err.issues) ctx.add(['processors', id, ...i.path], i.message, false, i.offset);
        else ctx.add(['processors', id], (err as Error).message, true);
        built.set(id, { id });
      }
    });
    const expId = exps[0];
    const exp = expId ? parsedExp.get(expId) : undefined;
    if (!exp || !expId) continue;
    const exporter = kafkaSettings(expId, exp, signal, env);
    Object.assign(exporter, kafkaExporterExtras(expId, exp));
    out[signal] = buildSignalPipeline({
      signal,
      id: pid,
      processorIds: procs,
      processors: processorsList,
      batch,
      memoryLimiter,
      exporter,
    }) as never;
  }
  checkSharedTopics(out, ctx);
  if (ctx.issues.length) return { issues: byPosition(ctx.issues) };
  return {
    issues: [],
    config: {
      source: resolve(file),
      receiver: receiverSettings,
      pipelines: out,
      ...(ctx.warnings.length > 0 ? { warnings: ctx.warnings.map(formatIssue) } : {}),
    },
  };

  /** retry_on_failure, sending_queue, tls and auth of one kafka exporter, judged once (however many pipelines use it). */
  function kafkaExporterExtras(id: string, e: z.infer<typeof S.kafkaExporterSchema>) {
    let extras = exporterExtras.get(id);
    if (extras === undefined) {
      const base = ['exporters', id];
      const report: Report = {
        error: (path, message) => ctx.add(path, message),
        warn: (path, message) => ctx.add(path, message, false, undefined, ctx.warnings),
      };
      sendingQueueRule(e.sending_queue, [...base, 'sending_queue'], report);
      const retry = retrySettings(e.retry_on_failure, [...base, 'retry_on_failure'], report);
      const security =
        e.tls !== undefined || e.auth !== undefined
          ? kafkaSecurity(e, base, baseDir, report)
          : kafkaSecurityFromEnv(env, base, report);
      extras = { ...(retry ? { retry } : {}), ...(security ? { security } : {}) };
      exporterExtras.set(id, extras);
    }
    return extras;
  }
}

/**
 * Signals written to one topic can be told apart only in otlp_json (its top-level key names the
 * signal): two signals sharing a topic in otlp_proto could not be loaded, so that is refused here.
 */
function checkSharedTopics(pipelines: SieveConfig['pipelines'], ctx: Ctx): void {
  const byTopic = new Map<string, { signal: Signal; exporter: KafkaExporterSettings }[]>();
  for (const p of Object.values(pipelines)) {
    if (p === undefined) continue;
    const list = byTopic.get(p.exporter.topic) ?? [];
    list.push({ signal: p.signal, exporter: p.exporter });
    byTopic.set(p.exporter.topic, list);
  }
  for (const [topic, list] of byTopic) {
    if (list.length < 2 || list.every((x) => x.exporter.encoding === 'otlp_json')) continue;
    const first = list[0] as { exporter: KafkaExporterSettings };
    ctx.add(
      ['exporters', first.exporter.id, 'topic'],
      `${list.map((x) => x.signal).join(' and ')} share topic ${JSON.stringify(topic)} in otlp_proto, where the loader cannot tell them apart: give each signal its own topic (traces: {topic: …}) or use encoding: otlp_json`,
    );
  }
}

/** Whether a processor's raw config asks for keyed hashing (checked even when the config has errors). */
function needsHashKey(type: string, raw: unknown): boolean {
  if (raw == null || typeof raw !== 'object') return false;
  const c = raw as { hash_function?: unknown; actions?: unknown; attributes?: unknown };
  if (c.hash_function !== undefined && c.hash_function !== 'hmac_sha256') return false;
  const hashes = (list: unknown) =>
    Array.isArray(list) && list.some((a) => (a as { action?: unknown })?.action === 'hash');
  if (type === 'attributes') return hashes(c.actions);
  if (type === 'resource') return hashes(c.attributes);
  if (type === 'transform') return JSON.stringify(raw).includes('SHA256');
  return false;
}

/** The key of the first hashing action of a processor (where a missing hash key is reported). */
function hashKeyPath(id: string, cfg: unknown): Path {
  const c = (cfg ?? {}) as { actions?: { action?: string }[]; attributes?: { action?: string }[] };
  for (const list of ['actions', 'attributes'] as const) {
    const i = (c[list] ?? []).findIndex((a) => a?.action === 'hash');
    if (i >= 0) return ['processors', id, list, i, 'action'];
  }
  return ['processors', id];
}

function hashKeyHelp(err: HashKeyError, cfg: unknown): string {
  if (!err.message.includes('needs a key')) return err.message; // e.g. an unreadable key file
  const envName = (cfg as { hash_key_env?: string } | undefined)?.hash_key_env ?? 'SIEVE_HASH_KEY';
  return `hashing needs a key (the pipeline's HMAC key) and none is set: set env ${envName}=<secret> or SIEVE_HASH_KEY_FILE=<file>, or hash_key_env: <VAR> / hash_key_file: <path> under this processor (sieve all --dev and npm run up generate a local key); hash_function: sha256 hashes without a key, as the Collector does, but emails and ids can then be recovered by dictionary. Sieve never falls back to clear text`;
}

function makeProcessor(id: string, cfg: unknown, env: NodeJS.ProcessEnv, explain?: ExplainSink): Processor {
  switch (typeOf(id)) {
    case 'attributes':
      return createAttributesProcessor(id, cfg as never, env, explain);
    case 'resource':
      return createResourceProcessor(id, cfg as never, env, explain);
    case 'redaction':
      return createRedactionProcessor(id, cfg as never, env, explain);
    case 'filter':
      return createFilterProcessor(id, cfg as never);
    case 'transform':
      return createTransformProcessor(id, cfg as never, env);
    default:
      throw new Error(`unknown processor ${id}`);
  }
}

function kafkaSettings(
  id: string,
  e: z.infer<typeof S.kafkaExporterSchema>,
  signal: Signal,
  env: NodeJS.ProcessEnv,
): KafkaExporterSettings {
  const brokersRaw = e.brokers ?? env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  const brokers = (Array.isArray(brokersRaw) ? brokersRaw : brokersRaw.split(',')).map((b) => b.trim()).filter(Boolean);
  return {
    id,
    brokers,
    clientId: e.client_id ?? 'sieve',
    topic: e[signal]?.topic ?? e.topic ?? SIGNAL_TOPIC[signal],
    encoding: encodingOf(e[signal]?.encoding, e.encoding),
    partitionTracesById: e.partition_traces_by_id ?? false,
    compression: e.producer?.compression ?? 'gzip',
    compressionLevel: e.producer?.compression_params?.level ?? -1,
    maxMessageBytes: e.producer?.max_message_bytes ?? 1_000_000,
    requiredAcks: e.producer?.required_acks ?? -1,
    timeoutMs: parseDurationMs(e.timeout ?? '5s'),
  };
}

/** Loads and validates; throws ConfigError listing every issue. */
export function loadSieveConfig(path: string, opts: LoadOptions = {}): SieveConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([
      {
        file: path,
        line: 1,
        column: 1,
        path: '',
        message: `cannot read config: ${(err as Error).message}`,
      },
    ]);
  }
  const r = loadConfigText(text, path, opts);
  if (!r.config) throw new ConfigError(r.issues);
  return r.config;
}

export function validateConfigFile(
  path: string,
  opts: LoadOptions = {},
): { ok: boolean; errors: ConfigIssue[]; config?: SieveConfig } {
  try {
    const config = loadSieveConfig(path, opts);
    return { ok: true, errors: [], config };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, errors: err.issues };
    return {
      ok: false,
      errors: [
        {
          file: path,
          line: 1,
          column: 1,
          path: '',
          message: (err as Error).message,
        },
      ],
    };
  }
}
