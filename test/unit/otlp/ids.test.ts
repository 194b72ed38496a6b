import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bytesToHex,
  hexToBytes,
  int64ToBigInt,
  int64ToNumber,
  int64ToString,
  isValidSpanId,
  isValidTraceId,
  LongClass,
  toLong,
} from '../../../src/otlp/ids.js';

describe('ids', () => {
  it('converts hex both ways', () => {
    assert.equal(bytesToHex(hexToBytes('00ff10AB')), '00ff10ab');
    assert.equal(bytesToHex(undefined), '');
    assert.equal(bytesToHex(new Uint8Array()), '');
    assert.throws(() => hexToBytes('abc'), RangeError);
    assert.throws(() => hexToBytes('zz'), RangeError);
  });
  it('validates trace and span ids', () => {
    assert.equal(isValidTraceId(hexToBytes('5b8efff798038103d269b633813fc60c')), true);
    assert.equal(isValidTraceId(Buffer.alloc(16)), false);
    assert.equal(isValidTraceId(Buffer.alloc(8, 1)), false);
    assert.equal(isValidSpanId(hexToBytes('eee19b7ec3c1b174')), true);
    assert.equal(isValidSpanId(undefined), false);
  });
});

describe('int64', () => {
  const big = '1700000000123456789';
  it('keeps nanosecond precision from every representation', () => {
    const unsigned = LongClass.fromString(big, true);
    const signed = LongClass.fromString(big, false);
    for (const v of [big, unsigned, signed, toLong(big, true), toLong(BigInt(big))]) {
      assert.equal(int64ToString(v), big);
      assert.equal(int64ToBigInt(v), 1700000000123456789n);
    }
    assert.equal(int64ToString(LongClass.fromString('18446744073709551615', true)), '18446744073709551615');
    assert.equal(int64ToString(LongClass.fromString('-5', false)), '-5');
    assert.equal(int64ToString(LongClass.fromString('-5', false).toUnsigned()), '18446744073709551611');
    assert.equal(int64ToString(7), '7');
    assert.equal(int64ToString(null), '0');
  });
  it('converts to number', () => {
    assert.equal(int64ToNumber(LongClass.fromNumber(123, true)), 123);
    assert.equal(int64ToNumber(LongClass.fromNumber(-123)), -123);
    assert.equal(int64ToNumber('42'), 42);
    assert.equal(int64ToNumber(undefined), 0);
  });
  it('rejects garbage', () => {
    assert.throws(() => int64ToBigInt('12abc'), RangeError);
    assert.throws(() => int64ToBigInt(Number.NaN), RangeError);
  });
});
