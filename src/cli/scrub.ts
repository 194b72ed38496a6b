/**
 * `sieve scrub --config <yaml> [--explain]`: OTLP JSON on stdin → the signal's pipeline → OTLP JSON
 * on stdout. `--explain` lists on stderr every changed field — path, how (deleted / hashed / masked /
 * redacted N spans / set), and the processor and rule or detector — never a clear-text value.
 */
import { formatIssue } from '../config/errors.js';
import { validateConfigFile } from '../config/load.js';
import { decodeJson, encodeJson } from '../otlp/codec.js';
import type { RequestBySignal, Signal } from '../otlp/model.js';
import { PipelineRefusal, type SignalPipeline } from '../pipeline/api.js';
import { type FieldChange, formatChange } from '../pipeline/explain.js';

export function detectSignal(obj: unknown): Signal | undefined {
  if (obj == null || typeof obj !== 'object') return undefined;
  if ('resourceSpans' in obj) return 'traces';
  if ('resourceLogs' in obj) return 'logs';
  if ('resourceMetrics' in obj) return 'metrics';
  return undefined;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export async function runScrub(
  argv: string[],
  stdin: NodeJS.ReadableStream,
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const i = argv.indexOf('--config');
  const file = (i >= 0 ? argv[i + 1] : undefined) ?? process.env.SIEVE_CONFIG ?? 'collector-config/sieve.yaml';
  const explain = argv.includes('--explain');
  const changes: FieldChange[] = [];
  const v = validateConfigFile(file, explain ? { explain: (c) => changes.push(c) } : {});
  if (!v.ok || !v.config) {
    for (const e of v.errors) stderr.write(`${formatIssue(e)}\n`);
    return 1;
  }
  let obj: unknown;
  try {
    obj = JSON.parse(await readAll(stdin));
  } catch (err) {
    stderr.write(`stdin is not JSON: ${(err as Error).message}\n`);
    return 1;
  }
  const signal = detectSignal(obj);
  if (!signal) {
    stderr.write('stdin must be an OTLP JSON payload with resourceSpans, resourceLogs or resourceMetrics\n');
    return 1;
  }
  let req: RequestBySignal[Signal];
  try {
    req = decodeJson(signal, obj as object);
  } catch (err) {
    stderr.write(`invalid OTLP JSON: ${(err as Error).message}\n`);
    return 1;
  }
  const pipeline = v.config.pipelines[signal] as SignalPipeline<Signal> | undefined;
  let result: { request: RequestBySignal[Signal]; droppedItems: number };
  try {
    result = pipeline ? pipeline.process(req) : { request: req, droppedItems: 0 };
  } catch (err) {
    if (!(err instanceof PipelineRefusal)) throw err;
    stderr.write(`refused (the receiver would answer 400): ${err.message}\n`);
    return 1;
  }
  stdout.write(`${encodeJson(signal, result.request)}\n`);
  if (explain) {
    for (const c of changes) stderr.write(`${formatChange(c)}\n`);
    stderr.write(`explain: ${changes.length} field change(s) by ${pipeline?.id ?? 'no pipeline'} (${file})\n`);
  }
  if (result.droppedItems) stderr.write(`dropped ${result.droppedItems} item(s)\n`);
  return 0;
}
