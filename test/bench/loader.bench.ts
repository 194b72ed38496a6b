// Loader throughput: pre-produce SPANS spans (512-span messages, 20 attributes) to a fresh topic, then
// time the loader consuming them into ClickHouse. Prints spans/s and CPU per 1,000 spans of this process
// (the loader; the 250 ms row-count poll is included), split by thread, and of the local ClickHouse
// engine over the same window. The loader inserts in its default format (Native) or SIEVE_LOADER_INSERT_FORMAT's. It runs on
// a worker thread with the heap `sieve loader` gives it (newLoaderWorker); the CPU window starts once
// that thread has imported its modules, as the loader's own process would have before consuming.
// Run: node --import tsx test/bench/loader.bench.ts
import { randomBytes } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { Kafka, logLevel } from 'kafkajs';
import { envChoice } from '../../src/cli/env-number.js';
import { newLoaderWorker } from '../../src/cli/loader-thread.js';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { migrate } from '../../src/clickhouse/migrate.js';
import { DEFAULT_ROW_FORMAT, ROW_FORMATS } from '../../src/loader/rows.js';
import { deleteTopics, ensureTopicsRetry } from '../support/kafka-harness.js';
import { loaderBenchMessage, SPANS_PER_MESSAGE as PER } from './support/loader-messages.js';
import type { LoaderThreadData } from './support/loader-thread.js';
import { clickhousePid, ownCpuMs, processCpuMs, threadCpuMs } from './support/proc-cpu.js';

const SPANS = Number(process.env.SPANS ?? 300_000);
/** how the rows go to ClickHouse (the loader's SIEVE_LOADER_INSERT_FORMAT) */
const insertFormat = envChoice(process.env, 'SIEVE_LOADER_INSERT_FORMAT', ROW_FORMATS, DEFAULT_ROW_FORMAT);
const id = randomBytes(4).toString('hex');
const db = `sieve_bench_${id}`;
const topic = `bench_spans_${id}`;
const brokers = [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'];
const client = createClickHouseClient();
const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
const now = BigInt(Date.now() - 600_000) * 1_000_000n;

const batch = (b: number) => loaderBenchMessage(b, now, () => ({ traceId: randomBytes(16), spanId: randomBytes(8) }));

await migrate({ client, database: db });
// a broker that has just started may not serve a new topic's metadata yet: retried for a minute
await ensureTopicsRetry([topic], 60_000, 2);
// the topic (~117 MB per 200k spans) and the database go when the run ends, failed or not: repeated
// runs would otherwise fill the broker's disk
try {
  const producer = kafka.producer();
  await producer.connect();
  const nMsgs = Math.ceil(SPANS / PER);
  for (let b = 0; b < nMsgs; b += 20) {
    const msgs = [];
    for (let i = b; i < Math.min(nMsgs, b + 20); i++) msgs.push({ value: Buffer.from(batch(i)) });
    await producer.send({ topic, messages: msgs });
  }
  await producer.disconnect();
  const total = nMsgs * PER;
  console.error(`produced ${total} spans in ${nMsgs} messages`);

  const threadData: LoaderThreadData = {
    brokers,
    topic,
    groupId: `bench_${id}`,
    database: db,
    maxBytes: Number(process.env.LOADER_MAX_BYTES ?? 16 * 1024 * 1024),
    insertFormat,
  };
  const thread = newLoaderWorker(new URL('./support/loader-thread-entry.mjs', import.meta.url), {
    workerData: threadData,
  });
  const exited = new Promise<number>((ok, fail) => thread.once('error', fail).once('exit', ok));
  /** The thread's next message, which must start with `expected` (the rest is returned). */
  const nextMessage = (w: Worker, expected: string) =>
    Promise.race([
      new Promise<string>((ok, fail) =>
        w.once('message', (m) =>
          typeof m === 'string' && m.startsWith(expected)
            ? ok(m.slice(expected.length))
            : fail(new Error(`loader thread: ${String(m)}, expected ${expected}`)),
        ),
      ),
      exited.then((code): string => {
        throw new Error(`loader thread exited (${code}) before saying ${expected}`);
      }),
    ]);
  /** the loader thread's own CPU milliseconds so far (its JavaScript: decoding, encoding, Kafka, HTTP) */
  const loaderThreadCpuMs = async () => {
    const answer = nextMessage(thread, 'cpu:');
    thread.postMessage('cpu');
    return Number(await answer);
  };
  await nextMessage(thread, 'imported');

  const enginePid = clickhousePid();
  const loaderThreadCpu0 = await loaderThreadCpuMs();
  const mainThreadCpu0 = threadCpuMs();
  const t0 = performance.now();
  const cpu0 = ownCpuMs();
  const engineCpu0 = processCpuMs(enginePid);
  thread.postMessage('start');
  await nextMessage(thread, 'started');
  let n = 0;
  let lastLog = 0;
  // the reading at the first poll that finds a quarter of the rows queryable: from there on the loader
  // runs warm (its hot code compiled, its buffers grown), as a long-running loader does
  let warm: { rows: number; cpuMs: number } | undefined;
  while (n < total) {
    await new Promise((r) => setTimeout(r, 250));
    const rs = await client.query({ query: `SELECT count() AS n FROM ${db}.otel_traces`, format: 'JSONEachRow' });
    n = Number(((await rs.json()) as { n: string }[])[0]?.n ?? 0);
    if (warm === undefined && n >= total / 4) warm = { rows: n, cpuMs: ownCpuMs() };
    if (performance.now() - lastLog > 2000) {
      lastLog = performance.now();
      console.error(`  ${n}/${total} rows`);
    }
    if (performance.now() - t0 > 300_000) break;
  }
  const secs = (performance.now() - t0) / 1000;
  const cpuEnd = ownCpuMs();
  const loaderCpuMs = cpuEnd - cpu0;
  const engineCpuMs = processCpuMs(enginePid) - engineCpu0;
  const mainThreadMs = threadCpuMs() - mainThreadCpu0;
  const loaderThreadMs = (await loaderThreadCpuMs()) - loaderThreadCpu0;
  const per1k = (ms: number) => Number(((ms / Math.max(1, n)) * 1000).toFixed(1));
  console.log(
    JSON.stringify({
      bench: 'loader',
      insertFormat,
      spans: n,
      seconds: Number(secs.toFixed(2)),
      spansPerSec: Math.round(n / secs),
      cpuMsPer1kSpans: per1k(loaderCpuMs),
      // the same after the first quarter of the rows: slightly low, since the work on rows in flight at
      // that poll (up to a 16 MiB fetch, ~22k spans) counts before it; null when fewer than 100k rows
      // came after it (SPANS below ~150k), too few for that to be small
      warmCpuMsPer1kSpans:
        warm !== undefined && n - warm.rows >= 100_000
          ? Number((((cpuEnd - warm.cpuMs) / (n - warm.rows)) * 1000).toFixed(1))
          : null,
      // where cpuMsPer1kSpans goes: the loader's JavaScript thread; the other threads (V8's optimising
      // compiler and GC helpers, libuv's pool), whose share is larger the shorter the run (the loader's
      // code is compiled once per process); this script's own thread (the row-count poll)
      loaderThreadCpuMsPer1kSpans: per1k(loaderThreadMs),
      otherThreadsCpuMsPer1kSpans: per1k(loaderCpuMs - loaderThreadMs - mainThreadMs),
      pollThreadCpuMsPer1kSpans: per1k(mainThreadMs),
      engineCpuMsPer1kSpans: per1k(engineCpuMs),
      loaderCores: Number((loaderCpuMs / 1000 / secs).toFixed(2)),
      engineCores: Number((engineCpuMs / 1000 / secs).toFixed(2)),
    }),
  );
  thread.postMessage('stop');
  await exited;
} finally {
  await client.command({ query: `DROP DATABASE IF EXISTS ${db}` }).catch(() => undefined);
  await deleteTopics([topic, `${topic}.dlq`]);
  await client.close();
}
