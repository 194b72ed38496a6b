import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { withApiKeysFromEnv } from '../../../src/cli/services.js';
import type { SieveConfig } from '../../../src/pipeline/api.js';

const base: SieveConfig = {
  source: 'x.yaml',
  receiver: { host: '127.0.0.1', port: 4318, maxRequestBodyBytes: 1024 },
  pipelines: {},
};
const sha = (k: string) => createHash('sha256').update(k).digest('hex');

test('SIEVE_API_KEYS_FILE adds hashed API keys with tenants when the config has none', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sieve-keys-'));
  try {
    const file = join(dir, 'keys.yaml');
    writeFileSync(file, `- { sha256: ${sha('k1')}, tenant: acme, name: acme-prod }\n`);
    const cfg = withApiKeysFromEnv(base, { SIEVE_API_KEYS_FILE: file });
    assert.deepEqual(cfg.receiver.auth?.keys, [{ sha256: sha('k1'), tenant: 'acme', name: 'acme-prod' }]);
    assert.equal(withApiKeysFromEnv(base, {}), base, 'no env: config unchanged');

    writeFileSync(file, '- { sha256: not-a-hash, tenant: acme }\n');
    assert.throws(
      () => withApiKeysFromEnv(base, { SIEVE_API_KEYS_FILE: file }),
      /keys\.yaml: \[0\]\.sha256: sha256 must be 64 lowercase hex characters/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
