/**
 * Receiver integration: the real OpenTelemetry JS SDK exporters (protobuf and JSON) → the listening
 * receiver → real Kafka, read back and compared field by field; then bad inputs, size limits,
 * partial success, API-key auth with tenant stamping and HMAC body signatures via app.inject.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { type Link, SpanKind } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as OTLPTraceExporterJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPTraceExporterProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { FastifyInstance } from 'fastify';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { KafkaExporter } from '../../src/kafka/exporter.js';
import {
  decodeExportResponse,
  decodeProtobuf,
  decodeStatus,
  encodeProtobuf,
  toOtlpJsonObject,
} from '../../src/otlp/codec.js';
import type { Signal } from '../../src/otlp/model.js';
import type { AuthSettings, SieveConfig } from '../../src/pipeline/api.js';
import { buildReceiver } from '../../src/receiver/server.js';
import { deleteTopics, ensureTopicsRetry, identityPipeline } from '../support/kafka-harness.js';
import { requestWith, wideVarint } from '../support/wide-varints.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const id = randomBytes(4).toString('hex');
const topics: Record<Signal, string> = {
  traces: `sieve_rx_${id}_spans`,
  logs: `sieve_rx_${id}_logs`,
  metrics: `sieve_rx_${id}_metrics`,
};
const MiB = 1 << 20;

// biome-ignore lint/suspicious/noExplicitAny: OTLP/JSON objects read back from Kafka
type J = any;

const pipe = (signal: Signal) => ({
  topic: topics[signal],
  clientId: 'rx',
  batchTimeoutMs: 20,
  partitionTracesById: true,
});
const pipelines: SieveConfig['pipelines'] = {
  traces: identityPipeline('traces', pipe('traces')),
  logs: identityPipeline('logs', pipe('logs')),
  metrics: identityPipeline('metrics', pipe('metrics')),
};

const logger = pino({ level: 'silent' });
let exporter: KafkaExporter;
let app: FastifyInstance;
let endpoint: string;
const apps: FastifyInstance[] = [];

async function receiver(auth?: AuthSettings, maxRequestBodyBytes = MiB): Promise<FastifyInstance> {
  const a = await buildReceiver({
    settings: { host: '127.0.0.1', port: 0, maxRequestBodyBytes, ...(auth ? { auth } : {}) },
    getPipelines: () => pipelines,
    exporter,
    logger,
    registry: new Registry(),
    dev: auth === undefined,
  });
  apps.push(a);
  await a.ready();
  return a;
}

before(
  async () => {
    await ensureTopicsRetry(Object.values(topics));
    exporter = new KafkaExporter({ brokers, clientId: `rx-${id}`, logger, registry: new Registry() });
    await exporter.start();
    app = await receiver();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    assert.ok(addr !== null && typeof addr === 'object');
    endpoint = `http://127.0.0.1:${addr.port}`;
  },
  { timeout: 90_000 },
);

after(
  async () => {
    for (const a of apps) await a.close();
    await exporter?.stop();
    await deleteTopics(Object.values(topics));
  },
  { timeout: 30_000 },
);

/** Reads `signal`'s topic from the beginning (as OTLP/JSON objects) until `done(all)` or 30 s. */
async function readUntil(signal: Signal, done: (reqs: J[]) => boolean): Promise<J[]> {
  const consumer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).consumer({
    groupId: `rx-${id}-${signal}-${randomBytes(4).toString('hex')}`,
  });
  const reqs: J[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: topics[signal], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.value) reqs.push(toOtlpJsonObject(signal, decodeProtobuf(signal, message.value)));
    },
  });
  const deadline = Date.now() + 30_000;
  while (!done(reqs) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await consumer.disconnect();
  assert.ok(done(reqs), `${signal}: expected data did not arrive in Kafka`);
  return reqs;
}

const spansOf = (reqs: J[]) =>
  reqs.flatMap((r) =>
    (r.resourceSpans ?? []).flatMap((rs: J) =>
      (rs.scopeSpans ?? []).flatMap((ss: J) =>
        (ss.spans ?? []).map((span: J) => ({ span, scope: ss.scope, resource: rs.resource })),
      ),
    ),
  );
const attr = (list: J[] | undefined, key: string) => (list ?? []).find((kv: J) => kv.key === key)?.value;
const hrNanos = (t: [number, number]) => (BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])).toString();

function withEndpoint<T>(make: () => T): T {
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
  try {
    return make();
  } finally {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  }
}

for (const flavour of ['proto', 'json'] as const) {
  test(`OTel SDK trace exporter (${flavour}) → Kafka: ids, timestamps, attributes, events, links, resource, scope`, {
    timeout: 60_000,
  }, async () => {
    const exp = withEndpoint(() => (flavour === 'proto' ? new OTLPTraceExporterProto() : new OTLPTraceExporterJson()));
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': `svc-${flavour}-${id}`, 'deployment.environment': 'test' }),
      spanProcessors: [new SimpleSpanProcessor({ exporter: exp })],
    });
    const tracer = provider.getTracer(`scope-${flavour}`, '1.2.3');
    const linked = tracer.startSpan('linked');
    linked.end();
    const link: Link = { context: linked.spanContext(), attributes: { 'link.kind': 'follows' } };
    const span = tracer.startSpan(`op-${flavour}`, {
      kind: SpanKind.SERVER,
      attributes: {
        'a.str': 'hello',
        'a.bool': true,
        'a.int': 42,
        'a.double': 3.25,
        'a.arr': ['x', 'y'],
        'a.nums': [1, 2],
      },
      links: [link],
    });
    span.addEvent('retry', { attempt: 2 });
    span.setStatus({ code: 2, message: 'boom' });
    span.end();
    await provider.forceFlush();
    await provider.shutdown();
    const ctx = span.spanContext();
    // biome-ignore lint/suspicious/noExplicitAny: ReadableSpan fields of the SDK span
    const readable = span as any;

    const reqs = await readUntil('traces', (r) => spansOf(r).some((s) => s.span.spanId === ctx.spanId));
    const found = spansOf(reqs).find((s) => s.span.spanId === ctx.spanId);
    assert.ok(found);
    const { span: s, scope, resource } = found;
    assert.equal(s.traceId, ctx.traceId);
    assert.equal(s.name, `op-${flavour}`);
    assert.equal(s.kind, 2);
    assert.equal(s.startTimeUnixNano, hrNanos(readable.startTime));
    assert.equal(s.endTimeUnixNano, hrNanos(readable.endTime));
    assert.match(s.startTimeUnixNano, /^1\d{18}$/);
    assert.deepEqual(attr(s.attributes, 'a.str'), { stringValue: 'hello' });
    assert.deepEqual(attr(s.attributes, 'a.bool'), { boolValue: true });
    assert.deepEqual(attr(s.attributes, 'a.int'), { intValue: '42' });
    assert.deepEqual(attr(s.attributes, 'a.double'), { doubleValue: 3.25 });
    assert.deepEqual(attr(s.attributes, 'a.arr'), {
      arrayValue: { values: [{ stringValue: 'x' }, { stringValue: 'y' }] },
    });
    assert.deepEqual(attr(s.attributes, 'a.nums'), { arrayValue: { values: [{ intValue: '1' }, { intValue: '2' }] } });
    assert.equal(s.events.length, 1);
    assert.equal(s.events[0].name, 'retry');
    assert.equal(s.events[0].timeUnixNano, hrNanos(readable.events[0].time));
    assert.deepEqual(attr(s.events[0].attributes, 'attempt'), { intValue: '2' });
    assert.equal(s.links.length, 1);
    assert.equal(s.links[0].traceId, linked.spanContext().traceId);
    assert.equal(s.links[0].spanId, linked.spanContext().spanId);
    assert.deepEqual(attr(s.links[0].attributes, 'link.kind'), { stringValue: 'follows' });
    assert.equal(s.status.code, 2);
    assert.equal(s.status.message, 'boom');
    assert.deepEqual(attr(resource.attributes, 'service.name'), { stringValue: `svc-${flavour}-${id}` });
    assert.deepEqual(attr(resource.attributes, 'deployment.environment'), { stringValue: 'test' });
    assert.equal(scope.name, `scope-${flavour}`);
    assert.equal(scope.version, '1.2.3');
  });
}

test('OTel SDK log exporter (proto) → Kafka: body, severity, attributes, timestamps, trace context', {
  timeout: 60_000,
}, async () => {
  const exp = withEndpoint(() => new OTLPLogExporter());
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': `logsvc-${id}` }),
    processors: [new SimpleLogRecordProcessor({ exporter: exp })],
  });
  const ts = Date.now();
  provider.getLogger('log-scope', '0.9.0').emit({
    severityNumber: SeverityNumber.WARN,
    severityText: 'WARN',
    body: `disk almost full ${id}`,
    timestamp: ts,
    attributes: { 'disk.free': 0.5, 'disk.id': 7, mounted: true, 'disk.name': 'sda' },
  });
  await provider.forceFlush();
  await provider.shutdown();
  const find = (reqs: J[]) =>
    reqs
      .flatMap((r) =>
        r.resourceLogs.flatMap((rl: J) =>
          rl.scopeLogs.flatMap((sl: J) =>
            sl.logRecords.map((lr: J) => ({ lr, scope: sl.scope, resource: rl.resource })),
          ),
        ),
      )
      .find((x: J) => x.lr.body?.stringValue === `disk almost full ${id}`);
  const found = find(await readUntil('logs', (r) => find(r) !== undefined));
  const { lr, scope, resource } = found;
  assert.equal(lr.severityNumber, 13);
  assert.equal(lr.severityText, 'WARN');
  assert.equal(lr.timeUnixNano, (BigInt(ts) * 1_000_000n).toString());
  assert.match(lr.observedTimeUnixNano, /^1\d{18}$/);
  assert.deepEqual(attr(lr.attributes, 'disk.free'), { doubleValue: 0.5 });
  assert.deepEqual(attr(lr.attributes, 'disk.id'), { intValue: '7' });
  assert.deepEqual(attr(lr.attributes, 'mounted'), { boolValue: true });
  assert.deepEqual(attr(lr.attributes, 'disk.name'), { stringValue: 'sda' });
  assert.equal(scope.name, 'log-scope');
  assert.equal(scope.version, '0.9.0');
  assert.deepEqual(attr(resource.attributes, 'service.name'), { stringValue: `logsvc-${id}` });
});

test('OTel SDK metric exporter (proto) → Kafka: counter, histogram and gauge values', { timeout: 60_000 }, async () => {
  const exp = withEndpoint(() => new OTLPMetricExporter());
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': `metricsvc-${id}` }),
    readers: [new PeriodicExportingMetricReader({ exporter: exp, exportIntervalMillis: 60_000 })],
  });
  const meter = provider.getMeter('metric-scope', '2.0.0');
  meter.createCounter(`requests_${id}`).add(5, { route: '/a' });
  const h = meter.createHistogram(`latency_${id}`);
  h.record(3);
  h.record(7);
  meter.createObservableGauge(`temp_${id}`).addCallback((r) => r.observe(21.5));
  await provider.forceFlush();
  await provider.shutdown();
  const metricsOf = (reqs: J[]) =>
    reqs.flatMap((r) =>
      r.resourceMetrics.flatMap((rm: J) =>
        rm.scopeMetrics.flatMap((sm: J) => sm.metrics.map((m: J) => ({ m, scope: sm.scope, resource: rm.resource }))),
      ),
    );
  const names = [`requests_${id}`, `latency_${id}`, `temp_${id}`];
  const reqs = await readUntil('metrics', (r) => names.every((n) => metricsOf(r).some((x: J) => x.m.name === n)));
  const byName = (n: string) => metricsOf(reqs).find((x: J) => x.m.name === n);
  const counter = byName(`requests_${id}`);
  assert.equal(counter.scope.name, 'metric-scope');
  assert.equal(counter.scope.version, '2.0.0');
  assert.deepEqual(attr(counter.resource.attributes, 'service.name'), { stringValue: `metricsvc-${id}` });
  assert.equal(counter.m.sum.isMonotonic, true);
  const dp = counter.m.sum.dataPoints[0];
  assert.equal(Number(dp.asDouble ?? dp.asInt), 5);
  assert.deepEqual(attr(dp.attributes, 'route'), { stringValue: '/a' });
  assert.match(dp.timeUnixNano, /^1\d{18}$/);
  const hist = byName(`latency_${id}`).m.histogram.dataPoints[0];
  assert.equal(String(hist.count), '2');
  assert.equal(hist.sum, 10);
  assert.equal(hist.min, 3);
  assert.equal(hist.max, 7);
  const gauge = byName(`temp_${id}`).m.gauge.dataPoints[0];
  assert.equal(Number(gauge.asDouble ?? gauge.asInt), 21.5);
});

const PB = { 'content-type': 'application/x-protobuf' };
const JSONCT = { 'content-type': 'application/json' };
const validTraces = (name: string, extraResource: J[] = []) => ({
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bad-input' } }, ...extraResource] },
      scopeSpans: [
        {
          scope: { name: 's' },
          spans: [
            {
              traceId: randomBytes(16).toString('hex'),
              spanId: randomBytes(8).toString('hex'),
              name,
              startTimeUnixNano: '1700000000000000000',
              endTimeUnixNano: '1700000001000000000',
            },
          ],
        },
      ],
    },
  ],
});

test('bad inputs: 400 google.rpc.Status, 415, 405, 404; gzip accepted', async () => {
  const bad = await app.inject({
    method: 'POST',
    url: '/v1/traces',
    headers: PB,
    payload: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
  });
  assert.equal(bad.statusCode, 400);
  const status = decodeStatus('protobuf', bad.rawPayload);
  assert.equal(status.code, 3);
  assert.ok(status.message.length > 0);
  // a length with bits past 32, on the pass-through path (spans forwarded undecoded): refused, where
  // it once passed validation and then stalled the receiver's thread in a loop without end
  const wide = requestWith('resourceSpans', wideVarint);
  assert.throws(() => decodeProtobuf('traces', wide), /wider than 32 bits/); // else the inject below hangs
  const wideRes = await app.inject({ method: 'POST', url: '/v1/traces', headers: PB, payload: wide });
  assert.equal(wideRes.statusCode, 400);
  assert.match(decodeStatus('protobuf', wideRes.rawPayload).message, /length wider than 32 bits/);
  const badJson = await app.inject({ method: 'POST', url: '/v1/logs', headers: JSONCT, payload: '{"resourceLogs": [' });
  assert.equal(badJson.statusCode, 400);
  assert.equal(decodeStatus('json', badJson.body).code, 3);
  const ct = await app.inject({
    method: 'POST',
    url: '/v1/traces',
    headers: { 'content-type': 'text/plain' },
    payload: 'hi',
  });
  assert.equal(ct.statusCode, 415);
  const get = await app.inject({ method: 'GET', url: '/v1/traces' });
  assert.equal(get.statusCode, 405);
  const other = await app.inject({ method: 'POST', url: '/v1/other', headers: JSONCT, payload: '{}' });
  assert.equal(other.statusCode, 404);
  const gz = await app.inject({
    method: 'POST',
    url: '/v1/traces',
    headers: { ...JSONCT, 'content-encoding': 'gzip' },
    payload: gzipSync(JSON.stringify(validTraces(`gz-${id}`))),
  });
  assert.equal(gz.statusCode, 200, gz.body);
  await readUntil('traces', (r) => spansOf(r).some((s) => s.span.name === `gz-${id}`));
});

test('size limits: gzip bomb → 413 without RSS jump; oversize plain body → 413', { timeout: 60_000 }, async () => {
  let bomb: Buffer | undefined = gzipSync(Buffer.alloc(200 * MiB));
  const payload = bomb;
  bomb = undefined;
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const res = await app.inject({
    method: 'POST',
    url: '/v1/traces',
    headers: { ...PB, 'content-encoding': 'gzip' },
    payload,
  });
  const rss1 = process.memoryUsage().rss;
  assert.equal(res.statusCode, 413, res.body);
  assert.ok(rss1 - rss0 < 64 * MiB, `RSS grew by ${((rss1 - rss0) / MiB).toFixed(1)} MiB`);
  const big = await app.inject({ method: 'POST', url: '/v1/traces', headers: PB, payload: Buffer.alloc(2 * MiB, 1) });
  assert.equal(big.statusCode, 413);
});

test('partial success: a span with a 3-byte trace id is rejected, the valid ones reach Kafka', {
  timeout: 60_000,
}, async () => {
  const span = (traceId: Buffer, name: string) => ({
    traceId,
    spanId: randomBytes(8),
    name,
    startTimeUnixNano: 1_700_000_000_000_000_000n,
    endTimeUnixNano: 1_700_000_001_000_000_000n,
  });
  const req = {
    resourceSpans: [
      {
        resource: { attributes: [] },
        scopeSpans: [
          {
            spans: [
              span(randomBytes(16), `ok1-${id}`),
              span(randomBytes(3), `bad-${id}`),
              span(randomBytes(16), `ok2-${id}`),
            ],
          },
        ],
      },
    ],
  };
  const payload = Buffer.from(encodeProtobuf('traces', req as never));
  const res = await app.inject({ method: 'POST', url: '/v1/traces', headers: PB, payload });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(decodeExportResponse('traces', 'protobuf', res.rawPayload).partialSuccess?.rejected, 1);
  const reqs = await readUntil(
    'traces',
    (r) => spansOf(r).filter((s) => s.span.name.startsWith('ok') && s.span.name.endsWith(id)).length >= 2,
  );
  assert.equal(spansOf(reqs).filter((s) => s.span.name === `bad-${id}`).length, 0);
});

const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex');

test('API keys: 401 without/with a wrong key; with k1 → 200 and tenant.id=acme overwrites the client value', {
  timeout: 60_000,
}, async () => {
  const a = await receiver({ keys: [{ sha256: sha256hex('k1'), tenant: 'acme' }] });
  const body = JSON.stringify(validTraces(`tenant-${id}`, [{ key: 'tenant.id', value: { stringValue: 'evil' } }]));
  const none = await a.inject({ method: 'POST', url: '/v1/traces', headers: JSONCT, payload: body });
  assert.equal(none.statusCode, 401);
  assert.equal(decodeStatus('json', none.body).code, 16);
  const wrong = await a.inject({
    method: 'POST',
    url: '/v1/traces',
    headers: { ...JSONCT, 'x-api-key': 'k2' },
    payload: body,
  });
  assert.equal(wrong.statusCode, 401);
  const bearerWrong = await a.inject({
    method: 'POST',
    url: '/v1/traces',
    headers: { ...JSONCT, authorization: 'Bearer k2' },
    payload: body,
  });
  assert.equal(bearerWrong.statusCode, 401);
  const ok = await a.inject({
    method: 'POST',
    url: '/v1/traces',
    headers: { ...JSONCT, 'x-api-key': 'k1' },
    payload: body,
  });
  assert.equal(ok.statusCode, 200, ok.body);
  const reqs = await readUntil('traces', (r) => spansOf(r).some((s) => s.span.name === `tenant-${id}`));
  const found = spansOf(reqs).find((s) => s.span.name === `tenant-${id}`);
  const tenants = found.resource.attributes.filter((kv: J) => kv.key === 'tenant.id');
  assert.deepEqual(tenants, [{ key: 'tenant.id', value: { stringValue: 'acme' } }]);
});

test('HMAC body signature: wrong → 401, right → 200', async () => {
  const secret = randomBytes(32);
  const a = await receiver({
    keys: [{ sha256: sha256hex('k1'), tenant: 'acme' }],
    hmac: { header: 'x-sieve-signature', secret },
  });
  const body = gzipSync(JSON.stringify(validTraces(`hmac-${id}`)));
  const headers = { ...JSONCT, 'content-encoding': 'gzip', 'x-api-key': 'k1' };
  const missing = await a.inject({ method: 'POST', url: '/v1/traces', headers, payload: body });
  assert.equal(missing.statusCode, 401);
  const wrong = await a.inject({
    method: 'POST',
    url: '/v1/traces',
    headers: { ...headers, 'x-sieve-signature': createHmac('sha256', randomBytes(32)).update(body).digest('hex') },
    payload: body,
  });
  assert.equal(wrong.statusCode, 401);
  const right = await a.inject({
    method: 'POST',
    url: '/v1/traces',
    headers: { ...headers, 'x-sieve-signature': createHmac('sha256', secret).update(body).digest('hex') },
    payload: body,
  });
  assert.equal(right.statusCode, 200, right.body);
});
