/**
 * What Sieve offers instead of Collector components it does not run, so that a Collector config
 * moved to Sieve fails at start with a message that says what to do.
 */
type Kind = 'receiver' | 'processor' | 'exporter' | 'extension';

const OTLP_ONLY = 'Sieve receives OTLP only: point the SDK or a Collector (otlphttp exporter) at the otlp receiver';
const KAFKA_ONLY =
  "Sieve exports to Kafka only (kafka exporter); to forward elsewhere, run an OpenTelemetry Collector reading Sieve's topics (collector-config/otelcol-read-sieve-kafka.yaml)";

const INSTEAD: Record<Kind, Record<string, string>> = {
  receiver: {
    jaeger: OTLP_ONLY,
    zipkin: OTLP_ONLY,
    prometheus: OTLP_ONLY,
    filelog: OTLP_ONLY,
    hostmetrics: OTLP_ONLY,
    kafka: 'Sieve writes Kafka, its loader reads it (sieve loader); use the otlp receiver for input',
  },
  processor: {
    span: 'use transform: set(name, …) or replace_pattern(name, …) in trace_statements',
    tail_sampling: 'Sieve does not sample; drop spans with filter (traces.span conditions)',
    probabilistic_sampler: 'Sieve does not sample; drop spans with filter (traces.span conditions)',
    k8sattributes: 'set resource attributes in the SDK (OTEL_RESOURCE_ATTRIBUTES) or with resource / transform',
    resourcedetection: 'set resource attributes in the SDK (OTEL_RESOURCE_ATTRIBUTES) or with resource / transform',
    metricstransform: 'rename or relabel with transform (metric_statements)',
    groupbyattrs: 'not available in Sieve',
    cumulativetodelta: 'not available in Sieve',
    routing: 'Sieve runs one pipeline per signal; route by topic in the kafka exporter',
  },
  exporter: {
    otlp: KAFKA_ONLY,
    otlphttp: KAFKA_ONLY,
    clickhouse: "Sieve's loader writes ClickHouse from Kafka (sieve loader, or sieve all)",
    debug: 'see what a pipeline does with sieve scrub --config <file> < payload.json',
    logging: 'see what a pipeline does with sieve scrub --config <file> < payload.json',
    file: 'see what a pipeline does with sieve scrub --config <file> < payload.json',
    prometheus: KAFKA_ONLY,
    prometheusremotewrite: KAFKA_ONLY,
  },
  extension: {
    health_check: 'Sieve always serves /healthz and /readyz on :13133 (receiver) and :13134 (loader)',
    pprof: 'not needed: Sieve exposes /metrics on its ops port',
    zpages: 'not needed: Sieve exposes /metrics on its ops port',
    bearertokenauth: 'use apikeyauth (API keys per tenant, sent as x-api-key or Authorization: Bearer)',
    basicauth: 'use apikeyauth (API keys per tenant, sent as x-api-key or Authorization: Bearer)',
    oidc: 'use apikeyauth (API keys per tenant, sent as x-api-key or Authorization: Bearer)',
  },
};

/** " — <what to use instead>" for a known Collector component, else "". */
export function insteadOf(kind: Kind, type: string): string {
  const s = INSTEAD[kind][type];
  return s ? `; instead: ${s}` : '';
}
