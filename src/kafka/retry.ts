/**
 * The Collector exporterhelper's `retry_on_failure`, as it applies to Sieve: the receiver holds the
 * client's request until Kafka acknowledges it (a 200 means the data is in Kafka), so a failed
 * produce is retried while the request waits — exponential backoff from `initial_interval`, times
 * `multiplier` up to `max_interval`, each delay randomised by ± `randomization_factor` — until the
 * next attempt would start more than `max_elapsed_time` after the first; then the request is
 * answered 503 and the client retries. Each attempt is bounded by the exporter's `timeout`. The
 * Collector's backoff (cenkalti/backoff) computes its delays the same way.
 */
import type { KafkaRetrySettings } from '../pipeline/api.js';

/** Delays between attempts, in order (endless: the caller stops at max_elapsed_time). */
export function* retryDelays(s: KafkaRetrySettings, random: () => number = Math.random): Generator<number> {
  if (!s.enabled) return;
  let interval = s.initialIntervalMs;
  for (;;) {
    const delta = s.randomizationFactor * interval;
    yield Math.round(interval - delta + random() * (2 * delta));
    interval = Math.min(interval * s.multiplier, s.maxIntervalMs);
  }
}

/**
 * Runs `attempt` until it succeeds, the next attempt would start past max_elapsed_time, or
 * `stopped()` — then throws the last error. Without settings (no retry_on_failure) it runs once.
 */
export async function withRetry(
  settings: KafkaRetrySettings | undefined,
  attempt: () => Promise<void>,
  hooks: { stopped: () => boolean; failed?: (err: unknown, retryInMs: number | undefined) => void },
  now: () => number = Date.now,
): Promise<void> {
  const delays = settings === undefined ? undefined : retryDelays(settings);
  const started = now();
  for (;;) {
    try {
      await attempt();
      return;
    } catch (err) {
      const next = delays?.next();
      let delay = next === undefined || next.done || hooks.stopped() ? undefined : next.value;
      if (delay !== undefined && now() + delay - started > (settings as KafkaRetrySettings).maxElapsedMs)
        delay = undefined;
      hooks.failed?.(err, delay);
      if (delay === undefined) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
