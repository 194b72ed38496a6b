// `sieve dlq` arguments: inspect or replay, topics, the replay group; anything else is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDlqArgs, replayLine, runDlq } from '../../../src/cli/dlq.js';

test('sieve dlq inspects, sieve dlq replay replays; topics repeat; the group defaults', () => {
  assert.deepEqual(parseDlqArgs([]), {
    replay: false,
    topics: undefined,
    reasons: undefined,
    group: 'sieve-dlq-replay',
    config: undefined,
  });
  assert.deepEqual(parseDlqArgs(['replay', '--topic', 'a', '--topic', 'b.dlq', '--group', 'g', '--config', 'c.yaml']), {
    replay: true,
    topics: ['a', 'b.dlq'],
    reasons: undefined,
    group: 'g',
    config: 'c.yaml',
  });
  assert.equal(parseDlqArgs(['--help']), 'help');
});

test('a replay narrowed to some reasons; a reason no dead letter has, or one without replay, is refused', () => {
  const args = parseDlqArgs(['replay', '--reason', 'refused']);
  assert.ok(args !== 'help');
  assert.deepEqual(args.reasons, new Set(['refused']));
  assert.throws(
    () => parseDlqArgs(['replay', '--reason', 'refusd']),
    /--reason refusd: .* one of undecodable, refused/,
  );
  assert.throws(() => parseDlqArgs(['--reason', 'refused']), /--reason narrows a replay/);
});

test('the replay line says where messages went and what was passed over', () => {
  assert.equal(replayLine({ replayed: 3, byTopic: { spans: 3 }, passedOver: {} }), 'replayed 3: 3 to spans');
  assert.equal(
    replayLine({ replayed: 2, byTopic: { spans: 1, logs: 1 }, passedOver: { undecodable: 4 } }),
    'replayed 2: 1 to spans, 1 to logs; passed over 4: 4 undecodable',
  );
  assert.equal(
    replayLine({ replayed: 0, byTopic: {}, passedOver: { undecodable: 1 } }),
    'replayed 0; passed over 1: 1 undecodable',
  );
});

test('an unknown subcommand, option or an empty group is refused', () => {
  assert.throws(() => parseDlqArgs(['purge']), /unknown dlq command "purge"/);
  assert.throws(() => parseDlqArgs(['replay', 'now']), /unknown dlq command "replay now"/);
  assert.throws(() => parseDlqArgs(['--from-beginning']), /Unknown option '--from-beginning'/);
  assert.throws(() => parseDlqArgs(['--group', ' ']), /--group must not be empty/);
});

test('a broker that does not answer is an error naming it', async () => {
  const saved = process.env.KAFKA_BROKERS;
  process.env.KAFKA_BROKERS = '127.0.0.1:1';
  try {
    await assert.rejects(runDlq([], process.stdout, process.stderr), /^Error: Kafka at 127\.0\.0\.1:1: .*ECONNREFUSED/);
  } finally {
    if (saved === undefined) delete process.env.KAFKA_BROKERS;
    else process.env.KAFKA_BROKERS = saved;
  }
});
