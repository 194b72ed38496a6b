export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

/**
 * Runs `attempt` until it succeeds, with exponential backoff between failures. A failure is
 * rethrown instead when `giveUp(err)` says so (e.g. the loader is stopping); `onRetry` reports it.
 */
export async function retryWithBackoff<T>(
  attempt: () => Promise<T>,
  backoff: Backoff,
  giveUp: (err: unknown) => boolean,
  onRetry: (err: unknown, retryInMs: number) => void,
): Promise<T> {
  let delay = backoff.initialMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (giveUp(err)) throw err;
      onRetry(err, delay);
      await sleep(delay);
      delay = Math.min(backoff.maxMs, delay * 2);
    }
  }
}
