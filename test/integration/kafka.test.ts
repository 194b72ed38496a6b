// Integration test of the local Kafka broker (deploy/local/kafka.sh) through kafkajs, the client
// Sieve's receiver and loader use. Needs a broker on KAFKA_BROKERS (default 127.0.0.1:9092):
// `npm run services` or `bash deploy/local/kafka.sh start`.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import kafkajs, { type Admin, type Consumer, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';

// not a named export node can see in kafkajs' CommonJS build
const { ConfigResourceTypes } = kafkajs;

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const suffix = randomBytes(6).toString('hex');
const topic = `sieve_it_kafka_${suffix}`;
const bigTopic = `sieve_it_kafka_big_${suffix}`;
const groups = [`sieve_it_all_${suffix}`, `sieve_it_restart_${suffix}`];
const MESSAGES = 10_000;
const PARTITIONS = 3;
const FIRST_PASS_PER_PARTITION = 1_000;

const kafka = new Kafka({ clientId: 'sieve-it-kafka', brokers, logLevel: logLevel.ERROR });

/** The exact value sent for message i: its index plus a variable-length payload. */
function messageValue(i: number): string {
  return `message-${i}-${'x'.repeat(i % 97)}`;
}

function indexOf(key: Buffer | null): number {
  assert.ok(key, 'every message has a key');
  const i = Number(key.toString().slice('k-'.length));
  assert.ok(Number.isInteger(i) && i >= 0 && i < MESSAGES, `key ${key.toString()} is one we sent`);
  return i;
}

async function waitFor(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('local Kafka broker', { timeout: 180_000 }, () => {
  let admin: Admin;
  let producer: Producer;
  const consumers: Consumer[] = [];

  before(async () => {
    admin = kafka.admin();
    await admin.connect();
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic, numPartitions: PARTITIONS, replicationFactor: 1 },
        { topic: bigTopic, numPartitions: 1, replicationFactor: 1 },
      ],
    });
    assert.equal(created, true, 'topics were created');
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true });
    await producer.connect();
  });

  after(async () => {
    for (const consumer of consumers) await consumer.disconnect().catch(() => {});
    await producer?.disconnect().catch(() => {});
    if (admin) {
      await admin.deleteGroups(groups).catch(() => {});
      await admin.deleteTopics({ topics: [topic, bigTopic], timeout: 10_000 }).catch(() => {});
      await admin.disconnect();
    }
  });

  test('one KRaft node on 127.0.0.1 (KAFKA_BROKERS) with the single-node settings; the topic has 3 partitions', async () => {
    const cluster = await admin.describeCluster();
    assert.equal(cluster.brokers.length, 1);
    assert.equal(cluster.brokers[0]?.host, '127.0.0.1');
    assert.equal(cluster.brokers[0]?.port, Number(brokers[0]?.split(':')[1]));
    const nodeId = String(cluster.brokers[0]?.nodeId);
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        {
          type: ConfigResourceTypes.BROKER,
          name: nodeId,
          configNames: ['auto.create.topics.enable', 'message.max.bytes', 'min.insync.replicas', 'num.partitions'],
        },
      ],
    });
    const config = Object.fromEntries(
      (described.resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]),
    );
    assert.deepEqual(config, {
      'auto.create.topics.enable': 'false',
      'message.max.bytes': String(8 * 1024 * 1024),
      'min.insync.replicas': '1',
      'num.partitions': '3',
    });
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.equal(meta.topics[0]?.partitions.length, PARTITIONS);
  });

  test(`produces ${MESSAGES} messages acknowledged by all in-sync replicas, spread over every partition`, async () => {
    const BATCH = 1_000;
    for (let start = 0; start < MESSAGES; start += BATCH) {
      const messages = [];
      for (let i = start; i < Math.min(start + BATCH, MESSAGES); i++)
        messages.push({ key: `k-${i}`, value: messageValue(i) });
      const acks = await producer.send({ topic, acks: -1, messages });
      assert.ok(acks.every((a) => a.errorCode === 0));
    }
    const offsets = await admin.fetchTopicOffsets(topic);
    assert.equal(offsets.length, PARTITIONS);
    const total = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    assert.equal(total, MESSAGES);
    for (const p of offsets) assert.ok(Number(p.high) > 1_000, `partition ${p.partition} holds ${p.high} messages`);
  });

  test(`consumes every one of the ${MESSAGES} messages exactly once, intact and in order per partition`, async () => {
    const seen = new Map<number, number>(); // index -> partition
    const lastOffset = new Map<number, bigint>();
    const problems: string[] = [];
    const consumer = kafka.consumer({ groupId: groups[0] as string });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const i = indexOf(message.key);
        if (seen.has(i)) problems.push(`message ${i} delivered twice`);
        if (message.value?.toString() !== messageValue(i)) problems.push(`message ${i} has a different value`);
        const offset = BigInt(message.offset);
        const prev = lastOffset.get(partition);
        if (prev !== undefined && offset <= prev)
          problems.push(`partition ${partition}: offset ${offset} after ${prev}`);
        lastOffset.set(partition, offset);
        seen.set(i, partition);
      },
    });
    await waitFor(`${MESSAGES} messages`, () => seen.size >= MESSAGES || problems.length > 0, 90_000);
    await new Promise((resolve) => setTimeout(resolve, 500)); // would catch late duplicates
    await consumer.disconnect();
    assert.deepEqual(problems, []);
    assert.equal(seen.size, MESSAGES);
    for (let i = 0; i < MESSAGES; i++) assert.ok(seen.has(i), `message ${i} arrived`);
    const perPartition = new Set(seen.values());
    assert.equal(perPartition.size, PARTITIONS, 'messages came from every partition');
  });

  test('a consumer group resumes from its committed offsets after a restart, with no re-delivery', async () => {
    const groupId = groups[1] as string;
    const first = new Map<number, number>(); // index -> partition
    const takenPerPartition = new Map<number, number>();

    // Pass 1: take the first FIRST_PASS_PER_PARTITION messages of each partition, committing exactly them.
    const c1 = kafka.consumer({ groupId });
    consumers.push(c1);
    await c1.connect();
    await c1.subscribe({ topic, fromBeginning: true });
    await c1.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch }) => {
        let last: string | undefined;
        for (const message of batch.messages) {
          const taken = takenPerPartition.get(batch.partition) ?? 0;
          if (taken >= FIRST_PASS_PER_PARTITION) break;
          first.set(indexOf(message.key), batch.partition);
          takenPerPartition.set(batch.partition, taken + 1);
          last = message.offset;
        }
        if (last !== undefined) {
          await c1.commitOffsets([{ topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
        }
      },
    });
    await waitFor(
      'the first pass',
      () => [...takenPerPartition.values()].filter((n) => n >= FIRST_PASS_PER_PARTITION).length === PARTITIONS,
      60_000,
    );
    await c1.disconnect();
    assert.equal(first.size, PARTITIONS * FIRST_PASS_PER_PARTITION);

    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    for (const p of committed[0]?.partitions ?? []) {
      assert.equal(p.offset, String(FIRST_PASS_PER_PARTITION), `partition ${p.partition} committed offset`);
    }

    // Pass 2: same group, new consumer: continues where pass 1 committed.
    const second = new Map<number, number>();
    const firstOffsetSeen = new Map<number, string>();
    const c2 = kafka.consumer({ groupId });
    consumers.push(c2);
    await c2.connect();
    await c2.subscribe({ topic, fromBeginning: true });
    await c2.run({
      eachMessage: async ({ partition, message }) => {
        if (!firstOffsetSeen.has(partition)) firstOffsetSeen.set(partition, message.offset);
        second.set(indexOf(message.key), partition);
      },
    });
    const remaining = MESSAGES - first.size;
    await waitFor(`${remaining} remaining messages`, () => second.size >= remaining, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await c2.disconnect();

    for (let p = 0; p < PARTITIONS; p++) {
      assert.equal(firstOffsetSeen.get(p), String(FIRST_PASS_PER_PARTITION), `partition ${p} resumed at the commit`);
    }
    const redelivered = [...second.keys()].filter((i) => first.has(i));
    assert.deepEqual(redelivered, [], 'no committed message is delivered again');
    assert.equal(first.size + second.size, MESSAGES, 'the two passes together saw every message');
  });

  test('accepts and delivers a 6 MiB message (message.max.bytes is 8 MiB)', async () => {
    const big = Buffer.alloc(6 * 1024 * 1024, 0x61);
    await producer.send({ topic: bigTopic, acks: -1, messages: [{ key: 'big', value: big }] });
    const consumer = kafka.consumer({ groupId: `sieve_it_big_${suffix}`, maxBytes: 16 * 1024 * 1024 });
    groups.push(`sieve_it_big_${suffix}`);
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: bigTopic, fromBeginning: true });
    let received: Buffer | null = null;
    await consumer.run({
      eachMessage: async ({ message }) => {
        received = message.value;
      },
    });
    await waitFor('the 6 MiB message', () => received !== null, 30_000);
    await consumer.disconnect();
    assert.equal((received as Buffer | null)?.length, big.length);
  });
});
