/**
 * End to end freshness: `sieve all --dev` (receiver → Kafka → loader → ClickHouse) as a child process
 * with the default PII pipeline on unique topics and a unique database. A separate load process offers
 * FRESH_OFFERED spans/s (default 20,000) for FRESH_SECONDS (default 30) in 512-span requests whose spans
 * end at the moment they are sent. Every 250 ms this process asks ClickHouse which requests have all
 * 512 rows queryable; freshness = first time a request is complete − its spans' end time.
 * Prints accepted spans/s, freshness p50/p90/p99/max and any accepted request that never arrived.
 *
 *   node --import tsx test/bench/freshness.bench.ts      (or: npm run bench -- freshness)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { deleteTopics, presetWithTopics } from '../support/kafka-harness.js';
import { startSieveAll } from '../support/sieve-process.js';
import { runLoadInChildProcess, SPANS_PER_REQUEST } from './support/otlp-load.js';

const OFFERED = Number(process.env.FRESH_OFFERED ?? 20_000);
const SECONDS = Number(process.env.FRESH_SECONDS ?? 30);
const CLIENTS = Number(process.env.FRESH_CLIENTS ?? 16);
const DRAIN_MS = 30_000;
const POLL_MS = 250;

const id = randomBytes(4).toString('hex');
const database = `fresh_${id}`;
const prefix = `fresh_${id}`;
const topics = ['otlp_spans', 'otlp_logs', 'otlp_metrics'].map((t) => `${prefix}_${t}`);
const dir = mkdtempSync(join(tmpdir(), 'sieve-fresh-'));
const clickhouse = createClickHouseClient();

async function until(what: string, probe: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

writeFileSync(join(dir, 'sieve.yaml'), presetWithTopics('sieve.yaml', prefix));
writeFileSync(join(dir, 'hash.key'), randomBytes(32).toString('hex'));
const {
  child: sieve,
  ports,
  log: sieveLog,
} = await startSieveAll({
  configPath: join(dir, 'sieve.yaml'),
  hashKeyFile: join(dir, 'hash.key'),
  loaderGroup: `fresh-${id}`,
  database,
  env: { LOG_LEVEL: 'warn' },
});

/** start ns (one per request) → wall-clock ms when all its rows were first seen */
const completeAt = new Map<string, number>();
let polling = true;
async function poll(fromMs: number): Promise<void> {
  while (polling) {
    const t = Date.now();
    const rs = await clickhouse.query({
      query: `SELECT toString(toUnixTimestamp64Nano(Timestamp)) AS s, count() AS n FROM ${database}.otel_traces
              WHERE ServiceName = 'bench' AND Timestamp >= fromUnixTimestamp64Milli(toInt64({from:Int64}))
              GROUP BY s HAVING n >= ${SPANS_PER_REQUEST}`,
      query_params: { from: Math.max(fromMs, t - 60_000) - 1000 },
      format: 'JSONEachRow',
    });
    const seenAt = Date.now();
    for (const r of (await rs.json()) as { s: string }[]) if (!completeAt.has(r.s)) completeAt.set(r.s, seenAt);
    await new Promise((r) => setTimeout(r, Math.max(0, POLL_MS - (Date.now() - t))));
  }
}

try {
  for (const port of [ports.receiverOps, ports.loaderOps])
    await until(
      `sieve readiness on :${port}`,
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200,
      90_000,
    );
  const startedMs = Date.now();
  const poller = poll(startedMs);
  const load = await runLoadInChildProcess(`http://127.0.0.1:${ports.otlp}/v1/traces`, CLIENTS, SECONDS, OFFERED, true);
  const accepted = (load.sent ?? []).filter((r) => r.status === 200);
  await until(
    'every accepted request in ClickHouse',
    async () => accepted.every((r) => completeAt.has(r.startNs)),
    DRAIN_MS,
  ).catch(() => undefined);
  polling = false;
  await poller;

  const fresh = accepted
    .filter((r) => completeAt.has(r.startNs))
    .map((r) => ((completeAt.get(r.startNs) as number) - r.endMs) / 1000)
    .sort((a, b) => a - b);
  const q = (p: number) => fresh[Math.min(fresh.length - 1, Math.floor(p * fresh.length))] ?? Number.NaN;
  const missing = accepted.length - fresh.length;
  console.log(
    `freshness: offered ${OFFERED.toLocaleString('en-US')} spans/s for ${SECONDS}s, accepted ${Math.round(load.accepted / load.seconds).toLocaleString('en-US')} spans/s ` +
      `(${accepted.length} requests, ${load.refused} refused: ${JSON.stringify(load.statuses)}); span end → row queryable: p50 ${q(0.5).toFixed(2)} s, ` +
      `p90 ${q(0.9).toFixed(2)} s, p99 ${q(0.99).toFixed(2)} s, max ${q(1).toFixed(2)} s (±${POLL_MS} ms polling)` +
      (missing > 0 ? `; ${missing} accepted requests NOT in ClickHouse after ${DRAIN_MS / 1000}s` : ''),
  );
} catch (err) {
  console.error(`freshness bench failed: ${String(err)}\n--- sieve output ---\n${sieveLog()}`);
  process.exitCode = 1;
} finally {
  polling = false;
  sieve.kill('SIGTERM');
  await new Promise((r) => sieve.once('exit', r));
  await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
  await clickhouse.close();
  await deleteTopics([...topics, ...topics.map((t) => `${t}.dlq`)]);
  rmSync(dir, { recursive: true, force: true });
}
