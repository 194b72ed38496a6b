// SQL fragments for metric panels: AI usage from spans or metrics (llm_usage_1m_v), metric increases
// (metrics_1m_v) and quantiles from histogram buckets.

import { GRAFANA_SCOPE, metricsSource, usageSource } from './queries.js';

/** AI usage per minute over the dashboard range: spans, or metrics where a service sent no spans. */
export const USAGE = usageSource(GRAFANA_SCOPE);
/** Increases of every sum and histogram series per minute over the dashboard range. */
export const METRICS = metricsSource(GRAFANA_SCOPE);

/**
 * The q-quantile of a histogram from its bucket bounds `b` (Array(Float64)) and counts `c` (one more
 * than the bounds), interpolating linearly inside the bucket that holds rank q·total — as Prometheus'
 * histogram_quantile does. Counts must be summed (merged) before, never quantiles averaged. NaN for an
 * empty histogram; the last finite bound when the rank falls in the overflow bucket.
 */
export function bucketQuantile(q: number, b = 'b', c = 'c'): string {
  const rank = `(${q} * arraySum(${c}))`;
  const i = `arrayFirstIndex(x -> x >= ${rank}, arrayCumSum(${c}))`;
  const lower = `if(${i} <= 1, 0, ${b}[${i} - 1])`;
  const below = `if(${i} <= 1, 0, arrayCumSum(${c})[${i} - 1])`;
  return `if(arraySum(${c}) = 0, nan, if(${i} > length(${b}), ${b}[length(${b})],
    ${lower} + (${b}[${i}] - ${lower}) * (${rank} - ${below}) / ${c}[${i}]))`;
}
