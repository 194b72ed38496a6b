import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ensureDevHashKey } from '../../../src/cli/dev-key.js';

const dir = mkdtempSync(join(tmpdir(), 'sieve-devkey-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('--dev without a key: one is generated once in the data folder (0600) and reused', () => {
  const data = join(dir, 'data');
  const env: NodeJS.ProcessEnv = {};
  const first = ensureDevHashKey(env, data);
  assert.deepEqual(first, { file: join(data, 'hash.key'), generated: true });
  assert.equal(env.SIEVE_HASH_KEY_FILE, join(data, 'hash.key'));
  const key = readFileSync(join(data, 'hash.key'), 'utf8');
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.equal(statSync(join(data, 'hash.key')).mode & 0o777, 0o600);

  const env2: NodeJS.ProcessEnv = {};
  assert.deepEqual(ensureDevHashKey(env2, data), { file: join(data, 'hash.key'), generated: false });
  assert.equal(readFileSync(join(data, 'hash.key'), 'utf8'), key, 'the same key: hashes stay stable across restarts');
});

test('--dev with a key configured: nothing generated, nothing changed', () => {
  const data = join(dir, 'configured');
  for (const env of [
    { SIEVE_HASH_KEY: 'ab'.repeat(32) },
    { SIEVE_HASH_KEY_FILE: '/run/secrets/k' },
  ] as NodeJS.ProcessEnv[]) {
    const before = { ...env };
    assert.equal(ensureDevHashKey(env, data), undefined);
    assert.deepEqual(env, before);
  }
  assert.throws(() => statSync(data), /ENOENT/);
});

test('an empty key file (an interrupted earlier write) is replaced', () => {
  const data = join(dir, 'empty');
  ensureDevHashKey({}, data);
  writeFileSync(join(data, 'hash.key'), '');
  assert.equal(ensureDevHashKey({}, data)?.generated, true);
  assert.match(readFileSync(join(data, 'hash.key'), 'utf8'), /^[0-9a-f]{64}$/);
});
