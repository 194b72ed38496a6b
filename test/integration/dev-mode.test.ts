/**
 * `sieve receiver --dev` started by hand, with no hashing key configured: it generates one into
 * $SIEVE_DATA_DIR/hash.key, says so (banner in the human format, a log line in JSON), and reuses it on
 * the next start. Without --dev the clear "needs a key" error stays and nothing is generated.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { deleteTopics, presetWithTopics } from '../support/kafka-harness.js';
import { runSieve, type SieveProcess, startSieve, stopSieve, waitFor200 } from '../support/sieve-process.js';

const dir = mkdtempSync(join(tmpdir(), 'sieve-devmode-'));
const configPath = resolve('collector-config/sieve.yaml');
const noKey = { SIEVE_HASH_KEY: '', SIEVE_HASH_KEY_FILE: '' };
let running: SieveProcess | undefined;

after(async () => {
  if (running) await stopSieve(running);
  rmSync(dir, { recursive: true, force: true });
});

async function untilLogged(proc: SieveProcess, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(proc.log())) {
    if (proc.child.exitCode !== null) throw new Error(`sieve exited (${proc.child.exitCode}):\n${proc.log()}`);
    if (Date.now() > deadline) throw new Error(`${pattern} not logged:\n${proc.log()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('--dev without a key: a local key is generated, announced in the banner and reused on restart', async () => {
  const data = join(dir, 'data');
  const keyFile = join(data, 'hash.key');
  running = await startSieve({
    command: 'receiver',
    configPath,
    args: ['--workers', '1', '--log-format', 'pretty'],
    env: { ...noKey, SIEVE_DATA_DIR: data, NO_COLOR: '1' },
  });
  await waitFor200(`http://127.0.0.1:${running.ports.receiverOps}/healthz`, running);
  await untilLogged(running, /hash key\s+dev mode: generated a local PII hashing key in \S+hash\.key/);
  const key = readFileSync(keyFile, 'utf8');
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.match(running.log(), /OTLP\/HTTP\s+http:\/\/127\.0\.0\.1:\d+/);
  for (const line of running.log().split('\n').filter(Boolean))
    assert.doesNotMatch(line, /^\s*\{/, `human format, no JSON lines: ${line}`);
  assert.equal(await stopSieve(running), 0);

  // JSON (stdout is not a terminal): the same key, not generated again
  running = await startSieve({
    command: 'receiver',
    configPath,
    args: ['--workers', '1'],
    env: { ...noKey, SIEVE_DATA_DIR: data },
  });
  await waitFor200(`http://127.0.0.1:${running.ports.receiverOps}/healthz`, running);
  await untilLogged(running, /receiver listening/);
  assert.equal(readFileSync(keyFile, 'utf8'), key);
  const lines = running.log().split('\n').filter(Boolean);
  for (const line of lines) JSON.parse(line);
  assert.ok(!lines.some((l) => l.includes('generated a local PII hashing key')));
  assert.equal(await stopSieve(running), 0);
  running = undefined;
});

test('without --dev and without a key: the clear error, exit 1, no key generated', async () => {
  const data = join(dir, 'prod');
  const proc = await startSieve({
    command: 'receiver',
    configPath,
    dev: false,
    args: ['--workers', '1'],
    env: { ...noKey, SIEVE_DATA_DIR: data },
  });
  const code = proc.child.exitCode ?? (await new Promise<number | null>((r) => proc.child.once('exit', r)));
  assert.equal(code, 1);
  assert.match(proc.log(), /hashing needs a key .* set env SIEVE_HASH_KEY=/);
  assert.equal(existsSync(join(data, 'hash.key')), false);
});

test('sieve demo against a receiver that wants API keys: a clear error and exit 1; with the key it goes through', async () => {
  const id = randomBytes(4).toString('hex');
  const topics = ['otlp_spans', 'otlp_logs', 'otlp_metrics'].map((t) => `demokey_${id}_${t}`);
  const config = join(dir, 'keys.yaml');
  writeFileSync(config, presetWithTopics('sieve.yaml', `demokey_${id}`));
  const key = randomBytes(16).toString('hex');
  const keys = join(dir, 'api-keys.yaml');
  writeFileSync(keys, `- { sha256: ${createHash('sha256').update(key).digest('hex')}, tenant: acme, name: demo }\n`);
  running = await startSieve({
    command: 'receiver',
    configPath: config,
    dev: false,
    args: ['--workers', '1'],
    env: { SIEVE_HASH_KEY: randomBytes(32).toString('hex'), SIEVE_API_KEYS_FILE: keys },
  });
  try {
    await waitFor200(`http://127.0.0.1:${running.ports.receiverOps}/readyz`, running);
    const endpoint = `http://127.0.0.1:${running.ports.otlp}`;
    const refused = await runSieve(['demo', '--duration', '2s', '--endpoint', endpoint], {
      OTEL_EXPORTER_OTLP_HEADERS: '',
    });
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stdout, /exported 0 trace, 0 log and 0 metric requests; \d+ failed: Unauthorized/);
    assert.match(refused.stdout, /Sieve wants an API key: set OTEL_EXPORTER_OTLP_HEADERS="x-api-key=<key>"/);
    const accepted = await runSieve(['demo', '--duration', '2s', '--endpoint', endpoint], {
      OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${key}`,
    });
    assert.equal(accepted.code, 0, accepted.stdout + accepted.stderr);
    assert.match(accepted.stdout, /exported [1-9]\d* trace, [1-9]\d* log and [1-9]\d* metric requests\n/);
  } finally {
    await stopSieve(running);
    running = undefined;
    await deleteTopics(topics).catch(() => {});
  }
});
