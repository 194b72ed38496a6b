/** Unicode block sparklines (▁▂▃▄▅▆▇█) for per-minute trends in `sieve stats`. */
const BLOCKS = '▁▂▃▄▅▆▇█';

/** Sums neighbouring values so that at most `width` remain (oldest first). */
export function downsample(values: readonly number[], width: number): number[] {
  const step = Math.ceil(values.length / Math.max(1, width));
  if (step <= 1) return [...values];
  const out: number[] = [];
  for (let i = 0; i < values.length; i += step) out.push(values.slice(i, i + step).reduce((a, b) => a + b, 0));
  return out;
}

/**
 * One character per value (values summed in groups when there are more than `width`), scaled from 0
 * to the largest; `·` marks a period with nothing.
 */
export function sparkline(series: readonly number[], width = 30): string {
  const values = downsample(series, width);
  const max = Math.max(0, ...values.filter(Number.isFinite));
  return values
    .map((v) => {
      if (!Number.isFinite(v) || v <= 0 || max === 0) return '·';
      const i = Math.min(BLOCKS.length - 1, Math.floor((v / max) * (BLOCKS.length - 1) + 0.5));
      return BLOCKS[Math.max(0, i)];
    })
    .join('');
}
