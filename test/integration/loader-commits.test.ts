// The loader's offset commits against the real broker (src/loader/offsets.ts): the commit past an
// inserted job rides in the same OffsetCommit request as the next job's range commit, so an insert
// costs one round trip to Kafka instead of two, and what the group has committed after each step is
// exactly what a re-reader needs (ranges.ts): the offset past every inserted job, and the range of the
// job about to be inserted as the metadata of the offset it starts at.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import type { InsertJob } from '../../src/loader/job.js';
import { PartitionOffsets } from '../../src/loader/offsets.js';
import { rangeMetadata } from '../../src/loader/ranges.js';
import { deleteTopics, ensureTopicsRetry } from '../support/kafka-harness.js';
import { until } from '../support/until.js';

const runId = randomBytes(4).toString('hex');
const topic = `commits_${runId}`;
const groupId = `commits_${runId}`;
const kafka = new Kafka({ brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'], logLevel: logLevel.NOTHING });
const admin = kafka.admin();
let consumer: Consumer;
let offsets: PartitionOffsets;
/** OffsetCommit requests the consumer has sent */
let commitRequests = 0;

const job = (partition: number, first: number, last: number): InsertJob => ({
  topic,
  partition,
  first: String(first),
  last: String(last),
  highWatermark: String(last + 1),
  tables: new Map(),
  messages: [],
  bytes: 0,
  generation: 1,
});

/** partition → committed offset and metadata */
async function committed(): Promise<Map<number, { offset: string; metadata: string | null }>> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map(t!.partitions.map((p) => [p.partition, { offset: p.offset, metadata: p.metadata }]));
}

before(async () => {
  await ensureTopicsRetry([topic], 60_000, 2);
  await admin.connect();
  consumer = kafka.consumer({ groupId });
  consumer.on(consumer.events.REQUEST, (e) => {
    if (e.payload.apiName === 'OffsetCommit') commitRequests++;
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  // autoCommit off: the only commits are the ones under test
  await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => {} });
  await until('the consumer joined its group', async () => joined, 30_000);
  offsets = new PartitionOffsets({
    consumer,
    admin,
    groupId,
    logger: pino({ level: 'silent' }),
    backoff: { initialMs: 50, maxMs: 200 },
    stopping: () => false,
    generation: () => 1,
  });
});

after(async () => {
  await consumer?.disconnect();
  await admin.disconnect();
  await deleteTopics([topic]);
});

test('an inserted job is committed in the same request as the next range; idle, on its own', async () => {
  const a = job(0, 0, 9);
  const b = job(1, 0, 4);
  const c = job(0, 10, 19);
  const d = job(0, 20, 29); // continues c on its partition

  let sent = commitRequests;
  assert.equal(await offsets.commitRangeBefore(a), true);
  assert.equal(commitRequests - sent, 1);
  assert.deepEqual((await committed()).get(0), { offset: '0', metadata: rangeMetadata(a) });

  // a inserted; b (another partition) next: one request commits past a and b's range
  offsets.insertedJob(a);
  sent = commitRequests;
  assert.equal(await offsets.commitRangeBefore(b), true);
  assert.equal(commitRequests - sent, 1, 'one OffsetCommit for both partitions');
  let now = await committed();
  assert.deepEqual(now.get(0), { offset: '10', metadata: rangeMetadata(a) }, 'past a, its range kept');
  assert.deepEqual(now.get(1), { offset: '0', metadata: rangeMetadata(b) }, "b's range before its insert");

  // b inserted; c (partition 0, after a) next: again one request
  offsets.insertedJob(b);
  sent = commitRequests;
  assert.equal(await offsets.commitRangeBefore(c), true);
  assert.equal(commitRequests - sent, 1);
  now = await committed();
  assert.deepEqual(now.get(0), { offset: '10', metadata: rangeMetadata(c) });
  assert.deepEqual(now.get(1), { offset: '5', metadata: rangeMetadata(b) });

  // c inserted; d continues it on the same partition: d's range commit (offset 20) is also past c
  offsets.insertedJob(c);
  sent = commitRequests;
  assert.equal(await offsets.commitRangeBefore(d), true);
  assert.equal(commitRequests - sent, 1);
  assert.deepEqual((await committed()).get(0), { offset: '20', metadata: rangeMetadata(d) });
  assert.equal(await offsets.flushCommitAfter(), false, 'nothing pending: d is not inserted yet');

  // d inserted and nothing to insert next: the worker flushes its commit alone
  offsets.insertedJob(d);
  sent = commitRequests;
  assert.equal(await offsets.flushCommitAfter(), true);
  assert.equal(commitRequests - sent, 1);
  assert.deepEqual((await committed()).get(0), { offset: '30', metadata: rangeMetadata(d) });
  assert.equal(await offsets.flushCommitAfter(), false, 'nothing pending any more');
});

test('a job of the same partition that does not continue the inserted one: past it first, then its range', async () => {
  const d = job(1, 5, 9);
  const e = job(1, 20, 29); // not d.last + 1 (as after a re-read in another generation)
  assert.equal(await offsets.commitRangeBefore(d), true);
  offsets.insertedJob(d);
  const sent = commitRequests;
  assert.equal(await offsets.commitRangeBefore(e), true);
  assert.equal(commitRequests - sent, 2, 'two requests, in order');
  assert.deepEqual((await committed()).get(1), { offset: '20', metadata: rangeMetadata(e) });
});

test('a job whose generation is over is not committed, and the inserted one still is', async () => {
  const f = job(0, 30, 34);
  offsets.insertedJob(f);
  const stale = { ...job(1, 30, 39), generation: 0 };
  assert.equal(await offsets.commitRangeBefore(stale), false);
  const now = await committed();
  assert.deepEqual(now.get(0), { offset: '35', metadata: rangeMetadata(f) });
  assert.notEqual(now.get(1)?.metadata, rangeMetadata(stale));
});

test("a combined insert's members: every range in one request, each naming the group; then past them all", async () => {
  const a = job(0, 40, 49);
  const b = job(1, 40, 44);
  const group = [
    { partition: 0, first: '40', last: '49' },
    { partition: 1, first: '40', last: '44' },
  ];
  a.group = group;
  b.group = group;
  const groupMeta = (j: InsertJob) => `sieve-range:${j.first}-${j.last};group:0:40-49,1:40-44`;
  await offsets.flushCommitAfter();
  let sent = commitRequests;
  assert.equal(await offsets.commitRangeBefore([a, b]), true);
  assert.equal(commitRequests - sent, 1, 'one OffsetCommit for both members');
  let now = await committed();
  assert.deepEqual(now.get(0), { offset: '40', metadata: groupMeta(a) });
  assert.deepEqual(now.get(1), { offset: '40', metadata: groupMeta(b) });

  // both inserted; c continues a on partition 0: one request, past b and c's range (also past a)
  offsets.insertedJob([a, b]);
  const c = job(0, 50, 59);
  sent = commitRequests;
  assert.equal(await offsets.commitRangeBefore(c), true);
  assert.equal(commitRequests - sent, 1);
  now = await committed();
  assert.deepEqual(now.get(0), { offset: '50', metadata: rangeMetadata(c) });
  assert.deepEqual(now.get(1), { offset: '45', metadata: groupMeta(b) }, "past b, the group's range kept");
});

test('a job followed by transaction markers: committed past them, and the job after them continues it', async () => {
  await offsets.flushCommitAfter();
  const g: InsertJob = { ...job(1, 100, 109), end: '111' }; // a commit marker at 110
  const h = job(1, 111, 119);
  assert.equal(await offsets.commitRangeBefore(g), true);
  offsets.insertedJob(g);
  let sent = commitRequests;
  assert.equal(await offsets.commitRangeBefore(h), true);
  assert.equal(commitRequests - sent, 1, "h's range commit (offset 111) is also the one past g");
  assert.deepEqual((await committed()).get(1), { offset: '111', metadata: rangeMetadata(h) });

  // k inserted last, with a marker after it: the idle commit goes past the marker
  offsets.insertedJob(h);
  const k: InsertJob = { ...job(1, 120, 124), end: '126' };
  assert.equal(await offsets.commitRangeBefore(k), true);
  offsets.insertedJob(k);
  sent = commitRequests;
  assert.equal(await offsets.flushCommitAfter(), true);
  assert.equal(commitRequests - sent, 1);
  assert.deepEqual((await committed()).get(1), { offset: '126', metadata: rangeMetadata(k) });
});
