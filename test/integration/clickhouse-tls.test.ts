/**
 * ClickHouse over HTTPS with a real TLS connection to the real engine: a TLS-terminating proxy
 * (test/support/clickhouse-tls-proxy.ts, certificates generated now) requiring a client certificate
 * and a password in front of the local ClickHouse engine.
 * - `sieve migrate` and `sieve loader` with CLICKHOUSE_CA_FILE, CLICKHOUSE_CERT_FILE/KEY_FILE and
 *   CLICKHOUSE_PASSWORD_FILE create the schema and load rows through it;
 * - a server certificate from another CA, no client certificate, or a wrong password stop them at
 *   start with a message naming the variable to fix, and the password is never in their output.
 * Needs Kafka + ClickHouse (npm run services) and openssl.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { type ClickHouseTlsProxy, startClickHouseTlsProxy } from '../support/clickhouse-tls-proxy.js';
import { deleteTopics, ensureTopicsRetry, produceOneSpan, tracesToTopicConfig } from '../support/kafka-harness.js';
import { startSieve, stopSieve } from '../support/sieve-process.js';

const ROOT = join(import.meta.dirname, '..', '..');
const id = randomBytes(4).toString('hex');
const database = `sieve_tls_${id}`;
const spans = `tls_spans_${id}`;
const dir = mkdtempSync(join(tmpdir(), 'sieve-ch-tls-test-'));
const password = `pw-${randomBytes(8).toString('hex')}`;
const direct = createClickHouseClient(); // the engine itself, over plain HTTP, to check results
let proxy: ClickHouseTlsProxy;

before(async () => {
  proxy = await startClickHouseTlsProxy({ requireClientCert: true, user: { username: 'sieve_writer', password } });
  writeFileSync(join(dir, 'password'), `${password}\n`);
  writeFileSync(join(dir, 'wrong-password'), 'wrong\n');
  await ensureTopicsRetry([spans]);
});
after(async () => {
  await proxy?.close();
  await direct.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => {});
  await direct.close();
  await deleteTopics([spans, `${spans}.dlq`]);
  rmSync(dir, { recursive: true, force: true });
});

function tlsEnv(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    CLICKHOUSE_URL: proxy.url,
    CLICKHOUSE_DATABASE: database,
    CLICKHOUSE_USER: 'sieve_writer',
    CLICKHOUSE_CA_FILE: proxy.caFile,
    CLICKHOUSE_CERT_FILE: proxy.clientCertFile,
    CLICKHOUSE_KEY_FILE: proxy.clientKeyFile,
    CLICKHOUSE_PASSWORD_FILE: join(dir, 'password'),
    CLICKHOUSE_PASSWORD: '',
    LOG_LEVEL: 'debug',
    ...overrides,
  };
}

/** `sieve migrate` with `env`; its exit code and output. */
function migrate(env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'sieve.mjs'), 'migrate'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

async function tables(): Promise<string[]> {
  const rs = await direct.query({
    query: 'SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name',
    query_params: { db: database },
    format: 'JSONEachRow',
  });
  return ((await rs.json()) as { name: string }[]).map((r) => r.name);
}

test('sieve migrate over HTTPS with a client certificate and CLICKHOUSE_PASSWORD_FILE creates the schema', async () => {
  const { code, out } = await migrate(tlsEnv());
  assert.equal(code, 0, out);
  assert.ok((await tables()).includes('otel_traces'), out);
  assert.ok(!out.includes(password));
});

const refused: [string, NodeJS.ProcessEnv, RegExp][] = [
  ['a server certificate from another CA', { CLICKHOUSE_CA_FILE: '' }, /not trusted by CLICKHOUSE_CA_FILE/],
  [
    'no client certificate',
    { CLICKHOUSE_CERT_FILE: '', CLICKHOUSE_KEY_FILE: '' },
    /requires a client certificate it trusts \(CLICKHOUSE_CERT_FILE and CLICKHOUSE_KEY_FILE are not set\)/,
  ],
  [
    'a wrong password',
    { CLICKHOUSE_PASSWORD_FILE: '' },
    /refused user "sieve_writer": check CLICKHOUSE_USER and CLICKHOUSE_PASSWORD/,
  ],
];
for (const [what, env, message] of refused) {
  test(`sieve migrate with ${what} fails with a message naming the setting`, async () => {
    const overrides = { ...env };
    if (what.includes('another CA')) overrides.CLICKHOUSE_CA_FILE = proxy.otherCaFile;
    if (what.includes('password')) overrides.CLICKHOUSE_PASSWORD_FILE = join(dir, 'wrong-password');
    const { code, out } = await migrate(tlsEnv(overrides));
    assert.equal(code, 1, out);
    assert.match(out, message);
    assert.ok(!out.includes(password) && !out.includes('wrong\n'));
  });
}

test('sieve loader writes rows through HTTPS + client certificate; the password stays out of its output', async () => {
  const config = join(dir, 'sieve.yaml');
  writeFileSync(config, tracesToTopicConfig(spans));
  // the loader reads the topics of the configured pipelines (here only traces)
  const loader = await startSieve({
    command: 'loader',
    configPath: config,
    env: { ...tlsEnv(), SIEVE_LOADER_GROUP: `tls_${id}` },
  });
  try {
    const traceId = randomBytes(16).toString('hex');
    await produceOneSpan(spans, traceId, 'over-https', 'tls');
    const deadline = Date.now() + 120_000;
    for (;;) {
      const rs = await direct.query({
        query: `SELECT count() AS n FROM ${database}.otel_traces WHERE TraceId = {t:String}`,
        query_params: { t: traceId },
        format: 'JSONEachRow',
      });
      if (Number(((await rs.json()) as { n: string }[])[0]?.n) === 1) break;
      if (loader.child.exitCode !== null || Date.now() > deadline)
        throw new Error(`the span did not arrive (loader exit ${loader.child.exitCode}):\n${loader.log()}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    await stopSieve(loader);
  }
  assert.ok(!loader.log().includes(password));
});
