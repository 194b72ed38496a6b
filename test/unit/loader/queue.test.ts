// The insert queue folds the batches of one partition fetched during an insert into one job: same
// rows in the same order, one offset range; a range a previous reader committed is never merged.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import { type InsertJob, nextOffset, pastMarkers } from '../../../src/loader/job.js';
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
    q.done(head);
    assert.equal(q.head()?.partition, 1);
    q.done(q.head()!);
    assert.equal(bytes.at(-1), 0, 'queued bytes back to zero');
  });

  test('a committed range is inserted alone, batches of another generation are not merged, and the size is capped', () => {
    const q = new JobQueue(1e9, () => undefined);
    q.push(job(0, 100, 2, { exactRange: true }));
    q.push(job(0, 102, 2));
    assert.equal(q.mergeIntoHead(1e9)!.last, '101');
    q.done(q.head()!);
    q.push(job(0, 104, 2, { exactRange: true }));
    assert.equal(q.mergeIntoHead(1e9)!.last, '103', 'stops before a committed range');
    q.done(q.head()!);
    q.done(q.head()!);
    q.push(job(0, 200, 2));
    q.push(job(0, 202, 2, { generation: 2 }));
    q.push(job(0, 204, 2));
    q.push(job(0, 206, 2));
    assert.equal(q.mergeIntoHead(45)!.last, '205', 'other generation skipped, cap of 45 bytes: 2 jobs');
  });
});

describe('JobQueue.nextInsert: at most one insert per partition per interval', () => {
  const key = (j: InsertJob) => `${j.topic}/${j.partition}`;

  test('a partition not yet due waits; another that is goes first; a due one gets its later batches folded in', () => {
    const q = new JobQueue(1e9, () => undefined);
    q.push(job(0, 100, 2));
    q.push(job(1, 50, 1));
    q.push(job(0, 102, 1));
    const due = new Map([
      ['t/0', 2000],
      ['t/1', 1000],
    ]);
    const dueAt = (j: InsertJob) => due.get(key(j)) ?? 0;
    assert.deepEqual(q.nextInsert(1e9, 500, dueAt), { wakeAt: 1000 }, 'nothing due: wake when partition 1 is');
    const first = q.nextInsert(1e9, 1000, dueAt).job!;
    assert.deepEqual([first.partition, first.first, first.last], [1, '50', '50']);
    q.done(first);
    assert.deepEqual(q.nextInsert(1e9, 1500, dueAt), { wakeAt: 2000 });
    const second = q.nextInsert(1e9, 2000, dueAt).job!;
    assert.deepEqual([second.partition, second.first, second.last], [0, '100', '102'], 'both batches of partition 0');
    q.done(second);
    assert.equal(q.length, 0);
    assert.deepEqual(q.nextInsert(1e9, 3000, dueAt), { wakeAt: undefined });
  });

  test('a partition with a full insert queued goes without waiting, capped at maxBytes', () => {
    const q = new JobQueue(1e9, () => undefined);
    q.push(job(0, 100, 2)); // 20 bytes each
    q.push(job(0, 102, 2));
    q.push(job(0, 104, 2));
    const later = () => 10_000;
    const next = q.nextInsert(40, 0, later).job!;
    assert.deepEqual([next.first, next.last], ['100', '103'], '40 bytes of the 60 queued');
    q.done(next);
    assert.deepEqual(q.nextInsert(40, 0, later), { wakeAt: 10_000 }, 'the 20 bytes left wait for their turn');
  });

  test('a queue half full inserts its head at once: pacing never pauses fetching', () => {
    const q = new JobQueue(80, () => undefined); // room for 80 bytes of messages
    q.push(job(1, 50, 1)); // 10 bytes
    q.push(job(0, 100, 2)); // 20
    assert.deepEqual(
      q.nextInsert(1e9, 0, () => 10_000),
      { wakeAt: 10_000 },
    );
    q.push(job(0, 102, 1)); // 40 of 80
    const head = q.nextInsert(1e9, 0, () => 10_000).job!;
    assert.deepEqual([head.partition, head.first], [1, '50'], 'the oldest batch first');
  });

  test("only a partition's first batch can go: a later batch of the same partition never overtakes it", () => {
    const q = new JobQueue(1e9, () => undefined);
    q.push(job(0, 100, 1, { exactRange: true }));
    q.push(job(0, 101, 1));
    const j = q.nextInsert(1e9, 0, () => 0).job!;
    assert.deepEqual([j.first, j.last], ['100', '100'], 'the committed range alone, first');
  });
});

describe('JobQueue.companionsOf', () => {
  const due = () => 0;
  test("each other partition's queued jobs join the insert as one, within the byte bound", () => {
    const q = new JobQueue(1e9, () => undefined);
    q.push(job(0, 100, 2));
    q.push(job(1, 50, 3));
    q.push(job(2, 7, 1));
    q.push(job(1, 53, 2));
    q.push(job(0, 102, 1));
    const head = q.nextInsert(1e9, 0, due).job!;
    assert.deepEqual([head.partition, head.first, head.last], [0, '100', '102']);
    const companions = q.companionsOf(head, 1e9, 0, due);
    assert.deepEqual(
      companions.map((j) => [j.partition, j.first, j.last]),
      [
        [1, '50', '54'],
        [2, '7', '7'],
      ],
    );
    assert.equal(q.length, 3, 'one queued job per partition, each still counted until done');
    for (const j of [head, ...companions]) q.done(j);
    assert.equal(q.length, 0);
  });

  test('another topic or generation, an exact range, a partition not due, or one over the bound stays out', () => {
    const q = new JobQueue(1e9, () => undefined);
    q.push(job(0, 100, 2));
    q.push({ ...job(1, 0, 2), topic: 'other' });
    q.push(job(2, 0, 2, { generation: 2 }));
    q.push(job(3, 0, 2, { exactRange: true }));
    q.push(job(4, 0, 2));
    q.push(job(5, 0, 20));
    q.push(job(6, 0, 1));
    const head = q.nextInsert(1e9, 0, due).job!;
    const notDue = (j: InsertJob) => (j.partition === 4 ? 1 : 0);
    // head 20 bytes + partition 6's 10: partition 5's 200 bytes would pass 100
    assert.deepEqual(
      q.companionsOf(head, 100, 0, notDue).map((j) => j.partition),
      [6],
    );
    assert.deepEqual(q.companionsOf(q.head()!, 1e9, 0, due).length, 3, 'partitions 4, 5, 6 with the bound lifted');
  });

  test('an exact range goes alone', () => {
    const q = new JobQueue(1e9, () => undefined);
    q.push(job(0, 100, 2, { exactRange: true }));
    q.push(job(1, 0, 2));
    assert.deepEqual(q.companionsOf(q.nextInsert(1e9, 0, due).job!, 1e9, 0, due), []);
  });
});

describe('transaction markers after a batch', () => {
  test('the job that ends a batch goes on past the markers after it; without markers, past its last message', () => {
    const j = job(0, 100, 3); // offsets 100–102
    assert.equal(pastMarkers('102', j), undefined);
    assert.equal(nextOffset(j), '103');
    // a transactional producer's commit marker at 103
    j.end = pastMarkers('103', j);
    assert.equal(nextOffset(j), '104');
  });

  test('a merged job goes on from where its last batch does', () => {
    const q = new JobQueue(1e9, () => undefined);
    q.push(job(0, 100, 2, { end: '103' })); // 100–101, a marker at 102
    q.push(job(0, 103, 2, { end: '106' })); // 103–104, a marker at 105
    const head = q.mergeIntoHead(1e9)!;
    assert.equal(head.last, '104');
    assert.equal(nextOffset(head), '106');
    const q2 = new JobQueue(1e9, () => undefined);
    q2.push(job(0, 100, 2, { end: '103' }));
    q2.push(job(0, 103, 2)); // no marker after the second batch
    assert.equal(nextOffset(q2.mergeIntoHead(1e9)!), '105');
  });
});
