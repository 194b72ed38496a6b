/** retry_on_failure as Sieve applies it: the Collector's backoff, bounded by max_elapsed_time. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retryDelays, withRetry } from '../../../src/kafka/retry.js';
import type { KafkaRetrySettings } from '../../../src/pipeline/api.js';

const collector: KafkaRetrySettings = {
  enabled: true,
  initialIntervalMs: 5000,
  randomizationFactor: 0.5,
  multiplier: 1.5,
  maxIntervalMs: 30_000,
  maxElapsedMs: 300_000,
};

test('delays: initial_interval × multiplier up to max_interval, randomised within ± randomization_factor', () => {
  const take = (s: KafkaRetrySettings, random: () => number, n: number) => {
    const out: number[] = [];
    for (const d of retryDelays(s, random)) {
      out.push(d);
      if (out.length === n) break;
    }
    return out;
  };
  // random 0.5 is the interval itself
  assert.deepEqual(
    take(collector, () => 0.5, 7),
    [5000, 7500, 11250, 16875, 25313, 30000, 30000],
  );
  // the extremes of the randomisation
  assert.deepEqual(
    take(collector, () => 0, 2),
    [2500, 3750],
  );
  assert.deepEqual(
    take(collector, () => 1, 2),
    [7500, 11250],
  );
  assert.deepEqual(
    take({ ...collector, enabled: false }, () => 0.5, 3),
    [],
  );
});

test('withRetry: retries until success; without settings one attempt', async () => {
  let calls = 0;
  const fast = { ...collector, initialIntervalMs: 1, maxIntervalMs: 2, maxElapsedMs: 10_000 };
  await withRetry(
    fast,
    async () => {
      calls++;
      if (calls < 3) throw new Error(`attempt ${calls}`);
    },
    { stopped: () => false },
  );
  assert.equal(calls, 3);

  calls = 0;
  await assert.rejects(
    withRetry(
      undefined,
      async () => {
        calls++;
        throw new Error('down');
      },
      { stopped: () => false },
    ),
    /down/,
  );
  assert.equal(calls, 1);
});

test('withRetry: no attempt starts after max_elapsed_time; stop() ends retries; the last error is thrown', async () => {
  let clock = 0;
  const attempts: number[] = [];
  const failures: (number | undefined)[] = [];
  const s = { ...collector, initialIntervalMs: 1, randomizationFactor: 0, multiplier: 1, maxElapsedMs: 3 };
  await assert.rejects(
    withRetry(
      s,
      async () => {
        attempts.push(clock);
        clock += 1; // each attempt takes 1 ms of the fake clock; each delay 1 ms more
        throw new Error(`failed at ${clock}`);
      },
      {
        stopped: () => false,
        failed: (_e, retryIn) => {
          failures.push(retryIn);
          clock += retryIn ?? 0; // the wait, on the fake clock
        },
      },
      () => clock,
    ),
    /failed at 3/,
  );
  // attempts at 0 and 2 (1 ms attempt + 1 ms delay); a third would start at 4 > 3
  assert.deepEqual(attempts, [0, 2]);
  assert.deepEqual(failures, [1, undefined]);

  let stopped = false;
  let n = 0;
  await assert.rejects(
    withRetry(
      { ...collector, initialIntervalMs: 1, maxElapsedMs: 60_000 },
      async () => {
        n++;
        stopped = true;
        throw new Error('x');
      },
      { stopped: () => stopped },
    ),
  );
  assert.equal(n, 1);
});
