import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import { alignToRange, parseRangeMetadata, rangeMetadata } from '../../../src/loader/ranges.js';

const msgs = (from: number, to: number): KafkaMessage[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ offset: String(from + i) }) as KafkaMessage);
const offsets = (parts: KafkaMessage[][]) => parts.map((p) => [p[0]?.offset, p[p.length - 1]?.offset]);

describe('range metadata', () => {
  test('round trip, and anything else is no range', () => {
    assert.deepEqual(parseRangeMetadata(rangeMetadata({ first: '41', last: '9007199254740993' })), {
      first: '41',
      last: '9007199254740993',
    });
    for (const other of [null, undefined, '', 'x', 'sieve-range:5', 'sieve-range:9-3', 'sieve-range:a-b', 'other:1-2'])
      assert.equal(parseRangeMetadata(other), undefined, String(other));
  });
});

describe('alignToRange', () => {
  test('a batch starting where the range starts is cut at its last offset', () => {
    const { parts, short } = alignToRange(msgs(62, 120), { first: '62', last: '92' });
    assert.equal(short, false);
    assert.deepEqual(offsets(parts), [
      ['62', '92'],
      ['93', '120'],
    ]);
  });
  test('a batch ending exactly at the range is one part', () => {
    assert.deepEqual(offsets(alignToRange(msgs(62, 92), { first: '62', last: '92' }).parts), [['62', '92']]);
  });
  test('a batch ending inside the range is short (to be completed by the next fetch)', () => {
    const r = alignToRange(msgs(62, 79), { first: '62', last: '92' });
    assert.equal(r.short, true);
    assert.deepEqual(offsets(r.parts), [['62', '79']]);
  });
  test('no range, or a batch starting elsewhere, is left whole', () => {
    assert.deepEqual(offsets(alignToRange(msgs(0, 9), undefined).parts), [['0', '9']]);
    assert.deepEqual(offsets(alignToRange(msgs(93, 99), { first: '62', last: '92' }).parts), [['93', '99']]);
    assert.equal(alignToRange(msgs(93, 99), { first: '62', last: '92' }).short, false);
  });
  test('offset gaps (compaction, transaction markers) are cut by value, not by count', () => {
    const gappy = [...msgs(10, 12), ...msgs(20, 25)];
    assert.deepEqual(offsets(alignToRange(gappy, { first: '10', last: '21' }).parts), [
      ['10', '21'],
      ['22', '25'],
    ]);
  });
});
