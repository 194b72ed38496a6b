/**
 * Kafka exporter: writes OTLP requests to Kafka as the OpenTelemetry Collector's kafka exporter
 * does (each message value is one Export*ServiceRequest, in otlp_proto or otlp_json: encoding.ts),
 * with the Collector batch processor's semantics in front of it.
 *
 * - `export()` resolves only once Kafka acknowledged every message holding the request's data
 *   (idempotent producer, acks = all in-sync replicas); it rejects with `KafkaUnavailableError`
 *   (retryable: the receiver answers 503) when Kafka is down, slow or not yet connected.
 * - Batching, adaptive: per topic (+ compression), a request is sent at once when no produce
 *   request of its topic is in flight (nothing to batch with: no wait); while one is, requests are
 *   merged until it is acknowledged, `sendBatchSize` items or `timeoutMs`, whichever comes first.
 *   Under load batches grow with Kafka's latency; at low rates nothing waits for a timer.
 *   Messages hold at most `sendBatchMaxSize` items and `maxMessageBytes` bytes, and a partition's
 *   record batch in one produce request at most `maxMessageBytes` (more goes in the next request of
 *   the same send: produce-rounds.ts); each produce request gets the send timeout.
 *   Encoded Export*ServiceRequest messages concatenate (repeated field 1), so merging is a
 *   byte concatenation.
 * - `partitionTracesById`: spans are grouped by trace id, key = hex trace id.
 * - Readiness: false after a produce error until a background probe reaches the cluster again;
 *   kafkajs reconnects by itself, no restart needed.
 */
import {
  type Admin,
  Kafka,
  type LogEntry,
  logLevel,
  Partitioners,
  type PartitionMetadata,
  type Producer,
} from 'kafkajs';
import type pino from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import { countItems } from '../otlp/codec.js';
import type { RequestBySignal, Signal } from '../otlp/model.js';
import { type RawTraces, rawSpanCount } from '../otlp/raw-traces.js';
import type { BatchSettings, KafkaExporterSettings } from '../pipeline/api.js';
import { kafkajsCompression } from './compression.js';
import { concatValues, encodeRawTracesValue, encodeValue, type KafkaEncoding } from './encoding.js';
import { withGzipLevel } from './gzip-codec.js';
import { planProduceRounds, type RoundMessage } from './produce-rounds.js';
import { withRetry } from './retry.js';
import type { KafkaClientSecurity } from './security.js';
import { groupSpansByTraceId, splitByItems, splitSpanTree } from './split.js';
import { createMissingTopics, TOPIC_PARTITIONS } from './topics.js';
import './kafkajs-idle-fix.js';

/** Kafka could not take the data now; the client should retry (503 + Retry-After). */
export class KafkaUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KafkaUnavailableError';
  }
}

/** One item alone is larger than `maxMessageBytes`; retrying cannot help. */
export class MessageTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MessageTooLargeError';
  }
}

export interface KafkaExporterOptions {
  brokers: string[];
  clientId: string;
  logger: pino.Logger;
  registry: Registry;
  /** how often the readiness probe runs while not ready (default 1000 ms) */
  probeIntervalMs?: number;
  /** TLS / SASL (src/kafka/security.ts); absent: plaintext */
  security?: KafkaClientSecurity;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Entry extends Piece {
  waiter: Waiter;
}

interface Pending {
  topic: string;
  signal: Signal;
  encoding: KafkaEncoding;
  retry: KafkaExporterSettings['retry'];
  compression: KafkaExporterSettings['compression'];
  compressionLevel: number;
  acks: KafkaExporterSettings['requiredAcks'];
  sendTimeoutMs: number;
  maxMessageBytes: number;
  sendBatchMaxSize: number;
  entries: Entry[];
  items: number;
  timer: NodeJS.Timeout | null;
  /** produce requests of this batch key not yet acknowledged */
  inflight: number;
}

const DEFAULT_SEND_TIMEOUT_MS = 5000;
/** how long a topic's partition list is used before it is fetched again (kafkajs' metadataMaxAge) */
const TOPIC_METADATA_MAX_AGE_MS = 5 * 60_000;

function metric<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

function kafkaLogCreator(logger: pino.Logger) {
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const child = { component: 'kafkajs', ...extra };
      // kafkajs logs every error response of a request ("Response InitProducerId(…)": a broker still
      // loading, a leader moving) at ERROR before it retries; the outcome that matters is reported
      // by the exporter itself (readiness, "kafka produce failed"), so these stay at debug
      if (message.startsWith('Response ')) logger.debug(child, message);
      else if (level <= logLevel.ERROR) logger.warn(child, message);
      else if (level === logLevel.WARN) logger.warn(child, message);
      else logger.debug(child, message);
    };
}

interface Piece {
  key: string | null;
  value: Buffer;
  items: number;
}

/** How the exporter counts, cuts and encodes one kind of request (decoded, or traces kept encoded). */
interface PieceSource<R> {
  count(request: R): number;
  /** pieces of at most `max` items */
  split(request: R, max: number): R[];
  groupByTraceId(request: R): Map<string, R>;
  encode(request: R): Uint8Array;
}

function modelPieces<S extends Signal>(signal: S, encoding: KafkaEncoding): PieceSource<RequestBySignal[S]> {
  return {
    count: (r) => countItems(signal, r),
    split: (r, max) => splitByItems(signal, r, max),
    groupByTraceId: (r) => groupSpansByTraceId(r as RequestBySignal['traces']) as Map<string, RequestBySignal[S]>,
    encode: (r) => encodeValue(signal, r, encoding),
  };
}

function rawTracePieces(encoding: KafkaEncoding): PieceSource<RawTraces> {
  return {
    count: rawSpanCount,
    split: (r, max) => (rawSpanCount(r) <= max ? [r] : splitSpanTree(r, max)),
    groupByTraceId: groupSpansByTraceId,
    encode: (r) => encodeRawTracesValue(r, encoding),
  };
}

/** Encodes `req`, halving it until each piece is ≤ maxBytes. */
function encodeFitting<R>(source: PieceSource<R>, req: R, maxBytes: number, key: string | null, out: Piece[]): void {
  const bytes = source.encode(req);
  const items = source.count(req);
  if (bytes.length <= maxBytes) {
    out.push({ key, value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), items });
    return;
  }
  if (items <= 1)
    throw new MessageTooLargeError(
      `one item encodes to ${bytes.length} bytes, more than max_message_bytes ${maxBytes}`,
    );
  for (const half of source.split(req, Math.ceil(items / 2))) encodeFitting(source, half, maxBytes, key, out);
}

export class KafkaExporter {
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private readonly logger: pino.Logger;
  private readonly pending = new Map<string, Pending>();
  private readonly inflightSends = new Set<Promise<void>>();
  /** partitions of the topics the cluster has shown to exist (fetched before their first produce) */
  private readonly knownTopics = new Map<string, { partitions: PartitionMetadata[]; fetchedAt: number }>();
  /** kafkajs' murmur2 partitioner (the Java client's), applied here so a send's batch sizes are known */
  private readonly partitioner = Partitioners.DefaultPartitioner();
  private readonly produceDuration: Histogram<'topic' | 'outcome'>;
  private readonly messagesTotal: Counter<'topic'>;
  private readonly probeIntervalMs: number;
  private connected = false;
  private ready = false;
  private stopped = false;
  /** set when stop() begins: retries end */
  private stopping = false;
  private probeTimer: NodeJS.Timeout | null = null;
  private probing = false;

  constructor(opts: KafkaExporterOptions) {
    this.logger = opts.logger.child({ component: 'kafka-exporter' });
    this.probeIntervalMs = opts.probeIntervalMs ?? 1000;
    this.kafka = new Kafka({
      brokers: opts.brokers,
      clientId: opts.clientId,
      connectionTimeout: 2000,
      requestTimeout: 10000,
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
      logLevel: logLevel.WARN,
      logCreator: kafkaLogCreator(this.logger),
      ...opts.security,
    });
    this.producer = this.kafka.producer({
      // murmur2 like the Java client and the Collector (explicit, so kafkajs does not warn about its v2 default)
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Unbounded retries, as kafkajs requires for an idempotent producer: a send that gave up would
      // roll its sequence numbers back, and the next batch could then be taken by the broker for a
      // duplicate of one it had already written. A request still waits at most the send timeout:
      // send() answers 503 then (the client retries) while the producer keeps retrying that batch
      // with the same sequence numbers, so it is written at most once by the producer.
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    this.admin = this.kafka.admin();
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.connected = false;
      this.setReady(false, 'producer disconnected');
    });
    this.produceDuration = metric(
      opts.registry,
      'sieve_kafka_produce_duration_seconds',
      () =>
        new Histogram({
          name: 'sieve_kafka_produce_duration_seconds',
          help: 'Time from handing a batch to Kafka to its acknowledgement',
          labelNames: ['topic', 'outcome'],
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers: [opts.registry],
        }),
    );
    this.messagesTotal = metric(
      opts.registry,
      'sieve_kafka_messages_total',
      () =>
        new Counter({
          name: 'sieve_kafka_messages_total',
          help: 'Kafka messages acknowledged',
          labelNames: ['topic'],
          registers: [opts.registry],
        }),
    );
  }

  /** Connects the producer. Never throws for an unreachable cluster: readiness stays false and a probe retries. */
  async start(): Promise<void> {
    try {
      await this.producer.connect();
      this.connected = true;
      this.setReady(true, 'producer connected');
    } catch (err) {
      this.logger.warn({ err }, 'kafka not reachable at start; will keep trying');
      this.setReady(false, 'connect failed');
    }
  }

  /** True when the producer is connected and the last produce (or probe) succeeded. */
  isReady(): boolean {
    return this.ready && !this.stopped;
  }

  private setReady(ready: boolean, why: string): void {
    if (this.ready !== ready) this.logger.info({ ready, why }, ready ? 'kafka ready' : 'kafka not ready');
    this.ready = ready;
    if (!ready && !this.stopped && this.probeTimer === null) {
      this.probeTimer = setInterval(() => void this.probe(), this.probeIntervalMs);
      this.probeTimer.unref();
    }
    if (ready && this.probeTimer !== null) {
      clearInterval(this.probeTimer);
      this.probeTimer = null;
    }
  }

  /**
   * Fails (retryable) while a topic does not exist, before any batch of it reaches the producer: the
   * idempotent producer retries a send without end (see its retry setting), so a batch for a missing
   * topic would keep retrying in the background after its request was answered 503.
   */
  private async checkTopic(topic: string): Promise<PartitionMetadata[]> {
    const known = this.knownTopics.get(topic);
    if (known !== undefined && Date.now() - known.fetchedAt < TOPIC_METADATA_MAX_AGE_MS) return known.partitions;
    try {
      await this.admin.connect();
      const { topics } = await this.admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = topics[0]?.partitions ?? [];
      if (partitions.length === 0) throw new Error('no partitions');
      this.knownTopics.set(topic, { partitions, fetchedAt: Date.now() });
      return partitions;
    } catch (err) {
      // a refresh that fails keeps the partitions known: the topic existed, kafkajs reconnects by itself
      if (known !== undefined) return known.partitions;
      throw new KafkaUnavailableError(
        `kafka topic ${JSON.stringify(topic)} is not available: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }

  private async probe(): Promise<void> {
    if (this.probing || this.stopped) return;
    this.probing = true;
    try {
      if (!this.connected) {
        await this.producer.connect();
        this.connected = true;
      }
      await this.admin.connect();
      await this.admin.describeCluster();
      this.setReady(true, 'probe reached the cluster');
    } catch (err) {
      this.logger.debug({ err }, 'kafka probe failed');
    } finally {
      this.probing = false;
    }
  }

  /**
   * Exports one (already processed) request. Resolves once Kafka acknowledged all of it.
   * Rejects with KafkaUnavailableError (retryable) or MessageTooLargeError.
   */
  export<S extends Signal>(
    signal: S,
    request: RequestBySignal[S],
    settings: KafkaExporterSettings,
    batch?: BatchSettings,
  ): Promise<void> {
    return this.enqueue(modelPieces(signal, settings.encoding), request, signal, settings, batch);
  }

  /** Exports traces kept encoded (a pipeline without transforming processors); same contract as `export`. */
  exportRawTraces(traces: RawTraces, settings: KafkaExporterSettings, batch?: BatchSettings): Promise<void> {
    return this.enqueue(rawTracePieces(settings.encoding), traces, 'traces', settings, batch);
  }

  // not async: the request is encoded synchronously and only the encoded bytes are kept until the ack
  private enqueue<R>(
    source: PieceSource<R>,
    request: R,
    signal: Signal,
    settings: KafkaExporterSettings,
    batch?: BatchSettings,
  ): Promise<void> {
    if (this.stopped) return Promise.reject(new KafkaUnavailableError('exporter is shutting down'));
    if (!this.isReady()) return Promise.reject(new KafkaUnavailableError('kafka is not reachable'));
    if (source.count(request) === 0) return Promise.resolve();
    const maxBytes = settings.maxMessageBytes > 0 ? settings.maxMessageBytes : 1_000_000;
    const maxItems = batch !== undefined && batch.sendBatchMaxSize > 0 ? batch.sendBatchMaxSize : 0;

    let pieces: Piece[];
    try {
      pieces = [];
      const addPieces = (key: string | null, req: R) => {
        for (const part of maxItems > 0 ? source.split(req, maxItems) : [req])
          encodeFitting(source, part, maxBytes, key, pieces);
      };
      if (signal === 'traces' && settings.partitionTracesById) {
        for (const [traceId, req] of source.groupByTraceId(request)) addPieces(traceId, req);
      } else {
        addPieces(null, request);
      }
    } catch (err) {
      return Promise.reject(err);
    }

    // signals sharing a topic (otlp_json) are never merged into one message
    const pendingKey = `${settings.topic}\u0000${signal}\u0000${settings.encoding}\u0000${settings.compression}\u0000${settings.compressionLevel}\u0000${settings.requiredAcks}\u0000${maxBytes}\u0000${maxItems}`;
    let p = this.pending.get(pendingKey);
    if (p === undefined) {
      p = {
        topic: settings.topic,
        signal,
        encoding: settings.encoding,
        retry: settings.retry,
        compression: settings.compression,
        compressionLevel: settings.compressionLevel,
        acks: settings.requiredAcks,
        sendTimeoutMs: settings.timeoutMs > 0 ? settings.timeoutMs : DEFAULT_SEND_TIMEOUT_MS,
        maxMessageBytes: maxBytes,
        sendBatchMaxSize: maxItems,
        entries: [],
        items: 0,
        timer: null,
        inflight: 0,
      };
      this.pending.set(pendingKey, p);
    }
    const done = pieces.map(
      (piece) =>
        new Promise<void>((resolve, reject) => {
          (p as Pending).entries.push({ ...piece, waiter: { resolve, reject } });
          (p as Pending).items += piece.items;
        }),
    );
    const sendBatchSize = batch?.sendBatchSize ?? 0;
    if (batch === undefined || batch.timeoutMs <= 0 || p.items >= sendBatchSize || p.inflight === 0) {
      this.flush(pendingKey);
    } else if (p.timer === null) {
      // a send is in flight: batch with what arrives until it is acknowledged (see send) or the timeout
      p.timer = setTimeout(() => this.flush(pendingKey), batch.timeoutMs);
    }
    return Promise.all(done).then(() => undefined);
  }

  private flush(pendingKey: string): void {
    const p = this.pending.get(pendingKey);
    if (p === undefined || p.entries.length === 0) return;
    if (p.timer !== null) {
      clearTimeout(p.timer);
      p.timer = null;
    }
    const entries = p.entries;
    p.entries = [];
    p.items = 0;
    p.inflight++;
    const send = this.send(p, entries).finally(() => {
      this.inflightSends.delete(send);
      p.inflight--;
      // what arrived while this send was in flight goes now, as one batch
      if (p.inflight === 0) this.flush(pendingKey);
    });
    this.inflightSends.add(send);
  }

  /** Packs entries into messages (concatenating encoded requests of the same key) and sends them. */
  private async send(p: Pending, entries: Entry[]): Promise<void> {
    const messages: { key: string | null; value: Buffer }[] = [];
    const groups = new Map<string | null, Entry[]>();
    for (const e of entries) {
      let g = groups.get(e.key);
      if (g === undefined) groups.set(e.key, (g = []));
      g.push(e);
    }
    for (const [key, group] of groups) {
      let parts: Buffer[] = [];
      let bytes = 0;
      let items = 0;
      const close = () => {
        if (parts.length > 0) messages.push({ key, value: concatValues(p.signal, p.encoding, parts, bytes) });
        parts = [];
        bytes = 0;
        items = 0;
      };
      for (const e of group) {
        if (
          parts.length > 0 &&
          (bytes + e.value.length > p.maxMessageBytes ||
            (p.sendBatchMaxSize > 0 && items + e.items > p.sendBatchMaxSize))
        )
          close();
        parts.push(e.value);
        bytes += e.value.length;
        items += e.items;
      }
      close();
    }
    const started = process.hrtime.bigint();
    // partitions are chosen once, so a retry sends what it sends again in the same requests
    let rounds: RoundMessage[][] | undefined;
    let acknowledged = 0;
    const attempt = async () => {
      const partitionMetadata = await this.checkTopic(p.topic);
      rounds ??= planProduceRounds(
        messages.map((m) => ({
          ...m,
          partition: this.partitioner({
            topic: p.topic,
            partitionMetadata,
            message: m.key === null ? { value: m.value } : { key: m.key, value: m.value },
          }),
        })),
        p.maxMessageBytes,
      );
      for (; acknowledged < rounds.length; acknowledged++)
        await this.produce(p, rounds[acknowledged] as RoundMessage[]);
    };
    try {
      // retry_on_failure (retry.ts): retried while the client's request waits; new requests get 503 meanwhile
      await withRetry(p.retry, attempt, {
        stopped: () => this.stopping,
        failed: (err, retryInMs) => {
          if (retryInMs === undefined) return;
          this.logger.warn({ err, topic: p.topic, retryInMs }, 'kafka produce failed; retrying');
          this.setReady(false, 'produce failed');
        },
      });
      this.produceDuration.observe({ topic: p.topic, outcome: 'ok' }, Number(process.hrtime.bigint() - started) / 1e9);
      this.messagesTotal.inc({ topic: p.topic }, messages.length);
      for (const e of entries) e.waiter.resolve();
    } catch (err) {
      this.produceDuration.observe(
        { topic: p.topic, outcome: 'error' },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
      this.logger.warn({ err, topic: p.topic, messages: messages.length }, 'kafka produce failed');
      this.setReady(false, 'produce failed');
      const e =
        err instanceof KafkaUnavailableError
          ? err
          : new KafkaUnavailableError(`kafka produce failed: ${err instanceof Error ? err.message : String(err)}`, {
              cause: err,
            });
      for (const en of entries) en.waiter.reject(e);
    }
  }

  /** One produce request; rejects after the send timeout (the idempotent producer keeps retrying it). */
  private async produce(p: Pending, round: RoundMessage[]): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const produce = withGzipLevel(p.compressionLevel, () =>
        this.producer.sendBatch({
          topicMessages: [
            {
              topic: p.topic,
              messages: round.map((m) =>
                m.key === null
                  ? { value: m.value, partition: m.partition }
                  : { key: m.key, value: m.value, partition: m.partition },
              ),
            },
          ],
          acks: p.acks,
          timeout: p.sendTimeoutMs,
          compression: kafkajsCompression(p.compression),
        }),
      );
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new KafkaUnavailableError(`kafka did not acknowledge within ${p.sendTimeoutMs} ms`)),
          p.sendTimeoutMs,
        );
      });
      produce.catch(() => undefined); // a late failure after the timeout must not be unhandled
      await Promise.race([produce, timeout]);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /** Sends everything pending, waits for the acknowledgements, then disconnects. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const key of [...this.pending.keys()]) this.flush(key);
    // a send that completes flushes what arrived meanwhile: wait for those too
    while (this.inflightSends.size > 0) await Promise.allSettled([...this.inflightSends]);
    this.stopped = true;
    if (this.probeTimer !== null) clearInterval(this.probeTimer);
    this.probeTimer = null;
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
  }
}

/** Creates the topics that do not exist yet (the local broker has auto-creation off). */
export async function ensureTopics(
  brokers: string[],
  topics: string[],
  partitions = TOPIC_PARTITIONS,
  security?: KafkaClientSecurity,
): Promise<void> {
  const kafka = new Kafka({
    brokers,
    clientId: 'sieve-ensure-topics',
    logLevel: logLevel.NOTHING,
    retry: { retries: 3 },
    ...security,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createMissingTopics(admin, topics, partitions);
  } finally {
    await admin.disconnect();
  }
}
