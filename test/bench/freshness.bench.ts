/**
 * End to end freshness, in both deployment layouts, with the default PII pipeline on unique topics and
 * a unique database per run:
 *   split: `sieve receiver --dev` (one worker per core) and `sieve loader` as two processes;
 *   all:   `sieve all --dev` (receiver + loader thread in one process).
 * A separate load process offers FRESH_OFFERED spans/s (default: 10,000 then 20,000) for FRESH_SECONDS
 * (default 30) in 512-span requests whose spans end at the moment they are sent. Every 250 ms this
 * process asks ClickHouse which requests have all 512 rows queryable; freshness = first time a request
 * is complete − its spans' end time. Prints per run: accepted spans/s, the requests' answer time
 * (p50/p99: freshness includes it), freshness p50/p90/p99/max, the
 * loader's largest consumer lag (its /metrics, sampled every second), and the CPU cores used over the
 * load by the receiver, the loader (in `all`: the one process) and the ClickHouse engine, with the
 * engine's background merges apart (its MergeTree merge threads, and the rows they merged per span);
 * then the poll's own queries (how many, and their wall time each: they share the engine with the
 * inserts), and p99, the loader's largest lag and the engine's merge threads' cores by 5 s of the load
 * (which part of the run the slow requests came from: a loader's first seconds, or a stall later).
 *
 *   node --import tsx test/bench/freshness.bench.ts      (or: npm run bench -- freshness)
 *   FRESH_LAYOUTS=split|all|split,all  FRESH_OFFERED=20000  FRESH_SECONDS=30  FRESH_CLIENTS=16
 *   SIEVE_LOADER_INSERT_FORMAT=Native  (the loader's insert format, passed on to it)
 *   FRESH_TABLE_SETTINGS=merge_selector_base=5  (MergeTree settings set on every table of the run's
 *     database before the load, e.g. to compare with the engine's defaults instead of migration 0006's)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { DEFAULT_ROW_FORMAT } from '../../src/loader/rows.js';
import { deleteTopics, presetWithTopics } from '../support/kafka-harness.js';
import { type SieveProcess, startSieve, stopSieve, waitFor200 } from '../support/sieve-process.js';
import { type LoadEvent, runLoadInChildProcess, SPANS_PER_REQUEST } from './support/otlp-load.js';
import { clickhousePid, processCpuMs, threadsCpuMs, treeCpuMs } from './support/proc-cpu.js';

type Layout = 'split' | 'all';
const OFFERED = (process.env.FRESH_OFFERED ?? '10000,20000').split(',').map(Number);
const LAYOUTS = (process.env.FRESH_LAYOUTS ?? 'split,all').split(',') as Layout[];
for (const l of LAYOUTS) if (l !== 'split' && l !== 'all') throw new Error(`FRESH_LAYOUTS: unknown layout ${l}`);
const SECONDS = Number(process.env.FRESH_SECONDS ?? 30);
const CLIENTS = Number(process.env.FRESH_CLIENTS ?? 16);
const DRAIN_MS = 30_000;
const POLL_MS = 250;
/** the per-window line: p99, loader lag and engine merge cores by this many seconds of the load */
const WINDOW_S = 5;
/** rows the poll looks at: spans that ended this recently (its GROUP BY runs in the engine next to the inserts) */
const WINDOW_MS = DRAIN_MS;

/** `name=value,name=value` → MergeTree settings for the run's tables */
const TABLE_SETTINGS = (process.env.FRESH_TABLE_SETTINGS ?? '')
  .split(',')
  .filter(Boolean)
  .map((kv) => {
    const m = /^\s*([a-z_]+)\s*=\s*([\w.]+)\s*$/.exec(kv);
    if (!m) throw new Error(`FRESH_TABLE_SETTINGS: expected name=value, got ${kv}`);
    return `${m[1]} = ${m[2]}`;
  });
/** the engine's thread pool that runs background merges (and mutations) */
const MERGE_THREADS = 'MergeMutate';

const clickhouse = createClickHouseClient();

/** Rows the engine has merged in the background so far (all databases: one run at a time). */
async function mergedRows(): Promise<number> {
  const rs = await clickhouse.query({
    query: `SELECT sum(value) AS n FROM system.events WHERE event = 'MergedRows'`,
    format: 'JSONEachRow',
  });
  return Number(((await rs.json()) as { n: string }[])[0]?.n ?? 0);
}

/** Sets TABLE_SETTINGS on every MergeTree table of `database` (its migrations have run). */
async function setTableSettings(database: string): Promise<void> {
  if (TABLE_SETTINGS.length === 0) return;
  const rs = await clickhouse.query({
    query: `SELECT name FROM system.tables WHERE database = {db:String} AND engine LIKE '%MergeTree'`,
    query_params: { db: database },
    format: 'JSONEachRow',
  });
  for (const { name } of (await rs.json()) as { name: string }[])
    await clickhouse.command({ query: `ALTER TABLE ${database}.${name} MODIFY SETTING ${TABLE_SETTINGS.join(', ')}` });
}

async function until(what: string, probe: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}
/** Waits for a process's /readyz on `port` (a failure says which process, with its log). */
const ready = (port: number, proc: SieveProcess) => waitFor200(`http://127.0.0.1:${port}/readyz`, proc, 120_000);

/** The `p` quantile of ascending `sorted` (undefined when empty). */
function quantile(sorted: readonly number[], p: number): number | undefined {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** The loader's consumer lag (messages) on `topic`, summed over partitions. */
async function loaderLag(port: number, topic: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let lag = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('sieve_loader_consumer_lag{') && line.includes(`topic="${topic}"`))
      lag += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  return lag;
}

/**
 * The loader's span inserts so far (its /metrics): how many, their total seconds and rows, and the
 * summed age of the messages they held (Kafka timestamp → inserted).
 */
async function loaderInserts(
  port: number,
  topic: string,
): Promise<{ count: number; seconds: number; rows: number; messages: number; ageSeconds: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const value = (prefix: string) => {
    const line = text.split('\n').find((l) => l.startsWith(prefix));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  };
  return {
    count: value('sieve_loader_insert_duration_seconds_count{table="otel_traces"}'),
    seconds: value('sieve_loader_insert_duration_seconds_sum{table="otel_traces"}'),
    rows: value('sieve_loader_rows_inserted_total{table="otel_traces"}'),
    messages: value(`sieve_loader_message_age_seconds_count{topic="${topic}"}`),
    ageSeconds: value(`sieve_loader_message_age_seconds_sum{topic="${topic}"}`),
  };
}

async function run(layout: Layout, offered: number): Promise<void> {
  const id = randomBytes(4).toString('hex');
  const database = `fresh_${id}`;
  const prefix = `fresh_${id}`;
  const topics = ['otlp_spans', 'otlp_logs', 'otlp_metrics'].map((t) => `${prefix}_${t}`);
  const dir = mkdtempSync(join(tmpdir(), 'sieve-fresh-'));
  writeFileSync(join(dir, 'sieve.yaml'), presetWithTopics('sieve.yaml', prefix));
  writeFileSync(join(dir, 'hash.key'), randomBytes(32).toString('hex'));
  const configPath = join(dir, 'sieve.yaml');
  const env = {
    LOG_LEVEL: 'warn',
    SIEVE_HASH_KEY_FILE: join(dir, 'hash.key'),
    SIEVE_LOADER_GROUP: `fresh-${id}`,
    CLICKHOUSE_DATABASE: database,
  };
  const procs: SieveProcess[] = [];
  /** start ns (one per request) → wall-clock ms when all its rows were first seen */
  const completeAt = new Map<string, number>();
  /** requests sent (the load process reports each) and not yet seen complete: start ns → end ms */
  const pending = new Map<string, number>();
  /** start ns → wall-clock ms when the receiver's answer arrived (200s only: Kafka has the spans) */
  const answeredAt = new Map<string, number>();
  const onLoadEvent = (event: LoadEvent) => {
    if ('sent' in event) {
      if (!completeAt.has(event.sent.startNs)) pending.set(event.sent.startNs, event.sent.endMs);
    } else if (event.answered.status !== 200) pending.delete(event.answered.startNs);
    else answeredAt.set(event.answered.startNs, Date.now());
  };
  let polling = true;
  /** the poll's own queries (they share the engine with the inserts): count and summed wall time */
  const polls = { count: 0, ms: 0 };
  const poll = async (fromMs: number): Promise<void> => {
    while (polling) {
      const t = Date.now();
      // only the rows of requests still pending are read: the query shares the engine with the inserts
      let oldestPending = t;
      for (const endMs of pending.values()) oldestPending = Math.min(oldestPending, endMs);
      try {
        const rs = await clickhouse.query({
          query: `SELECT toString(toUnixTimestamp64Nano(Timestamp)) AS s, count() AS n FROM ${database}.otel_traces
                  WHERE ServiceName = 'bench' AND Timestamp >= fromUnixTimestamp64Milli(toInt64({from:Int64}))
                  GROUP BY s HAVING n >= ${SPANS_PER_REQUEST}`,
          query_params: { from: Math.max(fromMs, t - WINDOW_MS, Math.min(oldestPending, t)) - 1000 },
          format: 'JSONEachRow',
        });
        const seenAt = Date.now();
        polls.count++;
        polls.ms += seenAt - t;
        for (const r of (await rs.json()) as { s: string }[])
          if (!completeAt.has(r.s)) {
            completeAt.set(r.s, seenAt);
            pending.delete(r.s);
          }
      } catch {
        // the table appears with the loader's migration
      }
      await new Promise((r) => setTimeout(r, Math.max(0, POLL_MS - (Date.now() - t))));
    }
  };
  try {
    let receiver: SieveProcess;
    let loader: SieveProcess;
    if (layout === 'all') {
      receiver = loader = await startSieve({ command: 'all', configPath, env });
      procs.push(receiver);
    } else {
      // the receiver creates the topics the loader subscribes to
      receiver = await startSieve({ command: 'receiver', configPath, env });
      procs.push(receiver);
      await ready(receiver.ports.receiverOps, receiver);
      loader = await startSieve({ command: 'loader', configPath, env });
      procs.push(loader);
    }
    await ready(receiver.ports.receiverOps, receiver);
    await ready(loader.ports.loaderOps, loader);
    await setTableSettings(database);

    const enginePid = clickhousePid();
    let maxLag = 0;
    const lagSamples: { atMs: number; lag: number; mergesMs: number }[] = [];
    let sampling = true;
    const lagSampler = (async () => {
      while (sampling) {
        const lag = await loaderLag(loader.ports.loaderOps, topics[0]!).catch(() => 0);
        maxLag = Math.max(maxLag, lag);
        lagSamples.push({ atMs: Date.now(), lag, mergesMs: threadsCpuMs(enginePid, MERGE_THREADS) });
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    const inserts0 = await loaderInserts(loader.ports.loaderOps, topics[0] as string);
    const cpu0 = {
      receiver: treeCpuMs(receiver.child.pid),
      loader: layout === 'split' ? treeCpuMs(loader.child.pid) : 0,
      engine: processCpuMs(enginePid),
      merges: threadsCpuMs(enginePid, MERGE_THREADS),
    };
    const merged0 = await mergedRows();
    const startedMs = Date.now();
    const poller = poll(startedMs);
    const load = await runLoadInChildProcess(
      `http://127.0.0.1:${receiver.ports.otlp}/v1/traces`,
      CLIENTS,
      SECONDS,
      offered,
      true,
      onLoadEvent,
    );
    const loadSecs = (Date.now() - startedMs) / 1000;
    const cores = (ms: number) => (ms / 1000 / loadSecs).toFixed(2);
    const cpu = {
      receiver: cores(treeCpuMs(receiver.child.pid) - cpu0.receiver),
      loader: layout === 'split' ? cores(treeCpuMs(loader.child.pid) - cpu0.loader) : '',
      engine: cores(processCpuMs(enginePid) - cpu0.engine),
      merges: cores(threadsCpuMs(enginePid, MERGE_THREADS) - cpu0.merges),
    };
    const merged = (await mergedRows()) - merged0;
    const inserts1 = await loaderInserts(loader.ports.loaderOps, topics[0] as string);
    const inserts = {
      count: inserts1.count - inserts0.count,
      seconds: inserts1.seconds - inserts0.seconds,
      rows: inserts1.rows - inserts0.rows,
      messages: inserts1.messages - inserts0.messages,
      ageSeconds: inserts1.ageSeconds - inserts0.ageSeconds,
    };
    const accepted = (load.sent ?? []).filter((r) => r.status === 200);
    await until(
      'every accepted request in ClickHouse',
      async () => accepted.every((r) => completeAt.has(r.startNs)),
      DRAIN_MS,
    ).catch(() => undefined);
    polling = false;
    sampling = false;
    await poller;
    await lagSampler;

    const fresh = accepted
      .filter((r) => completeAt.has(r.startNs))
      .map((r) => ((completeAt.get(r.startNs) as number) - r.endMs) / 1000)
      .sort((a, b) => a - b);
    const q = (p: number) => quantile(fresh, p) ?? Number.NaN;
    // freshness in two stages: until the receiver answered (Kafka has the spans), then until queryable
    const stages = accepted.flatMap((r) => {
      const answered = answeredAt.get(r.startNs);
      const complete = completeAt.get(r.startNs);
      return answered === undefined || complete === undefined
        ? []
        : [{ toAnswer: (answered - r.endMs) / 1000, afterAnswer: (complete - answered) / 1000 }];
    });
    const p99Of = (values: number[]) =>
      (
        quantile(
          values.sort((a, b) => a - b),
          0.99,
        ) ?? Number.NaN
      ).toFixed(2);
    const missing = accepted.length - fresh.length;
    const engineText = `engine ${cpu.engine} (background merges ${cpu.merges}: ${(merged / Math.max(1, load.accepted)).toFixed(2)} rows merged per span accepted)`;
    const cpuText =
      layout === 'split'
        ? `receiver ${cpu.receiver}, loader ${cpu.loader}, ${engineText}`
        : `sieve all ${cpu.receiver}, ${engineText}`;
    console.log(
      `freshness[${layout}]: offered ${offered.toLocaleString('en-US')} spans/s for ${SECONDS}s, accepted ${Math.round(load.accepted / load.seconds).toLocaleString('en-US')} spans/s ` +
        `(${accepted.length} requests, ${load.refused} refused: ${JSON.stringify(load.statuses)}; answered in p50 ${load.latenciesMs[0].toFixed(0)} ms, p99 ${load.latenciesMs[1].toFixed(0)} ms); span end → row queryable: p50 ${q(0.5).toFixed(2)} s, ` +
        `p90 ${q(0.9).toFixed(2)} s, p99 ${q(0.99).toFixed(2)} s, max ${q(1).toFixed(2)} s (±${POLL_MS} ms polling; p99 until answered ${p99Of(stages.map((s) => s.toAnswer))} s, from answer to queryable ${p99Of(stages.map((s) => s.afterAnswer))} s); ` +
        `loader lag max ${maxLag} messages; span inserts (${process.env.SIEVE_LOADER_INSERT_FORMAT || DEFAULT_ROW_FORMAT}) during the load: ${inserts.count}, ` +
        `${Math.round(inserts.rows / Math.max(1, inserts.count)).toLocaleString('en-US')} rows and ` +
        `${Math.round((inserts.seconds / Math.max(1, inserts.count)) * 1000)} ms each on average, messages in Kafka ` +
        `${(inserts.ageSeconds / Math.max(1, inserts.messages)).toFixed(2)} s on average until inserted; CPU cores: ${cpuText}` +
        (missing > 0 ? `; ${missing} accepted requests NOT in ClickHouse after ${DRAIN_MS / 1000}s` : ''),
    );
    // when in the load the slow requests were sent and the loader fell behind (e.g. a cold start)
    const windows = Math.ceil(loadSecs / WINDOW_S);
    const byWindow = (value: (w: number) => number | undefined, digits: number) =>
      Array.from({ length: windows }, (_, w) => value(w)?.toFixed(digits) ?? '–').join(' ');
    const windowOf = (ms: number) => Math.floor((ms - startedMs) / 1000 / WINDOW_S);
    const p99In = (w: number) => {
      const f = accepted
        .filter((r) => windowOf(r.endMs) === w && completeAt.has(r.startNs))
        .map((r) => ((completeAt.get(r.startNs) as number) - r.endMs) / 1000)
        .sort((a, b) => a - b);
      return quantile(f, 0.99);
    };
    const lagIn = (w: number) => {
      const l = lagSamples.filter((x) => windowOf(x.atMs) === w).map((x) => x.lag);
      return l.length === 0 ? undefined : Math.max(...l);
    };
    const mergeCoresIn = (w: number) => {
      const m = lagSamples.filter((x) => windowOf(x.atMs) === w);
      const first = m[0];
      const last = m.at(-1);
      return first === undefined || last === undefined || last.atMs === first.atMs
        ? undefined
        : (last.mergesMs - first.mergesMs) / (last.atMs - first.atMs);
    };
    console.log(
      `freshness[${layout}] poll: ${polls.count} queries, ${(polls.ms / Math.max(1, polls.count)).toFixed(0)} ms each on average; by ${WINDOW_S} s of the load: p99 ${byWindow(p99In, 2)} s; loader lag max ${byWindow(lagIn, 0)} messages; ` +
        `engine merge cores ${byWindow(mergeCoresIn, 2)}`,
    );
  } catch (err) {
    console.error(
      `freshness bench [${layout}] failed: ${String(err)}\n--- sieve output ---\n${procs.map((p) => p.log()).join('\n')}`,
    );
    process.exitCode = 1;
  } finally {
    polling = false;
    // receiver first (it feeds Kafka), then the loader
    for (const p of procs) await stopSieve(p);
    await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
    await deleteTopics([...topics, ...topics.map((t) => `${t}.dlq`)]);
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const layout of LAYOUTS) for (const offered of OFFERED) await run(layout, offered);
await clickhouse.close();
