import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';

/** Folder holding the versioned `NNNN_name.sql` migrations. */
export const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../clickhouse');

export interface RenderOptions {
  database: string;
  rawTtlDays?: number;
  rollupTtlDays?: number;
  /** Cluster name: Replicated* engines and ON CLUSTER. */
  cluster?: string;
  dir?: string;
}

export interface Migration {
  version: number;
  name: string;
  checksum: string;
  statements: string[];
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Placeholder scheme: {{database}}, {{on_cluster}}, {{engine:<MergeTree family>}},
 * {{raw_ttl_days}}, {{rollup_ttl_days}}. Statements are separated by lines holding only `;`.
 */
export function renderSql(sql: string, opts: RenderOptions): string {
  if (!IDENT.test(opts.database)) throw new Error(`invalid database name: ${opts.database}`);
  if (opts.cluster != null && !IDENT.test(opts.cluster)) throw new Error(`invalid cluster name: ${opts.cluster}`);
  const raw = opts.rawTtlDays ?? 30;
  const rollup = opts.rollupTtlDays ?? 400;
  for (const [k, v] of [
    ['rawTtlDays', raw],
    ['rollupTtlDays', rollup],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${k} must be a positive integer, got ${v}`);
  }
  return sql
    .replaceAll('{{database}}', opts.database)
    .replaceAll('{{on_cluster}}', opts.cluster ? `ON CLUSTER ${opts.cluster}` : '')
    .replaceAll('{{raw_ttl_days}}', String(raw))
    .replaceAll('{{rollup_ttl_days}}', String(rollup))
    .replace(/\{\{engine:([A-Za-z]*MergeTree)\}\}/g, (_m, fam: string) => (opts.cluster ? `Replicated${fam}` : fam));
}

function splitStatements(sql: string): string[] {
  return sql
    .split(/^\s*;\s*$/m)
    .map((s) =>
      s
        .split('\n')
        .filter((l) => !/^\s*--/.test(l))
        .join('\n')
        .trim(),
    )
    .filter((s) => s.length > 0);
}

/** Every migration, rendered, in version order. */
export function renderMigrations(opts: RenderOptions): Migration[] {
  const dir = opts.dir ?? MIGRATIONS_DIR;
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort();
  return files.map((f) => {
    const text = readFileSync(resolve(dir, f), 'utf8');
    return {
      version: Number(f.slice(0, 4)),
      name: f.replace(/\.sql$/, ''),
      checksum: createHash('sha256').update(text).digest('hex').slice(0, 16),
      statements: splitStatements(renderSql(text, opts)),
    };
  });
}

export interface MigrateOptions extends RenderOptions {
  client: ClickHouseClient;
  log?: (msg: string) => void;
}

/** ClickHouse's UNKNOWN_SETTING: a server older than the setting a statement names. */
const UNKNOWN_SETTING = '115';
const TUNING = /^ALTER\s+TABLE\s+\S+(\s+ON\s+CLUSTER\s+\S+)?\s+MODIFY\s+SETTING\s/i;

/**
 * Runs one statement. A table-setting change (`ALTER TABLE … MODIFY SETTING`) tunes, it does not
 * shape data: a server that does not know the setting keeps its default, said in the log, and the
 * migration goes on. Every other failure fails the migration.
 */
async function runStatement(client: ClickHouseClient, stmt: string, log?: (msg: string) => void): Promise<void> {
  try {
    await client.command({ query: stmt });
  } catch (err) {
    if (!TUNING.test(stmt) || String((err as { code?: unknown }).code) !== UNKNOWN_SETTING) throw err;
    log?.(`skipped (this server does not know the setting, its default stays): ${stmt.replace(/\s+/g, ' ')}`);
  }
}

/** Applies pending migrations; idempotent; refuses when the database has newer migrations than the code. */
export async function migrate(opts: MigrateOptions): Promise<{ applied: string[] }> {
  const { client, database, cluster } = opts;
  const migrations = renderMigrations(opts);
  const onCluster = cluster ? ` ON CLUSTER ${cluster}` : '';
  const engine = cluster ? 'ReplicatedMergeTree' : 'MergeTree';
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}${onCluster}` });
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${database}.sieve_schema_migrations${onCluster} (version UInt32, name String, checksum String, applied_at DateTime DEFAULT now()) ENGINE = ${engine} ORDER BY version`,
  });
  const rs = await client.query({
    query: `SELECT version, name FROM ${database}.sieve_schema_migrations ORDER BY version`,
    format: 'JSONEachRow',
  });
  const done = (await rs.json()) as { version: number; name: string }[];
  const doneVersions = new Set(done.map((r) => Number(r.version)));
  const latest = migrations.reduce((m, x) => Math.max(m, x.version), 0);
  const newer = done.filter((r) => Number(r.version) > latest);
  if (newer.length > 0) {
    throw new Error(
      `database ${database} has migrations newer than this code (${newer.map((r) => r.name).join(', ')}; code knows up to ${latest}); upgrade Sieve`,
    );
  }
  const applied: string[] = [];
  for (const m of migrations) {
    if (doneVersions.has(m.version)) continue;
    for (const stmt of m.statements) await runStatement(client, stmt, opts.log);
    await client.insert({
      table: `${database}.sieve_schema_migrations`,
      values: [{ version: m.version, name: m.name, checksum: m.checksum }],
      format: 'JSONEachRow',
    });
    opts.log?.(`applied ${m.name}`);
    applied.push(m.name);
  }
  return { applied };
}
