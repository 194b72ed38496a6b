import { int64ToBigInt } from '../otlp/ids.js';
import type { Int64 } from '../otlp/model.js';

let lastSec = -1n;
let lastPrefix = '';
/** Unix nanoseconds → ClickHouse DateTime64(9) text `YYYY-MM-DD hh:mm:ss.nnnnnnnnn` (UTC). */
export function nanosToDateTime64(v: Int64 | bigint | null | undefined): string {
  const ns = v == null ? 0n : int64ToBigInt(v);
  const sec = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  if (sec !== lastSec) {
    lastSec = sec;
    lastPrefix = new Date(Number(sec) * 1000).toISOString().slice(0, 19).replace('T', ' ');
  }
  return `${lastPrefix}.${frac.toString().padStart(9, '0')}`;
}
