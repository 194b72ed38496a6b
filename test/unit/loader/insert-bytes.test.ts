// The default message bytes of one insert (all partitions of a topic together): four times the fetch
// size, at most 16 MiB, never less than the fetch size.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultInsertBytes } from '../../../src/loader/loader.js';

const MiB = 1024 * 1024;

test('four times the fetch size: the CLI default of 4 MiB fetches makes 16 MiB inserts', () => {
  assert.equal(defaultInsertBytes(4 * MiB), 16 * MiB);
  assert.equal(defaultInsertBytes(20_000), 80_000);
});

test('at most 16 MiB, unless the fetch size is more', () => {
  assert.equal(defaultInsertBytes(8 * MiB), 16 * MiB);
  assert.equal(defaultInsertBytes(16 * MiB), 16 * MiB);
  assert.equal(defaultInsertBytes(64 * MiB), 64 * MiB);
});
