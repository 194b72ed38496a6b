// Runs one loader from environment variables (used by the crash-recovery test and the bench):
// KAFKA_BROKERS, LOADER_TOPICS ("topic:signal,..."), LOADER_GROUP, CLICKHOUSE_*, PRICING_FILE, SIEVE_AI_DIALECTS,
// LOADER_OPS_PORT.
import pino from 'pino';
import { Registry } from 'prom-client';
import { clickhouseConfigFromEnv, createClickHouseClient } from '../clickhouse/client.js';
import type { Signal } from '../otlp/model.js';
import { dialectsFromEnv } from './genai.js';
import { type Loader, startLoader } from './loader.js';
import { buildLoaderOpsServer } from './ops.js';
import { loadPricing } from './pricing.js';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
const topics: Record<string, Signal> = {};
for (const part of (process.env.LOADER_TOPICS ?? 'otlp_spans:traces,otlp_logs:logs,otlp_metrics:metrics').split(',')) {
  const [t, s] = part.split(':');
  if (t && (s === 'traces' || s === 'logs' || s === 'metrics')) topics[t] = s;
}
const registry = new Registry();
const cfg = clickhouseConfigFromEnv();
let loader: Loader | undefined;
const ops = buildLoaderOpsServer(() => loader, registry);
ops.listen(Number(process.env.LOADER_OPS_PORT ?? 13134));
loader = await startLoader({
  brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  topics,
  groupId: process.env.LOADER_GROUP ?? 'sieve-loader',
  client: createClickHouseClient(cfg),
  database: cfg.database,
  logger,
  registry,
  pricing: process.env.PRICING_FILE ? loadPricing(process.env.PRICING_FILE) : undefined,
  dialects: dialectsFromEnv(),
  batch: { maxBytes: Number(process.env.LOADER_MAX_BYTES ?? 16 * 1024 * 1024) },
});
logger.info({ topics }, 'loader started');
const shutdown = async () => {
  await loader?.stop();
  ops.close();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
