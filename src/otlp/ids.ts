/**
 * Ids and 64-bit integers of the OTLP model.
 *
 * Ids are raw bytes (16-byte trace id, 8-byte span id); OTLP/JSON and ClickHouse use lowercase hex.
 * 64-bit integers (`Int64`) arrive as a protobufjs `Long`, a decimal string or a JS number; these
 * helpers convert without losing precision (nanosecond timestamps exceed 2^53).
 */
import type Long from 'long';
import protobuf from 'protobufjs';
import type { Int64 } from './model.js';

/** The Long class protobufjs decodes with (the same instance it uses internally). */
export const LongClass = protobuf.util.Long as unknown as typeof Long;

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

/** Lowercase hex of the bytes; '' for null/undefined/empty. */
export function bytesToHex(b: Uint8Array | null | undefined): string {
  if (b == null || b.length === 0) return '';
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i] as number];
  return s;
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** True when `hex` is an even-length string of hex digits (either case). */
export function isHex(hex: string): boolean {
  return HEX_RE.test(hex);
}

/** Bytes of a hex string. Throws RangeError on odd length or a non-hex digit. */
export function hexToBytes(hex: string): Buffer {
  if (!HEX_RE.test(hex))
    throw new RangeError(`not a hex string: ${JSON.stringify(hex.length > 80 ? `${hex.slice(0, 80)}…` : hex)}`);
  return Buffer.from(hex, 'hex');
}

/** True when every byte is zero (or the array is empty). */
export function isAllZero(b: Uint8Array | null | undefined): boolean {
  if (b == null) return true;
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Valid trace id: 16 bytes, not all zero. */
export function isValidTraceId(b: Uint8Array | null | undefined): boolean {
  return b != null && b.length === 16 && !isAllZero(b);
}

/** Valid span id: 8 bytes, not all zero. */
export function isValidSpanId(b: Uint8Array | null | undefined): boolean {
  return b != null && b.length === 8 && !isAllZero(b);
}

function isLongLike(v: unknown): v is { low: number; high: number; unsigned?: boolean } {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { low?: unknown }).low === 'number' &&
    typeof (v as { high?: unknown }).high === 'number'
  );
}

/**
 * Exact value as a bigint. Longs keep their signedness (fixed64 timestamps decode as unsigned
 * Longs, int64 values as signed). Strings must be decimal integers; numbers must be integers.
 */
export function int64ToBigInt(v: Int64 | bigint | null | undefined): bigint {
  if (v == null) return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError(`not a finite integer: ${v}`);
    return BigInt(Math.trunc(v));
  }
  if (typeof v === 'string') {
    const t = v.trim();
    if (t === '') return 0n;
    if (!/^[-+]?\d+$/.test(t)) throw new RangeError(`not a decimal integer: ${JSON.stringify(v)}`);
    return BigInt(t);
  }
  if (isLongLike(v)) {
    const lo = BigInt(v.low >>> 0);
    const hi = BigInt(v.high >>> 0);
    const u = (hi << 32n) | lo;
    return v.unsigned ? u : BigInt.asIntN(64, u);
  }
  throw new RangeError(`not a 64-bit integer: ${String(v)}`);
}

/** Exact decimal string. */
export function int64ToString(v: Int64 | bigint | null | undefined): string {
  if (v == null) return '0';
  if (typeof v === 'number')
    return Number.isInteger(v) && Number.isSafeInteger(v) ? String(v) : int64ToBigInt(v).toString();
  if (typeof v === 'string') return int64ToBigInt(v).toString();
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof LongClass) return v.toString();
  return int64ToBigInt(v).toString();
}

/** As a JS number (may round above 2^53 — use only for counts and values, not timestamps). */
export function int64ToNumber(v: Int64 | bigint | null | undefined): number {
  if (v == null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(int64ToBigInt(v));
  if (typeof v === 'bigint') return Number(v);
  if (isLongLike(v))
    return v.unsigned ? (v.high >>> 0) * 4294967296 + (v.low >>> 0) : v.high * 4294967296 + (v.low >>> 0);
  return Number(v);
}

/** True when the value is zero (or unset). */
export function int64IsZero(v: Int64 | bigint | null | undefined): boolean {
  if (v == null) return true;
  if (typeof v === 'number') return v === 0;
  if (isLongLike(v)) return v.low === 0 && v.high === 0;
  return int64ToBigInt(v) === 0n;
}

/** A protobufjs Long from any Int64 form (for building model objects from bigint/strings). */
export function toLong(v: Int64 | bigint, unsigned = false): Long {
  if (v instanceof LongClass) return v.unsigned === unsigned ? v : unsigned ? v.toUnsigned() : v.toSigned();
  if (typeof v === 'number' && Number.isSafeInteger(v)) return LongClass.fromNumber(v, unsigned);
  const u = LongClass.fromString(BigInt.asUintN(64, int64ToBigInt(v as Int64 | bigint)).toString(), true);
  return unsigned ? u : u.toSigned();
}

/** Nanoseconds since epoch → Date-friendly milliseconds (number). */
export function nanosToMillis(v: Int64 | null | undefined): number {
  return Number(int64ToBigInt(v) / 1_000_000n);
}
