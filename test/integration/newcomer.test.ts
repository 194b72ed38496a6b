/**
 * A newcomer's first minute, as the README tells it: `sieve all` running, `sieve stats` explaining
 * that nothing arrived yet, `sieve demo` sending an agent workload through the OpenTelemetry SDK,
 * and `sieve stats` then showing the demo's services, models and their cost — with the demo's PII
 * nowhere in ClickHouse.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { AGENTS, DEMO_PII, HTTP_SERVICE } from '../../src/demo/workload.js';
import { deleteTopics, presetWithTopics } from '../support/kafka-harness.js';
import { runSieve, type SieveProcess, startSieveAll, stopSieve, waitFor200 } from '../support/sieve-process.js';

const id = randomBytes(4).toString('hex');
const database = `newcomer_${id}`;
const topics = ['otlp_spans', 'otlp_logs', 'otlp_metrics'].map((t) => `newcomer_${id}_${t}`);
const url = process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123';
const clickhouse = createClient({ url });
const dir = mkdtempSync(join(tmpdir(), 'sieve-newcomer-'));
let sieve: SieveProcess;
let statsEnv: NodeJS.ProcessEnv;

before(async () => {
  const configPath = join(dir, 'sieve.yaml');
  writeFileSync(configPath, presetWithTopics('sieve.yaml', `newcomer_${id}`));
  writeFileSync(join(dir, 'hash.key'), randomBytes(32).toString('hex'));
  sieve = await startSieveAll({
    configPath,
    hashKeyFile: join(dir, 'hash.key'),
    loaderGroup: `newcomer-${id}`,
    database,
  });
  await waitFor200(`http://127.0.0.1:${sieve.ports.receiverOps}/readyz`, sieve, 120_000);
  await waitFor200(`http://127.0.0.1:${sieve.ports.loaderOps}/readyz`, sieve, 120_000);
  statsEnv = {
    CLICKHOUSE_DATABASE: database,
    SIEVE_RECEIVER_OPS_PORT: String(sieve.ports.receiverOps),
    SIEVE_LOADER_OPS_PORT: String(sieve.ports.loaderOps),
  };
});

after(async () => {
  if (sieve) await stopSieve(sieve);
  await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => {});
  await clickhouse.close();
  await deleteTopics(topics).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

test('sieve stats before anything was sent: says so and why, exits 0', async () => {
  const r = await runSieve(['stats'], statsEnv);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /No data yet\./);
  assert.match(
    r.stdout,
    /Nothing sent yet: the receiver at .* has accepted no data since it started\. .*npx sieve demo/,
  );
  assert.match(r.stdout, /receiver\s+http:\/\/127\.0\.0\.1:\d+\s+ready · accepted 0 spans/);
  assert.match(r.stdout, /loader\s+http:\/\/127\.0\.0\.1:\d+\s+ready · lag 0 messages/);
});

test('sieve stats against a database without Sieve tables: wrong database or no migrations, exits 0', async () => {
  const missing = await runSieve(['stats'], { ...statsEnv, CLICKHOUSE_DATABASE: `nothing_here_${id}` });
  assert.equal(missing.code, 0, missing.stderr);
  assert.match(missing.stdout, new RegExp(`has no database "nothing_here_${id}"\\. Wrong database\\?`));

  const empty = `bare_${id}`;
  await clickhouse.command({ query: `CREATE DATABASE IF NOT EXISTS ${empty}` });
  try {
    const r = await runSieve(['stats'], { ...statsEnv, CLICKHOUSE_DATABASE: empty });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /has no spans_1m, llm_1m, logs_1m: the migrations have not run there\. .*sieve migrate/);
  } finally {
    await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${empty}` });
  }
});

test('sieve demo through the OpenTelemetry SDK, then sieve stats shows its services, models and cost', async () => {
  const demo = await runSieve(
    ['demo', '--duration', '8s', '--rate', '3', '--seed', '1', '--endpoint', `http://127.0.0.1:${sieve.ports.otlp}`],
    {},
    180_000,
  );
  assert.equal(demo.code, 0, `${demo.stdout}\n${demo.stderr}\n${sieve.log()}`);
  assert.match(demo.stdout, /\d+ agent runs \(\d+ failed\) · \d+ LLM calls/);
  assert.match(demo.stdout, /exported [1-9]\d* trace, [1-9]\d* log and [1-9]\d* metric requests\n/);

  const services = [...AGENTS.map((a) => a.service), HTTP_SERVICE.service];
  let out = '';
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const r = await runSieve(['stats', '--minutes', '15'], statsEnv);
    assert.equal(r.code, 0, r.stderr);
    out = r.stdout;
    if (services.every((s) => out.includes(s)) && /gpt-4o-mini/.test(out) && /tool calls/i.test(out)) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  for (const s of services) assert.match(out, new RegExp(`^  ${s}\\s+\\d`, 'm'), `service ${s} in:\n${out}`);
  // seed 1 picks every model within its first 13 agent runs; 8 s at 3 runs/s makes about 24
  for (const model of AGENTS.flatMap((a) => a.models.map((m) => m.responseModel)))
    assert.match(out, new RegExp(`\\s${model}\\s+\\d`), `model ${model} in:\n${out}`);
  const total = /LLM calls.*\n\s+(\d+) calls · .* tokens .* · \$(\d+\.\d+)/.exec(out);
  assert.ok(total, out);
  assert.ok(Number(total[1]) > 0 && Number(total[2]) > 0, `LLM calls and cost above zero:\n${out}`);
  assert.match(out, /cost by tenant:\s+(acme|globex) \$0\.\d+/);
  assert.match(out, /^\s+(search_kb|lookup_order|create_ticket|web_search|fetch_url)\s+\d+/m);
  assert.match(out, /^\s+ERROR\s+\d+/m);
  assert.match(
    out,
    /receiver .* ready · accepted [1-9][\d,]* spans, [1-9][\d,]* log records, [1-9][\d,]* metric points/,
  );

  // the PII the demo sent is nowhere in ClickHouse (hashed or removed by the default pipeline)
  const rs = await clickhouse.query({
    query: `SELECT
      (SELECT count() FROM ${database}.otel_logs) AS logs,
      (SELECT count() FROM ${database}.otel_logs WHERE Body LIKE {email:String} OR Body LIKE {phone:String} OR Body LIKE {card:String}) AS pii_logs,
      (SELECT count() FROM ${database}.otel_traces WHERE toString(SpanAttributes) LIKE {email:String}
        OR toString(SpanAttributes) LIKE {phone:String} OR toString(SpanAttributes) LIKE {ip:String}
        OR toString(ResourceAttributes) LIKE {hostip:String}) AS pii_spans`,
    query_params: {
      email: `%${DEMO_PII.emails[0]}%`,
      phone: `%${DEMO_PII.phone}%`,
      card: `%${DEMO_PII.card}%`,
      ip: `%${DEMO_PII.ip}%`,
      hostip: '%10.0.3.17%',
    },
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ logs: string; pii_logs: string; pii_spans: string }>();
  assert.ok(Number(row?.logs) > 0);
  assert.equal(Number(row?.pii_logs), 0);
  assert.equal(Number(row?.pii_spans), 0);
});
