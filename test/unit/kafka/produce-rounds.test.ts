// Splitting a send into produce requests: no partition's record batch in a request above the limit,
// each partition's messages in their order, every message sent exactly once, one request when it fits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planProduceRounds, RECORD_OVERHEAD_BYTES, recordBytes } from '../../../src/kafka/produce-rounds.js';

const message = (partition: number, bytes: number, id: number, key: string | null = null) => ({
  partition,
  key,
  value: Buffer.alloc(bytes, id % 256),
  id,
});

test('a send that fits the limit in every partition is one request, in its order', () => {
  const messages = [message(0, 300, 1), message(1, 900, 2), message(0, 600, 3), message(2, 10, 4)];
  const rounds = planProduceRounds(messages, 1000 + 2 * RECORD_OVERHEAD_BYTES);
  assert.deepEqual(
    rounds.map((r) => r.map((m) => m.id)),
    [[1, 2, 3, 4]],
  );
  assert.deepEqual(planProduceRounds([], 1000), []);
});

test('per partition at most the limit per request, order kept, every message once', () => {
  const limit = 10_000;
  const messages = Array.from({ length: 200 }, (_, i) => message(i % 3 === 0 ? 0 : i % 7, 500 + ((i * 977) % 4000), i));
  const rounds = planProduceRounds(messages, limit);
  assert.ok(rounds.length > 1);
  const seen: number[] = [];
  const lastRoundOf = new Map<number, number>();
  rounds.forEach((round, r) => {
    const bytes = new Map<number, number>();
    for (const m of round) {
      bytes.set(m.partition, (bytes.get(m.partition) ?? 0) + recordBytes(m));
      assert.ok((lastRoundOf.get(m.partition) ?? 0) <= r);
      lastRoundOf.set(m.partition, r);
      seen.push(m.id);
    }
    for (const [partition, b] of bytes) assert.ok(b <= limit, `round ${r}, partition ${partition}: ${b} bytes`);
  });
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    messages.map((m) => m.id),
  );
  // within a partition, the messages go out in the order they came
  for (const partition of new Set(messages.map((m) => m.partition)))
    assert.deepEqual(
      rounds
        .flat()
        .filter((m) => m.partition === partition)
        .map((m) => m.id),
      messages.filter((m) => m.partition === partition).map((m) => m.id),
    );
});

test('a message above the limit on its own gets a request of its own for its partition', () => {
  const rounds = planProduceRounds(
    [message(0, 50, 1), message(0, 5000, 2), message(1, 50, 3), message(0, 50, 4)],
    1000,
  );
  assert.deepEqual(
    rounds.map((r) => r.map((m) => m.id)),
    [[1, 3], [2], [4]],
  );
});

test('keys count toward a record batch, in UTF-8 bytes', () => {
  const keyed = message(0, 100, 1, 'é'.repeat(10));
  assert.equal(recordBytes(keyed), 100 + 20 + RECORD_OVERHEAD_BYTES);
});
