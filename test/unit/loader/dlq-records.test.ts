// What `sieve dlq` makes of dead letters: the DLQ headers read back, errors grouped by kind, the summary.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DeadLetterSummary,
  deadLetterOf,
  dlqTopicOf,
  errorKind,
  MAX_ERROR_KINDS,
  sourceTopicOf,
} from '../../../src/loader/dlq-records.js';

test('a loader topic and its DLQ name the same DLQ topic', () => {
  assert.equal(dlqTopicOf('otlp_spans'), 'otlp_spans.dlq');
  assert.equal(dlqTopicOf('otlp_spans.dlq'), 'otlp_spans.dlq');
});

test('a dead letter goes back to its original.topic header, else to the DLQ name without .dlq', () => {
  assert.equal(sourceTopicOf('otlp_spans.dlq', { 'original.topic': Buffer.from('team_spans') }), 'team_spans');
  assert.equal(sourceTopicOf('otlp_spans.dlq', {}), 'otlp_spans');
  assert.equal(sourceTopicOf('otlp_spans.dlq', { 'original.topic': Buffer.from('') }), 'otlp_spans');
  assert.equal(sourceTopicOf('otlp_spans.dlq', undefined), 'otlp_spans');
});

test('the headers DeadLetters writes are read back; a message without them is of reason unknown', () => {
  const d = deadLetterOf({
    timestamp: '1764547200000',
    headers: {
      reason: Buffer.from('refused'),
      'refused.table': Buffer.from('otel_traces'),
      error: Buffer.from('boom'),
    },
  });
  assert.deepEqual(d, { reason: 'refused', table: 'otel_traces', error: 'boom', timestampMs: 1764547200000 });
  assert.deepEqual(deadLetterOf({ timestamp: '5' }), { reason: 'unknown', table: '', error: '', timestampMs: 5 });
});

test('errors differing only in numbers standing alone are one kind; the first line only, cut to a line', () => {
  const a =
    'Code: 469. DB::Exception: Constraint `c` for table otel.otel_traces is violated at row 1. Expression: x\nstack';
  const b = 'Code: 469. DB::Exception: Constraint `c` for table otel.otel_traces is violated at row 27. Expression: x';
  assert.equal(errorKind(a), errorKind(b));
  assert.match(
    errorKind(a),
    /^Code: N\. DB::Exception: Constraint `c` for table otel\.otel_traces is violated at row N\./,
  );
  assert.equal(errorKind('table db_2.t1 refused 3 rows'), 'table db_2.t1 refused N rows');
  const long = errorKind(`oops ${'x'.repeat(300)}`);
  assert.equal(long.length, 110);
  assert.ok(long.endsWith('…'));
});

test('the summary counts by reason, table and kind of error, most frequent first, then the time span', () => {
  const s = new DeadLetterSummary();
  const at = Date.parse('2026-11-30T10:00:00Z');
  for (let i = 0; i < 3; i++)
    s.add({ reason: 'refused', table: 'otel_traces', error: `violated at row ${i}`, timestampMs: at + i * 1000 });
  s.add({ reason: 'undecodable', table: '', error: 'invalid wire type 7 (field 1)', timestampMs: at - 60_000 });
  s.add({ reason: 'unknown', table: '', error: '', timestampMs: Number.NaN });
  assert.equal(s.count, 5);
  assert.deepEqual(s.lines(), [
    '3  refused     otel_traces    violated at row N',
    '1  undecodable -              invalid wire type N (field N)',
    '1  unknown     -              (no error header)',
    'sent to the DLQ from 2026-11-30T09:59:00.000Z to 2026-11-30T10:00:02.000Z',
  ]);
  assert.deepEqual(s.lines(1).slice(1, 2), ['… and 2 more kinds of error']);
});

test('past MAX_ERROR_KINDS kinds, further kinds count together: the summary stays bounded', () => {
  const s = new DeadLetterSummary();
  const kinds = MAX_ERROR_KINDS + 500;
  for (let i = 0; i < kinds; i++) s.add({ reason: 'refused', table: 't', error: `bad value 'v${i}'`, timestampMs: i });
  s.add({ reason: 'refused', table: 't', error: "bad value 'v0'", timestampMs: 0 }); // a kind already kept
  assert.equal(s.count, kinds + 1);
  const lines = s.lines(MAX_ERROR_KINDS + 10);
  assert.equal(lines.length, MAX_ERROR_KINDS + 2); // the kinds kept, the rest together, the time span
  assert.equal(lines[0], '500  -           -              (other errors: more kinds than the summary keeps)');
  assert.equal(lines[1], "  2  refused     t              bad value 'v0'");
});
