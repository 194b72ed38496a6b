/**
 * `sieve validate --print-keys [--key K …] <config.yaml>`: the attribute-key rules of the pipelines'
 * processors (attributes/resource delete and hash actions; redaction identifier_keys, credential_keys,
 * blocked_key_patterns, ignored_keys), and for each `--key` what the traces pipeline does to an
 * attribute of that name (run for real on a sample span, as `sieve scrub --explain` would show it).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { formatIssue } from '../config/errors.js';
import { validateConfigFile } from '../config/load.js';
import type { ExportTraceServiceRequest } from '../otlp/model.js';
import { type FieldChange, formatChange } from '../pipeline/explain.js';
import { keyWords } from '../pipeline/key-names.js';

type Rec = Record<string, unknown>;
const asRec = (v: unknown): Rec => (v != null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : {});
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []);

function processorRules(id: string, cfg: Rec): string[] {
  const type = id.split('/')[0];
  const lines: string[] = [];
  const list = (label: string, xs: string[]) => {
    if (xs.length) lines.push(`  ${label}: ${xs.join(', ')}`);
  };
  if (type === 'attributes' || type === 'resource') {
    const actions = Array.isArray(cfg.actions) ? cfg.actions : Array.isArray(cfg.attributes) ? cfg.attributes : [];
    for (const a of actions.map(asRec))
      if (a.action === 'delete' || a.action === 'hash')
        lines.push(
          `  ${a.action === 'delete' ? 'deleted' : 'hashed'}: ${a.key != null ? `key ${a.key}` : `pattern ${a.pattern}`}`,
        );
  }
  if (type === 'redaction') {
    list('identifier_keys (hashed; any spelling, prefixes allowed)', strings(cfg.identifier_keys));
    list('credential_keys (deleted; any spelling, prefixes allowed)', strings(cfg.credential_keys));
    list(
      `blocked_key_patterns (${cfg.hash_function === 'none' ? 'masked' : 'hashed'})`,
      strings(cfg.blocked_key_patterns),
    );
    list('ignored_keys (never touched)', strings(cfg.ignored_keys));
    if (cfg.allow_all_keys !== true) list('allowed_keys (all other keys deleted)', strings(cfg.allowed_keys));
  }
  return lines;
}

function sampleSpan(key: string): ExportTraceServiceRequest {
  return {
    resourceSpans: [
      {
        resource: { attributes: [] },
        scopeSpans: [
          {
            scope: { name: 'print-keys' },
            spans: [{ name: 'sample', attributes: [{ key, value: { stringValue: 'sample-value' } }] }],
          },
        ],
      },
    ],
  };
}

export async function runPrintKeys(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const keys: string[] = [];
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--key' || a === '--config') {
      const v = argv[++i];
      if (v === undefined) {
        err.write(`${a} needs a value\n`);
        return 2;
      }
      (a === '--key' ? keys : files).push(v);
    } else if (!a.startsWith('-')) files.push(a);
  }
  const file = files[0] ?? process.env.SIEVE_CONFIG ?? 'collector-config/sieve.yaml';
  const changes: FieldChange[] = [];
  const v = validateConfigFile(file, { explain: (c) => changes.push(c) });
  if (!v.ok || !v.config) {
    for (const i of v.errors) err.write(`${formatIssue(i)}\n`);
    return 1;
  }
  const root = asRec(parse(readFileSync(file, 'utf8')));
  const processors = asRec(root.processors);
  const used = new Set<string>();
  for (const p of Object.values(v.config.pipelines)) for (const id of p?.processorIds ?? []) used.add(id);
  out.write(`${file}: attribute keys by processor\n`);
  for (const id of used) {
    const lines = processorRules(id, asRec(processors[id]));
    if (lines.length) out.write(`${id}\n${lines.join('\n')}\n`);
  }
  const traces = v.config.pipelines.traces;
  for (const key of keys) {
    changes.length = 0;
    traces?.process(sampleSpan(key));
    const mine = changes.filter((c) => c.path.endsWith(`.attributes${JSON.stringify([key])}`));
    const words = keyWords(key).join(' ');
    if (mine.length === 0)
      out.write(`--key ${key} (words: ${words}): kept as is by ${traces?.id ?? 'no traces pipeline'}\n`);
    for (const c of mine) out.write(`--key ${key} (words: ${words}): ${formatChange(c).replace(/^.*?: /, '')}\n`);
  }
  return 0;
}
