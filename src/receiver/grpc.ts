/**
 * OTLP/gRPC: the three Export services (TraceService, LogsService, MetricsService) on
 * @grpc/grpc-js over the same ingest core as OTLP/HTTP.
 *
 * Messages reach the core as raw bytes (no protobuf decoding by grpc-js), so decoding, validation,
 * partial_success, tenant stamping and the pipeline are exactly those of OTLP/HTTP protobuf. grpc-js
 * itself handles framing, gzip/deflate message compression and max_recv_msg_size_mib (counted after
 * decompression: RESOURCE_EXHAUSTED), and answers a wrong content-type with HTTP 415.
 * Status codes as the OTLP specification says: INVALID_ARGUMENT for bad data, UNAUTHENTICATED,
 * UNAVAILABLE (Kafka down or slow) and RESOURCE_EXHAUSTED (memory limiter), both with a
 * google.rpc.RetryInfo in grpc-status-details-bin so that clients retry after its delay.
 * Credentials come from metadata (`authorization: Bearer …` or `x-api-key`) or a verified client
 * certificate; with HMAC configured, the signature metadata covers the uncompressed message.
 */
import { createHmac } from 'node:crypto';
import type { SecureContextOptions } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type pino from 'pino';
import protobuf from 'protobufjs';
import { encodeExportResponse, otlpRoot } from '../otlp/codec.js';
import type { Signal } from '../otlp/model.js';
import type { OtlpGrpcSettings } from '../pipeline/api.js';
import type { AuthHeaders } from './auth.js';
import type { IngestCore, IngestFailure, IngestFailureReason } from './ingest.js';
import { type TlsServerOptions, tlsServerOptions, watchTlsFiles } from './tls.js';

export const GRPC_EXPORT_PATHS: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
};
const SHUTDOWN_GRACE_MS = 25_000;

const GRPC_STATUS: Record<IngestFailureReason, grpc.status> = {
  unauthenticated: grpc.status.UNAUTHENTICATED,
  memory_limit: grpc.status.RESOURCE_EXHAUSTED,
  invalid: grpc.status.INVALID_ARGUMENT,
  too_large: grpc.status.INVALID_ARGUMENT,
  no_pipeline: grpc.status.UNIMPLEMENTED,
  unavailable: grpc.status.UNAVAILABLE,
};
const CODE_NAMES = new Map<number, string>(
  Object.entries(grpc.status)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [v as number, k]),
);

export interface GrpcReceiverOptions {
  settings: OtlpGrpcSettings;
  core: IngestCore;
  logger: pino.Logger;
}

export interface GrpcReceiver {
  readonly server: grpc.Server;
  /** listens on settings.host:settings.port (port 0: any free port); resolves with the port */
  listen(): Promise<number>;
  /** stops accepting calls, answers those in flight (forced after 25 s) */
  close(): Promise<void>;
}

const passThrough = (b: Buffer): Buffer => b;

function exportService(signal: Signal): grpc.ServiceDefinition {
  return {
    Export: {
      path: GRPC_EXPORT_PATHS[signal],
      requestStream: false,
      responseStream: false,
      // the core decodes (and validates) the protobuf itself
      requestSerialize: passThrough,
      requestDeserialize: passThrough,
      responseSerialize: passThrough,
      responseDeserialize: passThrough,
      originalName: 'export',
    },
  };
}

/** google.rpc.Status with a google.rpc.RetryInfo detail, as grpc-status-details-bin carries it. */
export function retryStatusDetails(code: number, message: string, retryAfterSeconds: number): Buffer {
  // RetryInfo { google.protobuf.Duration retry_delay = 1 } with Duration { int64 seconds = 1; int32 nanos = 2 }
  const duration = protobuf.Writer.create().uint32(8).int64(retryAfterSeconds).finish();
  const retryInfo = protobuf.Writer.create().uint32(10).bytes(duration).finish();
  const status = otlpRoot.lookupType('google.rpc.Status');
  return Buffer.from(
    status
      .encode({ code, message, details: [{ typeUrl: 'type.googleapis.com/google.rpc.RetryInfo', value: retryInfo }] })
      .finish(),
  );
}

function serviceError(f: IngestFailure): Partial<grpc.StatusObject> {
  const code = GRPC_STATUS[f.reason];
  const metadata = new grpc.Metadata();
  if (f.retryAfterSeconds !== undefined)
    metadata.set('grpc-status-details-bin', retryStatusDetails(code, f.message, f.retryAfterSeconds));
  return { code, details: f.message, metadata };
}

function firstString(md: grpc.Metadata, key: string): string | undefined {
  const v = md.get(key)[0];
  return v === undefined ? undefined : typeof v === 'string' ? v : v.toString('utf8');
}

/** Server credentials whose certificate can be replaced while serving (grpc-js watches them). */
class ReloadableServerCredentials extends grpc.ServerCredentials {
  constructor(options: TlsServerOptions) {
    const { requestCert, rejectUnauthorized, ...context } = options;
    super({ requestCert, rejectUnauthorized }, context);
  }
  update(context: SecureContextOptions): void {
    this.updateSecureContextOptions(context);
  }
  _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

export function createGrpcReceiver(opts: GrpcReceiverOptions): GrpcReceiver {
  const { settings, core } = opts;
  const logger = opts.logger.child({ component: 'receiver-grpc' });
  const ka = settings.keepalive;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': settings.maxRecvMsgBytes,
    ...(settings.maxConcurrentStreams !== undefined
      ? { 'grpc.max_concurrent_streams': settings.maxConcurrentStreams }
      : {}),
    ...(ka?.timeMs !== undefined ? { 'grpc.keepalive_time_ms': ka.timeMs } : {}),
    ...(ka?.timeoutMs !== undefined ? { 'grpc.keepalive_timeout_ms': ka.timeoutMs } : {}),
    ...(ka?.maxConnectionIdleMs !== undefined ? { 'grpc.max_connection_idle_ms': ka.maxConnectionIdleMs } : {}),
    ...(ka?.maxConnectionAgeMs !== undefined ? { 'grpc.max_connection_age_ms': ka.maxConnectionAgeMs } : {}),
    ...(ka?.maxConnectionAgeGraceMs !== undefined
      ? { 'grpc.max_connection_age_grace_ms': ka.maxConnectionAgeGraceMs }
      : {}),
  });
  const mtls = settings.tls?.clientCaFile !== undefined && core.authenticator?.usesClientCerts === true;
  const hmac = core.authenticator?.hmacHeader;
  const hmacSecret = core.authenticator?.hmacSecret;

  async function handle(signal: Signal, call: grpc.ServerUnaryCall<Buffer, Buffer>): Promise<Buffer | IngestFailure> {
    const md = call.metadata;
    const headers: AuthHeaders = {
      authorization: firstString(md, 'authorization'),
      'x-api-key': firstString(md, 'x-api-key'),
    };
    const peer = mtls ? call.getAuthContext()?.sslPeerCertificate : undefined;
    const principal = core.authenticate(headers, peer);
    if (principal !== undefined && 'ok' in principal) return principal;
    const body = call.request;
    const result = await core.ingest({
      signal,
      format: 'protobuf',
      body,
      principal,
      ...(hmac !== undefined && hmacSecret !== undefined
        ? {
            signature: {
              presented: firstString(md, hmac),
              digest: createHmac('sha256', hmacSecret).update(body).digest(),
            },
          }
        : {}),
    });
    if (!result.ok) return result;
    return Buffer.from(encodeExportResponse(signal, 'protobuf', result.partial));
  }

  for (const signal of ['traces', 'logs', 'metrics'] as const) {
    server.addService(exportService(signal), {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const started = process.hrtime.bigint();
        const done = (code: grpc.status) => {
          const labels = { signal, code: CODE_NAMES.get(code) ?? String(code) };
          core.metrics.grpcRequests.inc(labels);
          core.metrics.grpcDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
        };
        handle(signal, call).then(
          (r) => {
            if (Buffer.isBuffer(r)) {
              done(grpc.status.OK);
              callback(null, r);
            } else {
              const err = serviceError(r);
              done(err.code as grpc.status);
              callback(err);
            }
          },
          (err: unknown) => {
            logger.error({ err, signal }, 'gRPC export failed');
            done(grpc.status.INTERNAL);
            callback({ code: grpc.status.INTERNAL, details: 'internal error' });
          },
        );
      },
    });
  }

  let credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure();
  let tlsWatch: { close(): void } | undefined;
  if (settings.tls !== undefined) {
    const { options, material } = tlsServerOptions(settings.tls);
    const reloadable = new ReloadableServerCredentials(options);
    credentials = reloadable;
    core.metrics.tlsCertificateExpiry.set({ listener: 'grpc' }, Date.parse(material.validTo) / 1000);
    tlsWatch = watchTlsFiles('grpc', settings.tls, (ctx) => reloadable.update(ctx), core.metrics, logger);
  }

  return {
    server,
    listen() {
      const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
      return new Promise<number>((resolve, reject) =>
        server.bindAsync(`${host}:${settings.port}`, credentials, (err, port) => {
          if (err !== null) reject(new Error(`OTLP/gRPC cannot listen on ${host}:${settings.port}: ${err.message}`));
          else resolve(port);
        }),
      );
    },
    close() {
      tlsWatch?.close();
      return new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          logger.error('gRPC calls still in flight after 25 s; closing their connections');
          server.forceShutdown();
          resolve();
        }, SHUTDOWN_GRACE_MS);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
