/**
 * Canonical AI fields of a span: a pure function of (span attributes, resource attributes, span
 * kind/time, dialect tables, pricing) returning the values of GENAI_SPAN_COLUMNS.
 *
 * Hot path: each attribute list is read in one pass (one Map lookup per attribute); a resource's
 * list is resolved once and reused for all its spans; plain spans return a shared constant.
 */
import { anyValueKind, anyValueToString } from '../../otlp/anyvalue.js';
import { int64ToNumber } from '../../otlp/ids.js';
import type { AnyValue, KeyValue } from '../../otlp/model.js';
import { computeCost, findModel, type PricingTable, pricesAt } from '../pricing.js';
import { type CompiledDialects, F, FIELDS, IDENTIFYING, normaliseProvider } from './dialects.js';

/** Columns this module fills, in otel_traces order (name, ClickHouse type). */
export const GENAI_SPAN_COLUMNS = [
  ['GenAiProvider', 'LowCardinality(String)'],
  ['GenAiOperation', 'LowCardinality(String)'],
  ['GenAiRequestModel', 'LowCardinality(String)'],
  ['GenAiResponseModel', 'LowCardinality(String)'],
  ['GenAiInputTokens', 'UInt64'],
  ['GenAiOutputTokens', 'UInt64'],
  ['GenAiCacheReadTokens', 'UInt64'],
  ['GenAiReasoningTokens', 'UInt64'],
  ['GenAiToolName', 'LowCardinality(String)'],
  ['GenAiAgentName', 'LowCardinality(String)'],
  ['GenAiPromptHash', 'String'],
  ['GenAiCostUsd', 'Float64'],
  ['GenAiCostSource', 'LowCardinality(String)'],
  ['GenAiCacheCreationTokens', 'UInt64'],
  ['GenAiErrorType', 'LowCardinality(String)'],
  ['GenAiConversationId', 'String'],
  ['GenAiDialect', 'LowCardinality(String)'],
  ['GenAiBillable', 'UInt8'],
  ['GenAiLatencyMs', 'Float64'],
] as const;

export type CostSource = '' | 'span' | 'pricing' | 'unknown_model' | 'invalid_usage';

export interface GenAiFields {
  GenAiProvider: string;
  GenAiOperation: string;
  GenAiRequestModel: string;
  GenAiResponseModel: string;
  GenAiInputTokens: number;
  GenAiOutputTokens: number;
  GenAiCacheReadTokens: number;
  GenAiReasoningTokens: number;
  GenAiToolName: string;
  GenAiAgentName: string;
  GenAiPromptHash: string;
  GenAiCostUsd: number;
  GenAiCostSource: CostSource;
  GenAiCacheCreationTokens: number;
  GenAiErrorType: string;
  GenAiConversationId: string;
  /** dialects that supplied at least one field, in precedence order, comma-separated */
  GenAiDialect: string;
  /** 1: tokens and cost count in llm_1m; 0: an aggregate whose children carry the same usage */
  GenAiBillable: number;
  GenAiLatencyMs: number;
}

/** The values of a span that carries no AI field. */
export const PLAIN_SPAN: Readonly<GenAiFields> = Object.freeze({
  GenAiProvider: '',
  GenAiOperation: '',
  GenAiRequestModel: '',
  GenAiResponseModel: '',
  GenAiInputTokens: 0,
  GenAiOutputTokens: 0,
  GenAiCacheReadTokens: 0,
  GenAiReasoningTokens: 0,
  GenAiToolName: '',
  GenAiAgentName: '',
  GenAiPromptHash: '',
  GenAiCostUsd: 0,
  GenAiCostSource: '',
  GenAiCacheCreationTokens: 0,
  GenAiErrorType: '',
  GenAiConversationId: '',
  GenAiDialect: '',
  GenAiBillable: 0,
  GenAiLatencyMs: 0,
});

/** The winning alias of each field in one attribute list. */
export interface ListResolution {
  /** per field: the winning value (string, or the AnyValue of a numeric field), undefined when absent */
  values: (AnyValue | string | undefined)[];
  dialects: Int16Array;
  /** an identifying field came through a non-weak alias */
  strong: boolean;
  any: boolean;
}

export interface GenAiHooks {
  onUnknownModel?: (provider: string, model: string) => void;
  /** a token count or cost that was negative, not a number, or absurd: not summed into cost */
  onInvalidUsage?: (field: string, dialect: string) => void;
}

const NF = FIELDS.length;
const NUMERIC = new Set([
  F.input_tokens,
  F.output_tokens,
  F.cache_read_tokens,
  F.cache_creation_tokens,
  F.reasoning_tokens,
  F.total_tokens,
  F.cost_usd,
  F.latency_ms,
]);
/** a token count above this is a bug upstream, not usage */
export const MAX_TOKENS = 1e9;
const EMPTY_LIST: ListResolution = { values: [], dialects: new Int16Array(0), strong: false, any: false };

function stringOf(v: AnyValue): string {
  return anyValueKind(v) === 'string' ? (v.stringValue as string) : anyValueToString(v);
}

/** One pass over an attribute list. */
export function resolveList(d: CompiledDialects, attrs: readonly KeyValue[] | null | undefined): ListResolution {
  if (attrs == null || attrs.length === 0) return EMPTY_LIST;
  let ranks: Int32Array | undefined;
  let out: ListResolution | undefined;
  let pending:
    | {
        ref: { field: number; rank: number; dialect: number; weak: boolean; when?: { key: string; value: string } };
        value: AnyValue | string;
      }[]
    | undefined;
  let watchedValues: Map<string, string> | undefined;
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i] as KeyValue;
    if (d.watched.has(kv.key)) (watchedValues ??= new Map()).set(kv.key, stringOf(kv.value ?? {}));
    const refs = d.byKey.get(kv.key);
    if (refs === undefined) continue;
    const value = kv.value ?? {};
    if (anyValueKind(value) === 'empty') continue;
    for (let r = 0; r < refs.length; r++) {
      const ref = refs[r]!;
      let v: AnyValue | string = value;
      if (ref.values) {
        const s = stringOf(value);
        const mapped = ref.values.get(s) ?? ref.values.get(s.toLowerCase());
        if (mapped === undefined) continue;
        v = mapped;
      } else if (!NUMERIC.has(ref.field)) {
        const s = stringOf(value);
        if (s === '') continue;
        v = s;
      }
      if (ref.when) {
        (pending ??= []).push({ ref, value: v });
        continue;
      }
      if (out === undefined) {
        out = { values: new Array(NF), dialects: new Int16Array(NF).fill(-1), strong: false, any: false };
        ranks = new Int32Array(NF).fill(0x7fffffff);
      }
      if (ref.rank < ranks![ref.field]!) {
        ranks![ref.field] = ref.rank;
        out.values[ref.field] = v;
        out.dialects[ref.field] = ref.dialect;
      }
      out.any = true;
      if (!ref.weak && IDENTIFYING.has(ref.field)) out.strong = true;
    }
  }
  if (pending) {
    for (const { ref, value } of pending) {
      if (watchedValues?.get(ref.when!.key) !== ref.when!.value) continue;
      if (out === undefined) {
        out = { values: new Array(NF), dialects: new Int16Array(NF).fill(-1), strong: false, any: false };
        ranks = new Int32Array(NF).fill(0x7fffffff);
      }
      if (ref.rank < ranks![ref.field]!) {
        ranks![ref.field] = ref.rank;
        out.values[ref.field] = value;
        out.dialects[ref.field] = ref.dialect;
      }
      out.any = true;
      if (!ref.weak && IDENTIFYING.has(ref.field)) out.strong = true;
    }
  }
  return out ?? EMPTY_LIST;
}

/** A number from an int, double or numeric string; undefined when it is anything else. */
function numberOf(v: AnyValue | string): number | undefined {
  if (typeof v === 'string') return undefined;
  switch (anyValueKind(v)) {
    case 'int':
      return int64ToNumber(v.intValue);
    case 'double':
      return v.doubleValue as number;
    case 'string': {
      const s = (v.stringValue as string).trim();
      if (s === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return undefined;
      return Number(s);
    }
    default:
      return undefined;
  }
}

export interface SpanInfo {
  /** OTLP SpanKind number (3 = CLIENT) */
  kind: number;
  /** span start, ms since epoch (prices are those valid at this time) */
  timeMs: number;
}

/**
 * The span's GenAI column values. `resource` is resolveList() of its resource attributes (computed
 * once per resource). A span whose own attributes carry no identifying AI field is a plain span.
 */
export function resolveSpan(
  d: CompiledDialects,
  spanAttrs: readonly KeyValue[] | null | undefined,
  resource: ListResolution,
  span: SpanInfo,
  pricing: PricingTable | undefined,
  hooks: GenAiHooks = {},
): GenAiFields {
  const own = resolveList(d, spanAttrs);
  if (!own.strong) return PLAIN_SPAN;
  const used = new Set<number>();
  const pick = (f: number): AnyValue | string | undefined => {
    let v = own.values[f];
    let di = own.dialects[f];
    if (v === undefined && resource.any) {
      v = resource.values[f];
      di = resource.dialects[f];
    }
    if (v !== undefined && di !== undefined && di >= 0) used.add(di);
    return v;
  };
  const dialectOf = (f: number): number => {
    const di = own.values[f] !== undefined ? own.dialects[f] : resource.dialects[f];
    return di ?? -1;
  };
  const str = (f: number): string => {
    const v = pick(f);
    return v === undefined ? '' : typeof v === 'string' ? v : stringOf(v);
  };
  let invalid = false;
  const count = (f: number): number | undefined => {
    const v = pick(f);
    if (v === undefined) return undefined;
    const n = numberOf(v);
    if (n === undefined || !Number.isFinite(n) || n < 0 || n > MAX_TOKENS || !Number.isInteger(n)) {
      invalid = true;
      hooks.onInvalidUsage?.(FIELDS[f]!, d.dialects[dialectOf(f)]?.name ?? '');
      return 0;
    }
    return n;
  };

  const provider = normaliseProvider(d, str(F.provider));
  const operation = str(F.operation);
  const requestModel = str(F.request_model);
  const responseModel = str(F.response_model);
  let input = count(F.input_tokens);
  let output = count(F.output_tokens);
  const cacheRead = count(F.cache_read_tokens) ?? 0;
  const cacheCreation = count(F.cache_creation_tokens) ?? 0;
  const reasoning = count(F.reasoning_tokens) ?? 0;
  const total = count(F.total_tokens);
  if (total !== undefined && total > 0) {
    if (input === undefined && output !== undefined && total >= output) input = total - output;
    else if (output === undefined && input !== undefined && total >= input) output = total - input;
  }
  input ??= 0;
  output ??= 0;
  // canonical: input includes cache tokens, output includes reasoning tokens
  const inputDialect = d.dialects[dialectOf(F.input_tokens)];
  if (
    cacheRead + cacheCreation > 0 &&
    (input < cacheRead + cacheCreation || inputDialect?.inputExcludesCache.has(provider))
  )
    input += cacheRead + cacheCreation;
  const outputDialect = d.dialects[dialectOf(F.output_tokens)];
  if (reasoning > 0 && (output < reasoning || outputDialect?.outputExcludesReasoning.has(provider)))
    output += reasoning;

  const aggregate = d.aggregateOperations.get(operation);
  const billable =
    aggregate === undefined || aggregate === 'never' || (aggregate === 'unless_client' && span.kind === 3);

  const f: GenAiFields = {
    GenAiProvider: provider,
    GenAiOperation: operation,
    GenAiRequestModel: requestModel,
    GenAiResponseModel: responseModel,
    GenAiInputTokens: input,
    GenAiOutputTokens: output,
    GenAiCacheReadTokens: cacheRead,
    GenAiReasoningTokens: reasoning,
    GenAiToolName: str(F.tool_name),
    GenAiAgentName: str(F.agent_name),
    GenAiPromptHash: str(F.prompt_hash),
    GenAiCostUsd: 0,
    GenAiCostSource: '',
    GenAiCacheCreationTokens: cacheCreation,
    GenAiErrorType: str(F.error_type),
    GenAiConversationId: str(F.conversation_id),
    GenAiDialect: '',
    GenAiBillable: billable ? 1 : 0,
    GenAiLatencyMs: 0,
  };
  const latency = pick(F.latency_ms);
  if (latency !== undefined) {
    const ms = numberOf(latency);
    if (ms !== undefined && Number.isFinite(ms) && ms >= 0 && ms < 864e5 * 365) f.GenAiLatencyMs = ms;
  }

  const cost = pick(F.cost_usd);
  let spanCost: number | undefined;
  if (cost !== undefined) {
    const c = numberOf(cost);
    if (c !== undefined && Number.isFinite(c) && c >= 0 && c < 1e6) spanCost = c;
    else {
      invalid = true;
      hooks.onInvalidUsage?.('cost_usd', d.dialects[dialectOf(F.cost_usd)]?.name ?? '');
    }
  }
  if (spanCost !== undefined) {
    f.GenAiCostUsd = spanCost;
    f.GenAiCostSource = 'span';
  } else if (input + output > 0 || invalid) {
    const priced = priceSpan(pricing, f, span.timeMs);
    f.GenAiCostUsd = priced.cost;
    f.GenAiCostSource = invalid ? 'invalid_usage' : priced.source;
    if (priced.source === 'unknown_model' && billable && !invalid)
      hooks.onUnknownModel?.(provider, responseModel || requestModel);
  }
  f.GenAiDialect = dialectList(d, used);
  return f;
}

function dialectList(d: CompiledDialects, used: Set<number>): string {
  if (used.size === 1) return d.dialects[used.values().next().value as number]?.name ?? '';
  return [...used]
    .sort((a, b) => a - b)
    .map((i) => d.dialects[i]?.name ?? '')
    .join(',');
}

/**
 * Cost of a span from the pricing table (response model first, then request model), at the price
 * valid at the span's time. Used by the loader and by `sieve reprice`.
 */
export function priceSpan(
  pricing: PricingTable | undefined,
  f: Pick<
    GenAiFields,
    | 'GenAiProvider'
    | 'GenAiRequestModel'
    | 'GenAiResponseModel'
    | 'GenAiInputTokens'
    | 'GenAiOutputTokens'
    | 'GenAiCacheReadTokens'
    | 'GenAiCacheCreationTokens'
    | 'GenAiReasoningTokens'
  >,
  timeMs: number,
): { cost: number; source: 'pricing' | 'unknown_model' } {
  if (pricing) {
    const entry =
      findModel(pricing, f.GenAiProvider, f.GenAiResponseModel) ??
      findModel(pricing, f.GenAiProvider, f.GenAiRequestModel);
    const p = entry && pricesAt(entry, timeMs, f.GenAiInputTokens);
    if (p)
      return {
        cost: computeCost(p, {
          input: f.GenAiInputTokens,
          output: f.GenAiOutputTokens,
          cacheRead: f.GenAiCacheReadTokens,
          cacheCreation: f.GenAiCacheCreationTokens,
          reasoning: f.GenAiReasoningTokens,
        }),
        source: 'pricing',
      };
  }
  return { cost: 0, source: 'unknown_model' };
}
