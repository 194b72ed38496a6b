/**
 * The receiver's servers, one module per job:
 * - ./ingest.ts — the transport-neutral core: auth → memory limiter → decode → validate → stamp →
 *   pipeline → Kafka export, answering with a result each transport maps to its status;
 * - ./http.ts — OTLP/HTTP as a fastify plugin (`buildReceiver`), HTTPS/mTLS with `tls:`;
 * - ./grpc.ts — OTLP/gRPC (the three Export services) on @grpc/grpc-js, TLS/mTLS with `tls:`;
 * - ./ops.ts — /healthz, /readyz, /metrics.
 */
export { createGrpcReceiver, type GrpcReceiver, type GrpcReceiverOptions } from './grpc.js';
export {
  buildReceiver,
  DEFAULT_MAX_REQUEST_BODY_BYTES,
  formatOf,
  otlpHttpPlugin,
  type ReceiverOptions,
} from './http.js';
export { createIngestCore, DEFAULT_MEMORY_LIMITER, type IngestCore, type IngestResult } from './ingest.js';
export { buildOpsServer, type OpsServerOptions } from './ops.js';
