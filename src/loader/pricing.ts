/**
 * GenAI pricing (collector-config/pricing.yaml): USD per million tokens per provider and model, per
 * token type, with prompt-size tiers and effective dates.
 *
 * A model is found by: exact name (case-insensitive), then the model's own `match` regexes, then a
 * configured name followed by a version suffix (gpt-4o-2024-08-06 → gpt-4o, claude-3-5-haiku-20241022
 * → claude-3-5-haiku, gemini-1.5-pro-002, claude-3-5-sonnet@20240620, …-v1:0). Always within the span's
 * provider; with no provider, the first provider (in file order) that has the model.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { YamlFile } from './genai/yaml-file.js';

const perMillion = z.number().nonnegative().finite();
const prices = {
  input_per_million: perMillion,
  output_per_million: perMillion,
  /** default: the input price */
  cache_read_per_million: perMillion.optional(),
  /** default: the input price */
  cache_creation_per_million: perMillion.optional(),
  /** reasoning tokens are part of the output tokens; default: the output price */
  reasoning_per_million: perMillion.optional(),
};
const tierSchema = z
  .object({
    /** the tier applies to a request whose input tokens (cache included) exceed this */
    above_input_tokens: z.number().int().positive(),
    input_per_million: perMillion.optional(),
    output_per_million: perMillion.optional(),
    cache_read_per_million: perMillion.optional(),
    cache_creation_per_million: perMillion.optional(),
    reasoning_per_million: perMillion.optional(),
  })
  .strict();
const dateSchema = z.union([z.string(), z.date()]).transform((v, ctx) => {
  const ms = v instanceof Date ? v.getTime() : Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: `not a date: ${String(v)} (use YYYY-MM-DD, UTC)` });
    return z.NEVER;
  }
  return ms;
});
const versionSchema = z
  .object({
    ...prices,
    effective_from: dateSchema.optional(),
    match: z.array(z.string()).optional(),
    tiers: z.array(tierSchema).optional(),
  })
  .strict();
// one price, or a list of versions with effective_from
const modelSchema = z.preprocess((v) => (Array.isArray(v) ? v : [v]), z.array(versionSchema).min(1));
const pricingSchema = z.object({ providers: z.record(z.string(), z.record(z.string(), modelSchema)) }).strict();

export interface Prices {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
  reasoning: number;
}
export interface PriceVersion extends Prices {
  /** ms since epoch; -Infinity when the entry has no effective_from */
  from: number;
  /** ascending by threshold */
  tiers: { above: number; prices: Prices }[];
}
interface ModelEntry {
  provider: string;
  name: string;
  lower: string;
  matchers: RegExp[];
  /** ascending by `from` */
  versions: PriceVersion[];
}
export interface PricingTable {
  providers: Map<string, ModelEntry[]>;
  /** provider order of the file (for spans without a provider) */
  order: string[];
  /** lookups already done: provider \0 model → entry (null: none) */
  memo: Map<string, ModelEntry | null>;
}
const MEMO_MAX = 10_000;

/** Version suffixes a dated model name may carry after its configured name. */
const VERSION_SUFFIX =
  /^(?:[-@](?:\d{4}-\d{2}-\d{2}|\d{8}|\d{2}-\d{2}|\d{3,4}|latest|preview|exp))+(?:-v\d+(?::\d+)?)?$/;

function toPrices(p: Partial<Record<keyof typeof prices, number | undefined>>, base?: Prices): Prices {
  const input = p.input_per_million ?? base?.input ?? 0;
  const output = p.output_per_million ?? base?.output ?? 0;
  return {
    input,
    output,
    cacheRead: p.cache_read_per_million ?? base?.cacheRead ?? input,
    cacheCreation: p.cache_creation_per_million ?? base?.cacheCreation ?? input,
    reasoning: p.reasoning_per_million ?? base?.reasoning ?? output,
  };
}

export function parsePricing(text: string, file = 'pricing.yaml'): PricingTable {
  const y = new YamlFile(text, file);
  const parsed = y.issues.length ? undefined : y.parse(pricingSchema, y.root ?? {});
  const table: PricingTable = { providers: new Map(), order: [], memo: new Map() };
  if (parsed) {
    for (const [provider, models] of Object.entries(parsed.providers)) {
      const entries: ModelEntry[] = [];
      for (const [name, spec] of Object.entries(models)) {
        const list = spec;
        const matchers: RegExp[] = [];
        const versions: PriceVersion[] = [];
        for (const [i, v] of list.entries()) {
          const at = ['providers', provider, name, ...(list.length > 1 ? [i] : [])];
          for (const [j, m] of (v.match ?? []).entries()) {
            try {
              matchers.push(new RegExp(`^(?:${m})$`, 'i'));
            } catch (err) {
              y.add([...at, 'match', j], `invalid regular expression: ${(err as Error).message}`);
            }
          }
          const base = toPrices(v);
          const tiers = (v.tiers ?? [])
            .map((t) => ({ above: t.above_input_tokens, prices: toPrices(t, base) }))
            .sort((a, b) => a.above - b.above);
          versions.push({ ...base, from: v.effective_from ?? Number.NEGATIVE_INFINITY, tiers });
        }
        versions.sort((a, b) => a.from - b.from);
        for (let i = 1; i < versions.length; i++)
          if (versions[i]!.from === versions[i - 1]!.from)
            y.add(['providers', provider, name], 'two price versions with the same effective_from');
        entries.push({ provider, name, lower: name.toLowerCase(), matchers, versions });
      }
      table.providers.set(provider, entries);
      table.order.push(provider);
    }
  }
  y.throwIfIssues();
  return table;
}

export function loadPricing(file: string): PricingTable {
  return parsePricing(readFileSync(file, 'utf8'), file);
}

function findEntry(entries: ModelEntry[], model: string): ModelEntry | undefined {
  for (const e of entries) if (e.lower === model) return e;
  for (const e of entries) for (const m of e.matchers) if (m.test(model)) return e;
  let best: ModelEntry | undefined;
  for (const e of entries)
    if (model.startsWith(e.lower) && VERSION_SUFFIX.test(model.slice(e.lower.length)))
      if (!best || e.lower.length > best.lower.length) best = e;
  return best;
}

/** The price entry of a model: exact, then `match`, then a dated version of a configured name. */
export function findModel(table: PricingTable, provider: string, model: string): ModelEntry | undefined {
  if (model === '') return undefined;
  const key = `${provider}\0${model}`;
  const hit = table.memo.get(key);
  if (hit !== undefined) return hit ?? undefined;
  const found = lookupModel(table, provider, model);
  if (table.memo.size >= MEMO_MAX) table.memo.clear();
  table.memo.set(key, found ?? null);
  return found;
}

function lookupModel(table: PricingTable, provider: string, model: string): ModelEntry | undefined {
  let m = model.trim().toLowerCase();
  if (m === '') return undefined;
  if (m.startsWith('models/')) m = m.slice(7); // Gemini API resource names
  const candidates = [m];
  const slash = m.indexOf('/');
  if (slash > 0) candidates.push(m.slice(slash + 1)); // router style: openai/gpt-4o
  const providers = provider !== '' ? [provider] : table.order;
  for (const p of providers) {
    const entries = table.providers.get(p);
    if (!entries) continue;
    for (const c of candidates) {
      const e = findEntry(entries, c);
      if (e) return e;
    }
  }
  return undefined;
}

/** The prices valid at `timeMs` for a request of `inputTokens` (tier applied), or undefined. */
export function pricesAt(entry: ModelEntry, timeMs: number, inputTokens: number): Prices | undefined {
  let v: PriceVersion | undefined;
  for (const x of entry.versions) if (x.from <= timeMs) v = x;
  if (!v) return undefined;
  let p: Prices = v;
  for (const t of v.tiers) if (inputTokens > t.above) p = t.prices;
  return p;
}

export interface Usage {
  /** all input tokens, cache read and cache creation included */
  input: number;
  /** all output tokens, reasoning included */
  output: number;
  cacheRead: number;
  cacheCreation: number;
  reasoning: number;
}

/** Cost in USD: each token billed once, at the price of its type. */
export function computeCost(p: Prices, u: Usage): number {
  const cached = Math.min(u.input, u.cacheRead + u.cacheCreation);
  const uncached = u.input - cached;
  const cacheRead = Math.min(u.cacheRead, cached);
  const cacheCreation = cached - cacheRead;
  const reasoning = Math.min(u.reasoning, u.output);
  const text = u.output - reasoning;
  return (
    (uncached * p.input +
      cacheRead * p.cacheRead +
      cacheCreation * p.cacheCreation +
      text * p.output +
      reasoning * p.reasoning) /
    1e6
  );
}

/** USD per token of one token type at `timeMs` (metric points: per-type counters, base tier). */
export function pricePerToken(p: Prices, type: string): number {
  switch (type) {
    case 'input':
      return p.input / 1e6;
    case 'input:cache_read':
      return p.cacheRead / 1e6;
    case 'input:cache_creation':
      return p.cacheCreation / 1e6;
    case 'output':
      return p.output / 1e6;
    case 'output:reasoning':
      return p.reasoning / 1e6;
    // separate series whose tokens are also inside an input / output series: the price difference
    case 'cache_read':
      return (p.cacheRead - p.input) / 1e6;
    case 'cache_creation':
      return (p.cacheCreation - p.input) / 1e6;
    case 'reasoning':
      return (p.reasoning - p.output) / 1e6;
    default:
      return 0;
  }
}
