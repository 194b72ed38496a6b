import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

const modelPrice = z.object({
  input_per_million: z.number().nonnegative(),
  output_per_million: z.number().nonnegative(),
  cache_read_per_million: z.number().nonnegative().optional(),
});
const pricingSchema = z.object({ providers: z.record(z.string(), z.record(z.string(), modelPrice)) });
export type ModelPrice = z.infer<typeof modelPrice>;
export type PricingTable = z.infer<typeof pricingSchema>;

export function parsePricing(text: string, file = 'pricing.yaml'): PricingTable {
  const r = pricingSchema.safeParse(parse(text));
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`${file}: ${i?.path.join('.') ?? ''}: ${i?.message ?? 'invalid'}`);
  }
  return r.data;
}
export function loadPricing(file: string): PricingTable {
  return parsePricing(readFileSync(file, 'utf8'), file);
}

/** Exact model match, else the longest configured prefix of the model name. */
export function findPrice(table: PricingTable, provider: string, model: string): ModelPrice | undefined {
  const models = table.providers[provider];
  if (!models || model === '') return undefined;
  const exact = models[model];
  if (exact) return exact;
  let best: ModelPrice | undefined;
  let bestLen = 0;
  for (const [k, v] of Object.entries(models)) {
    if (k.length > bestLen && model.startsWith(k)) {
      best = v;
      bestLen = k.length;
    }
  }
  return best;
}

/** Cost in USD; cache-read tokens are billed at the cache price (when set) instead of the input price. */
export function computeCost(p: ModelPrice, input: number, output: number, cacheRead: number): number {
  const cache = p.cache_read_per_million;
  const billedInput = cache != null ? Math.max(0, input - cacheRead) : input;
  return (
    (billedInput * p.input_per_million + output * p.output_per_million + (cache != null ? cacheRead * cache : 0)) / 1e6
  );
}
