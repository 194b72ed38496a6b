import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderMigrations } from '../../../src/clickhouse/migrate.js';

test('single-node render: MergeTree engines, TTLs, no placeholders left', () => {
  const sql = renderMigrations({ database: 'otel', rawTtlDays: 7, rollupTtlDays: 90 })
    .flatMap((m) => m.statements)
    .join('\n');
  assert.doesNotMatch(sql, /\{\{/);
  assert.doesNotMatch(sql, /Replicated|ON CLUSTER/);
  assert.match(sql, /toIntervalDay\(7\)/);
  assert.match(sql, /toIntervalDay\(90\)/);
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
  ]) {
    assert.match(sql, new RegExp(`CREATE TABLE IF NOT EXISTS otel\\.${t} `));
  }
  for (const v of ['spans_1m_v', 'llm_1m_v', 'logs_1m_v'])
    assert.match(sql, new RegExp(`CREATE VIEW IF NOT EXISTS otel\\.${v} `));
});

test('cluster render: Replicated engines and ON CLUSTER everywhere', () => {
  const ms = renderMigrations({ database: 'otel', cluster: 'main' });
  const stmts = ms.flatMap((m) => m.statements);
  assert.deepEqual(
    ms.map((m) => m.version),
    [1, 2, 3, 4, 5, 6],
  );
  for (const s of stmts) assert.match(s, /ON CLUSTER main/);
  for (const s of stmts.filter((x) => /^CREATE TABLE/.test(x)))
    assert.match(s, /ENGINE = Replicated(Aggregating)?MergeTree/);
  assert.throws(() => renderMigrations({ database: 'bad;name' }), /invalid database/);
});

test('every table the migrations create gets the lower merge write amplification (0006)', () => {
  const stmts = renderMigrations({ database: 'otel' }).flatMap((m) => m.statements);
  const tables = stmts.flatMap((s) => /^CREATE TABLE IF NOT EXISTS otel\.(\w+) /.exec(s)?.[1] ?? []);
  assert.ok(tables.length >= 12, `tables: ${tables.join(', ')}`);
  for (const t of tables)
    assert.ok(
      stmts.some((s) => new RegExp(`^ALTER TABLE otel\\.${t}\\s+MODIFY SETTING merge_selector_base = 20$`).test(s)),
      `${t} has no merge_selector_base`,
    );
});
