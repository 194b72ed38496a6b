/**
 * OTLP/gRPC receiver integration: the real OpenTelemetry JS gRPC exporters (traces gzip-compressed,
 * logs, metrics) → the listening gRPC server → real Kafka, read back and compared field by field;
 * then statuses with a raw grpc-js client and node:http2: INVALID_ARGUMENT for bad protobuf,
 * partial_success, RESOURCE_EXHAUSTED past max_recv_msg_size_mib (also a gzip bomb), HTTP 415 for a
 * wrong content-type, garbage frames and bytes, UNAUTHENTICATED / tenant stamping / HMAC with
 * metadata, UNIMPLEMENTED without a pipeline, RESOURCE_EXHAUSTED + RetryInfo from the memory limiter
 * — and the server keeps serving after each.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { connect as http2Connect } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { type Link, SpanKind } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { KafkaExporter } from '../../src/kafka/exporter.js';
import {
  decodeExportResponse,
  decodeJson,
  decodeProtobuf,
  encodeProtobuf,
  toOtlpJsonObject,
} from '../../src/otlp/codec.js';
import type { Signal } from '../../src/otlp/model.js';
import type { AuthSettings, SieveConfig } from '../../src/pipeline/api.js';
import { createGrpcReceiver, type GrpcReceiver } from '../../src/receiver/grpc.js';
import { createIngestCore } from '../../src/receiver/ingest.js';
import { exportCall, insecureClient } from '../support/grpc-client.js';
import { deleteTopics, ensureTopicsRetry, identityPipeline } from '../support/kafka-harness.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const id = randomBytes(4).toString('hex');
const topics: Record<Signal, string> = {
  traces: `sieve_grpc_${id}_spans`,
  logs: `sieve_grpc_${id}_logs`,
  metrics: `sieve_grpc_${id}_metrics`,
};
const MiB = 1 << 20;

// biome-ignore lint/suspicious/noExplicitAny: OTLP/JSON objects read back from Kafka
type J = any;

const pipe = (signal: Signal) => ({ topic: topics[signal], clientId: 'grpc', batchTimeoutMs: 20 });
const pipelines: SieveConfig['pipelines'] = {
  traces: identityPipeline('traces', pipe('traces')),
  logs: identityPipeline('logs', pipe('logs')),
  metrics: identityPipeline('metrics', pipe('metrics')),
};

const logger = pino({ level: 'silent' });
let exporter: KafkaExporter;
const receivers: GrpcReceiver[] = [];
const clients: grpc.Client[] = [];
let port: number;

async function grpcReceiver(opts: {
  auth?: AuthSettings;
  maxRecvMsgBytes?: number;
  pipelines?: SieveConfig['pipelines'];
}): Promise<number> {
  const core = createIngestCore({
    settings: opts.auth !== undefined ? { auth: opts.auth } : {},
    getPipelines: () => opts.pipelines ?? pipelines,
    exporter,
    logger,
    registry: new Registry(),
    dev: opts.auth === undefined,
  });
  const r = createGrpcReceiver({
    settings: { host: '127.0.0.1', port: 0, maxRecvMsgBytes: opts.maxRecvMsgBytes ?? MiB },
    core,
    logger,
  });
  receivers.push(r);
  return r.listen();
}

function client(p = port): grpc.Client {
  const c = insecureClient(p);
  clients.push(c);
  return c;
}

before(
  async () => {
    await ensureTopicsRetry(Object.values(topics));
    exporter = new KafkaExporter({ brokers, clientId: `grpc-${id}`, logger, registry: new Registry() });
    await exporter.start();
    port = await grpcReceiver({});
  },
  { timeout: 90_000 },
);

after(
  async () => {
    for (const c of clients) c.close();
    for (const r of receivers) await r.close();
    await exporter?.stop();
    await deleteTopics(Object.values(topics));
  },
  { timeout: 60_000 },
);

/** Reads `signal`'s topic from the beginning (as OTLP/JSON objects) until `done(all)` or 30 s. */
async function readUntil(signal: Signal, done: (reqs: J[]) => boolean): Promise<J[]> {
  const consumer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).consumer({
    groupId: `grpc-${id}-${signal}-${randomBytes(4).toString('hex')}`,
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
const url = () => `http://127.0.0.1:${port}`;

test('OTel SDK gRPC trace exporter (gzip) → Kafka: ids, timestamps, attributes, events, links, resource, scope', {
  timeout: 60_000,
}, async () => {
  const exp = new OTLPTraceExporter({ url: url(), compression: CompressionAlgorithm.GZIP });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': `svc-grpc-${id}`, 'deployment.environment': 'test' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: exp })],
  });
  const tracer = provider.getTracer('scope-grpc', '1.2.3');
  const linked = tracer.startSpan('linked');
  linked.end();
  const link: Link = { context: linked.spanContext(), attributes: { 'link.kind': 'follows' } };
  const span = tracer.startSpan('op-grpc', {
    kind: SpanKind.CLIENT,
    attributes: { 'a.str': 'hello', 'a.bool': true, 'a.int': 42, 'a.double': 3.25, 'a.arr': ['x', 'y'] },
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
  assert.equal(s.name, 'op-grpc');
  assert.equal(s.kind, 3);
  assert.equal(s.startTimeUnixNano, hrNanos(readable.startTime));
  assert.equal(s.endTimeUnixNano, hrNanos(readable.endTime));
  assert.deepEqual(attr(s.attributes, 'a.str'), { stringValue: 'hello' });
  assert.deepEqual(attr(s.attributes, 'a.bool'), { boolValue: true });
  assert.deepEqual(attr(s.attributes, 'a.int'), { intValue: '42' });
  assert.deepEqual(attr(s.attributes, 'a.double'), { doubleValue: 3.25 });
  assert.deepEqual(attr(s.attributes, 'a.arr'), {
    arrayValue: { values: [{ stringValue: 'x' }, { stringValue: 'y' }] },
  });
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
  assert.deepEqual(attr(resource.attributes, 'service.name'), { stringValue: `svc-grpc-${id}` });
  assert.deepEqual(attr(resource.attributes, 'deployment.environment'), { stringValue: 'test' });
  assert.equal(scope.name, 'scope-grpc');
  assert.equal(scope.version, '1.2.3');
});

test('OTel SDK gRPC log exporter → Kafka: body, severity, attributes, timestamps', { timeout: 60_000 }, async () => {
  const exp = new OTLPLogExporter({ url: url() });
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': `logsvc-grpc-${id}` }),
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
  const { lr, scope, resource } = find(await readUntil('logs', (r) => find(r) !== undefined));
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
  assert.deepEqual(attr(resource.attributes, 'service.name'), { stringValue: `logsvc-grpc-${id}` });
});

test('OTel SDK gRPC metric exporter → Kafka: counter, histogram and gauge values', { timeout: 60_000 }, async () => {
  const exp = new OTLPMetricExporter({ url: url() });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': `metricsvc-grpc-${id}` }),
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
  assert.deepEqual(attr(counter.resource.attributes, 'service.name'), { stringValue: `metricsvc-grpc-${id}` });
  assert.equal(counter.m.sum.isMonotonic, true);
  const dp = counter.m.sum.dataPoints[0];
  assert.equal(Number(dp.asDouble ?? dp.asInt), 5);
  assert.deepEqual(attr(dp.attributes, 'route'), { stringValue: '/a' });
  const hist = byName(`latency_${id}`).m.histogram.dataPoints[0];
  assert.equal(String(hist.count), '2');
  assert.equal(hist.sum, 10);
  assert.equal(hist.min, 3);
  assert.equal(hist.max, 7);
  const gauge = byName(`temp_${id}`).m.gauge.dataPoints[0];
  assert.equal(Number(gauge.asDouble ?? gauge.asInt), 21.5);
});

const traceJson = (name: string, extraResource: J[] = [], traceIdHex = randomBytes(16).toString('hex')) => ({
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'grpc-input' } }, ...extraResource] },
      scopeSpans: [
        {
          scope: { name: 's' },
          spans: [
            {
              traceId: traceIdHex,
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
const traceProto = (name: string, extraResource: J[] = []) =>
  Buffer.from(encodeProtobuf('traces', decodeJson('traces', traceJson(name, extraResource))));

/** A valid call still succeeds (the server survived what came before). */
async function stillServes(name: string): Promise<void> {
  const r = await exportCall(client(), 'traces', traceProto(name));
  assert.equal(r.code, grpc.status.OK, r.details);
}

test('bad protobuf → INVALID_ARGUMENT; partial success → OK with rejected_spans', { timeout: 60_000 }, async () => {
  const c = client();
  const bad = await exportCall(c, 'traces', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
  assert.equal(bad.code, grpc.status.INVALID_ARGUMENT);
  assert.ok(bad.details.length > 0);
  const badLogs = await exportCall(c, 'logs', Buffer.from('not protobuf: field 14 ends a group it never opened'));
  assert.equal(badLogs.code, grpc.status.INVALID_ARGUMENT);

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
              span(randomBytes(16), `gok1-${id}`),
              span(randomBytes(3), `gbad-${id}`),
              span(randomBytes(16), `gok2-${id}`),
            ],
          },
        ],
      },
    ],
  };
  const partial = await exportCall(c, 'traces', Buffer.from(encodeProtobuf('traces', req as never)));
  assert.equal(partial.code, grpc.status.OK, partial.details);
  assert.equal(decodeExportResponse('traces', 'protobuf', partial.response as Buffer).partialSuccess?.rejected, 1);
  const reqs = await readUntil(
    'traces',
    (r) => spansOf(r).filter((s) => s.span.name.startsWith('gok') && s.span.name.endsWith(id)).length >= 2,
  );
  assert.equal(spansOf(reqs).filter((s) => s.span.name === `gbad-${id}`).length, 0);
  await stillServes(`after-bad-${id}`);
});

test('max_recv_msg_size_mib: oversize message and gzip bomb → RESOURCE_EXHAUSTED without retry info', {
  timeout: 60_000,
}, async () => {
  const small = await grpcReceiver({ maxRecvMsgBytes: 64 * 1024 });
  const big = await exportCall(client(small), 'traces', Buffer.alloc(128 * 1024, 1));
  assert.equal(big.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.equal(big.retryAfterSeconds, undefined, 'oversize is not retryable');
  // 128 KiB of zeros compress to a few hundred bytes: the limit applies after decompression
  const gz = insecureClient(small, { 'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip });
  clients.push(gz);
  const bomb = await exportCall(gz, 'traces', Buffer.alloc(128 * 1024));
  assert.equal(bomb.code, grpc.status.RESOURCE_EXHAUSTED);
  // within the limit, compressed: accepted
  const ok = await exportCall(gz, 'traces', traceProto(`gz-small-${id}`));
  assert.equal(ok.code, grpc.status.OK, ok.details);
  await stillServes(`after-oversize-${id}`);
});

/** One HTTP/2 request with the given headers and body; resolves with :status and grpc-status. */
function http2Request(headers: Record<string, string>, body: Buffer): Promise<{ status: number; grpcStatus?: string }> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request({
      ':method': 'POST',
      ':path': '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      ...headers,
    });
    let status = 0;
    let grpcStatus: string | undefined;
    req.on('response', (h) => {
      status = Number(h[':status']);
      if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
    });
    req.on('trailers', (h) => {
      if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
    });
    req.on('error', reject);
    req.resume();
    req.on('close', () => {
      session.close();
      resolve({ status, ...(grpcStatus !== undefined ? { grpcStatus } : {}) });
    });
    req.end(body);
  });
}

test('wrong content-type → HTTP 415; garbage frames and raw bytes → an error status; server stays up', {
  timeout: 60_000,
}, async () => {
  const frame = (payload: Buffer, compressed = 0) => {
    const head = Buffer.alloc(5);
    head[0] = compressed;
    head.writeUInt32BE(payload.length, 1);
    return Buffer.concat([head, payload]);
  };
  const json = await http2Request({ 'content-type': 'application/json', te: 'trailers' }, Buffer.from('{}'));
  assert.equal(json.status, 415);

  // a valid frame of garbage protobuf: INVALID_ARGUMENT from the decoder
  const garbage = await http2Request(
    { 'content-type': 'application/grpc', te: 'trailers' },
    frame(Buffer.from('this is not protobuf at all')),
  );
  assert.equal(garbage.status, 200);
  assert.equal(garbage.grpcStatus, String(grpc.status.INVALID_ARGUMENT));
  // a frame flagged compressed without grpc-encoding (grpc-js reads it as is), and a truncated frame
  const flagged = await http2Request(
    { 'content-type': 'application/grpc', te: 'trailers' },
    frame(Buffer.from('this is not protobuf at all'), 1),
  );
  assert.equal(flagged.status, 200);
  assert.ok(flagged.grpcStatus !== undefined && flagged.grpcStatus !== String(grpc.status.OK), 'flagged frame refused');
  const truncated = await http2Request(
    { 'content-type': 'application/grpc', te: 'trailers' },
    frame(Buffer.from('this is not protobuf at all')).subarray(0, 20),
  );
  assert.ok(
    truncated.grpcStatus !== undefined && truncated.grpcStatus !== String(grpc.status.OK),
    'truncated frame refused',
  );
  // bytes that are not HTTP/2 at all: the connection is closed
  await new Promise<void>((resolve) => {
    const sock = netConnect(port, '127.0.0.1', () => sock.end(randomBytes(4096)));
    sock.on('error', () => resolve());
    sock.on('close', () => resolve());
    sock.resume();
  });
  await stillServes(`after-garbage-${id}`);
});

const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex');

test('API key in metadata: UNAUTHENTICATED without/with a wrong key; Bearer or x-api-key → OK, tenant stamped', {
  timeout: 60_000,
}, async () => {
  const p = await grpcReceiver({ auth: { keys: [{ sha256: sha256hex('gk1'), tenant: 'acme', name: 'gk1' }] } });
  const c = client(p);
  const body = traceProto(`gtenant-${id}`, [{ key: 'tenant.id', value: { stringValue: 'evil' } }]);
  assert.equal((await exportCall(c, 'traces', body)).code, grpc.status.UNAUTHENTICATED);
  assert.equal((await exportCall(c, 'traces', body, { 'x-api-key': 'nope' })).code, grpc.status.UNAUTHENTICATED);
  assert.equal(
    (await exportCall(c, 'traces', body, { authorization: 'Bearer nope' })).code,
    grpc.status.UNAUTHENTICATED,
  );
  const bearer = await exportCall(c, 'traces', body, { authorization: 'Bearer gk1' });
  assert.equal(bearer.code, grpc.status.OK, bearer.details);
  const header = await exportCall(c, 'traces', traceProto(`gtenant2-${id}`), { 'x-api-key': 'gk1' });
  assert.equal(header.code, grpc.status.OK, header.details);
  const reqs = await readUntil('traces', (r) => spansOf(r).some((s) => s.span.name === `gtenant-${id}`));
  const found = spansOf(reqs).find((s) => s.span.name === `gtenant-${id}`);
  assert.deepEqual(
    found.resource.attributes.filter((kv: J) => kv.key === 'tenant.id'),
    [{ key: 'tenant.id', value: { stringValue: 'acme' } }],
  );
});

test('HMAC signature in metadata over the uncompressed message: wrong → UNAUTHENTICATED, right → OK', {
  timeout: 60_000,
}, async () => {
  const secret = randomBytes(32);
  const p = await grpcReceiver({
    auth: { keys: [{ sha256: sha256hex('gk1'), tenant: 'acme' }], hmac: { header: 'x-sieve-signature', secret } },
  });
  const gz = insecureClient(p, { 'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip });
  clients.push(gz);
  const body = traceProto(`ghmac-${id}`);
  const missing = await exportCall(gz, 'traces', body, { 'x-api-key': 'gk1' });
  assert.equal(missing.code, grpc.status.UNAUTHENTICATED);
  const wrong = await exportCall(gz, 'traces', body, {
    'x-api-key': 'gk1',
    'x-sieve-signature': createHmac('sha256', randomBytes(32)).update(body).digest('hex'),
  });
  assert.equal(wrong.code, grpc.status.UNAUTHENTICATED);
  const right = await exportCall(gz, 'traces', body, {
    'x-api-key': 'gk1',
    'x-sieve-signature': createHmac('sha256', secret).update(body).digest('hex'),
  });
  assert.equal(right.code, grpc.status.OK, right.details);
});

test('no pipeline for a signal → UNIMPLEMENTED; memory limiter → RESOURCE_EXHAUSTED with RetryInfo', {
  timeout: 60_000,
}, async () => {
  const tracesOnly = await grpcReceiver({ pipelines: { traces: pipelines.traces } });
  const logs = await exportCall(client(tracesOnly), 'logs', Buffer.alloc(0));
  assert.equal(logs.code, grpc.status.UNIMPLEMENTED);

  // a limiter whose soft limit (limit - spike) is below any process's memory in use refuses everything
  const tight = { limitBytes: 2 * MiB, spikeLimitBytes: 1 * MiB, checkIntervalMs: 50 };
  const limited = await grpcReceiver({
    pipelines: {
      traces: { ...(pipelines.traces as NonNullable<SieveConfig['pipelines']['traces']>), memoryLimiter: tight },
    },
  });
  const refused = await exportCall(client(limited), 'traces', traceProto(`glimit-${id}`));
  assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.match(refused.details, /memory limit/);
  assert.equal(refused.retryAfterSeconds, 1, 'RESOURCE_EXHAUSTED from the limiter carries RetryInfo (retryable)');
  await stillServes(`after-limit-${id}`);
});
