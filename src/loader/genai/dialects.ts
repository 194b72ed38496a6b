/**
 * AI dialect tables (collector-config/ai-dialects.yaml, plus an optional user file): which attribute
 * names carry which canonical AI field, compiled once into a single Map from attribute key to
 * (field, precedence), so that resolution is one pass over each attribute list.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { YamlFile } from './yaml-file.js';

/** Canonical AI fields (the order is the index used by the resolver). */
export const FIELDS = [
  'provider',
  'operation',
  'request_model',
  'response_model',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_creation_tokens',
  'reasoning_tokens',
  'total_tokens',
  'cost_usd',
  'agent_name',
  'tool_name',
  'prompt_hash',
  'error_type',
  'conversation_id',
  'latency_ms',
  'token_type',
  'token_cache',
  'token_phase',
] as const;
export type Field = (typeof FIELDS)[number];
export const F = Object.fromEntries(FIELDS.map((f, i) => [f, i])) as { [K in Field]: number };
/** Fields that, found on a span through a non-weak alias, make it an AI span. */
export const IDENTIFYING: ReadonlySet<number> = new Set(
  (
    [
      'provider',
      'operation',
      'request_model',
      'response_model',
      'input_tokens',
      'output_tokens',
      'cache_read_tokens',
      'cache_creation_tokens',
      'reasoning_tokens',
      'total_tokens',
      'cost_usd',
      'agent_name',
      'tool_name',
      'prompt_hash',
    ] as const
  ).map((f) => F[f]),
);

const aliasSchema = z.union([
  z.string().min(1),
  z
    .object({
      key: z.string().min(1),
      weak: z.boolean().optional(),
      values: z.record(z.string(), z.string()).optional(),
      when: z.record(z.string(), z.string()).optional(),
    })
    .strict()
    .refine((a) => a.when == null || Object.keys(a.when).length === 1, {
      message: '`when` takes exactly one attribute: value pair',
    }),
]);
const fieldsSchema = z.partialRecord(z.enum(FIELDS), z.array(aliasSchema));
const dialectSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'dialect names are lowercase words: [a-z][a-z0-9_]*'),
    fields: fieldsSchema.default({}),
    input_excludes_cache_for: z.array(z.string()).optional(),
    output_excludes_reasoning_for: z.array(z.string()).optional(),
  })
  .strict();
const metricSchema = z
  .object({
    name: z.string().min(1),
    kind: z.enum(['tokens', 'duration']),
    unit: z.enum(['s', 'ms']).optional(),
  })
  .strict();
const TOKEN_TYPES = ['input', 'output', 'cache_read', 'cache_creation', 'reasoning'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];
const fileSchema = z
  .object({
    disable: z.array(z.string()).optional(),
    providers: z.record(z.string(), z.array(z.string())).optional(),
    aggregate_operations: z.record(z.string(), z.enum(['always', 'unless_client', 'never'])).optional(),
    dialects: z.array(dialectSchema).optional(),
    metrics: z.array(metricSchema).optional(),
    token_types: z.partialRecord(z.enum(TOKEN_TYPES), z.array(z.string())).optional(),
  })
  .strict();
type DialectFile = z.infer<typeof fileSchema>;
type DialectSpec = z.infer<typeof dialectSchema>;

export interface AliasRef {
  field: number;
  /** lower wins: dialect index × 1000 + alias index */
  rank: number;
  dialect: number;
  weak: boolean;
  /** only these values match, mapped to canonical values (keys compared as sent, then lowercased) */
  values?: Map<string, string>;
  when?: { key: string; value: string };
}

export interface MetricSpec {
  kind: 'tokens' | 'duration';
  /** seconds per unit of the instrument (duration only) */
  toSeconds: number;
}

export interface CompiledDialects {
  /** attribute key → the aliases it stands for (usually one) */
  byKey: Map<string, AliasRef[]>;
  /** attribute keys that `when` conditions read */
  watched: Set<string>;
  dialects: { name: string; inputExcludesCache: Set<string>; outputExcludesReasoning: Set<string> }[];
  /** lowercased provider value → canonical provider */
  providers: Map<string, string>;
  aggregateOperations: Map<string, 'always' | 'unless_client' | 'never'>;
  metrics: Map<string, MetricSpec>;
  /** lowercased token type value → canonical token type */
  tokenTypes: Map<string, TokenType>;
}

export const DEFAULT_DIALECTS_FILE = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../collector-config/ai-dialects.yaml',
);

function parseFile(text: string, file: string): DialectFile {
  const y = new YamlFile(text, file);
  const parsed = y.issues.length ? undefined : y.parse(fileSchema, y.root ?? {});
  if (parsed) {
    const names = new Set<string>();
    for (const [i, d] of (parsed.dialects ?? []).entries()) {
      if (names.has(d.name)) y.add(['dialects', i, 'name'], `dialect "${d.name}" is defined twice`);
      names.add(d.name);
      for (const [field, aliases] of Object.entries(d.fields))
        for (const [j, a] of (aliases ?? []).entries())
          if (typeof a === 'object' && a.values && Object.keys(a.values).length === 0)
            y.add(['dialects', i, 'fields', field, j, 'values'], '`values` must list at least one value');
    }
  }
  y.throwIfIssues();
  return parsed as DialectFile;
}

/** Presets (the shipped file) merged with an optional user file: user dialects first. */
export function mergeDialectFiles(presets: DialectFile, user?: DialectFile): DialectFile {
  if (!user) return presets;
  const disabled = new Set(user.disable ?? []);
  const presetNames = new Set((presets.dialects ?? []).map((d) => d.name));
  for (const name of disabled)
    if (!presetNames.has(name)) throw new Error(`ai dialects: cannot disable unknown preset "${name}"`);
  const extensions = new Map<string, DialectSpec>();
  const own: DialectSpec[] = [];
  for (const d of user.dialects ?? []) presetNames.has(d.name) ? extensions.set(d.name, d) : own.push(d);
  const merged = (presets.dialects ?? [])
    .filter((d) => !disabled.has(d.name))
    .map((d) => {
      const ext = extensions.get(d.name);
      if (!ext) return d;
      const fields: DialectSpec['fields'] = { ...d.fields };
      for (const [f, aliases] of Object.entries(ext.fields) as [Field, DialectSpec['fields'][Field]][])
        fields[f] = [...(fields[f] ?? []), ...(aliases ?? [])];
      return {
        ...d,
        fields,
        input_excludes_cache_for: [...(d.input_excludes_cache_for ?? []), ...(ext.input_excludes_cache_for ?? [])],
        output_excludes_reasoning_for: [
          ...(d.output_excludes_reasoning_for ?? []),
          ...(ext.output_excludes_reasoning_for ?? []),
        ],
      };
    });
  const providers: Record<string, string[]> = { ...(presets.providers ?? {}) };
  for (const [p, aliases] of Object.entries(user.providers ?? {})) providers[p] = [...(providers[p] ?? []), ...aliases];
  const tokenTypes = { ...(presets.token_types ?? {}) };
  for (const [t, values] of Object.entries(user.token_types ?? {}) as [TokenType, string[]][])
    tokenTypes[t] = [...(tokenTypes[t] ?? []), ...values];
  return {
    providers,
    aggregate_operations: { ...(presets.aggregate_operations ?? {}), ...(user.aggregate_operations ?? {}) },
    dialects: [...own, ...merged],
    metrics: [...(user.metrics ?? []), ...(presets.metrics ?? [])],
    token_types: tokenTypes,
  };
}

export function compileDialects(spec: DialectFile): CompiledDialects {
  const byKey = new Map<string, AliasRef[]>();
  const watched = new Set<string>();
  const dialects: CompiledDialects['dialects'] = [];
  const providers = new Map<string, string>();
  for (const [canonical, aliases] of Object.entries(spec.providers ?? {})) {
    providers.set(canonical.toLowerCase(), canonical);
    for (const a of aliases) providers.set(a.toLowerCase(), canonical);
  }
  const norm = (p: string) => providers.get(p.toLowerCase()) ?? p.toLowerCase();
  for (const [di, d] of (spec.dialects ?? []).entries()) {
    dialects.push({
      name: d.name,
      inputExcludesCache: new Set((d.input_excludes_cache_for ?? []).map(norm)),
      outputExcludesReasoning: new Set((d.output_excludes_reasoning_for ?? []).map(norm)),
    });
    for (const [fieldName, aliases] of Object.entries(d.fields) as [Field, z.infer<typeof aliasSchema>[]][]) {
      for (const [ai, a] of (aliases ?? []).entries()) {
        const key = typeof a === 'string' ? a : a.key;
        const ref: AliasRef = { field: F[fieldName], rank: di * 1000 + ai, dialect: di, weak: false };
        if (typeof a === 'object') {
          ref.weak = a.weak ?? false;
          if (a.values) {
            ref.values = new Map();
            for (const [from, to] of Object.entries(a.values)) {
              ref.values.set(from, to);
              ref.values.set(from.toLowerCase(), to);
            }
          }
          if (a.when) {
            const [wk, wv] = Object.entries(a.when)[0] as [string, string];
            ref.when = { key: wk, value: wv };
            watched.add(wk);
          }
        }
        const list = byKey.get(key);
        if (list) list.push(ref);
        else byKey.set(key, [ref]);
      }
    }
  }
  const metrics = new Map<string, MetricSpec>();
  for (const m of spec.metrics ?? [])
    if (!metrics.has(m.name)) metrics.set(m.name, { kind: m.kind, toSeconds: m.unit === 'ms' ? 1e-3 : 1 });
  const tokenTypes = new Map<string, TokenType>();
  for (const [t, values] of Object.entries(spec.token_types ?? {}) as [TokenType, string[]][]) {
    tokenTypes.set(t, t);
    for (const v of values) tokenTypes.set(v.toLowerCase(), t);
  }
  return {
    byKey,
    watched,
    dialects,
    providers,
    aggregateOperations: new Map(Object.entries(spec.aggregate_operations ?? {})),
    metrics,
    tokenTypes,
  };
}

/** Loads the presets (and, when given, a user file merged over them) and compiles them. */
export function loadDialects(opts: { presetsFile?: string; userFile?: string } = {}): CompiledDialects {
  const presetsFile = opts.presetsFile ?? DEFAULT_DIALECTS_FILE;
  const presets = parseFile(readFileSync(presetsFile, 'utf8'), presetsFile);
  const user = opts.userFile ? parseFile(readFileSync(opts.userFile, 'utf8'), opts.userFile) : undefined;
  return compileDialects(mergeDialectFiles(presets, user));
}

/** From YAML text (tests, `sieve validate`-style checks). */
export function parseDialects(presetsText: string, userText?: string, file = 'ai-dialects.yaml'): CompiledDialects {
  const presets = parseFile(presetsText, file);
  return compileDialects(mergeDialectFiles(presets, userText ? parseFile(userText, `user-${file}`) : undefined));
}

/**
 * Canonical provider name: the lowercased value, else its dotted prefixes (Vercel AI SDK ids such as
 * `openai.chat`, `google.vertex.chat`), else the lowercased value itself.
 */
export function normaliseProvider(d: CompiledDialects, value: string): string {
  const exact = d.providers.get(value);
  if (exact) return exact;
  const v = value.trim().toLowerCase();
  if (v === '') return '';
  const hit = d.providers.get(v);
  if (hit) return hit;
  for (let i = v.lastIndexOf('.'); i > 0; i = v.lastIndexOf('.', i - 1)) {
    const p = d.providers.get(v.slice(0, i));
    if (p) return p;
  }
  return v;
}
