import { int64ToBigInt } from '../otlp/ids.js';
import type { Int64 } from '../otlp/model.js';

/** The largest instant a DateTime64(9) holds: 2262-04-11 23:47:16.854775807 UTC. */
const MAX_DATETIME64_NANOS = 2n ** 63n - 1n;

let lastSec = -1n;
let lastPrefix = '';
/**
 * Unix nanoseconds → ClickHouse DateTime64(9) text `YYYY-MM-DD hh:mm:ss.nnnnnnnnn` (UTC).
 * Throws a RangeError for an instant before 1970 or after 2262 (OTLP times are unsigned; ClickHouse
 * would refuse a later one), which sends the message to the DLQ with that reason.
 */
export function nanosToDateTime64(v: Int64 | bigint | null | undefined): string {
  const ns = v == null ? 0n : int64ToBigInt(v);
  if (ns < 0n || ns > MAX_DATETIME64_NANOS) {
    throw new RangeError(`timestamp ${ns} ns is outside 1970-01-01 .. 2262-04-11 (DateTime64(9))`);
  }
  const sec = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  if (sec !== lastSec) {
    lastSec = sec;
    lastPrefix = new Date(Number(sec) * 1000).toISOString().slice(0, 19).replace('T', ' ');
  }
  return `${lastPrefix}.${frac.toString().padStart(9, '0')}`;
}
