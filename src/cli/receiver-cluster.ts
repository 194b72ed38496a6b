/**
 * `sieve receiver --workers N`: N receiver processes sharing the OTLP port (node:cluster), because
 * one receiver is bound by its single JavaScript thread (decode, scrub, encode, the Kafka client).
 *
 * Every worker serves both OTLP ports (HTTP and, when configured, gRPC): node:cluster shares each
 * listening socket, and the primary deals the connections of both among the workers.
 * The primary only supervises: it forks the workers, serves the ops port (/metrics aggregated over
 * the workers by prom-client's AggregatorRegistry, /readyz true while every worker reaches Kafka),
 * restarts a worker that dies, forwards SIGHUP (config reload) and on SIGTERM/SIGINT lets every
 * worker finish its in-flight requests and flush before exiting. Each worker is a whole receiver
 * (own Kafka producer, own memory_limiter: the limits apply per worker).
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type pino from 'pino';
import { AggregatorRegistry, Counter, Gauge, type PrometheusContentType, Registry } from 'prom-client';
import { buildOpsServer } from '../receiver/server.js';
import { withSemiSpaceFlag } from './v8-flags.js';

/** Message a worker sends the primary about its Kafka readiness. */
interface ReadinessMessage {
  sieve: 'readiness';
  ready: boolean;
}

/** Message a worker sends once all its OTLP servers (HTTP, gRPC) listen. */
interface ListeningMessage {
  sieve: 'listening';
}

const READINESS_REPORT_MS = 1000;
const RESTART_DELAY_MS = 1000;
const SHUTDOWN_TIMEOUT_MS = 30_000;

/** Default worker count: one per available core, at most 4 (each also holds a Kafka producer and a heap). */
export function defaultReceiverWorkers(): number {
  return Math.min(4, availableParallelism());
}

/**
 * The receiver's worker count for `command`: `--workers` (`flag`), else SIEVE_RECEIVER_WORKERS (`env`).
 * The flag is refused on any other command; the variable is read by `sieve receiver` only, so one
 * environment (an env file, a ConfigMap) can serve the receiver and the loader alike.
 */
export function receiverWorkersOption(
  command: string,
  flag: string | undefined,
  env: string | undefined,
): number | undefined {
  if (command !== 'receiver') {
    if (flag !== undefined) throw new Error('--workers applies to `sieve receiver` only');
    return undefined;
  }
  return parseWorkers(flag ?? env);
}

/** Parses `--workers` / SIEVE_RECEIVER_WORKERS: a positive integer. */
export function parseWorkers(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new Error(`receiver workers must be an integer from 1 to 64, got ${JSON.stringify(value)}`);
  return n;
}

/** In a worker: a registry the primary can aggregate, and readiness reports to the primary. */
export function workerRegistry(): AggregatorRegistry<PrometheusContentType> {
  const registry = new AggregatorRegistry<PrometheusContentType>();
  AggregatorRegistry.setRegistries([registry]);
  return registry;
}

export function reportReadiness(isReady: () => boolean): () => void {
  const send = () => {
    if (process.connected) process.send?.({ sieve: 'readiness', ready: isReady() } satisfies ReadinessMessage);
  };
  send();
  const timer = setInterval(send, READINESS_REPORT_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** In a worker: tells the primary that every OTLP server listens (a worker counts as started from then). */
export function reportListening(): void {
  if (process.connected) process.send?.({ sieve: 'listening' } satisfies ListeningMessage);
}

export interface PrimaryOptions {
  workers: number;
  logger: pino.Logger;
  opsHost: string;
  opsPort: number;
  otlpEndpoint: string;
  otlpGrpcEndpoint?: string;
}

/** Runs the supervising primary until SIGTERM/SIGINT; resolves with the exit code. */
export async function runReceiverPrimary(opts: PrimaryOptions): Promise<number> {
  const logger = opts.logger.child({ component: 'receiver-primary' });
  const readiness = new Map<number, boolean>();
  // our own account of running workers: cluster.workers may still list one whose 'exit' was emitted
  // (it is removed once its IPC channel has closed too)
  const live = new Set<Worker>();
  // workers run with the receiver's young generation, however the primary was started (v8-flags.ts)
  cluster.setupPrimary({ execArgv: withSemiSpaceFlag(process.execArgv, process.env.NODE_OPTIONS) });
  const fork = (): void => {
    live.add(cluster.fork());
  };
  const listening = new Set<number>();
  let stopping = false;

  const aggregator = new AggregatorRegistry<PrometheusContentType>();
  const own = new Registry();
  new Gauge({
    name: 'sieve_receiver_workers',
    help: 'Receiver worker processes listening on the OTLP port',
    registers: [own],
    collect() {
      this.set(listening.size);
    },
  });
  const restarts = new Counter({
    name: 'sieve_receiver_worker_restarts_total',
    help: 'Receiver workers started again after dying',
    registers: [own],
  });
  const ops = await buildOpsServer({
    exporter: {
      isReady: () =>
        !stopping && readiness.size === opts.workers && [...readiness.values()].every((ready) => ready === true),
    },
    registry: {
      contentType: aggregator.contentType,
      metrics: async () => `${await aggregator.clusterMetrics()}\n${await own.metrics()}`,
    },
    logger,
  });

  // a worker has started once all its servers listen (it says so: with gRPC it listens twice)
  cluster.on('message', (worker: Worker, message: unknown) => {
    const m = message as Partial<ReadinessMessage> | Partial<ListeningMessage> | null;
    if (m?.sieve === 'readiness') readiness.set(worker.id, (m as Partial<ReadinessMessage>).ready === true);
    else if (m?.sieve === 'listening' && !listening.has(worker.id)) {
      listening.add(worker.id);
      logger.info({ worker: worker.id, pid: worker.process.pid }, 'receiver worker listening');
    }
  });

  let shutdownTimer: NodeJS.Timeout | undefined;
  let exited: () => void = () => {};
  const allExited = new Promise<void>((resolve) => {
    exited = () => {
      clearTimeout(shutdownTimer);
      resolve();
    };
  });
  let unclean = false;
  cluster.on('exit', (worker, code, signal) => {
    live.delete(worker);
    const wasListening = listening.delete(worker.id);
    readiness.delete(worker.id);
    if (stopping) {
      if (code !== 0) unclean = true;
      if (live.size === 0) exited();
      return;
    }
    if (!wasListening) {
      // it never started (bad config, port taken, no API keys): restarting would fail the same way
      logger.error({ worker: worker.id, code, signal }, 'receiver worker exited before listening');
      unclean = true;
      stop('a worker failed to start');
      return;
    }
    logger.error({ worker: worker.id, code, signal }, 'receiver worker died; starting a new one');
    setTimeout(() => {
      if (stopping) return;
      restarts.inc();
      fork();
    }, RESTART_DELAY_MS).unref();
  });

  function stop(why: string): void {
    if (stopping) return;
    stopping = true;
    logger.info({ why }, 'stopping receiver workers');
    if (live.size === 0) exited();
    // each worker answers its in-flight requests and flushes its batches to Kafka, then exits
    for (const w of live) w.process.kill('SIGTERM');
    shutdownTimer = setTimeout(() => {
      logger.error('receiver workers did not stop within 30 s; killing them');
      unclean = true;
      for (const w of live) w.process.kill('SIGKILL');
      exited();
    }, SHUTDOWN_TIMEOUT_MS).unref();
  }

  // the ops port first: if it is taken, fail before any worker starts
  await ops.listen({ host: opts.opsHost, port: opts.opsPort });
  for (let i = 0; i < opts.workers; i++) fork();
  const onHup = () => {
    for (const w of live) w.process.kill('SIGHUP');
  };
  process.on('SIGHUP', onHup);
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  logger.info(
    {
      workers: opts.workers,
      ops: opts.opsPort,
      ...(opts.otlpGrpcEndpoint !== undefined ? { otlpGrpc: opts.otlpGrpcEndpoint } : {}),
    },
    `receiver starting ${opts.workers} workers: OTEL_EXPORTER_OTLP_ENDPOINT=${opts.otlpEndpoint}`,
  );

  await allExited;
  process.off('SIGHUP', onHup);
  await ops.close();
  logger.info('stopped');
  return unclean ? 1 : 0;
}
