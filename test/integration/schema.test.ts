// Needs ClickHouse on CLICKHOUSE_URL (npm run services).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { migrate } from '../../src/clickhouse/migrate.js';

const client = createClickHouseClient();
const db = `sieve_schema_${randomBytes(5).toString('hex')}`;
const tuningDb = `${db}_tuning`;
const mergeDb = `${db}_merge`;
after(async () => {
  await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.command({ query: `DROP DATABASE IF EXISTS ${tuningDb}` });
  await client.command({ query: `DROP DATABASE IF EXISTS ${mergeDb}` });
  await client.close();
});

test('migrate is idempotent and refuses a database with newer migrations', async () => {
  const first = await migrate({ client, database: db, rawTtlDays: 30, rollupTtlDays: 400 });
  assert.deepEqual(first.applied, [
    '0001_traces',
    '0002_logs',
    '0003_metrics',
    '0004_rollups',
    '0005_ai_dialects',
    '0006_merge_policy',
  ]);
  assert.deepEqual((await migrate({ client, database: db })).applied, []);
  const rs = await client.query({
    query: `SELECT name FROM system.tables WHERE database = '${db}' ORDER BY name`,
    format: 'JSONEachRow',
  });
  const names = ((await rs.json()) as { name: string }[]).map((r) => r.name);
  for (const t of [
    'otel_traces',
    'otel_traces_trace_id_ts',
    'otel_logs',
    'otel_metrics_gauge',
    'otel_metrics_sum',
    'otel_metrics_histogram',
    'otel_metrics_exp_histogram',
    'otel_metrics_summary',
    'spans_1m',
    'llm_1m',
    'logs_1m',
    'spans_1m_v',
    'llm_1m_v',
    'logs_1m_v',
    'metrics_1m',
    'metrics_1m_v',
    'llm_usage_1m_v',
  ]) {
    assert.ok(names.includes(t), t);
  }
  await client.insert({
    table: `${db}.sieve_schema_migrations`,
    values: [{ version: 9999, name: '9999_future', checksum: 'x' }],
    format: 'JSONEachRow',
  });
  await assert.rejects(migrate({ client, database: db }), /newer than this code.*9999_future/);
});

test('the tables the loader fills merge with merge_selector_base 20', async () => {
  await migrate({ client, database: mergeDb });
  const rs = await client.query({
    query: `SELECT name, engine_full FROM system.tables WHERE database = {db:String} AND engine LIKE '%MergeTree' AND name != 'sieve_schema_migrations'`,
    query_params: { db: mergeDb },
    format: 'JSONEachRow',
  });
  const tables = (await rs.json()) as { name: string; engine_full: string }[];
  assert.ok(tables.length >= 12, tables.map((t) => t.name).join(', '));
  for (const t of tables) assert.match(t.engine_full, /merge_selector_base = 20\b/, t.name);
});

test('a setting this server does not know is skipped and said; any other failure still fails the migration', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sieve-migrations-'));
  try {
    writeFileSync(
      join(dir, '0001_t.sql'),
      'CREATE TABLE IF NOT EXISTS {{database}}.t {{on_cluster}} (a UInt64) ENGINE = {{engine:MergeTree}} ORDER BY a\n',
    );
    writeFileSync(
      join(dir, '0002_tuning.sql'),
      'ALTER TABLE {{database}}.t {{on_cluster}} MODIFY SETTING sieve_no_such_setting = 1\n;\nALTER TABLE {{database}}.t {{on_cluster}} MODIFY SETTING merge_selector_base = 7\n',
    );
    const said: string[] = [];
    const done = await migrate({ client, database: tuningDb, dir, log: (m) => said.push(m) });
    assert.deepEqual(done.applied, ['0001_t', '0002_tuning']);
    assert.ok(
      said.some((m) => /skipped .*sieve_no_such_setting/.test(m)),
      said.join('\n'),
    );
    // the statement after the skipped one ran
    const rs = await client.query({
      query: `SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = 't'`,
      query_params: { db: tuningDb },
      format: 'JSONEachRow',
    });
    assert.match(((await rs.json()) as { engine_full: string }[])[0]?.engine_full ?? '', /merge_selector_base = 7\b/);

    // an unknown setting outside a MODIFY SETTING, and a failing schema change, fail as before
    writeFileSync(
      join(dir, '0003_broken.sql'),
      'CREATE TABLE IF NOT EXISTS {{database}}.u {{on_cluster}} (a UInt64) ENGINE = {{engine:MergeTree}} ORDER BY a SETTINGS sieve_no_such_setting = 1\n',
    );
    await assert.rejects(migrate({ client, database: tuningDb, dir }), /sieve_no_such_setting/);
    writeFileSync(join(dir, '0003_broken.sql'), 'ALTER TABLE {{database}}.t {{on_cluster}} ADD COLUMN b NoSuchType\n');
    await assert.rejects(migrate({ client, database: tuningDb, dir }), /NoSuchType/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
