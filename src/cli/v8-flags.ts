/**
 * The V8 heap setting Sieve's receiver runs with: a 64 MiB semi-space (young generation 3 × 64 MiB
 * reserved, not used until needed) instead of Node's 16 MiB.
 *
 * A receiver keeps each request's decoded spans alive until Kafka acknowledges them. With 16 MiB the
 * scavenger runs every few 512-span requests while others are still in flight, so their objects are
 * copied, promoted and then collected by full (mark-compact) collections. Measured with
 * `SIEVE_BENCH_PIPELINE=default BENCH_WORKERS=1 BENCH_OFFERED=18000 npm run bench -- receiver`, three
 * alternating pairs: 41.7 → 32.0 CPU ms per 1,000 spans, same peak RSS.
 *
 * V8 reads it at process start only: it is on the command lines Sieve ships (bin/sieve.mjs's shebang,
 * npm run sieve / up, the Dockerfile), and the receiver's primary passes it to the workers it forks.
 */
export const SEMI_SPACE_FLAG = '--max-semi-space-size=64';

/** `execArgv` plus SEMI_SPACE_FLAG, unless it or NODE_OPTIONS already sets a semi-space size (the user's choice wins). */
export function withSemiSpaceFlag(execArgv: readonly string[], nodeOptions = ''): string[] {
  const set = (s: string) => /--max-semi-space-size\b|--max_semi_space_size\b/.test(s);
  return execArgv.some(set) || set(nodeOptions) ? [...execArgv] : [...execArgv, SEMI_SPACE_FLAG];
}

/**
 * The V8 heap setting of the loader's thread: a 256 MiB floor under its old generation's limit.
 *
 * The loader keeps ~20 MiB alive. V8 sets the old generation's limit at a small multiple of that and
 * starts marking as soon as the room left is below the young generation's size (64 MiB semi-spaces
 * here), so without a floor it marks and compacts back to back: 27 full collections while loading
 * 600k spans, their concurrent marking ~10 % of the loader's CPU. With the floor only the collections
 * that external memory (Kafka's fetch buffers) asks for remain: 7. The heap itself stays near what is
 * alive (those collections still run), the floor only stops the heuristic from marking an unchanged heap.
 *
 * It applies to the loader's thread only: the receiver's memory_limiter reads its own thread's heap,
 * which must keep collecting as before.
 */
export const LOADER_OLD_SPACE_FLAG = '--initial-old-space-size=256';

/** LOADER_OLD_SPACE_FLAG, or null when the process's flags or NODE_OPTIONS set an old-space size already (the user's choice wins). */
export function loaderHeapFlag(execArgv: readonly string[], nodeOptions = ''): string | null {
  const set = (s: string) => /--initial[-_]old[-_]space[-_]size\b|--initial[-_]heap[-_]size\b/.test(s);
  return execArgv.some(set) || set(nodeOptions) ? null : LOADER_OLD_SPACE_FLAG;
}
