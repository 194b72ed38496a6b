/** The receiver's Prometheus metrics, registered on an injected registry (no global registry). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ReceiverMetrics {
  items: Counter<'signal' | 'outcome' | 'reason'>;
  requests: Counter<'signal' | 'status'>;
  duration: Histogram<'signal' | 'status'>;
  inflightBytes: Gauge;
  refusedRequests: Counter<'reason'>;
  grpcRequests: Counter<'signal' | 'code'>;
  grpcDuration: Histogram<'signal' | 'code'>;
  apiKeyLastUsed: Gauge<'name' | 'tenant'>;
  fileReloads: Counter<'file' | 'result'>;
  tlsCertificateExpiry: Gauge<'listener'>;
}

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function receiverMetrics(registry: Registry): ReceiverMetrics {
  return {
    items: reuse(
      registry,
      'sieve_receiver_items_total',
      () =>
        new Counter({
          name: 'sieve_receiver_items_total',
          help: 'Spans, log records and metric data points received, by outcome (accepted, refused = retryable, rejected = bad data)',
          labelNames: ['signal', 'outcome', 'reason'],
          registers: [registry],
        }),
    ),
    requests: reuse(
      registry,
      'sieve_receiver_requests_total',
      () =>
        new Counter({
          name: 'sieve_receiver_requests_total',
          help: 'OTLP/HTTP requests by signal and response status (gRPC: sieve_receiver_grpc_requests_total)',
          labelNames: ['signal', 'status'],
          registers: [registry],
        }),
    ),
    duration: reuse(
      registry,
      'sieve_receiver_request_duration_seconds',
      () =>
        new Histogram({
          name: 'sieve_receiver_request_duration_seconds',
          help: 'OTLP/HTTP request duration (until Kafka acknowledged for 200s)',
          labelNames: ['signal', 'status'],
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers: [registry],
        }),
    ),
    inflightBytes: reuse(
      registry,
      'sieve_receiver_inflight_bytes',
      () =>
        new Gauge({
          name: 'sieve_receiver_inflight_bytes',
          help: 'Decompressed request bytes held by requests not yet answered (the memory limiter compares this to its limit)',
          registers: [registry],
        }),
    ),
    refusedRequests: reuse(
      registry,
      'sieve_receiver_refused_requests_total',
      () =>
        new Counter({
          name: 'sieve_receiver_refused_requests_total',
          help: 'Requests refused before their data was accepted (429 from the memory limiter)',
          labelNames: ['reason'],
          registers: [registry],
        }),
    ),
    grpcRequests: reuse(
      registry,
      'sieve_receiver_grpc_requests_total',
      () =>
        new Counter({
          name: 'sieve_receiver_grpc_requests_total',
          help: 'OTLP/gRPC Export calls by signal and gRPC status code name (calls refused by the gRPC layer itself, e.g. oversize, are not counted)',
          labelNames: ['signal', 'code'],
          registers: [registry],
        }),
    ),
    grpcDuration: reuse(
      registry,
      'sieve_receiver_grpc_request_duration_seconds',
      () =>
        new Histogram({
          name: 'sieve_receiver_grpc_request_duration_seconds',
          help: 'OTLP/gRPC Export call duration from the received message to the answer (until Kafka acknowledged for OK)',
          labelNames: ['signal', 'code'],
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers: [registry],
        }),
    ),
    apiKeyLastUsed: reuse(
      registry,
      'sieve_receiver_api_key_last_used_timestamp_seconds',
      () =>
        new Gauge({
          name: 'sieve_receiver_api_key_last_used_timestamp_seconds',
          help: 'Unix time an API key last authenticated a request, by key name (never the key); since this process started',
          labelNames: ['name', 'tenant'],
          registers: [registry],
          // several receiver workers: the latest use wins (a sum of timestamps means nothing)
          aggregator: 'max',
        }),
    ),
    fileReloads: reuse(
      registry,
      'sieve_receiver_file_reloads_total',
      () =>
        new Counter({
          name: 'sieve_receiver_file_reloads_total',
          help: 'Re-reads of the API keys file and TLS certificate files after they changed, by result (failure: the previous ones stay in use)',
          labelNames: ['file', 'result'],
          registers: [registry],
        }),
    ),
    tlsCertificateExpiry: reuse(
      registry,
      'sieve_receiver_tls_certificate_expiry_timestamp_seconds',
      () =>
        new Gauge({
          name: 'sieve_receiver_tls_certificate_expiry_timestamp_seconds',
          help: 'Unix time the certificate served by each OTLP TLS listener expires',
          labelNames: ['listener'],
          registers: [registry],
          aggregator: 'min',
        }),
    ),
  };
}
