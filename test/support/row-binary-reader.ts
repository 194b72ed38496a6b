// Reads RowBinary rows back into values, by the ClickHouse types of their columns (for tests).
import type { Column } from '../../src/loader/row-binary.js';

export type Value = string | bigint | number | boolean | Value[] | Map<string, Value>;

/** `n` as LEB128, as RowBinary writes lengths and counts (for building test inputs). */
export function leb128(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

export function readRowBinary(data: Buffer, columns: readonly Column[]): Record<string, Value>[] {
  let p = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = data[p++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  };
  const read = (type: string): Value => {
    const inner = /^(LowCardinality|Array)\((.*)\)$/.exec(type);
    if (inner?.[1] === 'LowCardinality') return read(inner[2]!);
    if (inner?.[1] === 'Array') return Array.from({ length: varint() }, () => read(inner[2]!));
    const map = /^Map\((.*), (.*)\)$/.exec(type);
    if (map) {
      const out = new Map<string, Value>();
      const n = varint();
      for (let i = 0; i < n; i++) {
        const k = read(map[1]!) as string;
        const v = read(map[2]!);
        if (out.has(k)) throw new Error(`duplicate map key ${k}`);
        out.set(k, v);
      }
      return out;
    }
    switch (type) {
      case 'String': {
        const n = varint();
        const s = data.toString('utf8', p, p + n);
        p += n;
        return s;
      }
      case 'UInt64':
        p += 8;
        return data.readBigUInt64LE(p - 8);
      case 'DateTime64(9)':
      case 'Int64':
        p += 8;
        return data.readBigInt64LE(p - 8);
      case 'Float64':
        p += 8;
        return data.readDoubleLE(p - 8);
      case 'UInt32':
        p += 4;
        return data.readUInt32LE(p - 4);
      case 'UInt8':
        return data[p++]!;
      case 'Bool':
        return data[p++] !== 0;
      default:
        throw new Error(`reader: unsupported type ${type}`);
    }
  };
  const rows: Record<string, Value>[] = [];
  while (p < data.length) {
    const row: Record<string, Value> = {};
    for (const c of columns) row[c.name] = read(c.type);
    rows.push(row);
  }
  if (p !== data.length) throw new Error(`read ${p} of ${data.length} bytes`);
  return rows;
}
