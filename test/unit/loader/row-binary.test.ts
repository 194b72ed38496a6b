// The RowBinary writer's building blocks: word copies and comparisons (every length and position,
// up to the last byte of a buffer), the generated object writer, and rows buffers reused only once
// they are given back.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  compileColumnsWriter,
  compileObjectWriter,
  copyBytes,
  RowBinaryWriter,
  releaseRows,
  sameBytes,
  viewOf,
} from '../../../src/loader/row-binary.js';
import { readRowBinary } from '../../support/row-binary-reader.js';

describe('copyBytes and sameBytes', () => {
  test('copy any range, up to the end of the source, and report non-ASCII bytes', () => {
    const src = Buffer.from('abcdefghijklmnopq\u00e9xyz'); // é: two bytes with the top bit set
    const at = src.indexOf(0xc3);
    for (let from = 0; from <= src.length; from++)
      for (let to = from; to <= src.length; to++) {
        const out = Buffer.alloc(src.length + 8, 0x2e);
        const bits = copyBytes(viewOf(src), src.length, from, to, viewOf(out), 2);
        assert.deepEqual(out.subarray(2, 2 + to - from), src.subarray(from, to), `copy [${from}, ${to})`);
        assert.equal(out.subarray(0, 2).toString(), '..', 'nothing written before the target');
        const nonAscii = to > from && from <= at + 1 && to > at;
        assert.equal((bits & 0x80808080) !== 0, nonAscii, `ASCII of [${from}, ${to})`);
      }
  });

  test('compare any ranges, up to the end of both buffers', () => {
    const a = randomBytes(23);
    for (let from = 0; from <= a.length; from++)
      for (let to = from; to <= a.length; to++) {
        const b = Buffer.concat([Buffer.from([1, 2, 3]), a.subarray(from, to)]); // the range ends b
        assert.equal(sameBytes(viewOf(b), b.length, 3, viewOf(a), a.length, from, to), true, `[${from}, ${to})`);
        if (to > from) {
          const c = Buffer.from(b);
          c[c.length - 1] = (c[c.length - 1] as number) ^ 1; // the last byte differs
          assert.equal(
            sameBytes(viewOf(c), c.length, 3, viewOf(a), a.length, from, to),
            false,
            `[${from}, ${to}) last byte`,
          );
        }
      }
  });
});

describe('compileObjectWriter', () => {
  const columns = [
    { name: 's', type: 'LowCardinality(String)' },
    { name: 'u8', type: 'UInt8' },
    { name: 'b', type: 'Bool' },
    { name: 'u32', type: 'UInt32' },
    { name: 'u64', type: 'UInt64' },
    { name: 'i64', type: 'Int64' },
    { name: 'f', type: 'Float64' },
  ];
  const write = compileObjectWriter(columns);
  const roundTrip = (o: object) => {
    const w = new RowBinaryWriter(16);
    write(w, o);
    return readRowBinary(w.take(), columns)[0];
  };

  test('writes each property as its column type says', () => {
    assert.deepEqual(
      roundTrip({ s: 'héllo', u8: 7, b: true, u32: 4_000_000_000, u64: 2 ** 40 + 3, i64: -5, f: 0.25 }),
      {
        s: 'héllo',
        u8: 7,
        b: true,
        u32: 4_000_000_000,
        u64: 2n ** 40n + 3n,
        i64: -5n,
        f: 0.25,
      },
    );
  });

  test('absent values as empty and zero; UInt64 below zero as 0, fractions truncated', () => {
    assert.deepEqual(roundTrip({ u64: -3.5, f: undefined }), {
      s: '',
      u8: 0,
      b: false,
      u32: 0,
      u64: 0n,
      i64: 0n,
      f: 0,
    });
    assert.equal(roundTrip({ u64: 12.9 })!.u64, 12n);
    assert.equal(roundTrip({ u64: 4294967295.5 })!.u64, 4294967295n);
    assert.equal(roundTrip({ u64: 4294967296 })!.u64, 4294967296n);
  });

  test('a type it cannot write fails when compiled', () => {
    assert.throws(() => compileObjectWriter([{ name: 'x', type: 'Array(String)' }]), /no RowBinary writer.*Array/);
    assert.throws(() => compileColumnsWriter([{ name: 'x', type: 'Array(String)' }]), /no RowBinary writer.*Array/);
  });

  test('compileColumnsWriter: each column to its own writer, from `at` on, as compileObjectWriter writes it alone', () => {
    const writeColumns = compileColumnsWriter(columns);
    const o = { s: 'héllo', u8: 7, b: true, u32: 4_000_000_000, u64: 2 ** 40 + 3, i64: -5, f: 0.25 };
    const writers = Array.from({ length: columns.length + 2 }, () => new RowBinaryWriter(16));
    writeColumns(writers, 2, o);
    writeColumns(writers, 2, {});
    assert.equal(writers[0]!.pos + writers[1]!.pos, 0, 'writers before `at` untouched');
    columns.forEach((c, i) => {
      const alone = new RowBinaryWriter(16);
      compileObjectWriter([c])(alone, o);
      compileObjectWriter([c])(alone, {});
      assert.deepEqual(writers[2 + i]!.take(), alone.take(), c.name);
    });
  });
});

describe('rows buffers', () => {
  // rows filling most of the buffer begun: handed over as they are, not copied
  const rowsOf = (w: RowBinaryWriter, text: string) => {
    w.begin(64 * 1024);
    w.string(text.repeat(40_000));
    return w.detach();
  };

  test('a detached buffer is not written again until it is given back, and then only once', () => {
    const w = new RowBinaryWriter(16);
    const first = rowsOf(w, 'a');
    const second = rowsOf(w, 'b');
    assert.notEqual(second.buffer, first.buffer);
    assert.equal(first.subarray(3).toString(), 'a'.repeat(40_000), 'the first rows are intact');
    releaseRows(first);
    releaseRows(first); // a second release is ignored
    const third = rowsOf(w, 'c');
    assert.equal(third.buffer, first.buffer, 'the released buffer takes the next rows');
    const fourth = rowsOf(w, 'd');
    assert.notEqual(fourth.buffer, first.buffer, 'a buffer released twice is handed out once');
    assert.equal(third.subarray(3).toString(), 'c'.repeat(40_000));
  });

  test('buffers the writer did not hand out are never reused', () => {
    const w = new RowBinaryWriter(16);
    const foreign = Buffer.allocUnsafeSlow(70 * 1024).fill(0x7a);
    releaseRows(foreign);
    const rows = rowsOf(w, 'e');
    assert.notEqual(rows.buffer, foreign.buffer);
    assert.equal(foreign.toString(), 'z'.repeat(70 * 1024));
  });
});
