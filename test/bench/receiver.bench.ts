/**
 * Receiver end-to-end throughput: `sieve receiver --dev --workers W` as its own process tree on free
 * loopback ports with a unique topic set, against the real local Kafka. BENCH_CLIENTS (default 48)
 * keep-alive clients in a separate process (support/otlp-load.ts) POST protobuf 512-span batches
 * (20 attributes per span, 16 trace ids per request) for BENCH_SECONDS (default 15). Prints spans/s
 * accepted (200), p50/p99 request latency and the peak RSS of the receiver's processes together.
 * BENCH_OFFERED=<spans/s> makes the clients pace themselves to that rate (open loop), e.g. twice the
 * measured capacity for the overload figure (429s instead of growth).
 *
 *   SIEVE_BENCH_PIPELINE=none|default   (unset: both, plus the default pipeline's cost in %)
 *   BENCH_WORKERS=1,2                   receiver worker processes to measure (default: 1 and 2)
 *   BENCH_PROTOCOL=http|grpc            OTLP/HTTP (default) or OTLP/gRPC (statuses: 200 = OK, 1000 + gRPC code)
 *   npm run bench -- receiver
 * Also prints the receiver's CPU time per 1,000 accepted spans (user + system, all its processes).
 * BENCH_NODE_ARGS: node's flags for the receiver's process instead of Sieve's launch flags
 * (src/cli/v8-flags.ts); empty = Node's defaults, e.g. `BENCH_NODE_ARGS= BENCH_WORKERS=1` for the
 * receiver as it ran before the young-generation flag (workers forked by a primary get the flag anyway).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ensureTopics } from '../../src/kafka/exporter.js';
import { type SieveProcess, startSieve, stopSieve, waitFor200 } from '../support/sieve-process.js';
import { type LoadResult, runLoadInChildProcess, SPANS_PER_REQUEST } from './support/otlp-load.js';

const ROOT = join(import.meta.dirname, '..', '..');
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 48);
/** open loop: the clients together offer this many spans/s (e.g. 2× capacity for the overload figure) */
const OFFERED = process.env.BENCH_OFFERED ? Number(process.env.BENCH_OFFERED) : undefined;
const NODE_ARGS = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean);
const WORKERS = (process.env.BENCH_WORKERS ?? '1,2').split(',').map(Number);
const PROTOCOL = process.env.BENCH_PROTOCOL ?? 'http';
if (PROTOCOL !== 'http' && PROTOCOL !== 'grpc') throw new Error('BENCH_PROTOCOL must be http or grpc');

type Mode = 'none' | 'default';
const modeEnv = process.env.SIEVE_BENCH_PIPELINE;
if (modeEnv !== undefined && modeEnv !== 'none' && modeEnv !== 'default')
  throw new Error('SIEVE_BENCH_PIPELINE must be none or default');
const modes: Mode[] = modeEnv === undefined ? ['none', 'default'] : [modeEnv];

interface Result {
  mode: Mode;
  workers: number;
  spansPerSec: number;
  requests: number;
  refused: number;
  p50: number;
  p99: number;
  peakRssMiB: number;
  cpuMsPer1000Spans: number;
}

/** User + system CPU time of a process and all its descendants (Linux /proc), in ms. */
function treeCpuMs(pid: number): number {
  let ticks = 0;
  const visit = (p: number) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime
      for (const task of readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/))
        if (task) visit(Number(task));
    } catch {
      // the process exited meanwhile
    }
  };
  visit(pid);
  return (ticks * 1000) / 100; // USER_HZ
}

/** RSS of a process and all its descendants (Linux /proc), in bytes. */
function treeRss(pid: number): number {
  let total = 0;
  const visit = (p: number) => {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      total += Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
      for (const task of readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/))
        if (task) visit(Number(task));
    } catch {
      // the process exited meanwhile
    }
  };
  visit(pid);
  return total;
}

async function run(mode: Mode, workers: number): Promise<Result> {
  const id = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'sieve-bench-'));
  let yaml = readFileSync(join(ROOT, 'collector-config', 'sieve.yaml'), 'utf8');
  yaml = yaml.replace(/topic: (otlp_\w+)/g, `topic: bench_${id}_$1`);
  if (mode === 'none') yaml = yaml.replace(/processors: \[[^\]\n]*\]/g, 'processors: [batch]');
  writeFileSync(join(dir, 'sieve.yaml'), yaml);
  const topics = [`bench_${id}_otlp_spans`, `bench_${id}_otlp_logs`, `bench_${id}_otlp_metrics`];
  await ensureTopics(brokers, topics);
  let sieve: SieveProcess | undefined;
  let peakRss = 0;
  let sampler: NodeJS.Timeout | undefined;
  let load: LoadResult;
  let cpuMs = 0;
  try {
    sieve = await startSieve({
      command: 'receiver',
      configPath: join(dir, 'sieve.yaml'),
      args: ['--workers', String(workers)],
      env: { SIEVE_HASH_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'warn' },
      ...(NODE_ARGS !== undefined ? { nodeArgs: NODE_ARGS } : {}),
    });
    await waitFor200(`http://127.0.0.1:${sieve.ports.receiverOps}/readyz`, sieve);
    const pid = sieve.child.pid as number;
    sampler = setInterval(() => {
      peakRss = Math.max(peakRss, treeRss(pid));
    }, 100);
    const url =
      PROTOCOL === 'grpc' ? `grpc://127.0.0.1:${sieve.ports.grpc}` : `http://127.0.0.1:${sieve.ports.otlp}/v1/traces`;
    const cpu0 = treeCpuMs(pid);
    load = await runLoadInChildProcess(url, CLIENTS, SECONDS, OFFERED);
    cpuMs = treeCpuMs(pid) - cpu0;
  } finally {
    clearInterval(sampler);
    if (sieve !== undefined) {
      const code = await stopSieve(sieve);
      if (code !== 0) console.error(`receiver exited with ${code}:\n${sieve.log()}`);
    }
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics }).catch(() => {});
    await admin.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    mode,
    workers,
    spansPerSec: load.accepted / load.seconds,
    requests: load.accepted / SPANS_PER_REQUEST + load.refused,
    refused: load.refused,
    p50: load.latenciesMs[0],
    p99: load.latenciesMs[1],
    peakRssMiB: peakRss / 1048576,
    cpuMsPer1000Spans: load.accepted > 0 ? (cpuMs / load.accepted) * 1000 : Number.NaN,
  };
}

const results: Result[] = [];
for (const workers of WORKERS)
  for (const mode of modes) {
    const r = await run(mode, workers);
    results.push(r);
    console.log(
      `receiver[${PROTOCOL}, ${mode}, ${workers} worker${workers > 1 ? 's' : ''}] ${CLIENTS} clients${OFFERED ? ` offering ${OFFERED.toLocaleString('en-US')} spans/s` : ''} x ${SECONDS}s, ${SPANS_PER_REQUEST}-span batches: ${Math.round(r.spansPerSec).toLocaleString('en-US')} spans/s accepted, ` +
        `${r.requests} requests (${r.refused} refused), p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, peak RSS ${r.peakRssMiB.toFixed(0)} MiB, ${r.cpuMsPer1000Spans.toFixed(1)} CPU ms per 1,000 spans`,
    );
  }
for (const workers of WORKERS) {
  const none = results.find((r) => r.mode === 'none' && r.workers === workers);
  const dflt = results.find((r) => r.mode === 'default' && r.workers === workers);
  if (none !== undefined && dflt !== undefined && none.spansPerSec > 0) {
    console.log(
      `default pipeline cost (${workers} worker${workers > 1 ? 's' : ''}): ${(((none.spansPerSec - dflt.spansPerSec) / none.spansPerSec) * 100).toFixed(1)}% of throughput`,
    );
  }
}
