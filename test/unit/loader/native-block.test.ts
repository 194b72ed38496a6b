// Rows in the span encoder's column layout → one Native block: every value of every column type otel_traces has comes back
// as it went in (read with a reader written from the format's description), across chunks, with
// dictionaries of any size; malformed rows are refused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { NativeBlockEncoder } from '../../../src/loader/native-block.js';
import type { Column } from '../../../src/loader/row-binary.js';
import { TRACE_COLUMNS } from '../../../src/loader/traces-rowbinary.js';
import { readNativeBlock } from '../../support/native-reader.js';
import { leb128, type Value } from '../../support/row-binary-reader.js';

/**
 * Rows in the span encoder's column layout: a UInt32 count of streams, the UInt32 end of each, then the
 * streams: each column's values as RowBinary writes them (a top-level Map column's values only), then
 * per top-level Map column its keys (Strings) and per row its entry count × 2 (LEB128), + 1 when the row's
 * keys are the previous row's: they are then not written again.
 */
function columnLayout(rows: Record<string, Value>[], columns: readonly Column[]): Buffer {
  const streams: Buffer[] = [];
  const mapStreams: Buffer[] = [];
  for (const c of columns) {
    const values = rows.map((r) => r[c.name]!);
    const map = /^Map\((.*), (.*)\)$/.exec(c.type);
    if (!map) {
      streams.push(writeRowBinary(values, c.type));
      continue;
    }
    const maps = values as Map<string, Value>[];
    const keysOf = (r: number) => JSON.stringify([...maps[r]!.keys()]);
    const repeats = maps.map((m, r) => r > 0 && m.size > 0 && keysOf(r) === keysOf(r - 1));
    streams.push(
      writeRowBinary(
        maps.flatMap((m) => [...m.values()]),
        map[2]!,
      ),
    );
    mapStreams.push(
      writeRowBinary(
        maps.flatMap((m, r) => (repeats[r] ? [] : [...m.keys()])),
        map[1]!,
      ),
    );
    mapStreams.push(Buffer.from(maps.flatMap((m, r) => leb128(m.size * 2 + (repeats[r] ? 1 : 0)))));
  }
  streams.push(...mapStreams);
  const header = Buffer.alloc(4 + 4 * streams.length);
  header.writeUInt32LE(streams.length, 0);
  let end = 0;
  streams.forEach((v, i) => {
    end += v.length;
    header.writeUInt32LE(end, 4 + 4 * i);
  });
  return Buffer.concat([header, ...streams]);
}

/** RowBinary of values of a ClickHouse type. */
function writeRowBinary(values: Value[], columnType: string): Buffer {
  const parts: Buffer[] = [];
  const leb = (n: number) => parts.push(Buffer.from(leb128(n)));
  const write = (type: string, v: Value): void => {
    const inner = /^(LowCardinality|Array)\((.*)\)$/.exec(type);
    if (inner?.[1] === 'LowCardinality') {
      write(inner[2]!, v);
      return;
    }
    if (inner?.[1] === 'Array') {
      leb((v as Value[]).length);
      for (const x of v as Value[]) write(inner[2]!, x);
      return;
    }
    const map = /^Map\((.*), (.*)\)$/.exec(type);
    if (map) {
      leb((v as Map<string, Value>).size);
      for (const [k, x] of v as Map<string, Value>) {
        write(map[1]!, k);
        write(map[2]!, x);
      }
      return;
    }
    const b = Buffer.alloc(8);
    switch (type) {
      case 'String': {
        const s = Buffer.from(v as string, 'utf8');
        leb(s.length);
        parts.push(s);
        return;
      }
      case 'UInt64':
        b.writeBigUInt64LE(v as bigint);
        break;
      case 'DateTime64(9)':
        b.writeBigInt64LE(v as bigint);
        break;
      case 'Float64':
        b.writeDoubleLE(v as number);
        break;
      case 'UInt8':
        parts.push(Buffer.from([v as number]));
        return;
      default:
        throw new Error(`test writer: ${type}`);
    }
    parts.push(b);
  };
  for (const v of values) write(columnType, v);
  return Buffer.concat(parts);
}

// small alphabets, so that values repeat (dictionaries) as well as differ
const text = fc.oneof(
  fc.constantFrom('', 'a', 'GET /x', 'é☃', 'svc'),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
);
// spans of one instrumentation share their keys: rows often repeat the previous row's (written once)
const sharedKeys = ['service.name', 'http.method', 'é☃'];
const map = fc.oneof(
  fc.uniqueArray(fc.tuple(text, text), { maxLength: 6, selector: ([k]) => k }).map((e) => new Map<string, Value>(e)),
  fc
    .tuple(fc.integer({ min: 1, max: sharedKeys.length }), fc.array(text, { minLength: 3, maxLength: 3 }))
    .map(([n, values]) => new Map<string, Value>(sharedKeys.slice(0, n).map((k, i) => [k, values[i]!]))),
);
function arbitraryOf(type: string): fc.Arbitrary<Value> {
  const inner = /^(LowCardinality|Array)\((.*)\)$/.exec(type);
  if (inner?.[1] === 'LowCardinality') return arbitraryOf(inner[2]!);
  if (inner?.[1] === 'Array') return fc.array(arbitraryOf(inner[2]!), { maxLength: 3 });
  if (type.startsWith('Map(')) return map;
  switch (type) {
    case 'String':
      return text;
    case 'UInt64':
      return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    case 'DateTime64(9)':
      return fc.bigInt({ min: 0n, max: 2n ** 63n - 1n });
    case 'Float64':
      return fc.double({ noNaN: true });
    case 'UInt8':
      return fc.integer({ min: 0, max: 255 });
    default:
      throw new Error(`test values: ${type}`);
  }
}
const row = fc.record(Object.fromEntries(TRACE_COLUMNS.map((c) => [c.name, arbitraryOf(c.type)])));

describe('NativeBlockEncoder', () => {
  const encoder = new NativeBlockEncoder(TRACE_COLUMNS);

  test('rows of every otel_traces column type, in any chunks, read back from the block as written', () => {
    fc.assert(
      fc.property(fc.array(fc.array(row, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 4 }), (chunks) => {
        const data = chunks.map((rows) => columnLayout(rows, TRACE_COLUMNS));
        const block = readNativeBlock(
          encoder.encode(
            data,
            chunks.map((r) => r.length),
          ),
        );
        assert.deepEqual(
          block.columns,
          TRACE_COLUMNS.map(({ name, type }) => ({ name, type })),
        );
        assert.deepEqual(
          block.rows,
          chunks.flat().map((r) => ({ ...r })),
        );
      }),
      { numRuns: 150 },
    );
  });

  test('dictionaries past 256 and 65,536 values, columns of hundreds of KB: every value kept', () => {
    const columns: Column[] = [
      { name: 'Id', type: 'String' },
      { name: 'Name', type: 'LowCardinality(String)' },
      { name: 'Attributes', type: 'Map(LowCardinality(String), String)' },
    ];
    const n = 70_000;
    const rows = Array.from({ length: n }, (_, i) => ({
      Id: `id-${i}`,
      Name: `name-${i % 300}`,
      Attributes: new Map<string, Value>([
        [`key-${i}`, `v${i}`],
        ['shared', 'x'],
      ]),
    }));
    // in two chunks: the String column's and the Map's values come from each as a view, the rest is built
    const half = n / 2;
    const block = readNativeBlock(
      new NativeBlockEncoder(columns).encode(
        [columnLayout(rows.slice(0, half), columns), columnLayout(rows.slice(half), columns)],
        [half, half],
      ),
    );
    assert.deepEqual(block.rows, rows);
  });

  test('the encoder is reused: a block holds only its own rows and dictionary', () => {
    const columns: Column[] = [{ name: 'S', type: 'LowCardinality(String)' }];
    const e = new NativeBlockEncoder(columns);
    e.encode([columnLayout([{ S: 'first' }, { S: 'second' }], columns)], [2]);
    const block = Buffer.concat(e.encode([columnLayout([{ S: 'third' }], columns)], [1]));
    assert.deepEqual(readNativeBlock(block).rows, [{ S: 'third' }]);
    // one key in the dictionary: flags, key count 1
    assert.ok(block.includes(Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 5, ...Buffer.from('third')])));
  });

  test('columns with fewer or more values than the rows, or a broken layout: a RangeError, not a wrong block', () => {
    const columns: Column[] = [
      { name: 'S', type: 'String' },
      { name: 'N', type: 'UInt64' },
    ];
    const data = columnLayout(
      [
        { S: 'a', N: 1n },
        { S: 'b', N: 2n },
      ],
      columns,
    );
    const e = new NativeBlockEncoder(columns);
    assert.throws(() => e.encode([data.subarray(0, data.length - 3)], [2]), RangeError);
    assert.throws(() => e.encode([data], [1]), /bytes after its 1 values/);
    assert.throws(() => e.encode([data], [3]), RangeError);
    assert.throws(() => e.encode([Buffer.from([0x85])], [1]), /not 2 streams/);
    const lying = Buffer.from(data);
    lying.writeUInt32LE(1000, 4); // the first column ends past the chunk
    assert.throws(() => e.encode([lying], [2]), /out of bounds/);
    assert.deepEqual(readNativeBlock(e.encode([data], [2])).rows, [
      { S: 'a', N: 1n },
      { S: 'b', N: 2n },
    ]);
  });

  test('LowCardinality and Array columns with fewer or more values than the rows: a RangeError', () => {
    const cases: [Column, Record<string, Value>[]][] = [
      [{ name: 'L', type: 'LowCardinality(String)' }, [{ L: 'a' }, { L: 'a' }, { L: '' }]],
      [{ name: 'A', type: 'Array(String)' }, [{ A: ['x', 'y'] }, { A: [] }, { A: ['z'] }]],
      [{ name: 'E', type: 'Array(LowCardinality(String))' }, [{ E: ['e'] }, { E: ['e', 'f'] }, { E: [] }]],
    ];
    for (const [column, rows] of cases) {
      const columns = [column, { name: 'N', type: 'UInt8' }];
      const withN = rows.map((r, i) => ({ ...r, N: i }));
      const data = columnLayout(withN, columns);
      const e = new NativeBlockEncoder(columns);
      assert.throws(() => e.encode([data], [2]), /bytes after its 2 values/, column.type);
      assert.throws(() => e.encode([data], [4]), RangeError, column.type);
      assert.deepEqual(readNativeBlock(e.encode([data], [3])).rows, withN, column.type);
    }
  });

  test('a Map column whose counts, keys and values disagree: a RangeError', () => {
    const columns: Column[] = [{ name: 'M', type: 'Map(LowCardinality(String), String)' }];
    const e = new NativeBlockEncoder(columns);
    const data = columnLayout(
      [
        {
          M: new Map<string, Value>([
            ['a', '1'],
            ['b', '2'],
          ]),
        },
      ],
      columns,
    );
    assert.deepEqual(readNativeBlock(e.encode([data], [1])).rows, [
      {
        M: new Map([
          ['a', '1'],
          ['b', '2'],
        ]),
      },
    ]);
    // streams: values, keys, counts; the count (entries × 2) is the last byte
    for (const count of [1, 3]) {
      const bad = Buffer.from(data);
      bad[bad.length - 1] = count * 2;
      assert.throws(() => e.encode([bad], [1]), RangeError, `count ${count}`);
    }
    // the first row of a chunk cannot repeat the previous row's keys
    const first = Buffer.from(data);
    first[first.length - 1] = 2 * 2 + 1;
    assert.throws(() => e.encode([first], [1]), /repeats keys/);
    // a row repeating the previous row's keys has as many entries as it
    const twoRows = columnLayout(
      [{ M: new Map<string, Value>([['a', '1']]) }, { M: new Map<string, Value>([['a', '2']]) }],
      columns,
    );
    assert.equal(twoRows[twoRows.length - 1], 1 * 2 + 1, 'the second row is written as a repeat');
    assert.deepEqual(
      readNativeBlock(e.encode([twoRows], [2])).rows.map((r) => [...(r.M as Map<string, Value>)]),
      [[['a', '1']], [['a', '2']]],
    );
    const longer = Buffer.from(twoRows);
    longer[longer.length - 1] = 2 * 2 + 1; // two entries, "the previous row's keys" (it has one)
    assert.throws(() => e.encode([longer], [2]), /repeats keys/);
  });

  test('a column type it has no encoding for is refused when the encoder is made', () => {
    assert.throws(
      () => new NativeBlockEncoder([{ name: 'x', type: 'Decimal(10, 2)' }]),
      /no encoding for column type Decimal/,
    );
  });
});
