// Needs ClickHouse on CLICKHOUSE_URL (npm run services).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { migrate } from '../../src/clickhouse/migrate.js';

const client = createClickHouseClient();
const db = `sieve_schema_${randomBytes(5).toString('hex')}`;
after(async () => {
  await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
});

test('migrate is idempotent and refuses a database with newer migrations', async () => {
  const first = await migrate({ client, database: db, rawTtlDays: 30, rollupTtlDays: 400 });
  assert.deepEqual(first.applied, ['0001_traces', '0002_logs', '0003_metrics', '0004_rollups', '0005_ai_dialects']);
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
