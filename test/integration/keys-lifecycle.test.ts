/**
 * API key lifecycle and secrets in logs, with `sieve all` as a real process (OTLP/HTTP and OTLP/gRPC
 * over TLS, real Kafka and ClickHouse):
 * `sieve keys create` → the key works over HTTPS and gRPC → `sieve keys list` shows its last use
 * from the running receiver → `sieve keys revoke` → 401 / UNAUTHENTICATED without a restart, while
 * other keys and a key created meanwhile work. Every line the processes wrote (at LOG_LEVEL=debug)
 * is then searched for the API keys, the TLS private key and the PII hash key: none may appear.
 * And bad TLS config fails at start naming the key.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import * as grpc from '@grpc/grpc-js';
import { decodeJson, encodeProtobuf } from '../../src/otlp/codec.js';
import { GRPC_EXPORT_PATHS } from '../../src/receiver/grpc.js';
import { type CertFiles, makeCa, makeLeaf } from '../support/certs.js';
import { deleteTopics, ensureTopicsRetry, presetWithTopics } from '../support/kafka-harness.js';
import { type SieveProcess, startSieve, stopSieve, waitFor200 } from '../support/sieve-process.js';

const ROOT = join(import.meta.dirname, '..', '..');
const id = randomBytes(4).toString('hex');
const prefix = `sieve_keys_${id}`;
const topics = [`${prefix}_otlp_spans`, `${prefix}_otlp_logs`, `${prefix}_otlp_metrics`];
const database = `keys_${id}`;
const dir = mkdtempSync(join(tmpdir(), 'sieve-keys-'));
const keysFile = join(dir, 'api-keys.yaml');
const hashKey = randomBytes(32).toString('hex');
let ca: CertFiles;
let server: CertFiles;
let sieve: SieveProcess | undefined;

before(() => {
  ca = makeCa(dir, 'ca');
  server = makeLeaf(dir, 'server', ca);
});

after(async () => {
  if (sieve !== undefined && sieve.child.exitCode === null) sieve.child.kill('SIGKILL');
  await deleteTopics(topics);
  const ch = createClient({ url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123' });
  await ch.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => {});
  await ch.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `sieve keys …` as a user runs it. */
function keys(args: string[], env: NodeJS.ProcessEnv = {}): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'sieve.mjs'), 'keys', ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function tlsConfig(): string {
  const tls = (indent: string) =>
    `${indent}tls:\n${indent}  cert_file: ${server.cert}\n${indent}  key_file: ${server.key}\n${indent}  reload_interval: 500ms\n`;
  const yaml = presetWithTopics('sieve.yaml', prefix)
    .replace(/( +)max_request_body_size: .*\n/, (m, indent: string) => `${m}${tls(indent)}`)
    .replace(/( +)max_recv_msg_size_mib: .*\n/, (m, indent: string) => `${m}${tls(indent)}`);
  assert.equal(yaml.match(/tls:/g)?.length, 2);
  return yaml;
}

const traceBody = (name: string) =>
  Buffer.from(
    encodeProtobuf(
      'traces',
      decodeJson('traces', {
        resourceSpans: [
          {
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: randomBytes(16).toString('hex'),
                    spanId: randomBytes(8).toString('hex'),
                    name,
                    startTimeUnixNano: '1700000000000000000',
                    endTimeUnixNano: '1700000001000000000',
                  },
                ],
              },
            ],
          },
        ],
      }),
    ),
  );

function httpsPost(port: number, key: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/traces',
        method: 'POST',
        agent: false,
        ca: readFileSync(ca.cert),
        headers: {
          'content-type': 'application/x-protobuf',
          ...(key !== undefined ? { authorization: `Bearer ${key}` } : {}),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error('no answer within 15 s')));
    req.end(traceBody(`keys-${id}`));
  });
}

function grpcCall(port: number, key: string): Promise<grpc.status> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createSsl(readFileSync(ca.cert)), {
    'grpc.use_local_subchannel_pool': 1,
  });
  const md = new grpc.Metadata();
  md.set('x-api-key', key);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      GRPC_EXPORT_PATHS.traces,
      (b: Buffer) => b,
      (b: Buffer) => b,
      traceBody(`keys-grpc-${id}`),
      md,
      { deadline: Date.now() + 15_000 },
      (err) => {
        client.close();
        resolve(err === null ? grpc.status.OK : err.code);
      },
    );
  });
}

async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!ok(last) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    last = await probe();
  }
  assert.ok(ok(last), `${what}: still ${String(last)} after ${timeoutMs} ms`);
  return last;
}

test('keys create → use over HTTPS and gRPC → list with last use → revoke → 401 without restart; no secret logged', {
  timeout: 240_000,
}, async (t) => {
  await ensureTopicsRetry(topics);
  const ci = keys(['create', '--tenant', 'acme', '--name', 'ci', '--file', keysFile]);
  assert.equal(ci.code, 0, ci.err);
  const key1 = ci.out.trim();
  assert.match(key1, /^sieve_[A-Za-z0-9_-]{43}$/);
  assert.doesNotMatch(ci.err, new RegExp(key1), 'the key is printed once, on stdout');
  // SIEVE_API_KEYS_FILE is the default file
  const other = keys(['create', '--tenant', 'beta', '--name', 'other'], { SIEVE_API_KEYS_FILE: keysFile });
  assert.equal(other.code, 0, other.err);
  const key2 = other.out.trim();
  assert.equal(keys(['create', '--tenant', 'acme', '--name', 'ci', '--file', keysFile]).code, 1, 'names are unique');
  const stored = readFileSync(keysFile, 'utf8');
  assert.ok(!stored.includes(key1) && !stored.includes(key2), 'the keys file holds hashes only');
  assert.equal(statSync(keysFile).mode & 0o777, 0o600);

  const configPath = join(dir, 'sieve.yaml');
  writeFileSync(configPath, tlsConfig());
  sieve = await startSieve({
    command: 'all',
    configPath,
    dev: false,
    env: {
      SIEVE_API_KEYS_FILE: keysFile,
      SIEVE_HASH_KEY: hashKey,
      SIEVE_LOADER_GROUP: `keys-${id}`,
      CLICKHOUSE_DATABASE: database,
      LOG_LEVEL: 'debug',
    },
  });
  let logs = '';
  for (const s of [sieve.child.stdout, sieve.child.stderr]) s?.on('data', (b: Buffer) => (logs += b.toString()));
  await waitFor200(`http://127.0.0.1:${sieve.ports.receiverOps}/readyz`, sieve, 120_000);
  const { otlp, grpc: grpcPort, receiverOps } = sieve.ports;

  assert.equal(await httpsPost(otlp, key1), 200);
  assert.equal(await grpcCall(grpcPort, key2), grpc.status.OK);
  assert.equal(await httpsPost(otlp, undefined), 401);
  assert.equal(await httpsPost(otlp, `${key1}x`), 401);

  const listed = keys(['list', '--file', keysFile, '--ops', `http://127.0.0.1:${receiverOps}/metrics`]);
  assert.equal(listed.code, 0, listed.err);
  const row = (out: string, name: string) => out.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
  assert.match(row(listed.out, 'ci'), /^ci\s+acme\s+\S+Z\s+-\s+20\d\d-\S+Z$/);
  assert.match(row(listed.out, 'other'), /^other\s+beta\s+\S+Z\s+-\s+20\d\d-\S+Z$/);

  const revoke = keys(['revoke', 'ci', '--file', keysFile]);
  assert.equal(revoke.code, 0, revoke.err);
  const revokedAt = Date.now();
  await until(
    'HTTPS with the revoked key',
    () => httpsPost(otlp, key1),
    (s) => s === 401,
  );
  t.diagnostic(`revoked key refused ${Date.now() - revokedAt} ms after \`sieve keys revoke\``);
  assert.equal(await grpcCall(grpcPort, key1), grpc.status.UNAUTHENTICATED);
  assert.equal(await httpsPost(otlp, key2), 200, 'other keys keep working');
  const third = keys(['create', '--tenant', 'acme', '--name', 'ci-2', '--file', keysFile]);
  const key3 = third.out.trim();
  await until(
    'a key created while running',
    () => grpcCall(grpcPort, key3),
    (c) => c === grpc.status.OK,
  );
  const after = keys(['list', '--file', keysFile, '--ops', `http://127.0.0.1:${receiverOps}/metrics`]);
  assert.match(row(after.out, 'ci'), /^ci\s+acme\s+\S+Z\s+20\d\d-\S+Z\s+20\d\d-\S+Z$/, after.out);

  assert.equal(await stopSieve(sieve), 0, sieve.log());
  const privateKeyBody = readFileSync(server.key, 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('-----'));
  const secrets: [string, string][] = [
    ['API key ci', key1],
    ['API key other', key2],
    ['API key ci-2', key3],
    ['PII hash key', hashKey],
    ...privateKeyBody.map((l, i): [string, string] => [`TLS private key line ${i + 1}`, l]),
  ];
  assert.ok(logs.includes('API keys file changed'), 'the logs were captured');
  for (const [what, secret] of secrets) assert.ok(!logs.includes(secret), `${what} appears in the logs`);
  for (const r of [ci, other, revoke, listed, after, third])
    for (const [what, secret] of secrets) assert.ok(!r.err.includes(secret), `${what} in \`sieve keys\` stderr`);
});

test('bad TLS config fails at start naming the key: missing cert file, bad min_version', {
  timeout: 60_000,
}, async () => {
  const cases: [string, (yaml: string) => string, RegExp][] = [
    [
      'missing cert file',
      (y) => y.replace(server.cert, join(dir, 'absent.crt')),
      /receivers\.otlp\.protocols\.http\.tls\.cert_file: cannot read .*absent\.crt/,
    ],
    [
      'bad min_version',
      (y) => y.replace('  reload_interval: 500ms\n', '  reload_interval: 500ms\n          min_version: "1.4"\n'),
      /receivers\.otlp\.protocols\.http\.tls\.min_version: TLS version must be/,
    ],
  ];
  for (const [what, edit, expected] of cases) {
    const configPath = join(dir, `bad-${what.replace(/ /g, '-')}.yaml`);
    writeFileSync(configPath, edit(tlsConfig()));
    const proc = await startSieve({
      command: 'receiver',
      configPath,
      args: ['--workers', '1'],
      env: { SIEVE_HASH_KEY: hashKey },
    });
    const code = await new Promise<number | null>((resolve) => proc.child.once('exit', resolve));
    assert.equal(code, 1, `${what}: ${proc.log()}`);
    assert.match(proc.log(), expected, what);
    assert.match(proc.log(), /bad-.*\.yaml:\d+:\d+: /, `${what}: file:line:column`);
  }
});
