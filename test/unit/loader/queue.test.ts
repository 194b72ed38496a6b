// The insert queue folds the batches of one partition fetched during an insert into one job: same
// rows in the same order, one offset range; a range a previous reader committed is never merged.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import type { InsertJob } from '../../../src/loader/job.js';
import { JobQueue } from '../../../src/loader/queue.js';

function job(partition: number, first: number, n: number, extra: Partial<InsertJob> = {}): InsertJob {
  const messages = Array.from(
    { length: n },
    (_, i) => ({ offset: String(first + i), value: Buffer.alloc(10) }) as unknown as KafkaMessage,
  );
  return {
    topic: 't',
    partition,
    first: String(first),
    last: String(first + n - 1),
    highWatermark: String(first + n + 5),
    tables: new Map([
      [
        'otel_traces',
        {
          insert: { table: 'otel_traces', format: 'JSONEachRow' as const },
          chunks: messages.map((m) => Buffer.from(`rows of ${m.offset}\n`)),
          rows: messages.map(() => 1),
          owner: messages.map((_, i) => i),
        },
      ],
    ]),
    messages,
    bytes: n * 10,
    generation: 1,
    ...extra,
  };
}

describe('JobQueue.mergeIntoHead', () => {
  test("later jobs of the head's partition join it; other partitions keep their place", () => {
    const bytes: number[] = [];
    const q = new JobQueue(1e9, (b) => bytes.push(b));
    q.push(job(0, 100, 2));
    q.push(job(1, 50, 3));
    q.push(job(0, 102, 1));
    q.push(job(0, 103, 2));
    const head = q.mergeIntoHead(1e9)!;
    assert.equal(q.length, 2);
    assert.equal(head.first, '100');
    assert.equal(head.last, '104');
    assert.equal(head.highWatermark, '110');
    assert.equal(head.bytes, 50);
    assert.deepEqual(
      head.messages.map((m) => m.offset),
      ['100', '101', '102', '103', '104'],
    );
    const tc = head.tables.get('otel_traces')!;
    assert.deepEqual(tc.owner, [0, 1, 2, 3, 4]);
    assert.deepEqual(
      tc.chunks.map((c) => c.toString().trim()),
      ['rows of 100', 'rows of 101', 'rows of 102', 'rows of 103', 'rows of 104'],
    );
    q.shift();
    assert.equal(q.head()?.partition, 1);
    q.shift();
    assert.equal(bytes.at(-1), 0, 'queued bytes back to zero');
  });

  test('a committed range is inserted alone, batches of another generation are not merged, and the size is capped', () => {
    const q = new JobQueue(1e9, () => undefined);
    q.push(job(0, 100, 2, { exactRange: true }));
    q.push(job(0, 102, 2));
    assert.equal(q.mergeIntoHead(1e9)!.last, '101');
    q.shift();
    q.push(job(0, 104, 2, { exactRange: true }));
    assert.equal(q.mergeIntoHead(1e9)!.last, '103', 'stops before a committed range');
    q.shift();
    q.shift();
    q.push(job(0, 200, 2));
    q.push(job(0, 202, 2, { generation: 2 }));
    q.push(job(0, 204, 2));
    q.push(job(0, 206, 2));
    assert.equal(q.mergeIntoHead(45)!.last, '205', 'other generation skipped, cap of 45 bytes: 2 jobs');
  });
});
