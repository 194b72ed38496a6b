import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClickHouseError } from '@clickhouse/client';
import { isRefusedData, splitAtMessageBoundary } from '../../../src/loader/refusals.js';
import { nanosToDateTime64 } from '../../../src/loader/time.js';

const chError = (code: string, type: string) => new ClickHouseError({ message: `${type} happened`, code, type });

describe('isRefusedData', () => {
  test('errors about the rows are refusals', () => {
    for (const [code, type] of [
      ['469', 'VIOLATED_CONSTRAINT'],
      ['407', 'DECIMAL_OVERFLOW'],
      ['41', 'CANNOT_PARSE_DATETIME'],
      ['395', 'FUNCTION_THROW_IF_VALUE_IS_NON_ZERO'],
      ['117', 'INCORRECT_DATA'],
    ] as const)
      assert.equal(isRefusedData(chError(code, type)), true, type);
  });
  test('errors about the server or the schema are retried, not refusals', () => {
    for (const [code, type] of [
      ['60', 'UNKNOWN_TABLE'],
      ['16', 'NO_SUCH_COLUMN_IN_TABLE'],
      ['241', 'MEMORY_LIMIT_EXCEEDED'],
      ['252', 'TOO_MANY_PARTS'],
      ['159', 'TIMEOUT_EXCEEDED'],
    ] as const)
      assert.equal(isRefusedData(chError(code, type)), false, type);
    assert.equal(isRefusedData(new Error('connect ECONNREFUSED 127.0.0.1:8123')), false);
    assert.equal(isRefusedData(undefined), false);
  });
});

describe('splitAtMessageBoundary', () => {
  test('one message cannot be split', () => {
    assert.equal(splitAtMessageBoundary([3, 3, 3, 3], 0, 4), undefined);
    assert.equal(splitAtMessageBoundary([0, 1, 2], 1, 2), undefined);
  });
  test('splits at the boundary nearest the middle', () => {
    assert.equal(splitAtMessageBoundary([0, 0, 0, 0, 1, 1, 1, 1], 0, 8), 4);
    assert.equal(splitAtMessageBoundary([0, 0, 0, 0, 0, 0, 0, 1], 0, 8), 7);
    assert.equal(splitAtMessageBoundary([0, 1, 1, 1, 1, 1, 1, 1], 0, 8), 1);
    assert.equal(splitAtMessageBoundary([5, 5, 6, 7, 7, 7], 2, 6), 3);
  });
  test('property: any split keeps each message on one side and makes progress', () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 16) % n; // the high bits: an LCG's low bits repeat with a short period
    };
    for (let c = 0; c < 2000; c++) {
      const owner: number[] = [];
      let msg = 0;
      const len = 1 + rand(40);
      for (let i = 0; i < len; i++) {
        if (rand(3) === 0) msg += 1 + rand(2);
        owner.push(msg);
      }
      const start = rand(len);
      const end = start + 1 + rand(len - start);
      const split = splitAtMessageBoundary(owner, start, end);
      const messages = new Set(owner.slice(start, end));
      if (messages.size === 1) {
        assert.equal(split, undefined);
        continue;
      }
      assert.ok(split !== undefined && split > start && split < end, `${owner} [${start},${end}) → ${split}`);
      const left = new Set(owner.slice(start, split));
      for (const m of owner.slice(split, end)) assert.ok(!left.has(m), `message ${m} on both sides`);
    }
  });
});

describe('nanosToDateTime64', () => {
  test('formats the DateTime64(9) range and refuses instants outside it', () => {
    assert.equal(nanosToDateTime64('0'), '1970-01-01 00:00:00.000000000');
    assert.equal(nanosToDateTime64('9223372036854775807'), '2262-04-11 23:47:16.854775807');
    assert.throws(() => nanosToDateTime64('9223372036854775808'), /outside 1970-01-01 \.\. 2262-04-11/);
    assert.throws(() => nanosToDateTime64('18446744073709551615'), RangeError);
    assert.throws(() => nanosToDateTime64('-5'), RangeError);
  });
});
