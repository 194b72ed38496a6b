/**
 * The transport-neutral ingest core shared by OTLP/HTTP (./http.ts) and OTLP/gRPC (./grpc.ts):
 * authenticate → memory limiter → (body signature) → decode → validateAndPrune (partial_success) →
 * tenant.id stamp → pipeline.process → KafkaExporter.export, answering with an IngestResult that each
 * transport maps to its own status (HTTP 4xx/5xx, gRPC codes).
 *
 * One core per process: both transports share its memory limiter (bytes in flight, memory sampled
 * every check_interval), its authenticator (re-read when the keys file changes) and its metrics.
 * Protobuf traces whose pipeline transforms nothing are not decoded: they are validated as decoding
 * would and forwarded span by span as received (../otlp/raw-traces.ts), 3× cheaper than decode → encode.
 * The pipelines are looked up once per request through `getPipelines()`, so a config reload swaps
 * them without affecting requests in flight.
 */
import type { PeerCertificate } from 'node:tls';
import type pino from 'pino';
import type { Registry } from 'prom-client';
import { readKeysFile } from '../config/keys-file.js';
import { type KafkaExporter, KafkaUnavailableError, MessageTooLargeError } from '../kafka/exporter.js';
import {
  countItems,
  decodeJson,
  decodeProtobuf,
  OtlpDecodeError,
  type OtlpFormat,
  type PartialSuccess,
  validateAndPrune,
} from '../otlp/codec.js';
import type { RequestBySignal, Signal } from '../otlp/model.js';
import { type ScannedTraces, scanTraces } from '../otlp/raw-traces.js';
import {
  type MemoryLimiterSettings,
  type OtlpReceiverSettings,
  PipelineRefusal,
  type SieveConfig,
  type SignalPipeline,
} from '../pipeline/api.js';
import { memoryRefusal } from '../pipeline/memory-limiter.js';
import {
  type Authenticator,
  type AuthHeaders,
  createAuthenticator,
  type Principal,
  signatureMatches,
  stampTenant,
  stampTenantRaw,
} from './auth.js';
import { reloadOnChange } from './file-reload.js';
import { type ReceiverMetrics, receiverMetrics } from './metrics.js';

/** Used when a pipeline has no memory_limiter: refuse at 448 MiB in use or 512 MiB of bodies in flight. */
export const DEFAULT_MEMORY_LIMITER: MemoryLimiterSettings = {
  limitBytes: 512 * 1024 * 1024,
  spikeLimitBytes: 64 * 1024 * 1024,
  checkIntervalMs: 1000,
};
const KAFKA_RETRY_AFTER_SECONDS = 2;
const LIMITER_RETRY_AFTER_SECONDS = 1;
/** how often the keys file is checked for changes: a revoked key stops working within about this */
export const KEYS_FILE_POLL_MS = 1000;

/** Why data was not accepted; each transport maps it to its status. */
export type IngestFailureReason =
  | 'unauthenticated' // HTTP 401, gRPC UNAUTHENTICATED
  | 'memory_limit' // 429 + Retry-After, RESOURCE_EXHAUSTED + RetryInfo (retryable)
  | 'invalid' // 400, INVALID_ARGUMENT
  | 'too_large' // 413, INVALID_ARGUMENT (an item larger than a Kafka message: not retryable)
  | 'no_pipeline' // 404, UNIMPLEMENTED
  | 'unavailable'; // 503 + Retry-After, UNAVAILABLE + RetryInfo (retryable)

export interface IngestFailure {
  ok: false;
  reason: IngestFailureReason;
  message: string;
  retryAfterSeconds?: number;
}
export type IngestResult = { ok: true; partial: PartialSuccess } | IngestFailure;

export interface IngestRequest<S extends Signal> {
  signal: S;
  format: OtlpFormat;
  /** the decompressed body; the core drops its reference once the data is encoded for Kafka */
  body: Buffer;
  principal: Principal | undefined;
  /** the body signature presented and the HMAC-SHA256 of the bytes it covers (when HMAC is configured) */
  signature?: { presented: string | string[] | undefined; digest: Buffer };
}

export interface IngestOptions {
  settings: Pick<OtlpReceiverSettings, 'auth'>;
  getPipelines: () => SieveConfig['pipelines'];
  exporter: KafkaExporter;
  logger: pino.Logger;
  registry: Registry;
  /** development mode: allows running without auth */
  dev?: boolean;
}

export interface IngestCore {
  /** undefined when no authentication is configured (dev mode) */
  readonly authenticator: Authenticator | undefined;
  readonly metrics: ReceiverMetrics;
  /** the request's principal, undefined without auth, or a 401 */
  authenticate(headers: AuthHeaders, peer?: PeerCertificate | null): Principal | undefined | IngestFailure;
  /** the memory limiter's answer for `incomingBytes` more (before a body is read), or null to go on */
  admit(signal: Signal | undefined, incomingBytes: number): IngestFailure | null;
  ingest<S extends Signal>(request: IngestRequest<S>): Promise<IngestResult>;
  close(): void;
}

const fail = (reason: IngestFailureReason, message: string, retryAfterSeconds?: number): IngestFailure =>
  retryAfterSeconds !== undefined ? { ok: false, reason, message, retryAfterSeconds } : { ok: false, reason, message };

export function createIngestCore(opts: IngestOptions): IngestCore {
  const { getPipelines, exporter } = opts;
  const auth = opts.settings.auth;
  const logger = opts.logger.child({ component: 'receiver' });
  if (auth === undefined && opts.dev !== true) {
    throw new Error(
      'receiver: no API keys configured (extensions.apikeyauth). Authentication is required outside dev mode; configure keys or run with --dev',
    );
  }
  const authenticator = auth !== undefined ? createAuthenticator(auth) : undefined;
  const metrics = receiverMetrics(opts.registry);
  const inflight = new InflightBytes(metrics.inflightBytes);
  const memory = new MemorySampler();
  const limiterOf = (signal: Signal | undefined): MemoryLimiterSettings => {
    const limiter =
      (signal !== undefined ? getPipelines()[signal]?.memoryLimiter : undefined) ?? DEFAULT_MEMORY_LIMITER;
    memory.every(limiter.checkIntervalMs);
    return limiter;
  };

  const keysWatch =
    authenticator !== undefined && auth?.keysFile !== undefined
      ? watchKeysFile(auth.keysFile, auth.inlineKeys ?? [], authenticator, metrics, logger)
      : undefined;

  const admit = (signal: Signal | undefined, incomingBytes: number): IngestFailure | null => {
    const refusal = memoryRefusal(limiterOf(signal), memory.value, inflight.value, incomingBytes);
    if (refusal === null) return null;
    metrics.refusedRequests.inc({ reason: 'memory_limit' });
    return fail('memory_limit', refusal, LIMITER_RETRY_AFTER_SECONDS);
  };

  async function ingest<S extends Signal>(request: IngestRequest<S>): Promise<IngestResult> {
    const { signal, format, principal } = request;
    const pipeline = getPipelines()[signal] as SignalPipeline<S> | undefined;
    if (pipeline === undefined) return fail('no_pipeline', `no ${signal} pipeline is configured`);

    if (authenticator?.hmacHeader !== undefined && request.signature !== undefined) {
      if (!signatureMatches(request.signature.presented, request.signature.digest))
        return fail(
          'unauthenticated',
          `missing or invalid body signature (${authenticator.hmacHeader}: hex HMAC-SHA256 of the request body as sent)`,
        );
    }

    // the decompressed size may exceed what Content-Length announced
    const bodyBytes = request.body.length;
    const refusal = admit(signal, bodyBytes);
    if (refusal !== null) return refusal;
    inflight.add(bodyBytes);
    try {
      // Decode → validate → stamp → process → encode into the exporter's batch, synchronously, so that
      // only the encoded bytes (not the decoded request or the body) stay alive while Kafka acknowledges.
      const body = request.body;
      request.body = EMPTY;
      const decoded = decodeAndEnqueue(signal, format, body, pipeline, principal);
      if ('decodeError' in decoded) {
        metrics.items.inc({ signal, outcome: 'rejected', reason: 'decode_error' }, 0);
        return fail('invalid', decoded.decodeError);
      }
      const { total, partial, dropped } = decoded;
      if (partial.rejected > 0) metrics.items.inc({ signal, outcome: 'rejected', reason: 'invalid' }, partial.rejected);
      if (dropped > 0) metrics.items.inc({ signal, outcome: 'accepted', reason: 'filtered' }, dropped);
      try {
        await decoded.acked;
      } catch (err) {
        const n = total - partial.rejected;
        if (err instanceof KafkaUnavailableError) {
          metrics.items.inc({ signal, outcome: 'refused', reason: 'kafka_unavailable' }, n);
          return fail('unavailable', `data not accepted, retry later: ${err.message}`, KAFKA_RETRY_AFTER_SECONDS);
        }
        if (err instanceof MessageTooLargeError) {
          metrics.items.inc({ signal, outcome: 'rejected', reason: 'too_large' }, n);
          return fail('too_large', err.message);
        }
        throw err;
      }
      metrics.items.inc({ signal, outcome: 'accepted', reason: '' }, total - partial.rejected - dropped);
      return { ok: true, partial };
    } finally {
      inflight.add(-bodyBytes);
    }
  }

  function decodeAndEnqueue<S extends Signal>(
    signal: S,
    format: OtlpFormat,
    body: Buffer,
    pipeline: SignalPipeline<S>,
    principal: Principal | undefined,
  ): { decodeError: string } | { total: number; partial: PartialSuccess; dropped: number; acked: Promise<void> } {
    if (signal === 'traces' && format === 'protobuf' && pipeline.passThrough) {
      // nothing to transform: validate and forward the spans' bytes instead of decoding them
      let scanned: ScannedTraces;
      try {
        scanned = scanTraces(body);
      } catch (err) {
        if (err instanceof OtlpDecodeError) return { decodeError: err.message };
        throw err;
      }
      if (principal !== undefined) stampTenantRaw(scanned.traces, principal.tenant);
      const acked = exporter.exportRawTraces(scanned.traces, pipeline.exporter, pipeline.batch);
      return { total: scanned.total, partial: scanned.partial, dropped: 0, acked };
    }
    let request: RequestBySignal[S];
    try {
      request = format === 'protobuf' ? decodeProtobuf(signal, body) : decodeJson(signal, body);
    } catch (err) {
      if (err instanceof OtlpDecodeError) return { decodeError: err.message };
      throw err;
    }
    const total = countItems(signal, request);
    const partial = validateAndPrune(signal, request);
    if (principal !== undefined) stampTenant(signal, request, principal.tenant);
    let result: ReturnType<typeof pipeline.process>;
    try {
      result = pipeline.process(request);
    } catch (err) {
      // a processor refused the request (e.g. transform with error_mode: propagate): 400 /
      // INVALID_ARGUMENT, nothing exported
      if (err instanceof PipelineRefusal) return { decodeError: err.message };
      throw err;
    }
    const acked = exporter.export(signal, result.request, pipeline.exporter, pipeline.batch);
    return { total, partial, dropped: result.droppedItems, acked };
  }

  return {
    authenticator,
    metrics,
    authenticate(headers, peer) {
      if (authenticator === undefined) return undefined;
      const r = authenticator.authenticate(headers, peer);
      if ('error' in r) return fail('unauthenticated', r.error);
      if (r.via !== undefined && 'apiKey' in r.via)
        metrics.apiKeyLastUsed.set({ name: r.via.apiKey, tenant: r.tenant }, Math.floor(Date.now() / 1000));
      return r;
    },
    admit,
    ingest,
    close() {
      keysWatch?.close();
      memory.stop();
    },
  };
}

const EMPTY = Buffer.alloc(0);

/** Re-reads the keys file when it changes: a revoked key fails within about KEYS_FILE_POLL_MS. */
function watchKeysFile(
  file: string,
  inlineKeys: NonNullable<OtlpReceiverSettings['auth']>['keys'],
  authenticator: Authenticator,
  metrics: ReceiverMetrics,
  logger: pino.Logger,
): { close(): void } {
  return reloadOnChange({
    files: [file],
    intervalMs: KEYS_FILE_POLL_MS,
    load: () => readKeysFile(file),
    apply: (keys) => {
      authenticator.setKeys([...inlineKeys, ...keys]);
      metrics.fileReloads.inc({ file: 'api_keys', result: 'success' });
      logger.info(
        { keysFile: file, keys: keys.length, active: authenticator.activeKeys },
        'API keys file changed: keys reloaded',
      );
    },
    onError: (err) => {
      metrics.fileReloads.inc({ file: 'api_keys', result: 'failure' });
      logger.error({ keysFile: file, err: err.message }, 'API keys file unreadable; keeping the keys in use');
    },
  });
}

class InflightBytes {
  value = 0;
  constructor(private readonly gauge: ReceiverMetrics['inflightBytes']) {}
  add(n: number): void {
    this.value += n;
    this.gauge.set(this.value);
  }
}

/**
 * Memory in use (V8 heap used + buffers outside the heap), sampled on a timer (the memory_limiter's
 * check_interval) rather than per request. The analogue of the Go heap the Collector's memory_limiter
 * watches: unlike RSS it falls as soon as the garbage collector frees data.
 */
class MemorySampler {
  value = memoryInUse();
  private timer: NodeJS.Timeout | null = null;
  private intervalMs = 0;
  /** Samples at least every `ms` (the smallest check_interval of the pipelines seen so far). */
  every(ms: number): void {
    const interval = Math.max(10, ms);
    if (this.timer !== null && interval >= this.intervalMs) return;
    this.stop();
    this.intervalMs = interval;
    this.timer = setInterval(() => {
      this.value = memoryInUse();
    }, interval);
    this.timer.unref();
  }
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

function memoryInUse(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}
