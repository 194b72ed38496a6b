// Reads a ClickHouse Native block back into rows of values (as readRowBinary gives them), by the types
// its header names: written from the format's description, independently of src/loader/native-block.ts.
import type { Value } from './row-binary-reader.js';

export function readNativeBlock(block: Buffer | readonly Buffer[]): {
  columns: { name: string; type: string }[];
  rows: Record<string, Value>[];
} {
  const data = Buffer.isBuffer(block) ? block : Buffer.concat(block);
  let p = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (p >= data.length) throw new RangeError('Native block: truncated');
      const b = data[p++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  };
  const string = (): string => {
    const n = varint();
    p += n;
    return data.toString('utf8', p - n, p);
  };
  const u64 = (): number => {
    p += 8;
    return Number(data.readBigUInt64LE(p - 8));
  };
  const args = (type: string, head: string): string[] | undefined => {
    if (!type.startsWith(`${head}(`) || !type.endsWith(')')) return undefined;
    const inner = type.slice(head.length + 1, -1);
    const out: string[] = [];
    let depth = 0;
    let from = 0;
    for (let i = 0; i < inner.length; i++) {
      if (inner[i] === '(') depth++;
      else if (inner[i] === ')') depth--;
      else if (inner[i] === ',' && depth === 0) {
        out.push(inner.slice(from, i).trim());
        from = i + 1;
      }
    }
    out.push(inner.slice(from).trim());
    return out;
  };
  // serialization prefixes, written for the whole column before its data
  const prefix = (type: string): void => {
    const lc = args(type, 'LowCardinality');
    if (lc) {
      const version = u64();
      if (version !== 1) throw new Error(`LowCardinality version ${version}`);
      return;
    }
    for (const t of args(type, 'Array') ?? args(type, 'Map') ?? []) prefix(t);
  };
  const offsets = (n: number): number[] => Array.from({ length: n }, u64);
  const split = <T>(ends: number[], items: T[]): T[][] =>
    ends.map((end, i) => items.slice(i === 0 ? 0 : ends[i - 1], end));
  const column = (type: string, n: number): Value[] => {
    const lc = args(type, 'LowCardinality');
    if (lc) {
      if (n === 0) return [];
      const flags = u64();
      if ((flags & 0x600) !== 0x600) throw new Error(`LowCardinality flags ${flags.toString(16)}`);
      const keys = column(lc[0]!, u64());
      if (u64() !== n) throw new Error('LowCardinality: row count');
      const width = 1 << (flags & 0xff);
      return Array.from({ length: n }, () => {
        const k = width === 1 ? data[p] : width === 2 ? data.readUInt16LE(p) : data.readUInt32LE(p);
        p += width;
        if (k === undefined || k >= keys.length) throw new Error(`LowCardinality: index ${k} of ${keys.length} keys`);
        return keys[k]!;
      });
    }
    const array = args(type, 'Array');
    if (array) {
      const ends = offsets(n);
      return split(ends, column(array[0]!, ends.at(-1) ?? 0));
    }
    const map = args(type, 'Map');
    if (map) {
      const ends = offsets(n);
      const total = ends.at(-1) ?? 0;
      const keys = column(map[0]!, total) as string[];
      const values = column(map[1]!, total);
      return ends.map((end, i) => {
        const m = new Map<string, Value>();
        for (let j = i === 0 ? 0 : ends[i - 1]!; j < end; j++) m.set(keys[j]!, values[j]!);
        return m;
      });
    }
    const fixed = (width: number, read: (at: number) => Value) =>
      Array.from({ length: n }, () => {
        p += width;
        return read(p - width);
      });
    switch (type) {
      case 'String':
        return Array.from({ length: n }, string);
      case 'UInt64':
        return fixed(8, (at) => data.readBigUInt64LE(at));
      case 'DateTime64(9)':
      case 'Int64':
        return fixed(8, (at) => data.readBigInt64LE(at));
      case 'Float64':
        return fixed(8, (at) => data.readDoubleLE(at));
      case 'UInt32':
        return fixed(4, (at) => data.readUInt32LE(at));
      case 'UInt8':
        return fixed(1, (at) => data[at]!);
      default:
        throw new Error(`reader: unsupported type ${type}`);
    }
  };
  const ncols = varint();
  const nrows = varint();
  const columns: { name: string; type: string }[] = [];
  const values: Value[][] = [];
  for (let c = 0; c < ncols; c++) {
    const name = string();
    const type = string();
    columns.push({ name, type });
    prefix(type);
    values.push(column(type, nrows));
  }
  if (p !== data.length) throw new Error(`read ${p} of ${data.length} bytes`);
  const rows = Array.from({ length: nrows }, (_, r) =>
    Object.fromEntries(columns.map((c, i) => [c.name, values[i]![r]!])),
  );
  return { columns, rows };
}
