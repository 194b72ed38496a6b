// `sieve dlq` arguments: inspect or replay, topics, the replay group; anything else is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDlqArgs, runDlq } from '../../../src/cli/dlq.js';

test('sieve dlq inspects, sieve dlq replay replays; topics repeat; the group defaults', () => {
  assert.deepEqual(parseDlqArgs([]), {
    replay: false,
    topics: undefined,
    group: 'sieve-dlq-replay',
    config: undefined,
  });
  assert.deepEqual(parseDlqArgs(['replay', '--topic', 'a', '--topic', 'b.dlq', '--group', 'g', '--config', 'c.yaml']), {
    replay: true,
    topics: ['a', 'b.dlq'],
    group: 'g',
    config: 'c.yaml',
  });
  assert.equal(parseDlqArgs(['--help']), 'help');
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
