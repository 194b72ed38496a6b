import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import {
  alignToRange,
  insertToken,
  MAX_GROUP_PARTITIONS,
  parseRangeMetadata,
  rangeMetadata,
} from '../../../src/loader/ranges.js';

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

  test('a combined insert: every member range, round trip; malformed groups are no range', () => {
    const group = [
      { partition: 0, first: '10', last: '19' },
      { partition: 2, first: '5', last: '5' },
      { partition: 7, first: '100', last: '9007199254740993' },
    ];
    const meta = rangeMetadata({ first: '5', last: '5', group });
    assert.equal(meta, 'sieve-range:5-5;group:0:10-19,2:5-5,7:100-9007199254740993');
    assert.deepEqual(parseRangeMetadata(meta), { first: '5', last: '5', group });
    assert.equal(
      rangeMetadata({ first: '5', last: '5', group: [group[1]!] }),
      'sieve-range:5-5',
      'a group of one is a range',
    );
    const tooMany = Array.from({ length: MAX_GROUP_PARTITIONS + 1 }, (_, p) => `${p}:1-2`).join(',');
    for (const bad of [
      'sieve-range:5-5;group:2:5-5', // one member
      'sieve-range:5-5;group:0:10-19,7:1-2', // its own range is not a member
      'sieve-range:5-5;group:2:5-5,0:10-19', // not sorted by partition
      'sieve-range:5-5;group:0:19-10,2:5-5', // a member ends before it starts
      'sieve-range:5-5;group:0:10-19,2:5-5,', // a trailing comma
      'sieve-range:5-5;group:x:1-2,2:5-5',
      `sieve-range:1-2;group:${tooMany}`,
    ])
      assert.equal(parseRangeMetadata(bad), undefined, bad);
  });

  test("tokens: a partition's range as before; a combined insert names every member", () => {
    assert.equal(
      insertToken('spans', [{ partition: 2, first: '5', last: '9' }], 'otel_traces'),
      'spans-2-5-9-otel_traces',
    );
    assert.equal(
      insertToken(
        'spans',
        [
          { partition: 0, first: '1', last: '4' },
          { partition: 2, first: '5', last: '9' },
        ],
        'otel_traces',
      ),
      'spans-0:1-4+2:5-9-otel_traces',
    );
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
