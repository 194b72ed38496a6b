import assert from 'node:assert/strict';
import { test } from 'node:test';
import { receiverWorkersOption } from '../../../src/cli/receiver-cluster.js';

test('sieve receiver: --workers wins over SIEVE_RECEIVER_WORKERS, which applies without it', () => {
  assert.equal(receiverWorkersOption('receiver', '3', '2'), 3);
  assert.equal(receiverWorkersOption('receiver', undefined, '2'), 2);
  assert.equal(receiverWorkersOption('receiver', undefined, undefined), undefined);
  assert.equal(receiverWorkersOption('receiver', undefined, ''), undefined);
});

test('sieve receiver: a worker count that is not an integer from 1 to 64 is refused, from the flag or the variable', () => {
  assert.throws(() => receiverWorkersOption('receiver', '0', undefined), /integer from 1 to 64, got "0"/);
  assert.throws(() => receiverWorkersOption('receiver', undefined, 'four'), /integer from 1 to 64, got "four"/);
});

test('sieve loader and sieve all ignore SIEVE_RECEIVER_WORKERS: one environment can serve every command', () => {
  for (const command of ['loader', 'all']) {
    assert.equal(receiverWorkersOption(command, undefined, '2'), undefined);
    assert.equal(receiverWorkersOption(command, undefined, 'four'), undefined);
  }
});

test('--workers on another command than receiver is refused, naming the command it belongs to', () => {
  for (const command of ['loader', 'all'])
    assert.throws(() => receiverWorkersOption(command, '2', undefined), /--workers applies to `sieve receiver` only/);
});
