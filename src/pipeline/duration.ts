/** Go-style durations as the Collector writes them: `200ms`, `5s`, `1m30s`; bare numbers are ms. */
export function parseDurationMs(v: string | number): number {
  if (typeof v === 'number') return v;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  const unit: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  if (!/^(\d+(?:\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v)) {
    if (v === '0') return 0;
    throw new Error(`invalid duration ${JSON.stringify(v)} (use e.g. 200ms, 5s, 1m)`);
  }
  re.lastIndex = 0;
  for (let m = re.exec(v); m; m = re.exec(v)) {
    total += Number(m[1]) * (unit[m[2] as string] as number);
    pos = re.lastIndex;
  }
  void pos;
  return total;
}
