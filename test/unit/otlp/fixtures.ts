/**
 * OTLP fixtures produced by the real OpenTelemetry JS SDK and serialized by
 * @opentelemetry/otlp-transformer (the exporters' own serializers).
 */
import {
  type Attributes,
  type HrTime,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  ValueType,
} from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  type ReadableLogRecord,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { AggregationType, MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

/** 1700000000123456789 ns as an HrTime. */
export const T0: HrTime = [1700000000, 123456789];
export const T0_NANOS = '1700000000123456789';

export interface SpanFixtureOptions {
  /** 'mixed': string/int/double/bool and a list attribute; 'string-int': alternating string and int only */
  attributeKinds?: 'mixed' | 'string-int';
}

export async function makeSpans(
  count = 3,
  attrsPerSpan = 4,
  options: SpanFixtureOptions = {},
): Promise<ReadableSpan[]> {
  const mixed = (options.attributeKinds ?? 'mixed') === 'mixed';
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout', 'service.version': '1.2.3', 'host.cpu.count': 8 }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
    spanLimits: { attributeCountLimit: 1000 },
  });
  const tracer = provider.getTracer('fixture-scope', '0.1.0');
  const root = tracer.startSpan('root', { kind: SpanKind.SERVER, startTime: T0, attributes: { 'http.method': 'GET' } });
  const ctx = trace.setSpan(ROOT_CONTEXT, root);
  for (let i = 0; i < count - 1; i++) {
    const attributes: Attributes = {};
    for (let a = 0; a < attrsPerSpan; a++) {
      if (!mixed) {
        if (a % 2 === 0) attributes[`attr.str.${a}`] = `value-${i}-${a}`;
        else attributes[`attr.int.${a}`] = i * 1000 + a;
        continue;
      }
      if (a % 4 === 0) attributes[`attr.str.${a}`] = `value-${i}-${a}`;
      else if (a % 4 === 1) attributes[`attr.int.${a}`] = i * 1000 + a;
      else if (a % 4 === 2) attributes[`attr.dbl.${a}`] = i + a / 10;
      else attributes[`attr.bool.${a}`] = (i + a) % 2 === 0;
    }
    if (mixed) attributes['attr.list'] = ['a', 'b'];
    const s = tracer.startSpan(
      `child-${i}`,
      { kind: SpanKind.CLIENT, startTime: [1700000000, 200000000 + i], attributes },
      ctx,
    );
    s.addEvent('retry', { attempt: 2 }, [1700000000, 300000001]);
    s.addLink({ context: root.spanContext(), attributes: { 'link.kind': 'follows' } });
    if (i % 2 === 1) s.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    else s.setStatus({ code: SpanStatusCode.OK });
    s.end([1700000001, 999999999]);
  }
  root.end([1700000002, 1]);
  await provider.forceFlush();
  return exporter.getFinishedSpans();
}

export function traceProtobuf(spans: ReadableSpan[]): Uint8Array {
  const b = ProtobufTraceSerializer.serializeRequest(spans);
  if (b === undefined) throw new Error('serializer returned nothing');
  return b;
}

export function traceJson(spans: ReadableSpan[]): string {
  const b = JsonTraceSerializer.serializeRequest(spans);
  if (b === undefined) throw new Error('serializer returned nothing');
  return Buffer.from(b).toString('utf8');
}

// ---- logs ----

export async function makeLogRecords(count = 3): Promise<ReadableLogRecord[]> {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout' }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('fixture-logger', '2.0.0');
  const spanCtx = { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', traceFlags: 1 };
  for (let i = 0; i < count; i++) {
    logger.emit({
      timestamp: T0,
      observedTimestamp: [1700000000, 123456790],
      severityNumber: i % 2 === 0 ? SeverityNumber.INFO : SeverityNumber.ERROR,
      severityText: i % 2 === 0 ? 'INFO' : 'ERROR',
      body:
        i === 2
          ? { nested: { list: [1, 'two', true] }, msg: 'structured' }
          : `log line ${i} for user alice@example.com`,
      attributes: { 'log.index': i, 'user.email': 'alice@example.com', ratio: 0.5 },
      ...(i === 1 ? { eventName: 'checkout.failed' } : {}),
      context: trace.setSpanContext(ROOT_CONTEXT, spanCtx),
    });
  }
  await provider.forceFlush();
  return exporter.getFinishedLogRecords();
}

export function logsProtobuf(records: ReadableLogRecord[]): Uint8Array {
  const b = ProtobufLogsSerializer.serializeRequest(records);
  if (b === undefined) throw new Error('serializer returned nothing');
  return b;
}

export function logsJson(records: ReadableLogRecord[]): string {
  const b = JsonLogsSerializer.serializeRequest(records);
  if (b === undefined) throw new Error('serializer returned nothing');
  return Buffer.from(b).toString('utf8');
}

// ---- metrics ----

class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** Counter (sum, int), up-down counter (non-monotonic sum, double), gauge, histogram, exponential histogram. */
export async function makeResourceMetrics(): Promise<ResourceMetrics> {
  const reader = new CollectingReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout' }),
    readers: [reader],
    views: [{ instrumentName: 'latency.exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const meter = provider.getMeter('fixture-meter', '3.0.0');
  const counter = meter.createCounter('requests', {
    unit: '1',
    description: 'requests served',
    valueType: ValueType.INT,
  });
  counter.add(5, { route: '/a' });
  counter.add(7, { route: '/b' });
  meter.createUpDownCounter('queue.depth').add(-2.5, { queue: 'q1' });
  const gauge = meter.createGauge('temperature', { unit: 'Cel' });
  gauge.record(21.5, { room: 'lab' });
  const hist = meter.createHistogram('latency', { unit: 'ms' });
  for (const v of [1, 5, 12, 80, 250, 1200]) hist.record(v, { route: '/a' });
  const exp = meter.createHistogram('latency.exp', { unit: 'ms' });
  for (const v of [0, 0.5, 3, 3.5, 70, 1e6]) exp.record(v);
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length > 0) throw new Error(`metric collection failed: ${String(errors[0])}`);
  return resourceMetrics;
}

export function metricsProtobuf(rm: ResourceMetrics): Uint8Array {
  const b = ProtobufMetricsSerializer.serializeRequest(rm);
  if (b === undefined) throw new Error('serializer returned nothing');
  return b;
}

export function metricsJson(rm: ResourceMetrics): string {
  const b = JsonMetricsSerializer.serializeRequest(rm);
  if (b === undefined) throw new Error('serializer returned nothing');
  return Buffer.from(b).toString('utf8');
}
