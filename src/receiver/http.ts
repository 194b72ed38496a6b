/**
 * OTLP/HTTP (POST /v1/traces, /v1/logs, /v1/metrics) as a fastify plugin over the ingest core.
 *
 * Per request: auth (onRequest, before the body is read; a verified client certificate or an API
 * key) → memory limiter precheck on Content-Length → body read (streaming gunzip/inflate, 413 past
 * maxRequestBodyBytes after decompression, HMAC over the wire bytes) → the core (signature check,
 * decode, validate, stamp, pipeline, export) → 200 only after Kafka acked, with partial_success;
 * 400 + google.rpc.Status for bad data, 503 + Retry-After when Kafka is down/slow, 429 + Retry-After
 * when the memory limiter refuses. Errors answer in the request's content type.
 *
 * With `tls:` the server is HTTPS (mTLS with a client CA) and picks up rotated certificate files.
 */
import type { Server as HttpsServer } from 'node:https';
import type { Readable } from 'node:stream';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type pino from 'pino';
import type { Registry } from 'prom-client';
import type { KafkaExporter } from '../kafka/exporter.js';
import { encodeExportResponse, encodeStatus, type OtlpFormat } from '../otlp/codec.js';
import type { Signal } from '../otlp/model.js';
import type { OtlpReceiverSettings, SieveConfig } from '../pipeline/api.js';
import type { Principal } from './auth.js';
import { BodyError, type ReadBody, readBody } from './body.js';
import { createIngestCore, type IngestCore, type IngestFailure, type IngestFailureReason } from './ingest.js';
import { tlsServerOptions, verifiedPeerCertificate, watchTlsFiles } from './tls.js';

export const DEFAULT_MAX_REQUEST_BODY_BYTES = 20 * 1024 * 1024;

export interface ReceiverOptions {
  settings: OtlpReceiverSettings;
  getPipelines: () => SieveConfig['pipelines'];
  exporter: KafkaExporter;
  logger: pino.Logger;
  registry: Registry;
  /** development mode: allows running without auth */
  dev?: boolean;
  /** the process's ingest core, shared with the gRPC server; created (and closed with the app) when absent */
  core?: IngestCore;
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

const HTTP_STATUS: Record<IngestFailureReason, number> = {
  unauthenticated: 401,
  memory_limit: 429,
  invalid: 400,
  too_large: 413,
  no_pipeline: 404,
  unavailable: 503,
};

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

function sendFailure(reply: FastifyReply, req: FastifyRequest, f: IngestFailure): FastifyReply {
  return sendStatus(
    reply,
    req,
    HTTP_STATUS[f.reason],
    f.message,
    f.retryAfterSeconds !== undefined ? String(f.retryAfterSeconds) : undefined,
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

export interface OtlpHttpPluginOptions {
  core: IngestCore;
  /** limit on a request body after decompression */
  maxBodyBytes: number;
}

/** The OTLP/HTTP routes, hooks and body parser (not encapsulated: they own the whole server). */
export const otlpHttpPlugin: FastifyPluginAsync<OtlpHttpPluginOptions> = Object.assign(
  async (app: FastifyInstance, { core, maxBodyBytes }: OtlpHttpPluginOptions) => {
    const { metrics } = core;
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
        maxBytes: maxBodyBytes,
        hmacSecret: core.authenticator?.hmacSecret,
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
      const peer = core.authenticator?.usesClientCerts === true ? verifiedPeerCertificate(req.raw.socket) : undefined;
      const principal = core.authenticate(req.headers, peer);
      if (principal !== undefined && 'ok' in principal) {
        req.raw.resume();
        return sendFailure(reply, req, principal);
      }
      req.sievePrincipal = principal;
      // memory limiter, before reading the body
      const declared = Number(req.headers['content-length'] ?? 0) || 0;
      const refusal = core.admit(signalOfUrl(req.url), Math.min(declared, maxBodyBytes));
      if (refusal !== null) {
        req.raw.resume();
        return sendFailure(reply, req, refusal);
      }
      return undefined;
    });

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

    async function handleExport(signal: Signal, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
      const parsed = req.body as ParsedBody | undefined;
      const format: OtlpFormat | null = parsed?.format ?? formatOf(req.headers['content-type']);
      if (format === null)
        return sendStatus(reply, req, 415, 'missing Content-Type: use application/x-protobuf or application/json');
      const read: ReadBody = parsed?.read ?? { body: Buffer.alloc(0), wireBytes: 0 };
      // only the core holds the body from here: it drops it once the data is encoded for Kafka
      (req as { body?: unknown }).body = undefined;
      const hmacHeader = core.authenticator?.hmacHeader;
      const result = await core.ingest({
        signal,
        format,
        body: read.body,
        principal: req.sievePrincipal,
        ...(hmacHeader !== undefined && read.hmac !== undefined
          ? { signature: { presented: req.headers[hmacHeader], digest: read.hmac } }
          : {}),
      });
      read.body = Buffer.alloc(0);
      if (!result.ok) return sendFailure(reply, req, result);
      const response = encodeExportResponse(signal, format, result.partial);
      return reply
        .code(200)
        .type(format === 'json' ? 'application/json' : 'application/x-protobuf')
        .send(
          typeof response === 'string'
            ? response
            : Buffer.from(response.buffer, response.byteOffset, response.byteLength),
        );
    }
  },
  // what fastify-plugin does: register into the parent instead of a child context
  { [Symbol.for('skip-override')]: true },
);

/** Builds the OTLP/HTTP receiver (not listening; the caller listens). */
export async function buildReceiver(opts: ReceiverOptions): Promise<FastifyInstance> {
  const { settings } = opts;
  const core = opts.core ?? createIngestCore(opts);
  const maxBody = settings.maxRequestBodyBytes > 0 ? settings.maxRequestBodyBytes : DEFAULT_MAX_REQUEST_BODY_BYTES;
  const tls = settings.tls !== undefined ? tlsServerOptions(settings.tls) : undefined;
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'receiver' }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: maxBody,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    keepAliveTimeout: 65_000,
    ...(tls !== undefined ? { https: tls.options } : {}),
  }) as unknown as FastifyInstance;
  await app.register(otlpHttpPlugin, { core, maxBodyBytes: maxBody });
  if (settings.tls !== undefined && tls !== undefined) {
    core.metrics.tlsCertificateExpiry.set({ listener: 'http' }, Date.parse(tls.material.validTo) / 1000);
    const server = app.server as unknown as HttpsServer;
    const watch = watchTlsFiles(
      'http',
      settings.tls,
      (options) => server.setSecureContext(options),
      core.metrics,
      opts.logger.child({ component: 'receiver' }),
    );
    app.addHook('onClose', async () => watch.close());
  }
  if (opts.core === undefined) app.addHook('onClose', async () => core.close());
  return app;
}

function signalOfUrl(url: string): Signal | undefined {
  const path = url.split('?')[0];
  if (path === '/v1/traces') return 'traces';
  if (path === '/v1/logs') return 'logs';
  if (path === '/v1/metrics') return 'metrics';
  return undefined;
}
