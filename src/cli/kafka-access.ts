/**
 * What `sieve receiver` / `sieve loader` need from the kafka exporter settings besides brokers: the
 * client's security options, the check that fails the start on a refused configuration, and the
 * loader's topics with their signals and encodings.
 */
import type pino from 'pino';
import { checkKafkaAccess, type KafkaClientSecurity, kafkaClientSecurity } from '../kafka/security.js';
import type { TopicFormat } from '../otlp/kafka-value.js';
import type { Signal } from '../otlp/model.js';
import type { KafkaExporterSettings, SieveConfig } from '../pipeline/api.js';

function firstExporter(config: SieveConfig): KafkaExporterSettings | undefined {
  return Object.values(config.pipelines).find((p) => p !== undefined)?.exporter;
}

/** The kafka exporter's brokers, else KAFKA_BROKERS (default 127.0.0.1:9092). */
export function brokersOf(config: SieveConfig): string[] {
  return firstExporter(config)?.brokers ?? (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
}

/** kafkajs ssl/sasl options of the config's kafka exporter (one cluster per Sieve). */
export function kafkaSecurityOf(config: SieveConfig): KafkaClientSecurity {
  return kafkaClientSecurity(firstExporter(config)?.security);
}

/**
 * Connects once. A configuration the broker refuses (credentials, untrusted certificate) throws,
 * naming the setting, so the process stops at start instead of retrying forever; an unreachable
 * broker is logged and left to the caller's reconnect logic.
 */
export async function checkKafkaAtStart(config: SieveConfig, brokers: string[], logger: pino.Logger): Promise<void> {
  const check = await checkKafkaAccess(brokers, firstExporter(config)?.security);
  if (check.fatal) throw check.fatal;
  if (!check.ok) logger.warn({ brokers, reason: check.reason }, 'kafka not reachable at start; will keep trying');
}

/**
 * The loader's topics: those of the configured pipelines (a topic no pipeline writes may not exist,
 * and subscribing to a missing topic fails), and per topic its format: the signals written to it
 * and 'auto' encoding — detected per message, so a topic switching encoding (or written by
 * Collectors in both) still loads.
 */
export function loaderTopicsOf(config: SieveConfig): {
  topics: Record<string, Signal>;
  topicFormats: Record<string, TopicFormat>;
} {
  const topics: Record<string, Signal> = {};
  const formats: Record<string, { signals: Signal[]; encoding: TopicFormat['encoding'] }> = {};
  for (const signal of ['traces', 'logs', 'metrics'] as const) {
    const exporter = config.pipelines[signal]?.exporter;
    if (exporter === undefined) continue;
    topics[exporter.topic] ??= signal;
    const f = (formats[exporter.topic] ??= { signals: [], encoding: 'auto' });
    f.signals.push(signal);
  }
  return { topics, topicFormats: formats };
}
