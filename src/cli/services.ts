/**
 * Long-running commands: `sieve receiver`, `sieve loader`, `sieve all`, and `sieve migrate`.
 * This is the composition root — the only place that reads env for wiring and owns signals.
 */
import cluster from 'node:cluster';
import { resolve } from 'node:path';
import { isatty } from 'node:tty';
import { isMainThread } from 'node:worker_threads';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { clickhouseConfigFromEnv, createClickHouseClient } from '../clickhouse/client.js';
import { ConfigHolder, loadSieveConfig, watchConfig } from '../config/index.js';
import { readKeysFile } from '../config/keys-file.js';
import { withTlsFromEnv } from '../config/receiver-settings.js';
import { ensureTopics, KafkaExporter } from '../kafka/exporter.js';
import { TOPIC_PARTITIONS } from '../kafka/topics.js';
import type { SieveConfig } from '../pipeline/api.js';
import { buildOpsServer, buildReceiver, createGrpcReceiver, createIngestCore } from '../receiver/server.js';
import { receiverEndpoints, renderBanner } from './banner.js';
import { configPathFrom } from './config-path.js';
import { type DevHashKey, ensureDevHashKey } from './dev-key.js';
import { brokersOf, checkKafkaAtStart, kafkaSecurityOf } from './kafka-access.js';
import { migrateConfigured, startLoaderService } from './loader-service.js';
import { onStopRequest, startLoaderThread } from './loader-thread.js';
import { createLogger, logFormat } from './log.js';
import {
  defaultReceiverWorkers,
  reportListening,
  reportReadiness,
  runReceiverPrimary,
  workerRegistry,
} from './receiver-cluster.js';

export type ServiceCommand = 'all' | 'receiver' | 'loader';

export interface ServiceOptions {
  configPath?: string;
  dev: boolean;
  /** `sieve receiver` only: processes sharing the OTLP port (default: one per core, at most 4) */
  workers?: number;
}

const RECEIVER_OPS_PORT = Number(process.env.SIEVE_RECEIVER_OPS_PORT ?? 13133);
const LOADER_OPS_PORT = Number(process.env.SIEVE_LOADER_OPS_PORT ?? 13134);
const OPS_HOST = process.env.SIEVE_OPS_HOST ?? '0.0.0.0';
const opsUrl = (port: number) => `http://${OPS_HOST === '0.0.0.0' ? '127.0.0.1' : OPS_HOST}:${port}`;

/**
 * API keys from SIEVE_API_KEYS_FILE (a YAML list of {sha256, tenant, name, created, revoked}) when
 * the pipeline file configures none — lets one image run any preset with keys mounted as a secret.
 * The running receiver re-reads the file when it changes (`sieve keys create|revoke`).
 */
export function withApiKeysFromEnv(config: SieveConfig, env: NodeJS.ProcessEnv = process.env): SieveConfig {
  const file = env.SIEVE_API_KEYS_FILE;
  if (!file || config.receiver.auth) return config;
  const keysFile = resolve(file);
  return {
    ...config,
    receiver: { ...config.receiver, auth: { keys: readKeysFile(keysFile), keysFile, inlineKeys: [] } },
  };
}

/** The URL clients put in OTEL_EXPORTER_OTLP_ENDPOINT (`local`: as seen from this machine). */
function otlpEndpointUrl(r: SieveConfig['receiver'], local = false): string {
  const host = local && (r.host === '0.0.0.0' || r.host === '::') ? '127.0.0.1' : r.host;
  return `${r.tls !== undefined ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${r.port}`;
}

function otlpGrpcEndpointUrl(g: NonNullable<SieveConfig['receiver']['grpc']>): string {
  const host = g.host === '0.0.0.0' || g.host === '::' ? '127.0.0.1' : g.host;
  return `${g.tls !== undefined ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${g.port}`;
}

function topicsOf(config: SieveConfig): string[] {
  return Object.values(config.pipelines)
    .filter((p) => p !== undefined)
    .map((p) => p.exporter.topic);
}

/** Runs until SIGINT/SIGTERM, then shuts down gracefully; resolves with the exit code. */
export async function runServices(command: ServiceCommand, opts: ServiceOptions): Promise<number> {
  const logger = createLogger({
    level: process.env.LOG_LEVEL ?? 'info',
    base: { service: `sieve-${command}`, ...(cluster.isWorker ? { worker: cluster.worker?.id } : {}) },
  });
  const configPath = configPathFrom(opts.configPath);
  // dev mode started by hand: a local hashing key (cluster workers and the loader thread inherit the env)
  let devKey: DevHashKey | undefined;
  if (opts.dev && command !== 'loader' && !cluster.isWorker) {
    devKey = ensureDevHashKey(process.env);
    if (devKey?.generated) logger.info({ file: devKey.file }, 'dev mode: generated a local PII hashing key');
  }
  const config =
    command === 'loader'
      ? loadSieveConfig(configPath, { exportersOnly: true })
      : withTlsFromEnv(withApiKeysFromEnv(loadSieveConfig(configPath)), process.env);
  const inWorker = cluster.isWorker;
  if (!inWorker && isMainThread) logger.info({ config: configPath }, 'config loaded');
  // once per process: not again in `sieve all`'s loader thread or the receiver's workers
  if (!inWorker && isMainThread) for (const warning of config.warnings ?? []) logger.warn(warning);
  const workers = command === 'receiver' ? (opts.workers ?? defaultReceiverWorkers()) : 1;
  const pretty = logFormat() === 'pretty' && isMainThread && !inWorker;
  const banner = (extra: { endpoints: boolean; clickhouse: boolean }) => {
    const ch = clickhouseConfigFromEnv();
    process.stdout.write(
      renderBanner(
        {
          command,
          config,
          configPath,
          endpoints: extra.endpoints ? receiverEndpoints(config.receiver) : [],
          ops: [
            ...(command !== 'loader' ? [{ name: 'receiver', url: opsUrl(RECEIVER_OPS_PORT) }] : []),
            ...(command !== 'receiver' ? [{ name: 'loader', url: opsUrl(LOADER_OPS_PORT) }] : []),
          ],
          kafkaBrokers: brokersOf(config),
          ...(extra.clickhouse ? { clickhouse: { url: ch.url, database: ch.database } } : {}),
          dev: opts.dev,
          ...(devKey ? { devKey } : {}),
          workers,
        },
        isatty(1) && !process.env.NO_COLOR,
      ),
    );
  };
  if (workers > 1 && cluster.isPrimary) {
    if (pretty) banner({ endpoints: true, clickhouse: false });
    return runReceiverPrimary({
      workers,
      logger,
      opsHost: OPS_HOST,
      opsPort: RECEIVER_OPS_PORT,
      otlpEndpoint: otlpEndpointUrl(config.receiver, true),
      ...(config.receiver.grpc !== undefined ? { otlpGrpcEndpoint: otlpGrpcEndpointUrl(config.receiver.grpc) } : {}),
    });
  }
  const closers: (() => Promise<void>)[] = [];

  if (command === 'all' || command === 'receiver') {
    // a cluster worker's metrics are served by the primary's ops port, aggregated over the workers
    const registry = inWorker ? workerRegistry() : new Registry();
    collectDefaultMetrics({ register: registry });
    const holder = new ConfigHolder(config);
    // the receiver's listen address and auth are fixed at start; reloads swap the pipelines
    const watcher = watchConfig(configPath, {
      registry,
      onReload: (next) => {
        holder.swap(withApiKeysFromEnv(next));
        logger.info({ config: configPath }, 'config reloaded');
      },
      onError: (err) =>
        logger.error({ err: err.message, config: configPath }, 'config reload refused; keeping the running pipeline'),
    });
    const onHup = () => watcher.reload();
    process.on('SIGHUP', onHup);
    const brokers = brokersOf(config);
    const security = kafkaSecurityOf(config);
    await checkKafkaAtStart(config, brokers, logger);
    await ensureTopics(brokers, topicsOf(config), TOPIC_PARTITIONS, security).catch((err: Error) =>
      logger.warn({ err: err.message }, 'could not ensure Kafka topics yet; requests get 503 until Kafka is reachable'),
    );
    const exporter = new KafkaExporter({ brokers, clientId: 'sieve-receiver', logger, registry, security });
    await exporter.start();
    // one ingest core (auth, memory limiter, keys file reloads) for both protocols
    const core = createIngestCore({
      settings: config.receiver,
      getPipelines: () => holder.current().pipelines,
      exporter,
      logger,
      registry,
      dev: opts.dev,
    });
    const app = await buildReceiver({
      settings: config.receiver,
      getPipelines: () => holder.current().pipelines,
      exporter,
      logger,
      registry,
      dev: opts.dev,
      core,
    });
    await app.listen({ host: config.receiver.host, port: config.receiver.port });
    const grpcSettings = config.receiver.grpc;
    const grpc = grpcSettings !== undefined ? createGrpcReceiver({ settings: grpcSettings, core, logger }) : undefined;
    await grpc?.listen();
    let ops: { close(): Promise<unknown> } | undefined;
    let stopReporting = () => {};
    if (inWorker) {
      reportListening();
      stopReporting = reportReadiness(() => exporter.isReady());
    } else {
      const server = await buildOpsServer({ exporter, registry, logger });
      await server.listen({ host: OPS_HOST, port: RECEIVER_OPS_PORT });
      ops = server;
      if (pretty) banner({ endpoints: true, clickhouse: command === 'all' });
      logger.info(
        {
          otlp: otlpEndpointUrl(config.receiver),
          ...(grpcSettings !== undefined ? { otlpGrpc: otlpGrpcEndpointUrl(grpcSettings) } : {}),
          ops: RECEIVER_OPS_PORT,
          auth: config.receiver.auth ? 'api keys' : 'off (dev)',
        },
        `receiver listening: OTEL_EXPORTER_OTLP_ENDPOINT=${otlpEndpointUrl(config.receiver, true)}`,
      );
    }
    closers.push(async () => {
      process.off('SIGHUP', onHup);
      watcher.close();
      stopReporting();
      // both stop accepting and wait for the requests in flight (answered once Kafka acknowledged)
      await Promise.all([app.close(), grpc?.close()]);
      core.close();
      await exporter.stop(); // flushes batches
      await ops?.close();
    });
  }

  // stop() of the final promise, for a loader thread that ends on its own
  let requestStop: (reason: string) => void = () => {};
  let exitCode = 0;
  // the loader runs on a thread of its own, with a heap sized for it (loader-thread.ts)
  if (command === 'all' || (command === 'loader' && isMainThread)) {
    const thread = startLoaderThread(configPath);
    if (command === 'loader' && pretty) banner({ endpoints: false, clickhouse: true });
    let stoppingThread = false;
    void thread.exited.then((code) => {
      if (stoppingThread) return;
      logger.error({ code }, 'loader thread exited; stopping');
      exitCode = 1;
      requestStop('loader thread exited');
    });
    closers.push(async () => {
      stoppingThread = true;
      const code = await thread.stop(); // commits what was inserted
      if (code !== 0) throw new Error(`loader thread exited with code ${code}`);
    });
  }

  if (command === 'loader' && !isMainThread) {
    // on the loader's thread (started above by `sieve loader` or `sieve all`)
    closers.push(
      await startLoaderService({
        config,
        brokers: brokersOf(config),
        logger,
        opsHost: OPS_HOST,
        opsPort: LOADER_OPS_PORT,
        onFailure: (reason) => {
          exitCode = 1;
          requestStop(reason);
        },
      }),
    );
  }

  return new Promise<number>((done) => {
    let stopping = false;
    const stop = (reason: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ reason }, 'shutting down');
      const timer = setTimeout(() => {
        logger.error('graceful shutdown took longer than 30 s; exiting');
        done(1);
      }, 30_000);
      (async () => {
        let code = exitCode;
        // receiver first (it feeds Kafka), then the loader
        for (const close of closers) {
          try {
            await close();
          } catch (err) {
            code = 1;
            logger.error({ err: (err as Error).message }, 'error during shutdown');
          }
        }
        clearTimeout(timer);
        logger.info('stopped');
        done(code);
      })();
    };
    requestStop = stop;
    onStopRequest(stop);
  });
}

export async function runMigrate(): Promise<number> {
  const logger = createLogger({ base: { service: 'sieve-migrate' } });
  const chConfig = clickhouseConfigFromEnv();
  const { database } = chConfig;
  const client = createClickHouseClient(chConfig);
  try {
    const result = await migrateConfigured(client, chConfig, logger);
    logger.info(
      { database, applied: result.applied },
      result.applied.length ? 'migrations applied' : 'schema already up to date',
    );
    return 0;
  } finally {
    await client.close();
  }
}
