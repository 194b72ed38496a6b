// Which topics a starting receiver or loader asks the broker to create, and how: only the missing
// ones, once each, with Sieve's partition count unless a topic says otherwise, and replicated as the
// broker's default.replication.factor says (a hard-coded 1 left topics on a multi-broker cluster
// with one replica). The real broker's side is in test/integration/loader-missing-topic.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Admin, ITopicConfig } from 'kafkajs';
import { BROKER_DEFAULT, createMissingTopics, TOPIC_PARTITIONS } from '../../../src/kafka/topics.js';

/** An admin client over a fixed topic list that records what it is asked to create. */
function recordingAdmin(existing: string[]) {
  const calls = { listTopics: 0, created: [] as ITopicConfig[][] };
  const admin = {
    listTopics: async () => {
      calls.listTopics++;
      return existing;
    },
    createTopics: async (o: { topics: ITopicConfig[] }) => {
      calls.created.push(o.topics);
      return true;
    },
  } as unknown as Admin;
  return { admin, calls };
}

test('creates only the missing topics, once each, in one request after one listing', async () => {
  const { admin, calls } = recordingAdmin(['otlp_spans', 'otlp_spans.dlq']);
  const created = await createMissingTopics(admin, [
    'otlp_spans',
    'otlp_logs',
    'otlp_logs',
    { topic: 'otlp_spans.dlq', partitions: BROKER_DEFAULT },
    { topic: 'otlp_logs.dlq', partitions: BROKER_DEFAULT },
  ]);
  assert.deepEqual(created, ['otlp_logs', 'otlp_logs.dlq']);
  assert.equal(calls.listTopics, 1);
  assert.deepEqual(calls.created, [
    [
      { topic: 'otlp_logs', numPartitions: TOPIC_PARTITIONS, replicationFactor: BROKER_DEFAULT },
      { topic: 'otlp_logs.dlq', numPartitions: BROKER_DEFAULT, replicationFactor: BROKER_DEFAULT },
    ],
  ]);
});

test("the caller's partition count applies to topics given by name", async () => {
  const { admin, calls } = recordingAdmin([]);
  await createMissingTopics(admin, ['t1'], 6);
  assert.deepEqual(calls.created, [[{ topic: 't1', numPartitions: 6, replicationFactor: BROKER_DEFAULT }]]);
});

test('nothing is created when every topic exists', async () => {
  const { admin, calls } = recordingAdmin(['a', 'b']);
  assert.deepEqual(await createMissingTopics(admin, ['a', { topic: 'b' }]), []);
  assert.deepEqual(calls.created, []);
});
