/** The receiver's Prometheus metrics, registered on an injected registry (no global registry). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ReceiverMetrics {
  items: Counter<'signal' | 'outcome' | 'reason'>;
  requests: Counter<'signal' | 'status'>;
  duration: Histogram<'signal' | 'status'>;
  inflightBytes: Gauge;
  refusedRequests: Counter<'reason'>;
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
          help: 'OTLP/HTTP requests by signal and response status',
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
  };
}
