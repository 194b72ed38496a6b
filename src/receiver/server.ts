/**
 * OTLP/HTTP receiver (POST /v1/traces, /v1/logs, /v1/metrics) that writes to Kafka, and the ops
 * server (/healthz, /readyz, /metrics).
 *
 * Per request: auth (onRequest, before the body is read) → memory limiter precheck → body read
 * (streaming gunzip/inflate, 413 past maxRequestBodyBytes after decompression) → HMAC check →
 * decode (400 + google.rpc.Status) → validateAndPrune (partial_success) → tenant.id stamp →
 * pipeline.process → KafkaExporter.export (200 only after Kafka acked; 503 + Retry-After when Kafka
 * is down/slow; 429 + Retry-After when the memory limiter refuses). Protobuf traces whose pipeline
 * transforms nothing are not decoded: they are validated as decoding would and forwarded span by
 * span as received (../otlp/raw-traces.ts), 3× cheaper than decode → encode.
 *
 * The pipelines are looked up once per request through `getPipelines()`, so a config reload swaps
 * them without affecting requests in flight.
 */

import type { Readable } from 'node:stream';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type pino from 'pino';
import type { Registry } from 'prom-client';
import { type KafkaExporter, KafkaUnavailableError, MessageTooLargeError } from '../kafka/exporter.js';
import {
  countItems,
  decodeJson,
  decodeProtobuf,
  encodeExportResponse,
  encodeStatus,
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
  createAuthenticator,
  type Principal,
  signatureMatches,
  stampTenant,
  stampTenantRaw,
} from './auth.js';
import { BodyError, type ReadBody, readBody } from './body.js';
import { type ReceiverMetrics, receiverMetrics } from './metrics.js';

/** Used when a pipeline has no memory_limiter: refuse at 448 MiB in use or 512 MiB of bodies in flight. */
export const DEFAULT_MEMORY_LIMITER: MemoryLimiterSettings = {
  limitBytes: 512 * 1024 * 1024,
  spikeLimitBytes: 64 * 1024 * 1024,
  checkIntervalMs: 1000,
};
export const DEFAULT_MAX_REQUEST_BODY_BYTES = 20 * 1024 * 1024;
const KAFKA_RETRY_AFTER_SECONDS = '2';
const LIMITER_RETRY_AFTER_SECONDS = '1';

export interface ReceiverOptions {
  settings: OtlpReceiverSettings;
  getPipelines: () => SieveConfig['pipelines'];
  exporter: KafkaExporter;
  logger: pino.Logger;
  registry: Registry;
  /** development mode: allows running without auth */
  dev?: boolean;
}

const SIGNAL_PATHS: Record<Signal, string> = { traces: '/v1/traces', logs: '/v1/logs', metrics: '/v1/metrics' };

/** gRPC status codes used in google.rpc.Status bodies. */
const GRPC = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
  UNIMPLEMENTED: 12,
};

function grpcCodeFor(status: number): number {
  if (status === 401) return GRPC.UNAUTHENTICATED;
  if (status === 404) return GRPC.NOT_FOUND;
  if (status === 405) return GRPC.UNIMPLEMENTED;
  if (status === 429) return GRPC.RESOURCE_EXHAUSTED;
  if (status === 503) return GRPC.UNAVAILABLE;
  if (status >= 500) return GRPC.INTERNAL;
  return GRPC.INVALID_ARGUMENT;
}

/** The request's OTLP format from its Content-Type, or null when unsupported. */
export function formatOf(contentType: string | undefined): OtlpFormat | null {
  if (contentType === undefined) return null;
  const media = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (media === 'application/x-protobuf' || media === 'application/protobuf') return 'protobuf';
  if (media === 'application/json') return 'json';
  return null;
}

/** Format for an error body: the request's when known, else JSON. */
function errorFormat(req: FastifyRequest): OtlpFormat {
  return formatOf(req.headers['content-type']) ?? 'json';
}

function sendStatus(
  reply: FastifyReply,
  req: FastifyRequest,
  status: number,
  message: string,
  retryAfter?: string,
): FastifyReply {
  const format = errorFormat(req);
  if (retryAfter !== undefined) reply.header('retry-after', retryAfter);
  return reply
    .code(status)
    .type(format === 'json' ? 'application/json' : 'application/x-protobuf')
    .send(
      format === 'json'
        ? encodeStatus('json', grpcCodeFor(status), message)
        : Buffer.from(encodeStatus('protobuf', grpcCodeFor(status), message)),
    );
}

declare module 'fastify' {
  interface FastifyRequest {
    sievePrincipal?: Principal;
    sieveStart?: bigint;
  }
}

/** Body handed from the content-type parser to the handler. */
interface ParsedBody {
  format: OtlpFormat;
  read: ReadBody;
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

/** Builds the OTLP/HTTP receiver (not listening; the caller listens). */
export async function buildReceiver(opts: ReceiverOptions): Promise<FastifyInstance> {
  const { settings, getPipelines, exporter, registry } = opts;
  const logger = opts.logger.child({ component: 'receiver' });
  if (settings.auth === undefined && opts.dev !== true) {
    throw new Error(
      'receiver: no API keys configured (extensions.apikeyauth). Authentication is required outside dev mode; configure keys or run with --dev',
    );
  }
  const authenticator: Authenticator | undefined =
    settings.auth !== undefined ? createAuthenticator(settings.auth) : undefined;
  const maxBody = settings.maxRequestBodyBytes > 0 ? settings.maxRequestBodyBytes : DEFAULT_MAX_REQUEST_BODY_BYTES;
  const metrics = receiverMetrics(registry);
  const inflight = new InflightBytes(metrics.inflightBytes);
  const memory = new MemorySampler();
  const limiterOf = (signal: Signal | undefined): MemoryLimiterSettings => {
    const limiter =
      (signal !== undefined ? getPipelines()[signal]?.memoryLimiter : undefined) ?? DEFAULT_MEMORY_LIMITER;
    memory.every(limiter.checkIntervalMs);
    return limiter;
  };

  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: maxBody,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    keepAliveTimeout: 65_000,
  });

  // every body goes through our own reader (decompression, caps, HMAC)
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', async (req: FastifyRequest, payload: Readable): Promise<ParsedBody> => {
    const format = formatOf(req.headers['content-type']);
    if (format === null) {
      payload.resume();
      throw new BodyError(
        415,
        `unsupported Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')}: use application/x-protobuf or application/json`,
      );
    }
    const encoding = req.headers['content-encoding'];
    const read = await readBody(payload, {
      encoding: Array.isArray(encoding) ? encoding.join(',') : encoding,
      maxBytes: maxBody,
      hmacSecret: authenticator?.hmacSecret,
    });
    return { format, read };
  });

  app.setErrorHandler((err: FastifyError | BodyError, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    return sendStatus(reply, req, status >= 400 && status < 600 ? status : 500, err.message);
  });
  app.setNotFoundHandler((req, reply) =>
    sendStatus(
      reply,
      req,
      404,
      `not found: ${req.method} ${req.url.split('?')[0]} (OTLP paths: /v1/traces, /v1/logs, /v1/metrics)`,
    ),
  );

  app.addHook('onRequest', async (req, reply) => {
    req.sieveStart = process.hrtime.bigint();
    if (req.method !== 'POST') return;
    if (authenticator !== undefined) {
      const r = authenticator.authenticate(req.headers);
      if ('error' in r) {
        req.raw.resume();
        return sendStatus(reply, req, 401, r.error);
      }
      req.sievePrincipal = r;
    }
    // memory limiter, before reading the body
    const declared = Number(req.headers['content-length'] ?? 0) || 0;
    const refusal = memoryRefusal(
      limiterOf(signalOfUrl(req.url)),
      memory.value,
      inflight.value,
      Math.min(declared, maxBody),
    );
    if (refusal !== null) {
      req.raw.resume();
      metrics.refusedRequests.inc({ reason: 'memory_limit' });
      return sendStatus(reply, req, 429, refusal, LIMITER_RETRY_AFTER_SECONDS);
    }
    return undefined;
  });

  app.addHook('onClose', async () => memory.stop());

  app.addHook('onResponse', async (req, reply) => {
    const signal = signalOfUrl(req.url) ?? 'none';
    const status = String(reply.statusCode);
    metrics.requests.inc({ signal, status });
    if (req.sieveStart !== undefined)
      metrics.duration.observe({ signal, status }, Number(process.hrtime.bigint() - req.sieveStart) / 1e9);
  });

  for (const signal of ['traces', 'logs', 'metrics'] as const) {
    app.post(SIGNAL_PATHS[signal], (req, reply) => handleExport(signal, req, reply));
    app.route({
      method: ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
      url: SIGNAL_PATHS[signal],
      handler: (req, reply) => {
        reply.header('allow', 'POST');
        return sendStatus(reply, req, 405, `method ${req.method} not allowed on ${SIGNAL_PATHS[signal]}: use POST`);
      },
    });
  }

  async function handleExport<S extends Signal>(
    signal: S,
    req: FastifyRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply> {
    const parsed = req.body as ParsedBody | undefined;
    const format: OtlpFormat | null = parsed?.format ?? formatOf(req.headers['content-type']);
    if (format === null)
      return sendStatus(reply, req, 415, 'missing Content-Type: use application/x-protobuf or application/json');
    const read: ReadBody = parsed?.read ?? { body: Buffer.alloc(0), wireBytes: 0 };
    const body = read.body;

    const pipeline = getPipelines()[signal] as SignalPipeline<S> | undefined;
    if (pipeline === undefined) return sendStatus(reply, req, 404, `no ${signal} pipeline is configured`);

    if (authenticator?.hmacHeader !== undefined && read.hmac !== undefined) {
      if (!signatureMatches(req.headers[authenticator.hmacHeader], read.hmac)) {
        return sendStatus(
          reply,
          req,
          401,
          `missing or invalid body signature (${authenticator.hmacHeader}: hex HMAC-SHA256 of the request body as sent)`,
        );
      }
    }

    // the decompressed size may exceed what Content-Length announced
    const refusal = memoryRefusal(limiterOf(signal), memory.value, inflight.value, body.length);
    if (refusal !== null) {
      metrics.refusedRequests.inc({ reason: 'memory_limit' });
      return sendStatus(reply, req, 429, refusal, LIMITER_RETRY_AFTER_SECONDS);
    }
    const bodyBytes = body.length;
    inflight.add(bodyBytes);
    try {
      // Decode → validate → stamp → process → encode into the exporter's batch, synchronously, so that
      // only the encoded bytes (not the decoded request or the body) stay alive while Kafka acknowledges.
      const decoded = decodeAndEnqueue(signal, format, body, pipeline, req.sievePrincipal);
      (req as { body?: unknown }).body = undefined;
      if ('decodeError' in decoded) {
        metrics.items.inc({ signal, outcome: 'rejected', reason: 'decode_error' }, 0);
        return sendStatus(reply, req, 400, decoded.decodeError);
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
          return sendStatus(
            reply,
            req,
            503,
            `data not accepted, retry later: ${err.message}`,
            KAFKA_RETRY_AFTER_SECONDS,
          );
        }
        if (err instanceof MessageTooLargeError) {
          metrics.items.inc({ signal, outcome: 'rejected', reason: 'too_large' }, n);
          return sendStatus(reply, req, 413, err.message);
        }
        throw err;
      }
      metrics.items.inc({ signal, outcome: 'accepted', reason: '' }, total - partial.rejected - dropped);
      const response = encodeExportResponse(signal, format, partial);
      return reply
        .code(200)
        .type(format === 'json' ? 'application/json' : 'application/x-protobuf')
        .send(
          typeof response === 'string'
            ? response
            : Buffer.from(response.buffer, response.byteOffset, response.byteLength),
        );
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
      // a processor refused the request (e.g. transform with error_mode: propagate): 400, nothing exported
      if (err instanceof PipelineRefusal) return { decodeError: err.message };
      throw err;
    }
    const acked = exporter.export(signal, result.request, pipeline.exporter, pipeline.batch);
    return { total, partial, dropped: result.droppedItems, acked };
  }

  return app as unknown as FastifyInstance;
}

function memoryInUse(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

function signalOfUrl(url: string): Signal | undefined {
  const path = url.split('?')[0];
  if (path === '/v1/traces') return 'traces';
  if (path === '/v1/logs') return 'logs';
  if (path === '/v1/metrics') return 'metrics';
  return undefined;
}

export interface OpsServerOptions {
  exporter: Pick<KafkaExporter, 'isReady'>;
  /** a Registry, or the receiver primary's view of its workers' registries */
  registry: Pick<Registry, 'contentType' | 'metrics'>;
  logger: pino.Logger;
}

/** /healthz (process alive), /readyz (Kafka reachable), /metrics (Prometheus text). Listen on 13133. */
export async function buildOpsServer(opts: OpsServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'ops' }),
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const kafka = opts.exporter.isReady();
    return reply
      .code(kafka ? 200 : 503)
      .send({ status: kafka ? 'ready' : 'not ready', kafka: kafka ? 'reachable' : 'unreachable' });
  });
  app.get('/metrics', async (_req, reply) => reply.type(opts.registry.contentType).send(await opts.registry.metrics()));
  return app as unknown as FastifyInstance;
}
