/** Unicode block sparklines (▁▂▃▄▅▆▇█) for per-minute trends in `sieve stats`. */
const BLOCKS = '▁▂▃▄▅▆▇█';

/** One character per value, scaled from 0 to the largest value; `·` marks a minute with nothing. */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values.filter(Number.isFinite));
  return values
    .map((v) => {
      if (!Number.isFinite(v) || v <= 0 || max === 0) return '·';
      const i = Math.min(BLOCKS.length - 1, Math.floor((v / max) * (BLOCKS.length - 1) + 0.5));
      return BLOCKS[Math.max(0, i)];
    })
    .join('');
}
