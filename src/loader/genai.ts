import { getAttribute, getNumberAttribute, getStringAttribute } from '../otlp/anyvalue.js';
import type { KeyValue } from '../otlp/model.js';
import { computeCost, findPrice, type PricingTable } from './pricing.js';

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
  GenAiCostSource: '' | 'span' | 'pricing' | 'unknown_model';
}

const str = (a: KeyValue[] | null | undefined, ...keys: string[]): string => {
  for (const k of keys) {
    const v = getStringAttribute(a, k);
    if (v != null && v !== '') return v;
  }
  return '';
};
const tokens = (a: KeyValue[] | null | undefined, ...keys: string[]): number => {
  for (const k of keys) {
    if (getAttribute(a, k) === undefined) continue;
    const n = getNumberAttribute(a, k);
    if (n != null && Number.isFinite(n) && n >= 0) return Math.trunc(n);
  }
  return 0;
};

export type UnknownModelHook = (provider: string, model: string) => void;

/** GenAI semantic-convention fields of one span (older attribute names as fallbacks) and its cost. */
export function extractGenAi(
  attrs: KeyValue[] | null | undefined,
  pricing: PricingTable | undefined,
  onUnknown?: UnknownModelHook,
): GenAiFields {
  const f: GenAiFields = {
    GenAiProvider: str(attrs, 'gen_ai.provider.name', 'gen_ai.system'),
    GenAiOperation: str(attrs, 'gen_ai.operation.name'),
    GenAiRequestModel: str(attrs, 'gen_ai.request.model'),
    GenAiResponseModel: str(attrs, 'gen_ai.response.model'),
    GenAiInputTokens: tokens(attrs, 'gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens'),
    GenAiOutputTokens: tokens(attrs, 'gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens'),
    GenAiCacheReadTokens: tokens(attrs, 'gen_ai.usage.cache_read.input_tokens', 'gen_ai.usage.cache_read_input_tokens'),
    GenAiReasoningTokens: tokens(attrs, 'gen_ai.usage.reasoning.output_tokens', 'gen_ai.usage.reasoning_tokens'),
    GenAiToolName: str(attrs, 'gen_ai.tool.name'),
    GenAiAgentName: str(attrs, 'gen_ai.agent.name'),
    GenAiPromptHash: str(attrs, 'gen_ai.prompt.hash'),
    GenAiCostUsd: 0,
    GenAiCostSource: '',
  };
  for (const k of ['gen_ai.usage.cost', 'gen_ai.cost.usd']) {
    if (getAttribute(attrs, k) === undefined) continue;
    const c = getNumberAttribute(attrs, k);
    if (c != null && Number.isFinite(c)) {
      f.GenAiCostUsd = c;
      f.GenAiCostSource = 'span';
      return f;
    }
  }
  const model = f.GenAiResponseModel || f.GenAiRequestModel;
  const hasUsage = f.GenAiInputTokens + f.GenAiOutputTokens + f.GenAiCacheReadTokens > 0;
  if (!hasUsage || (f.GenAiProvider === '' && model === '')) return f;
  const price = pricing
    ? (findPrice(pricing, f.GenAiProvider, model) ??
      (model !== f.GenAiRequestModel ? findPrice(pricing, f.GenAiProvider, f.GenAiRequestModel) : undefined))
    : undefined;
  if (price) {
    f.GenAiCostUsd = computeCost(price, f.GenAiInputTokens, f.GenAiOutputTokens, f.GenAiCacheReadTokens);
    f.GenAiCostSource = 'pricing';
  } else {
    f.GenAiCostSource = 'unknown_model';
    onUnknown?.(f.GenAiProvider, model);
  }
  return f;
}
