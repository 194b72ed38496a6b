// `sieve loader` as users run it: the loader works on a thread of its own (src/cli/loader-thread.ts)
// while the main thread handles signals. It becomes ready, loads what Kafka holds, and on SIGTERM
// commits and exits 0, so that a restart in the same group loads only what is new.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import {
  BROKERS,
  createTopicWithConfig,
  deleteTopics,
  ensureTopicsRetry,
  produceOneSpan,
  tracesToTopicConfig,
} from '../support/kafka-harness.js';
import { type SieveProcess, startSieve, stopSieve, waitFor200 } from '../support/sieve-process.js';

const id = randomBytes(4).toString('hex');
const database = `sieve_loader_cli_${id}`;
const spans = `loader_cli_spans_${id}`;
const big = `loader_cli_big_${id}`;
const dir = mkdtempSync(join(tmpdir(), 'sieve-loader-cli-test-'));
const config = join(dir, 'sieve.yaml');
const env = { CLICKHOUSE_DATABASE: database, SIEVE_LOADER_GROUP: `loader_cli_${id}` };
const clickhouse = createClickHouseClient();

before(async () => {
  await ensureTopicsRetry([spans]);
  writeFileSync(config, tracesToTopicConfig(spans));
});

after(async () => {
  await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await clickhouse.close();
  await deleteTopics([spans, big, `${big}.dlq`]);
  rmSync(dir, { recursive: true, force: true });
});

async function rowsOf(traceIds: string[]): Promise<number> {
  const rs = await clickhouse.query({
    query: `SELECT count() AS n FROM ${database}.otel_traces WHERE TraceId IN {t:Array(String)}`,
    query_params: { t: traceIds },
    format: 'JSONEachRow',
  });
  return Number(((await rs.json()) as { n: string }[])[0]?.n ?? 0);
}

async function until(what: string, loader: SieveProcess, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (loader.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`${what}: not reached (loader exit ${loader.child.exitCode}):\n${loader.log()}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function startLoader(): Promise<SieveProcess> {
  const loader = await startSieve({ command: 'loader', configPath: config, dev: false, env });
  await waitFor200(`http://127.0.0.1:${loader.ports.loaderOps}/readyz`, loader, 90_000);
  return loader;
}

test('sieve loader loads on its own thread, and SIGTERM commits and exits 0: a restart loads only what is new', async () => {
  const first = randomBytes(16).toString('hex');
  const second = randomBytes(16).toString('hex');

  const loader = await startLoader();
  try {
    await produceOneSpan(spans, first, 'on-a-thread', 'loader-cli');
    await until('the first span queryable', loader, async () => (await rowsOf([first])) === 1);
  } finally {
    const code = await stopSieve(loader);
    assert.equal(code, 0, loader.log());
  }
  // the main thread passed the signal on to the loader's thread, which stopped
  assert.match(loader.log(), /"reason":"SIGTERM"[\s\S]*"reason":"stop requested by the main thread"/);
  assert.match(loader.log(), /"msg":"stopped"/);

  const again = await startLoader();
  try {
    await produceOneSpan(spans, second, 'on-a-thread', 'loader-cli');
    await until('the second span queryable', again, async () => (await rowsOf([second])) === 1);
    // the first span is not loaded twice
    assert.equal(await rowsOf([first, second]), 2);
  } finally {
    assert.equal(await stopSieve(again), 0, again.log());
  }
});

test('SIEVE_LOADER_INSERT_BYTES below the fetch size: the loader refuses to start and names the variable', async () => {
  const loader = await startSieve({
    command: 'loader',
    configPath: config,
    dev: false,
    env: { ...env, SIEVE_LOADER_FETCH_BYTES: '1048576', SIEVE_LOADER_INSERT_BYTES: '4096' },
  });
  const code = await new Promise<number | null>((resolve) =>
    loader.child.exitCode !== null ? resolve(loader.child.exitCode) : loader.child.once('exit', resolve),
  );
  assert.notEqual(code, 0);
  assert.match(loader.log(), /SIEVE_LOADER_INSERT_BYTES must be a whole number from 1048576 to \d+, got "4096"/);
});

test('a Kafka consumer that fails for good (a dead letter its DLQ refuses): sieve loader says so and exits 1, for its supervisor to restart it', {
  timeout: 120_000,
}, async () => {
  // a message that is not OTLP, larger than the DLQ topic (made beforehand) takes
  await ensureTopicsRetry([big]);
  const kafka = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING });
  await createTopicWithConfig(`${big}.dlq`, { 'max.message.bytes': '1048576' });
  const producer = kafka.producer();
  await producer.connect();
  await producer
    .send({ topic: big, messages: [{ value: randomBytes(3 * 1024 * 1024) }] })
    .finally(() => producer.disconnect());
  const bigConfig = join(dir, 'big.yaml');
  writeFileSync(bigConfig, tracesToTopicConfig(big));
  const loader = await startSieve({
    command: 'loader',
    configPath: bigConfig,
    dev: false,
    env: { ...env, SIEVE_LOADER_GROUP: `big_${id}` },
  });
  try {
    const code = await new Promise<number | null>((resolve) =>
      loader.child.exitCode !== null ? resolve(loader.child.exitCode) : loader.child.once('exit', resolve),
    );
    assert.equal(code, 1, loader.log());
    assert.match(loader.log(), /Kafka consumer failed and does not restart/);
    assert.match(loader.log(), /larger than the max message size/);
  } finally {
    if (loader.child.exitCode === null) await stopSieve(loader);
  }
});
