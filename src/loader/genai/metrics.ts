/**
 * AI metric points (gen_ai.client.token.usage, llm_tokens_total, … — ai-dialects.yaml `metrics`):
 * the labels metrics_1m rolls them up by, and the price per token of their token type.
 */
import type { KeyValue } from '../../otlp/model.js';
import { findModel, type PricingTable, pricePerToken, pricesAt } from '../pricing.js';
import { type CompiledDialects, F, normaliseProvider } from './dialects.js';
import { type ListResolution, resolveList } from './resolve.js';

export const GENAI_METRIC_COLUMNS = [
  ['GenAiMetric', 'LowCardinality(String)'],
  ['GenAiProvider', 'LowCardinality(String)'],
  ['GenAiModel', 'LowCardinality(String)'],
  ['GenAiOperation', 'LowCardinality(String)'],
  ['GenAiTokenType', 'LowCardinality(String)'],
  ['GenAiPricePerToken', 'Float64'],
  ['GenAiUnitSeconds', 'Float64'],
] as const;

export interface GenAiMetricFields {
  GenAiMetric: 'tokens' | 'duration';
  GenAiProvider: string;
  GenAiModel: string;
  GenAiOperation: string;
  GenAiTokenType: string;
  GenAiPricePerToken: number;
  GenAiUnitSeconds: number;
}

const asString = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * Token type of a point: input / output, refined by gen_ai.token.cache (read, creation) or
 * gen_ai.token.phase (reasoning); or a separate cache_read / cache_creation / reasoning series.
 */
function tokenType(d: CompiledDialects, type: string, cache: string, phase: string): string {
  const t = d.tokenTypes.get(type.toLowerCase());
  if (t === 'input') {
    const c = cache.toLowerCase();
    return c === 'read' ? 'input:cache_read' : c === 'creation' ? 'input:cache_creation' : 'input';
  }
  if (t === 'output') return phase.toLowerCase() === 'reasoning' ? 'output:reasoning' : 'output';
  return t ?? '';
}

/** The AI labels of one data point, or undefined when the metric is not an AI instrument. */
export function resolveMetricPoint(
  d: CompiledDialects,
  metricName: string,
  pointAttrs: readonly KeyValue[] | null | undefined,
  resource: ListResolution,
  pricing: PricingTable | undefined,
  timeMs: number,
): GenAiMetricFields | undefined {
  const spec = d.metrics.get(metricName);
  if (!spec) return undefined;
  const own = resolveList(d, pointAttrs);
  const str = (f: number): string => asString(own.values[f] ?? (resource.any ? resource.values[f] : undefined));
  const provider = normaliseProvider(d, str(F.provider));
  const model = str(F.response_model) || str(F.request_model);
  const type = spec.kind === 'tokens' ? tokenType(d, str(F.token_type), str(F.token_cache), str(F.token_phase)) : '';
  let price = 0;
  if (type !== '' && pricing) {
    const entry = findModel(pricing, provider, model);
    const p = entry && pricesAt(entry, timeMs, 0);
    if (p) price = pricePerToken(p, type);
  }
  return {
    GenAiMetric: spec.kind,
    GenAiProvider: provider,
    GenAiModel: model,
    GenAiOperation: str(F.operation),
    GenAiTokenType: type,
    GenAiPricePerToken: price,
    GenAiUnitSeconds: spec.kind === 'duration' ? spec.toSeconds : 1,
  };
}
