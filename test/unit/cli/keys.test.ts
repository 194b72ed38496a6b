/**
 * The keys file edits (`sieve keys create|revoke`), the authenticator's view of them (revoked keys,
 * replaced keys, client certificates mapped to tenants) and `sieve keys list`'s table.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import type { PeerCertificate } from 'node:tls';
import { formatKeyTable, parseLastUsed, runKeys } from '../../../src/cli/keys.js';
import { appendKey, readKeysFile, revokeKey } from '../../../src/config/keys-file.js';
import { createAuthenticator, matchClientCert } from '../../../src/receiver/auth.js';

const dir = mkdtempSync(join(tmpdir(), 'sieve-keys-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const sha = (k: string) => createHash('sha256').update(k).digest('hex');

function io(env: NodeJS.ProcessEnv = {}) {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (b) => (o += b));
  err.on('data', (b) => (e += b));
  return { io: { out, err, env, now: () => new Date('2026-11-28T10:00:00.000Z') }, out: () => o, err: () => e };
}

test('create prints the key once and stores its hash; revoke marks it in place; names are unique', async () => {
  const file = join(dir, 'keys.yaml');
  const a = io({ SIEVE_API_KEYS_FILE: file });
  assert.equal(await runKeys(['create', '--tenant', 'acme', '--name', 'ci'], a.io), 0);
  const key = a.out().trim();
  assert.match(key, /^sieve_[A-Za-z0-9_-]{43}$/);
  assert.doesNotMatch(a.err(), new RegExp(key));
  assert.deepEqual(readKeysFile(file), [
    { name: 'ci', tenant: 'acme', sha256: sha(key), created: '2026-11-28T10:00:00.000Z' },
  ]);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  await assert.rejects(runKeys(['create', '--tenant', 'x', '--name', 'ci', '--file', file], io().io), /already exists/);
  await assert.rejects(runKeys(['create', '--tenant', 'x', '--name', 'a b', '--file', file], io().io), /key name/);
  await assert.rejects(runKeys(['create', '--tenant', 'x', '--name', 'y'], io().io), /SIEVE_API_KEYS_FILE/);

  const inode = statSync(file).ino;
  assert.equal(await runKeys(['revoke', 'ci', '--file', file], io().io), 0);
  assert.equal(statSync(file).ino, inode, 'edited in place (a bind-mounted file sees the change)');
  assert.equal(readKeysFile(file)[0]?.revoked, '2026-11-28T10:00:00.000Z');
  const again = io();
  assert.equal(await runKeys(['revoke', 'ci', '--file', file], again.io), 0);
  assert.match(again.err(), /already revoked/);
  await assert.rejects(runKeys(['revoke', 'nobody', '--file', file], io().io), /no key named "nobody"/);
});

test('existing files: comments and flow lists are kept; a broken file is refused, not overwritten', () => {
  const file = join(dir, 'flow.yaml');
  writeFileSync(file, `# issued by hand\n[{ sha256: ${sha('k1')}, tenant: acme, name: old }]\n`);
  appendKey(file, { name: 'new', tenant: 'beta', sha256: sha('k2'), created: '2026-11-28T10:00:00.000Z' });
  assert.match(readFileSync(file, 'utf8'), /^# issued by hand/);
  assert.deepEqual(
    readKeysFile(file).map((k) => k.name),
    ['old', 'new'],
  );
  assert.equal(revokeKey(file, 'old', '2026-11-29T00:00:00.000Z'), true);
  assert.equal(readKeysFile(file)[0]?.revoked, '2026-11-29T00:00:00.000Z');

  const broken = join(dir, 'broken.yaml');
  writeFileSync(broken, '- { sha256: nothex, tenant: acme }\n');
  assert.throws(
    () => appendKey(broken, { name: 'n', tenant: 't', sha256: sha('k'), created: '2026-11-28T10:00:00.000Z' }),
    /broken\.yaml: \[0\]\.sha256/,
  );
  assert.equal(readFileSync(broken, 'utf8'), '- { sha256: nothex, tenant: acme }\n');
});

test('authenticator: revoked keys fail, keys can be replaced, certificates map to tenants', () => {
  const auth = createAuthenticator({
    keys: [
      { sha256: sha('live'), tenant: 'acme', name: 'live' },
      { sha256: sha('dead'), tenant: 'acme', name: 'dead', revoked: '2026-11-28T10:00:00.000Z' },
    ],
    clientCerts: [
      { uri: 'spiffe://acme/agent', tenant: 'acme', name: 'agent' },
      { commonName: 'billing-svc', tenant: 'billing' },
    ],
  });
  assert.deepEqual(auth.authenticate({ 'x-api-key': 'live' }), {
    tenant: 'acme',
    name: 'live',
    via: { apiKey: 'live' },
  });
  assert.deepEqual(auth.authenticate({ authorization: 'Bearer dead' }), { error: 'API key revoked' });
  assert.equal(auth.activeKeys, 1);
  auth.setKeys([{ sha256: sha('next'), tenant: 'beta' }]);
  assert.deepEqual(auth.authenticate({ 'x-api-key': 'live' }), { error: 'invalid API key' });
  assert.deepEqual(auth.authenticate({ 'x-api-key': 'next' }), {
    tenant: 'beta',
    via: { apiKey: `sha256:${sha('next').slice(0, 12)}` },
  });

  const cert = (c: Partial<PeerCertificate>) => c as PeerCertificate;
  assert.deepEqual(
    auth.authenticate({}, cert({ subject: { CN: 'x' } as never, subjectaltname: 'URI:spiffe://acme/agent' })),
    {
      tenant: 'acme',
      name: 'agent',
      via: { clientCert: 'agent' },
    },
  );
  assert.equal(
    (
      auth.authenticate({}, cert({ subject: { CN: 'billing-svc' } as never, subjectaltname: 'DNS:b.internal' })) as {
        tenant: string;
      }
    ).tenant,
    'billing',
  );
  // a certificate that is not listed falls back to the API key
  assert.match(
    String((auth.authenticate({}, cert({ subject: { CN: 'other' } as never })) as { error: string }).error),
    /missing API key .* no client certificate mapped/,
  );
  assert.equal(
    matchClientCert(
      [{ sha256: 'ab'.repeat(32), tenant: 't' }],
      cert({ fingerprint256: Array(32).fill('AB').join(':'), subject: {} as never }),
    )?.tenant,
    't',
  );
});

test('keys list: last use from a receiver metrics text (the latest per name), unknown without a receiver', () => {
  const text = [
    '# HELP sieve_receiver_api_key_last_used_timestamp_seconds …',
    'sieve_receiver_api_key_last_used_timestamp_seconds{name="ci",tenant="acme"} 1795900000',
    'sieve_receiver_api_key_last_used_timestamp_seconds{name="other",tenant="beta"} 1795900100',
    'sieve_receiver_requests_total{signal="traces",status="200"} 3',
  ].join('\n');
  const used = parseLastUsed(text);
  assert.deepEqual(
    [...used],
    [
      ['ci', 1795900000],
      ['other', 1795900100],
    ],
  );
  const keys = [
    { name: 'ci', tenant: 'acme', sha256: sha('a'), created: '2026-11-01T00:00:00.000Z' },
    { name: 'idle', tenant: 'acme', sha256: sha('b'), revoked: '2026-11-02T00:00:00.000Z' },
  ];
  const table = formatKeyTable(keys, used).split('\n');
  assert.match(table[0] ?? '', /^NAME\s+TENANT\s+CREATED\s+REVOKED\s+LAST USED$/);
  assert.match(table[1] ?? '', /^ci\s+acme\s+2026-11-01T00:00:00.000Z\s+-\s+2026-11-28T21:06:40.000Z$/);
  assert.match(table[2] ?? '', /^idle\s+acme\s+-\s+2026-11-02T00:00:00.000Z\s+-$/);
  assert.match(formatKeyTable(keys, undefined).split('\n')[1] ?? '', /\?$/);
});
