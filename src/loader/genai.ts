/**
 * GenAI fields of spans and metric points, in every dialect of collector-config/ai-dialects.yaml
 * (genai/dialects.ts: tables; genai/resolve.ts: spans; genai/metrics.ts: metric points).
 */
import type { KeyValue } from '../otlp/model.js';
import { type CompiledDialects, loadDialects } from './genai/dialects.js';
import { type GenAiFields, type GenAiHooks, resolveList, resolveSpan } from './genai/resolve.js';
import type { PricingTable } from './pricing.js';

export type { AliasRef, CompiledDialects } from './genai/dialects.js';
export type { GenAiFields, GenAiHooks, ListResolution } from './genai/resolve.js';
export { GENAI_SPAN_COLUMNS, PLAIN_SPAN, readsKey, resolveList, resolveSpan } from './genai/resolve.js';

let presets: CompiledDialects | undefined;
/** The shipped presets (collector-config/ai-dialects.yaml), loaded on first use. */
export function defaultDialects(): CompiledDialects {
  presets ??= loadDialects();
  return presets;
}

/** Dialect tables from the environment: presets, plus SIEVE_AI_DIALECTS (a user file) when set. */
export function dialectsFromEnv(env: NodeJS.ProcessEnv = process.env): CompiledDialects {
  return env.SIEVE_AI_DIALECTS ? loadDialects({ userFile: env.SIEVE_AI_DIALECTS }) : defaultDialects();
}

export type UnknownModelHook = (provider: string, model: string) => void;

/** One span's GenAI columns without resource attributes (tests and simple callers). */
export function extractGenAi(
  attrs: KeyValue[] | null | undefined,
  pricing: PricingTable | undefined,
  onUnknown?: UnknownModelHook,
  opts: { resource?: KeyValue[]; kind?: number; timeMs?: number; dialects?: CompiledDialects; hooks?: GenAiHooks } = {},
): GenAiFields {
  const d = opts.dialects ?? defaultDialects();
  return resolveSpan(
    d,
    attrs,
    resolveList(d, opts.resource),
    { kind: opts.kind ?? 0, timeMs: opts.timeMs ?? Date.now() },
    pricing,
    { onUnknownModel: onUnknown, ...opts.hooks },
  );
}
