// Integration test of the local ClickHouse (chDB behind deploy/local/clickhouse/chdb_server.py)
// through the real @clickhouse/client, the way Sieve's loader and migrations use it.
// Needs ClickHouse on CLICKHOUSE_URL (default http://127.0.0.1:8123): `bash deploy/local/clickhouse.sh start`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ClickHouseClient, ClickHouseError, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { leb128 } from '../support/row-binary-reader.js';

const url = process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123';
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const script = resolve(repo, 'deploy/local/clickhouse.sh');
const db = `sieve_it_${randomBytes(6).toString('hex')}`;
const ROWS = 100_000;
const SERVICES = ['checkout', 'cart', 'search', 'auth', 'llm-gateway'];

interface SpanRow {
  ts: string;
  service: string;
  name: string;
  duration_ns: number;
  attrs: Record<string, string>;
}

function makeRows(n: number): SpanRow[] {
  const base = Date.UTC(2024, 0, 1, 12, 0, 0);
  const rows: SpanRow[] = [];
  for (let i = 0; i < n; i++) {
    const attrs: Record<string, string> = {};
    for (let j = 0; j < 20; j++) attrs[`attr.key_${j}`] = `value-${i % 97}-${j}`;
    const ms = base + Math.floor(i / 10); // 100,000 rows over ~2.7 minutes
    const frac = String(i % 1_000_000_000).padStart(9, '0');
    rows.push({
      ts: `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}.${frac}`,
      service: SERVICES[i % SERVICES.length] as string,
      name: `GET /api/v${i % 3}/items`,
      duration_ns: ((i * 7919) % 1_000_000) * 1000,
      attrs,
    });
  }
  return rows;
}

// the client logs every rejected request at ERROR; this suite provokes errors on purpose
const log = { level: ClickHouseLogLevel.OFF };

function newClient(): ClickHouseClient {
  return createClient({ url, database: db, log });
}

async function rowsOf<T>(
  client: ClickHouseClient,
  query: string,
  query_params?: Record<string, unknown>,
): Promise<T[]> {
  const rs = await client.query({ query, format: 'JSONEachRow', query_params });
  return rs.json<T>();
}

describe('ClickHouse (chDB adapter) through @clickhouse/client', () => {
  let client: ClickHouseClient;
  const rows = makeRows(ROWS);

  before(async () => {
    const admin = createClient({ url, log });
    await admin.command({ query: `CREATE DATABASE ${db}` });
    await admin.close();
    client = newClient();
  });

  after(async () => {
    const admin = createClient({ url, log });
    await admin.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await admin.close();
    await client.close();
  });

  test('ping', async () => {
    const r = await client.ping();
    assert.equal(r.success, true);
  });

  test('schema: MergeTree table and materialized view into an AggregatingMergeTree', async () => {
    await client.command({
      query: `CREATE TABLE spans (
        ts DateTime64(9) CODEC(Delta, ZSTD(1)),
        service LowCardinality(String),
        name String,
        duration_ns UInt64,
        attrs Map(LowCardinality(String), String),
        status_code UInt8 DEFAULT 1,
        minute DateTime MATERIALIZED toStartOfMinute(ts)
      ) ENGINE = MergeTree ORDER BY (service, ts)
      SETTINGS non_replicated_deduplication_window = 1000`,
    });
    await client.command({
      query: `CREATE TABLE spans_1m (
        minute DateTime,
        service LowCardinality(String),
        calls AggregateFunction(count),
        duration_sum SimpleAggregateFunction(sum, UInt64),
        duration_q AggregateFunction(quantilesExact(0.5, 0.9), UInt64)
      ) ENGINE = AggregatingMergeTree ORDER BY (service, minute)`,
    });
    await client.command({
      query: `CREATE MATERIALIZED VIEW spans_1m_mv TO spans_1m AS
        SELECT toStartOfMinute(ts) AS minute, service, countState() AS calls,
               sum(duration_ns) AS duration_sum, quantilesExactState(0.5, 0.9)(duration_ns) AS duration_q
        FROM spans GROUP BY minute, service`,
    });
    const tables = await rowsOf<{ name: string }>(
      client,
      'SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name',
      { db },
    );
    assert.deepEqual(
      tables.map((t) => t.name),
      ['spans', 'spans_1m', 'spans_1m_mv'],
    );
  });

  test(`insert ${ROWS} wide rows (JSONEachRow, 20 map entries)`, async () => {
    const started = process.hrtime.bigint();
    const res = await client.insert({ table: 'spans', values: rows, format: 'JSONEachRow' });
    const secs = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`# inserted ${ROWS} rows in ${secs.toFixed(2)} s = ${Math.round(ROWS / secs)} rows/s`);
    assert.equal(res.executed, true);
    // like clickhouse-server, written_rows also counts the rows the materialized view wrote
    assert.ok(Number(res.summary?.written_rows) >= ROWS, JSON.stringify(res.summary));
    const [c] = await rowsOf<{ n: number; ok_default: number; ok_mat: number }>(
      client,
      `SELECT count() AS n, countIf(status_code = 1) AS ok_default,
              countIf(minute = toStartOfMinute(ts)) AS ok_mat FROM spans`,
    );
    assert.deepEqual(c, { n: ROWS, ok_default: ROWS, ok_mat: ROWS });
  });

  test('query back with JSONEachRow and query_params', async () => {
    const service = 'search';
    const minDuration = 500_000_000;
    const expected = rows.filter((r) => r.service === service && r.duration_ns >= minDuration).length;
    const [r] = await rowsOf<{ n: number | string }>(
      client,
      'SELECT count() AS n FROM spans WHERE service = {service:String} AND duration_ns >= {min:UInt64}',
      { service, min: minDuration },
    );
    assert.equal(Number(r?.n), expected);

    const first = rows[0] as SpanRow;
    const [row] = await rowsOf<SpanRow>(
      client,
      'SELECT ts, service, name, duration_ns, attrs FROM spans WHERE ts = {ts:DateTime64(9)} AND service = {s:String}',
      { ts: first.ts, s: first.service },
    );
    assert.equal(row?.name, first.name);
    assert.deepEqual(row?.attrs, first.attrs);
    assert.equal(Number(row?.duration_ns), first.duration_ns);

    // tricky strings survive parameter escaping
    const tricky = "a'b\\c\td\ne \u00e9 {x:String}";
    const [t] = await rowsOf<{ s: string; a: string[] }>(client, 'SELECT {s:String} AS s, {a:Array(String)} AS a', {
      s: tricky,
      a: [tricky, 'x'],
    });
    assert.deepEqual(t, { s: tricky, a: [tricky, 'x'] });
  });

  test('materialized view aggregates match a direct aggregate', async () => {
    const fromMv = await rowsOf<Record<string, unknown>>(
      client,
      `SELECT minute, service, countMerge(calls) AS calls, sum(duration_sum) AS dur,
              quantilesExactMerge(0.5, 0.9)(duration_q) AS q
       FROM spans_1m GROUP BY minute, service ORDER BY minute, service`,
    );
    const direct = await rowsOf<Record<string, unknown>>(
      client,
      `SELECT toStartOfMinute(ts) AS minute, service, count() AS calls, sum(duration_ns) AS dur,
              quantilesExact(0.5, 0.9)(duration_ns) AS q
       FROM spans GROUP BY minute, service ORDER BY minute, service`,
    );
    assert.ok(direct.length >= SERVICES.length);
    assert.deepEqual(fromMv, direct);
  });

  test("bad queries reject with ClickHouseError and the server's code", async () => {
    await assert.rejects(
      client.query({ query: 'SELECT * FROM no_such_table', format: 'JSONEachRow' }),
      (e: unknown) => {
        assert.ok(e instanceof ClickHouseError);
        assert.equal(e.code, '60');
        assert.equal(e.type, 'UNKNOWN_TABLE');
        return true;
      },
    );
    await assert.rejects(client.command({ query: 'SELEKT 1' }), (e: unknown) => {
      assert.ok(e instanceof ClickHouseError);
      assert.equal(e.code, '62');
      return true;
    });
    await assert.rejects(
      client.insert({ table: 'spans', values: [{ duration_ns: 'not a number' }], format: 'JSONEachRow' }),
      (e: unknown) => {
        assert.ok(e instanceof ClickHouseError, String(e));
        return true;
      },
    );
    await assert.rejects(
      client.query({ query: 'SELECT 1', clickhouse_settings: { no_such_setting: 1 } as never }),
      (e: unknown) => {
        assert.ok(e instanceof ClickHouseError);
        assert.equal(e.code, '115');
        return true;
      },
    );
    // the session is still healthy afterwards
    const [r] = await rowsOf<{ n: number | string }>(client, 'SELECT count() AS n FROM spans');
    assert.equal(Number(r?.n), ROWS);
  });

  // chDB's streaming insert answers success when the engine fails at the sink; the loader
  // would then commit offsets of rows that were never written.
  test('an insert the engine refuses at the sink (constraint, materialized view) is an error', async () => {
    await client.command({
      query: `CREATE TABLE guarded (k String, v UInt64, CONSTRAINT no_poison CHECK k != 'poison')
              ENGINE = MergeTree ORDER BY k`,
    });
    await client.command({
      query: 'CREATE TABLE guarded_sum (k String, n UInt64) ENGINE = SummingMergeTree ORDER BY k',
    });
    await client.command({
      query: `CREATE MATERIALIZED VIEW guarded_mv TO guarded_sum AS
              SELECT k, sum(throwIf(v = 13, 'unlucky') + 1) AS n FROM guarded GROUP BY k`,
    });
    await assert.rejects(
      client.insert({
        table: 'guarded',
        values: [
          { k: 'a', v: 1 },
          { k: 'poison', v: 2 },
        ],
        format: 'JSONEachRow',
      }),
      (e: unknown) => {
        assert.ok(e instanceof ClickHouseError, String(e));
        assert.equal(e.type, 'VIOLATED_CONSTRAINT');
        return true;
      },
    );
    await assert.rejects(
      client.insert({ table: 'guarded', values: [{ k: 'b', v: 13 }], format: 'JSONEachRow' }),
      (e: unknown) => {
        assert.ok(e instanceof ClickHouseError, String(e));
        assert.match(e.message, /unlucky/);
        return true;
      },
    );
    await client.insert({ table: 'guarded', values: [{ k: 'c', v: 3 }], format: 'JSONEachRow' });
    const rows = await rowsOf<{ k: string }>(client, 'SELECT k FROM guarded ORDER BY k');
    // the refused constraint insert wrote nothing; the view failure is reported (its base row may stay, as on a server)
    assert.ok(!rows.some((r) => r.k === 'a' || r.k === 'poison'), JSON.stringify(rows));
    assert.ok(rows.some((r) => r.k === 'c'));
    const [s] = await rowsOf<{ n: string }>(client, "SELECT sum(n) AS n FROM guarded_sum WHERE k = 'c'");
    assert.equal(Number(s?.n), 1);
  });

  test('insert_deduplication_token makes a repeated insert a no-op', async () => {
    await client.command({
      query: `CREATE TABLE dedup (id UInt32, v String) ENGINE = MergeTree ORDER BY id
              SETTINGS non_replicated_deduplication_window = 100`,
    });
    const batch = [
      { id: 1, v: 'a' },
      { id: 2, v: 'b' },
      { id: 3, v: 'c' },
    ];
    for (let i = 0; i < 3; i++) {
      await client.insert({
        table: 'dedup',
        values: batch,
        format: 'JSONEachRow',
        clickhouse_settings: { insert_deduplication_token: 'topic-0-offset-42' },
      });
    }
    await client.insert({
      table: 'dedup',
      values: batch,
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: 'topic-0-offset-43' },
    });
    const [r] = await rowsOf<{ n: number | string }>(client, 'SELECT count() AS n FROM dedup');
    assert.equal(Number(r?.n), 6);
    // the token applied to that insert only
    const [s] = await rowsOf<{ t: string }>(client, "SELECT getSetting('insert_deduplication_token') AS t");
    assert.equal(s?.t, '');
  });

  test('settings, column subsets, other formats and compression', async () => {
    // per-query settings apply to that query only (ClickHouse >= 25.8 no longer quotes 64-bit ints by default)
    const quoted = await client.query({
      query: 'SELECT toUInt64(1) AS n',
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
    });
    assert.deepEqual(await quoted.json(), [{ n: '1' }]);
    const plain = await client.query({
      query: 'SELECT toUInt64(1) AS n',
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    assert.deepEqual(await plain.json(), [{ n: 1 }]);

    await client.command({
      query: 'CREATE TABLE fmt (a UInt32, b String, c UInt32 DEFAULT a * 10) ENGINE = MergeTree ORDER BY a',
    });
    await client.insert({ table: 'fmt', values: [[1, 'x']], format: 'JSONCompactEachRow', columns: ['a', 'b'] });
    await client.insert({ table: 'fmt', values: [{ b: 'y', a: 2 }], format: 'JSONEachRow' });
    const csv = createClient({ url, database: db, log, compression: { request: true, response: true } });
    try {
      await csv.insert({ table: 'fmt', values: [{ a: 3, b: 'z', c: 7 }], format: 'JSONEachRow' });
      await csv
        .exec({ query: 'INSERT INTO fmt (a, b) FORMAT CSV', values: Buffer.from('4,"w"\n') as never })
        .then((r) => r.stream.resume());
      const all = await (
        await csv.query({ query: 'SELECT a, b, c FROM fmt ORDER BY a', format: 'JSONEachRow' })
      ).json();
      assert.deepEqual(all, [
        { a: 1, b: 'x', c: 10 },
        { a: 2, b: 'y', c: 20 },
        { a: 3, b: 'z', c: 7 },
        { a: 4, b: 'w', c: 40 },
      ]);
      const tsv = await (await csv.query({ query: 'SELECT a, b FROM fmt ORDER BY a', format: 'TabSeparated' })).text();
      assert.equal(tsv, '1\tx\n2\ty\n3\tz\n4\tw\n');
    } finally {
      await csv.close();
    }
  });

  test('RowBinary bodies reach the engine byte for byte (every byte value, 24 MB streamed in one insert)', async () => {
    await client.command({
      query:
        'CREATE TABLE rb (id UInt32, s String, m Map(String, String), t DateTime64(9)) ENGINE = MergeTree ORDER BY id',
    });
    const { createHash } = await import('node:crypto');
    const { Readable } = await import('node:stream');
    const N = 40_000;
    const expected = new Map<number, string>();
    const chunks: Buffer[] = [];
    let rows: Buffer[] = [];
    for (let id = 0; id < N; id++) {
      // row 0 starts with newline/space/NUL bytes, others random bytes of every value, up to 1 KB
      const s = id === 0 ? Buffer.from([0x0a, 0x20, 0x0d, 0x00, 0x09]) : randomBytes((id * 7919) % 1100);
      expected.set(id, createHash('md5').update(s).digest('hex'));
      const id32 = Buffer.alloc(4);
      id32.writeUInt32LE(id);
      const t = Buffer.alloc(8);
      t.writeBigInt64LE(1_700_000_000_000_000_000n + BigInt(id));
      rows.push(
        id32,
        Buffer.from(leb128(s.length)),
        s,
        Buffer.from([1, 1]),
        Buffer.from('k'),
        Buffer.from(leb128(s.length)),
        s,
        t,
      );
      if (rows.length >= 8 * 200) {
        chunks.push(Buffer.concat(rows));
        rows = [];
      }
    }
    chunks.push(Buffer.concat(rows));
    const bytes = chunks.reduce((n, c) => n + c.length, 0);
    assert.ok(bytes > 20_000_000, `${bytes} bytes`);
    await client
      .exec({ query: 'INSERT INTO rb (id, s, m, t) FORMAT RowBinary', values: Readable.from(chunks) })
      .then((r) => r.stream.resume());
    const got = await rowsOf<{ id: number; h: string; hm: string; t: string }>(
      client,
      "SELECT id, lower(hex(MD5(s))) AS h, lower(hex(MD5(m['k']))) AS hm, toString(toUnixTimestamp64Nano(t)) AS t FROM rb ORDER BY id",
    );
    assert.equal(got.length, N);
    for (const r of got) {
      assert.equal(r.h, expected.get(r.id), `row ${r.id}`);
      assert.equal(r.hm, expected.get(r.id), `row ${r.id} map value`);
      assert.equal(r.t, String(1_700_000_000_000_000_000n + BigInt(r.id)));
    }
  });

  test('20 concurrent queries and inserts all succeed', async () => {
    await client.command({ query: 'CREATE TABLE conc (id UInt32) ENGINE = MergeTree ORDER BY id' });
    const jobs: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      jobs.push(
        rowsOf(client, 'SELECT service, count() AS n FROM spans WHERE duration_ns > {d:UInt64} GROUP BY service', {
          d: i * 1000,
        }),
      );
      if (i % 4 === 0) {
        jobs.push(client.insert({ table: 'conc', values: [{ id: i }], format: 'JSONEachRow' }));
      }
    }
    const results = await Promise.allSettled(jobs);
    const failed = results.filter((r) => r.status === 'rejected');
    assert.equal(failed.length, 0, JSON.stringify(failed));
    const [r] = await rowsOf<{ n: number | string }>(client, 'SELECT count() AS n FROM conc');
    assert.equal(Number(r?.n), 5);
  });

  test('data survives an adapter restart', {
    // only when CLICKHOUSE_URL is the adapter that deploy/local/clickhouse.sh manages
    skip: !url.includes(`127.0.0.1:${process.env.CLICKHOUSE_PORT ?? 8123}`),
  }, async () => {
    let statusOk = true;
    try {
      execFileSync('bash', [script, 'status'], { stdio: 'pipe' });
    } catch {
      statusOk = false;
    }
    if (!statusOk) {
      // not started by our script (e.g. a real clickhouse-server): nothing to restart
      return;
    }
    await client.close();
    try {
      execFileSync('bash', [script, 'stop'], { stdio: 'pipe' });
    } finally {
      // always bring it back: other engineers and suites share this server
      execFileSync('bash', [script, 'start'], { stdio: 'pipe' });
    }
    client = newClient();
    const [r] = await rowsOf<{ n: number | string }>(client, 'SELECT count() AS n FROM spans');
    assert.equal(Number(r?.n), ROWS);
    const [m] = await rowsOf<{ n: number | string }>(client, 'SELECT countMerge(calls) AS n FROM spans_1m');
    assert.equal(Number(m?.n), ROWS);
  });
});
