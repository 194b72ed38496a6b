// p50/p95 of every dashboard/alert ClickHouse query over 30 days of seeded telemetry.
// node --import tsx test/bench/dashboards.bench.ts   (needs `npm run services`)
import { randomBytes } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import { migrate } from '../../src/clickhouse/migrate.js';
import { allQueries, seed } from '../support/dashboard-fixtures.js';

const url = process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123';
const db = `sieve_dbench_${randomBytes(5).toString('hex')}`;
const RUNS = Number(process.env.RUNS ?? 7);
const admin = createClient({ url });
await admin.command({ query: `CREATE DATABASE ${db}` });
const client = createClient({ url, database: db });
try {
  await migrate({ client, database: db, rawTtlDays: 3650, rollupTtlDays: 3650 });
  await seed(client, Number(process.env.SPANS ?? 300_000), Number(process.env.LOGS ?? 100_000));
  const all: number[] = [];
  const rows: string[] = [];
  for (const q of allQueries(true, '00')) {
    const t: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const s = performance.now();
      await (await client.query({ query: q.sql, format: 'JSONEachRow' })).json();
      t.push(performance.now() - s);
    }
    t.sort((a, b) => a - b);
    all.push(...t);
    rows.push(
      `${q.name.padEnd(80)} p50 ${t[Math.floor(t.length * 0.5)]?.toFixed(1)} ms  p95 ${t[Math.min(t.length - 1, Math.floor(t.length * 0.95))]?.toFixed(1)} ms`,
    );
  }
  console.log(rows.join('\n'));
  all.sort((a, b) => a - b);
  console.log(
    `ALL ${all.length} runs: p50 ${all[Math.floor(all.length * 0.5)]?.toFixed(1)} ms, p95 ${all[Math.floor(all.length * 0.95)]?.toFixed(1)} ms (target < 200 ms)`,
  );
} finally {
  await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
  await admin.close();
}
