// Runs every ClickHouse panel, variable and alert query of the provisioned dashboards, with the
// clickhouse-datasource macros expanded, over 30 days of seeded telemetry (rollups filled by the MVs).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { migrate } from '../../src/clickhouse/migrate.js';
import { buildDashboards } from '../../src/grafana/dashboards.js';
import { allQueries, seed } from '../support/dashboard-fixtures.js';

const url = process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123';
const db = `sieve_dash_${randomBytes(5).toString('hex')}`;

describe('dashboards and alert queries over 30 days of seeded telemetry', () => {
  let client: ClickHouseClient;
  let traceId = '';
  before(async () => {
    const admin = createClient({ url });
    await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
    await admin.close();
    client = createClient({ url, database: db });
    await migrate({ client, database: db, rawTtlDays: 3650, rollupTtlDays: 3650 });
    await seed(client);
    const rs = await client.query({
      query: "SELECT TraceId FROM otel_traces WHERE ParentSpanId = '' LIMIT 1",
      format: 'JSONEachRow',
    });
    traceId = (await rs.json<{ TraceId: string }>())[0]?.TraceId ?? '';
  });
  after(async () => {
    await client?.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await client?.close();
  });

  test('dashboard JSON structure', () => {
    const uids = new Set<string>();
    for (const { dashboard } of buildDashboards()) {
      assert.ok(dashboard.uid && !uids.has(dashboard.uid));
      uids.add(dashboard.uid);
      assert.ok(dashboard.title.startsWith('Sieve / '));
      assert.ok(dashboard.time.from.startsWith('now-'));
      assert.ok(dashboard.panels.length > 0);
      for (const p of dashboard.panels) {
        assert.ok(p.datasource.uid, `${p.title}: datasource`);
        assert.ok(p.targets.length > 0, `${p.title}: targets`);
        assert.ok(p.fieldConfig.defaults.unit, `${p.title}: unit`);
        assert.ok(p.gridPos.w > 0 && p.gridPos.h > 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title}: gridPos`);
      }
    }
    assert.deepEqual(
      [...uids],
      ['sieve-services', 'sieve-ai', 'sieve-logs', 'sieve-traces', 'sieve-pipeline', 'sieve-metrics'],
    );
  });

  for (const all of [true, false]) {
    test(`every query runs and returns its columns (variables = ${all ? 'All' : 'specific values'})`, async () => {
      const failures: string[] = [];
      const queries = allQueries(all, traceId);
      for (const q of queries) {
        assert.doesNotMatch(q.sql, /\$__|\$\{|\$[a-z]/, `${q.name}: unexpanded macro`);
        try {
          const rs = await client.query({ query: q.sql, format: 'JSONCompactEachRowWithNamesAndTypes' });
          const rows = await rs.json<unknown[]>();
          const names = (rows[0] ?? []) as string[];
          for (const c of q.columns)
            if (!names.includes(c)) failures.push(`${q.name}: missing column ${c} (has ${names.join(',')})`);
          const dataRows = rows.length - 2;
          // specific values may legitimately exclude everything only for the no-data alert's window
          if (dataRows <= 0) failures.push(`${q.name}: no rows`);
        } catch (e) {
          failures.push(`${q.name}: ${(e as Error).message.slice(0, 300)}`);
        }
      }
      assert.deepEqual(failures, [], failures.join('\n'));
      assert.ok(queries.length > 40);
    });
  }
});
