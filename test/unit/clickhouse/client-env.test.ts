/** ClickHouse connection settings from CLICKHOUSE_* variables: HTTPS files, password file, clear errors. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { clickhouseConfigFromEnv, describeClickHouseError } from '../../../src/clickhouse/client.js';

const dir = mkdtempSync(join(tmpdir(), 'sieve-ch-env-'));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

test('defaults: plain HTTP on loopback, user default, no password', () => {
  assert.deepEqual(clickhouseConfigFromEnv({}), {
    url: 'http://127.0.0.1:8123',
    database: 'otel',
    username: 'default',
    password: '',
  });
});

test('CLICKHOUSE_PASSWORD_FILE (a compose secret): its contents without the final newline', () => {
  const c = clickhouseConfigFromEnv({
    CLICKHOUSE_USER: 'sieve_writer',
    CLICKHOUSE_PASSWORD_FILE: file('pw', 's3cret\n'),
  });
  assert.deepEqual([c.username, c.password], ['sieve_writer', 's3cret']);
  assert.throws(
    () => clickhouseConfigFromEnv({ CLICKHOUSE_PASSWORD: 'a', CLICKHOUSE_PASSWORD_FILE: file('pw2', 'b') }),
    /CLICKHOUSE_PASSWORD or CLICKHOUSE_PASSWORD_FILE, not both/,
  );
  assert.throws(
    () => clickhouseConfigFromEnv({ CLICKHOUSE_PASSWORD_FILE: join(dir, 'missing') }),
    /CLICKHOUSE_PASSWORD_FILE=.*missing: cannot read the file \(ENOENT\)/,
  );
});

test('HTTPS: CA file, optional client certificate; contradictions are refused', () => {
  const ca = file('ca.pem', 'CA');
  const cert = file('c.pem', 'CERT');
  const key = file('c.key', 'KEY');
  const https = 'https://ch.example:8443';
  assert.deepEqual(clickhouseConfigFromEnv({ CLICKHOUSE_URL: https, CLICKHOUSE_CA_FILE: ca }).tls, {
    caCert: Buffer.from('CA'),
  });
  assert.deepEqual(
    clickhouseConfigFromEnv({
      CLICKHOUSE_URL: https,
      CLICKHOUSE_CA_FILE: ca,
      CLICKHOUSE_CERT_FILE: cert,
      CLICKHOUSE_KEY_FILE: key,
    }).tls,
    { caCert: Buffer.from('CA'), cert: Buffer.from('CERT'), key: Buffer.from('KEY') },
  );
  assert.throws(
    () => clickhouseConfigFromEnv({ CLICKHOUSE_CA_FILE: ca }),
    /CLICKHOUSE_CA_FILE is set but CLICKHOUSE_URL is http:\/\/127\.0\.0\.1:8123: use an https:\/\/ URL/,
  );
  assert.throws(
    () => clickhouseConfigFromEnv({ CLICKHOUSE_URL: https, CLICKHOUSE_CA_FILE: ca, CLICKHOUSE_CERT_FILE: cert }),
    /needs both CLICKHOUSE_CERT_FILE and CLICKHOUSE_KEY_FILE/,
  );
  assert.throws(
    () => clickhouseConfigFromEnv({ CLICKHOUSE_URL: https, CLICKHOUSE_CERT_FILE: cert, CLICKHOUSE_KEY_FILE: key }),
    /CLICKHOUSE_CERT_FILE needs CLICKHOUSE_CA_FILE/,
  );
});

test('errors are said in terms of the variables to check, never with the password', () => {
  const cfg = clickhouseConfigFromEnv({
    CLICKHOUSE_URL: 'https://h:8443',
    CLICKHOUSE_CA_FILE: file('ca2.pem', 'CA'),
    CLICKHOUSE_PASSWORD: 'pw-value',
  });
  const cases: [unknown, RegExp][] = [
    [
      { code: 'SELF_SIGNED_CERT_IN_CHAIN', message: 'self-signed certificate in certificate chain' },
      /not trusted by CLICKHOUSE_CA_FILE/,
    ],
    [
      { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', message: 'alert' },
      /requires a client certificate.*CLICKHOUSE_KEY_FILE are not set/,
    ],
    [
      { code: '516', message: 'default: Authentication failed: password is incorrect' },
      /server refused user "default": check CLICKHOUSE_USER and CLICKHOUSE_PASSWORD/,
    ],
    [new Error('socket hang up'), /^socket hang up$/],
  ];
  for (const [err, re] of cases) {
    const text = describeClickHouseError(err, cfg);
    assert.match(text, re);
    assert.ok(!text.includes('pw-value'));
  }
});
