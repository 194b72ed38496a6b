/**
 * `npm run up` in a terminal, as on a fresh clone: run under a pseudo-terminal (`script`), with its
 * own empty data folder (so Kafka storage, ClickHouse data and the hashing key are all new) and its
 * own free ports. It must print no warnings and no JSON, show the start banner, and print the
 * commands to try next once Sieve is ready; Ctrl-C then stops Sieve and the services it started.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort } from '../support/sieve-process.js';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'sieve-up-'));
let env: NodeJS.ProcessEnv = {};
let up: ChildProcess | undefined;

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A free port whose next port is free too (Kafka's controller listens on KAFKA_PORT + 1). */
async function freePortPair(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p < 65535 && (await portFree(p + 1))) return p;
  }
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => resolve(s.destroy() !== undefined));
    s.once('error', () => resolve(false));
  });
}

after(async () => {
  if (up && up.exitCode === null && up.pid) process.kill(-up.pid, 'SIGKILL');
  // whatever the run left behind: the services of this data folder
  if (env.SIEVE_DATA_DIR)
    try {
      execFileSync('bash', [join(ROOT, 'deploy/local/services.sh'), 'stop'], {
        env,
        stdio: 'ignore',
        timeout: 120_000,
      });
    } catch {}
  rmSync(dir, { recursive: true, force: true });
});

const ESC = String.fromCharCode(27);
const strip = (s: string) => s.replace(new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, 'g'), '').replace(/\r/g, '');

test('npm run up in a terminal: readable, no warnings, no JSON, next steps once ready, Ctrl-C stops all', async () => {
  const ports = {
    kafka: await freePortPair(),
    clickhouse: await freePort(),
    otlp: await freePort(),
    receiverOps: await freePort(),
    loaderOps: await freePort(),
  };
  env = { ...process.env };
  for (const k of [
    'KAFKA_BROKERS',
    'CLICKHOUSE_URL',
    'CLICKHOUSE_DATABASE',
    'SIEVE_HASH_KEY',
    'SIEVE_HASH_KEY_FILE',
    'SIEVE_LOG_FORMAT',
    'NO_COLOR',
  ])
    delete env[k];
  Object.assign(env, {
    SIEVE_DATA_DIR: join(dir, 'data'),
    KAFKA_PORT: String(ports.kafka),
    CLICKHOUSE_PORT: String(ports.clickhouse),
    SIEVE_OTLP_ENDPOINT: `127.0.0.1:${ports.otlp}`,
    SIEVE_RECEIVER_OPS_PORT: String(ports.receiverOps),
    SIEVE_LOADER_OPS_PORT: String(ports.loaderOps),
    TERM: 'xterm-256color',
  });
  // `script` gives npm a pseudo-terminal; its stdin is ours, so writing ^C is the user's Ctrl-C
  up = spawn('script', ['-qfec', 'npm run up', '/dev/null'], {
    cwd: ROOT,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let raw = '';
  up.stdout?.on('data', (b: Buffer) => (raw += b));
  up.stderr?.on('data', (b: Buffer) => (raw += b));
  const exited = new Promise<number | null>((resolve) => up?.once('exit', resolve));

  const deadline = Date.now() + 300_000;
  while (!/Sieve is ready/.test(raw)) {
    if (up.exitCode !== null) assert.fail(`npm run up exited (${up.exitCode}):\n${strip(raw)}`);
    if (Date.now() > deadline) assert.fail(`not ready after 5 minutes:\n${strip(raw)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  await new Promise((r) => setTimeout(r, 1000)); // the rest of the next-steps block
  up.stdin?.write('\u0003');
  const timer = setTimeout(() => up?.pid && process.kill(-up.pid, 'SIGKILL'), 120_000);
  await exited;
  clearTimeout(timer);
  const text = strip(raw);

  assert.ok(raw.includes(`${ESC}[`), 'colours on a terminal');
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  for (const line of lines) {
    assert.doesNotMatch(line, /\bwarn(ing)?\b/i, `a warning: ${line}`);
    const t = line.trim();
    if (t.startsWith('{') || t.startsWith('[')) assert.throws(() => JSON.parse(t), `a JSON line: ${line}`);
  }
  assert.match(text, /sieve all \(receiver \+ loader\)/);
  assert.match(text, new RegExp(`OTLP/HTTP\\s+http://127\\.0\\.0\\.1:${ports.otlp}`));
  assert.match(text, /generated a local PII hashing key/);
  assert.match(text, /up: Sieve is ready \(Ctrl-C stops it\)\. In another terminal, try:/);
  assert.match(
    text,
    new RegExp(`export OTEL_EXPORTER_OTLP_ENDPOINT=http://127\\.0\\.0\\.1:${ports.otlp} CLICKHOUSE_URL=`),
  );
  assert.match(text, /^ {2}npx sieve demo\s+#/m);
  assert.match(text, /^ {2}npx sieve stats --watch\s+#/m);
  assert.match(text, /<your service>/);
  assert.ok(text.indexOf('Sieve is ready') > text.indexOf('loader consuming'), 'ready only once the loader runs');
  // Ctrl-C: Sieve stopped gracefully, then the services this run started
  assert.match(text, /all: stopped/);
  assert.match(text, /up: stopping the local services started by this run/);
  for (const port of Object.values(ports)) assert.equal(await listening(port), false, `port ${port} still open`);
  assert.ok(existsSync(join(dir, 'data', 'hash.key')));
});
