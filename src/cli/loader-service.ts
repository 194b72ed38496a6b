/**
 * `sieve loader`'s work, run on the loader's thread (loader-thread.ts): checks Kafka, brings the
 * ClickHouse schema up to date (migrateConfigured, which `sieve migrate` runs too), starts consuming
 * and serves the loader's ops port. Returns how to stop it.
 */
import { resolve } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import {
  type ClickHouseEnvConfig,
  clickhouseConfigFromEnv,
  createClickHouseClient,
  describeClickHouseError,
} from '../clickhouse/client.js';
import { migrate } from '../clickhouse/migrate.js';
import { DEFAULT_MAX_BATCH_BYTES, setMaxBatchBytes } from '../kafka/batch-bound.js';
import { dialectsFromEnv } from '../loader/genai.js';
import { DEFAULT_MIN_INSERT_INTERVAL_MS, defaultInsertBytes, startLoader } from '../loader/loader.js';
import { buildLoaderOpsServer } from '../loader/ops.js';
import { loadPricing } from '../loader/pricing.js';
import { DEFAULT_ROW_FORMAT, ROW_FORMATS } from '../loader/rows.js';
import type { SieveConfig } from '../pipeline/api.js';
import { envChoice, envInteger } from './env-number.js';
import { checkKafkaAtStart, kafkaSecurityOf, loaderTopicsOf } from './kafka-access.js';

export interface LoaderServiceOptions {
  config: SieveConfig;
  brokers: string[];
  logger: Logger;
  opsHost: string;
  opsPort: number;
  /** called when the loader has stopped loading for good (its Kafka consumer failed and does not restart) */
  onFailure: (reason: string) => void;
}

/** Retention and cluster options for migrations: SIEVE_RAW_TTL_DAYS, SIEVE_ROLLUP_TTL_DAYS, CLICKHOUSE_CLUSTER. */
function schemaOptionsFromEnv(): { rawTtlDays?: number; rollupTtlDays?: number; cluster?: string } {
  const num = (v: string | undefined) => (v ? Number(v) : undefined);
  return {
    rawTtlDays: num(process.env.SIEVE_RAW_TTL_DAYS),
    rollupTtlDays: num(process.env.SIEVE_ROLLUP_TTL_DAYS),
    cluster: process.env.CLICKHOUSE_CLUSTER || undefined,
  };
}

/**
 * Applies the migrations in clickhouse/ to the configured database; a failure says where and why,
 * after `doing` ("migrating ClickHouse at …").
 */
export function migrateConfigured(
  client: ClickHouseClient,
  chConfig: ClickHouseEnvConfig,
  logger: Logger,
  doing = 'migrating',
): Promise<{ applied: string[] }> {
  const { database, url } = chConfig;
  return migrate({
    client,
    database,
    ...schemaOptionsFromEnv(),
    log: (msg) => logger.info({ database }, msg),
  }).catch((err: unknown) => {
    throw new Error(
      `${doing} ClickHouse at ${url} (database ${database}) failed: ${describeClickHouseError(err, chConfig)}`,
    );
  });
}

/** Starts the loader; resolves, once it consumes, with its stop (which commits what was inserted). */
export async function startLoaderService(opts: LoaderServiceOptions): Promise<() => Promise<void>> {
  const { config, brokers, logger } = opts;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  await checkKafkaAtStart(config, brokers, logger);
  const chConfig = clickhouseConfigFromEnv();
  const { database } = chConfig;
  const client = createClickHouseClient(chConfig);
  const applied = await migrateConfigured(client, chConfig, logger, 'loader: migrating');
  logger.info({ database, applied: applied.applied }, 'clickhouse schema up to date');
  const pricingFile = resolve(process.env.SIEVE_PRICING ?? 'collector-config/pricing.yaml');
  const { topics, topicFormats } = loaderTopicsOf(config);
  const fetchBytes = envInteger(process.env, 'SIEVE_LOADER_FETCH_BYTES', 4 * 1024 * 1024, { min: 1024, max: 2 ** 30 });
  // what one compressed batch may decompress to (a decompression bomb holds its partition, logged, not the loader's memory)
  setMaxBatchBytes(
    envInteger(process.env, 'SIEVE_LOADER_MAX_BATCH_BYTES', DEFAULT_MAX_BATCH_BYTES, {
      min: 1024 * 1024,
      max: 2 ** 32,
    }),
  );
  const loader = await startLoader({
    brokers,
    topics,
    topicFormats,
    security: kafkaSecurityOf(config),
    groupId: process.env.SIEVE_LOADER_GROUP ?? 'sieve-loader',
    client,
    database,
    logger,
    registry,
    pricing: loadPricing(pricingFile),
    dialects: dialectsFromEnv(),
    // bytes per fetch (compressed, as Kafka counts them), and message bytes per insert (all partitions
    // of a topic together); the queue holds twice an insert, and decoded rows take ~3× their messages' bytes
    batch: {
      maxBytes: fetchBytes,
      maxInsertBytes: envInteger(process.env, 'SIEVE_LOADER_INSERT_BYTES', defaultInsertBytes(fetchBytes), {
        min: fetchBytes,
        max: 2 ** 30,
      }),
      // at most one insert per partition per interval (ClickHouse pays per insert); 0: no pacing
      minInsertIntervalMs: envInteger(
        process.env,
        'SIEVE_LOADER_MIN_INSERT_INTERVAL_MS',
        DEFAULT_MIN_INSERT_INTERVAL_MS,
        { min: 0, max: 60_000 },
      ),
    },
    // Native (default): about half the engine's CPU per span; RowBinary: less of the loader's (rows.ts)
    insertFormat: envChoice(process.env, 'SIEVE_LOADER_INSERT_FORMAT', ROW_FORMATS, DEFAULT_ROW_FORMAT),
  });
  const ops = buildLoaderOpsServer(() => loader, registry);
  await new Promise<void>((ok, fail) => ops.once('error', fail).listen(opts.opsPort, opts.opsHost, ok));
  logger.info({ database, topics: Object.keys(topics), ops: opts.opsPort }, 'loader consuming');
  // a loader that loads nothing more exits, so that its supervisor restarts it and its failure shows
  void loader.failed.then((err) => opts.onFailure(`Kafka consumer failed: ${err.message}`));
  return async () => {
    await loader.stop(); // commits what was inserted
    await new Promise<void>((ok) => ops.close(() => ok()));
    await client.close();
  };
}
