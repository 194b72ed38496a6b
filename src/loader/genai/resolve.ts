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
import {
  type AliasRef,
  type CompiledDialects,
  F as FIELD_INDEX,
  FIELDS as FIELD_NAMES,
  IDENTIFYING as IDENTIFYING_FIELDS,
  normaliseProvider,
} from './dialects.js';

// module-local copies: imported bindings are read through getters on this hot path
const F = { ...FIELD_INDEX };
const FIELDS: readonly string[] = [...FIELD_NAMES];
const IDENTIFYING: boolean[] = FIELDS.map((_, i) => IDENTIFYING_FIELDS.has(i));

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
  /** per field: the dialect of the winning alias, -1 when absent */
  dialects: Int16Array;
  /** bit f: field f has a value (what the next resolution into the same scratch resets) */
  set: number;
  /** an identifying field came through a non-weak alias */
  strong: boolean;
  any: boolean;
}

/** Called for each span (or `count` spans at once, when a caller adds them up) with an unpriced model or bad usage. */
export interface GenAiHooks {
  onUnknownModel?: (provider: string, model: string, count?: number) => void;
  /** a token count or cost that was negative, not a number, or absurd: not summed into cost */
  onInvalidUsage?: (field: string, dialect: string, count?: number) => void;
}

const NF = FIELDS.length;
// ListResolution.set is a bit per field
if (NF > 31) throw new Error('GenAI fields: at most 31');
const NUMERIC: boolean[] = FIELDS.map((_, i) =>
  [
    F.input_tokens,
    F.output_tokens,
    F.cache_read_tokens,
    F.cache_creation_tokens,
    F.reasoning_tokens,
    F.total_tokens,
    F.cost_usd,
    F.latency_ms,
  ].includes(i),
);
/** a token count above this is a bug upstream, not usage */
export const MAX_TOKENS = 1e9;
const EMPTY_LIST: ListResolution = Object.freeze({
  values: new Array(NF).fill(undefined),
  dialects: new Int16Array(NF).fill(-1),
  set: 0,
  strong: false,
  any: false,
}) as ListResolution;

function stringOf(v: AnyValue): string {
  return anyValueKind(v) === 'string' ? (v.stringValue as string) : anyValueToString(v);
}

/** keys of the list being resolved that are aliases (scratch: no allocation per span) */
const SEEN: string[] = [];

/** One pass over an attribute list into `out` (reset first); returns `out`. */
function resolveInto(
  d: CompiledDialects,
  attrs: readonly KeyValue[] | null | undefined,
  out: ListResolution,
  ranks: Int32Array,
  aliasRefs?: readonly (AliasRef[] | undefined)[],
): ListResolution {
  // only the fields the last resolution into `out` set: no fill (a runtime call) or loop over every field
  for (let m = out.set; m !== 0; m &= m - 1) {
    const f = 31 - Math.clz32(m & -m);
    out.values[f] = undefined;
    out.dialects[f] = -1;
    ranks[f] = NO_RANK;
  }
  out.set = 0;
  out.strong = false;
  out.any = false;
  if (attrs == null || attrs.length === 0) return out;
  let pending: { ref: AliasRef; value: AnyValue | string }[] | undefined;
  let watchedValues: Map<string, string> | undefined;
  // of a key written twice (invalid OTLP), the first is read, as the attribute maps store it
  let seen = 0; // SEEN[0, seen) (a count, not SEEN.length = 0: that is a runtime call)
  attributes: for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i] as KeyValue;
    const refs = aliasRefs ? aliasRefs[i] : d.byKey.get(kv.key);
    if (refs === undefined && !(d.watched.size > 0 && d.watched.has(kv.key))) continue;
    for (let s = 0; s < seen; s++) if (SEEN[s] === kv.key) continue attributes;
    SEEN[seen++] = kv.key;
    if (d.watched.size > 0 && d.watched.has(kv.key))
      (watchedValues ??= new Map()).set(kv.key, stringOf(kv.value ?? {}));
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
      } else if (!NUMERIC[ref.field]) {
        const s = stringOf(value);
        if (s === '') continue;
        v = s;
      }
      if (ref.when) (pending ??= []).push({ ref, value: v });
      else offer(out, ranks, ref, v);
    }
  }
  if (pending)
    for (const { ref, value } of pending)
      if (watchedValues?.get(ref.when!.key) === ref.when!.value) offer(out, ranks, ref, value);
  return out;
}

function offer(out: ListResolution, ranks: Int32Array, ref: AliasRef, v: AnyValue | string): void {
  if (ref.rank < ranks[ref.field]!) {
    ranks[ref.field] = ref.rank;
    out.values[ref.field] = v;
    out.dialects[ref.field] = ref.dialect;
    out.set |= 1 << ref.field;
  }
  out.any = true;
  if (!ref.weak && IDENTIFYING[ref.field]) out.strong = true;
}

const NO_RANK = 0x7fffffff;
/** An empty resolution, and the ranks of its winning aliases (all NO_RANK), to resolve into. */
const newList = (): ListResolution => ({
  values: new Array(NF).fill(undefined),
  dialects: new Int16Array(NF).fill(-1),
  set: 0,
  strong: false,
  any: false,
});

/**
 * Whether the resolution reads attributes with this key (an alias, or a key a `when` condition
 * watches). Resolving a list gives the same fields as resolving only its keys for which this holds,
 * in the same order: the span encoder hands resolveSpan just those.
 */
export function readsKey(d: CompiledDialects, key: string): boolean {
  return d.byKey.has(key) || d.watched.has(key);
}

/** One pass over an attribute list (a resource's: resolved once, reused for all its spans). */
export function resolveList(d: CompiledDialects, attrs: readonly KeyValue[] | null | undefined): ListResolution {
  if (attrs == null || attrs.length === 0) return EMPTY_LIST;
  const out = resolveInto(d, attrs, newList(), new Int32Array(NF).fill(NO_RANK));
  return out.any ? out : EMPTY_LIST;
}

// scratch for the span's own list and the merged fields (the hot path allocates only its result)
const SPAN = newList();
const SPAN_RANKS = new Int32Array(NF).fill(NO_RANK);
const VAL: (AnyValue | string | undefined)[] = new Array(NF).fill(undefined);
const DIA = new Int16Array(NF).fill(-1);
/** the fields VAL holds a value for (bit mask) */
let valSet = 0;

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
 * `aliasRefs[i]`, when given, is `d.byKey.get(spanAttrs[i].key)` looked up once by the caller.
 */
export function resolveSpan(
  d: CompiledDialects,
  spanAttrs: readonly KeyValue[] | null | undefined,
  resource: ListResolution,
  span: SpanInfo,
  pricing: PricingTable | undefined,
  hooks: GenAiHooks = NO_HOOKS,
  aliasRefs?: readonly (AliasRef[] | undefined)[],
): GenAiFields {
  const own = resolveInto(d, spanAttrs, SPAN, SPAN_RANKS, aliasRefs);
  if (!own.strong) return PLAIN_SPAN;
  // the span's value of each field, else its resource's; which dialects were read (bit mask). Only
  // the fields either sets are visited (the last span's others cleared): most of NF are unset
  for (let m = valSet; m !== 0; m &= m - 1) {
    const f = 31 - Math.clz32(m & -m);
    VAL[f] = undefined;
    DIA[f] = -1;
  }
  valSet = own.set | resource.set;
  let used = 0;
  for (let m = valSet; m !== 0; m &= m - 1) {
    const f = 31 - Math.clz32(m & -m);
    let v = own.values[f];
    let di = own.dialects[f]!;
    if (v === undefined) {
      v = resource.values[f];
      di = resource.dialects[f]!;
    }
    VAL[f] = v;
    DIA[f] = di;
    if (v !== undefined && di >= 0) used |= 1 << di;
  }
  const bad = { invalid: false };

  const provider = normaliseProvider(d, str(F.provider));
  const operation = str(F.operation);
  const requestModel = str(F.request_model);
  const responseModel = str(F.response_model);
  let input = tokenCount(d, F.input_tokens, hooks, bad);
  let output = tokenCount(d, F.output_tokens, hooks, bad);
  const cacheRead = tokenCount(d, F.cache_read_tokens, hooks, bad) ?? 0;
  const cacheCreation = tokenCount(d, F.cache_creation_tokens, hooks, bad) ?? 0;
  const reasoning = tokenCount(d, F.reasoning_tokens, hooks, bad) ?? 0;
  const total = tokenCount(d, F.total_tokens, hooks, bad);
  if (total !== undefined && total > 0) {
    if (input === undefined && output !== undefined && total >= output) input = total - output;
    else if (output === undefined && input !== undefined && total >= input) output = total - input;
  }
  input ??= 0;
  output ??= 0;
  // canonical: input includes cache tokens, output includes reasoning tokens
  if (
    cacheRead + cacheCreation > 0 &&
    (input < cacheRead + cacheCreation || d.dialects[DIA[F.input_tokens]!]?.inputExcludesCache.has(provider))
  )
    input += cacheRead + cacheCreation;
  if (reasoning > 0 && (output < reasoning || d.dialects[DIA[F.output_tokens]!]?.outputExcludesReasoning.has(provider)))
    output += reasoning;

  const aggregate = operation === '' ? undefined : d.aggregateOperations.get(operation);
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
    GenAiDialect: dialectList(d, used),
    GenAiBillable: billable ? 1 : 0,
    GenAiLatencyMs: 0,
  };
  const latency = VAL[F.latency_ms];
  if (latency !== undefined) {
    const ms = numberOf(latency);
    if (ms !== undefined && Number.isFinite(ms) && ms >= 0 && ms < 864e5 * 365) f.GenAiLatencyMs = ms;
  }

  const cost = VAL[F.cost_usd];
  let spanCost: number | undefined;
  if (cost !== undefined) {
    const c = numberOf(cost);
    if (c !== undefined && Number.isFinite(c) && c >= 0 && c < 1e6) spanCost = c;
    else {
      bad.invalid = true;
      hooks.onInvalidUsage?.('cost_usd', d.dialects[DIA[F.cost_usd]!]?.name ?? '');
    }
  }
  if (spanCost !== undefined) {
    f.GenAiCostUsd = spanCost;
    f.GenAiCostSource = 'span';
  } else if (input + output > 0 || bad.invalid) {
    const priced = priceSpan(pricing, f, span.timeMs);
    f.GenAiCostUsd = priced.cost;
    f.GenAiCostSource = bad.invalid ? 'invalid_usage' : priced.source;
    if (priced.source === 'unknown_model' && billable && !bad.invalid)
      hooks.onUnknownModel?.(provider, responseModel || requestModel);
  }
  return f;
}

/** A merged token count: undefined when absent, 0 (recorded in `bad`, reported) when not a sane count. */
function tokenCount(d: CompiledDialects, f: number, hooks: GenAiHooks, bad: { invalid: boolean }): number | undefined {
  const v = VAL[f];
  if (v === undefined) return undefined;
  const n = numberOf(v);
  if (n === undefined || !Number.isFinite(n) || n < 0 || n > MAX_TOKENS || !Number.isInteger(n)) {
    bad.invalid = true;
    hooks.onInvalidUsage?.(FIELDS[f]!, d.dialects[DIA[f]!]?.name ?? '');
    return 0;
  }
  return n;
}

/** The merged value of a string field ('' when absent). */
function str(f: number): string {
  const v = VAL[f];
  return v === undefined ? '' : typeof v === 'string' ? v : stringOf(v);
}

const NO_HOOKS: GenAiHooks = {};
const dialectNames = new WeakMap<CompiledDialects, Map<number, string>>();
/** Names of the dialects in a bit mask, in precedence order (memoised per mask). */
function dialectList(d: CompiledDialects, mask: number): string {
  let names = dialectNames.get(d);
  if (!names) dialectNames.set(d, (names = new Map()));
  let s = names.get(mask);
  if (s === undefined) {
    s = d.dialects
      .filter((_, i) => i < 31 && mask & (1 << i))
      .map((x) => x.name)
      .join(',');
    names.set(mask, s);
  }
  return s;
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
