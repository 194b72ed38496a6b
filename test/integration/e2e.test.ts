/**
 * End to end, as a user runs it: `sieve all` as a child process with the ai-agents preset, a toy
 * agent instrumented with the real OpenTelemetry JS SDK exporting to it via
 * OTEL_EXPORTER_OTLP_ENDPOINT, and the data found in ClickHouse raw tables and rollups — with the
 * PII and prompt content gone.
 */

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { queriedSieveMetrics } from '../support/dashboard-fixtures.js';
import { deleteTopics, presetWithTopics } from '../support/kafka-harness.js';
import { freePort, startSieveAll } from '../support/sieve-process.js';
import { runToyAgent } from '../support/toy-agent.js';

const id = randomBytes(4).toString('hex');
const database = `e2e_${id}`;
const topics = ['otlp_spans', 'otlp_logs', 'otlp_metrics'].map((t) => `e2e_${id}_${t}`);
const serviceName = `toy-agent-${id}`;
const EMAIL = `jane.${id}@example.com`;
const clickhouse = createClient({ url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123' });
let sieve: ChildProcess;
let sieveLog: () => string = () => '';
let ports: { otlp: number; receiverOps: number; loaderOps: number };
const dir = mkdtempSync(join(tmpdir(), 'sieve-e2e-'));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (sieve?.exitCode !== null && sieve?.exitCode !== undefined) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `timed out waiting for ${what}: ${String(last ?? '')}\n--- sieve output ---\n${sieveLog().slice(-4000)}`,
  );
}

async function count(sql: string): Promise<number> {
  const rs = await clickhouse.query({ query: sql, format: 'JSONEachRow' });
  const rows = (await rs.json()) as { c: string | number }[];
  return Number(rows[0]?.c ?? 0);
}

before(async () => {
  const configPath = join(dir, 'sieve.yaml');
  writeFileSync(configPath, presetWithTopics('ai-agents.yaml', `e2e_${id}`));
  writeFileSync(join(dir, 'hash.key'), randomBytes(32).toString('hex'));
  const started = await startSieveAll({
    configPath,
    hashKeyFile: join(dir, 'hash.key'),
    loaderGroup: `e2e-${id}`,
    database,
  });
  sieve = started.child;
  ports = started.ports;
  sieveLog = started.log;
  for (const port of [ports.receiverOps, ports.loaderOps]) {
    await waitFor(`readiness on :${port}`, async () => {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      return res.status === 200 ? true : undefined;
    });
  }
});

after(async () => {
  if (sieve && sieve.exitCode === null) sieve.kill('SIGKILL');
  await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => {});
  await clickhouse.close();
  await deleteTopics([...topics, ...topics.map((t) => `${t}.dlq`)]);
  rmSync(dir, { recursive: true, force: true });
});

test('a toy agent instrumented with the OpenTelemetry SDK lands in raw tables and rollups, scrubbed', async () => {
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${ports.otlp}`;
  const sent = await runToyAgent({ serviceName, runs: 6, stepsPerRun: 3, failEveryNthTool: 4, userEmail: EMAIL });
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;

  const svc = `ServiceName = '${serviceName}'`;
  await waitFor('all spans in otel_traces', async () =>
    (await count(`SELECT count() AS c FROM ${database}.otel_traces WHERE ${svc}`)) >= sent.spans ? true : undefined,
  );
  await waitFor('all logs in otel_logs', async () =>
    (await count(`SELECT count() AS c FROM ${database}.otel_logs WHERE ${svc}`)) >= sent.logs ? true : undefined,
  );
  assert.equal(await count(`SELECT count() AS c FROM ${database}.otel_traces WHERE ${svc}`), sent.spans);
  assert.equal(await count(`SELECT count() AS c FROM ${database}.otel_logs WHERE ${svc}`), sent.logs);

  // rollups agree with what was sent
  const rs = await clickhouse.query({
    query: `SELECT sum(Calls) AS calls, sum(Errors) AS errors FROM ${database}.spans_1m WHERE ${svc}`,
    format: 'JSONEachRow',
  });
  const [spans] = (await rs.json()) as { calls: string; errors: string }[];
  assert.equal(Number(spans?.calls), sent.spans);
  assert.equal(Number(spans?.errors), sent.failedToolCalls);
  const llm = await clickhouse.query({
    query: `SELECT sum(InputTokens) AS input, sum(OutputTokens) AS output, sumIf(Calls, Operation = 'chat') AS chats,
              sumIf(Errors, Operation = 'execute_tool') AS toolErrors, sum(CostUsd) AS cost
            FROM ${database}.llm_1m WHERE ${svc}`,
    format: 'JSONEachRow',
  });
  const [l] = (await llm.json()) as Record<string, string>[];
  assert.equal(Number(l?.input), sent.inputTokens);
  assert.equal(Number(l?.output), sent.outputTokens);
  assert.equal(Number(l?.chats), sent.llmCalls);
  assert.equal(Number(l?.toolErrors), sent.failedToolCalls);
  assert.ok(Number(l?.cost) > 0, 'cost is computed from the pricing table for a known model');
  assert.equal(await count(`SELECT sum(Count) AS c FROM ${database}.logs_1m WHERE ${svc}`), sent.logs);

  // PII and prompt content never reach ClickHouse; a prompt hash does
  assert.equal(
    await count(
      `SELECT count() AS c FROM ${database}.otel_traces WHERE ${svc} AND (position(toString(SpanAttributes), '${EMAIL}') > 0 OR mapContains(SpanAttributes, 'gen_ai.input.messages'))`,
    ),
    0,
  );
  assert.equal(
    await count(`SELECT count() AS c FROM ${database}.otel_logs WHERE ${svc} AND position(Body, '${EMAIL}') > 0`),
    0,
  );
  assert.equal(
    await count(
      `SELECT count() AS c FROM ${database}.otel_traces WHERE ${svc} AND SpanName LIKE 'chat%' AND GenAiPromptHash != ''`,
    ),
    sent.llmCalls,
  );

  // every Sieve metric a dashboard panel or alert rule queries is one the running processes export
  const exported = new Set<string>();
  for (const port of [ports.receiverOps, ports.loaderOps]) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const m of text.matchAll(/^# TYPE (\S+) (\w+)$/gm)) {
      const [, name, type] = m as unknown as [string, string, string];
      exported.add(name);
      if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(name + s);
    }
  }
  const queried = queriedSieveMetrics();
  assert.ok(queried.size >= 5, `dashboards query Sieve metrics: ${[...queried]}`);
  assert.deepEqual(
    [...queried].filter((n) => !exported.has(n)),
    [],
    'metrics queried by dashboards/alerts but not exported',
  );

  // graceful shutdown on SIGTERM
  const exited = new Promise<number | null>((resolve) => sieve.once('exit', (code) => resolve(code)));
  sieve.kill('SIGTERM');
  assert.equal(await exited, 0, sieveLog().slice(-2000));
});

test('sieve all whose loader cannot reach ClickHouse stops with exit 1 and says why', { timeout: 60_000 }, async () => {
  const configPath = join(dir, 'sieve.yaml');
  const failing = await startSieveAll({
    configPath,
    hashKeyFile: join(dir, 'hash.key'),
    loaderGroup: `e2e-fail-${id}`,
    database,
    env: { CLICKHOUSE_URL: `http://127.0.0.1:${await freePort()}` },
  });
  const code = await new Promise<number | null>((resolve) => failing.child.once('exit', resolve));
  assert.equal(code, 1, failing.log());
  assert.match(failing.log(), /loader: migrating ClickHouse at http:\/\/127\.0\.0\.1:\d+ \(database e2e_\w+\) failed/);
  assert.match(failing.log(), /loader thread exited; stopping/);
});
