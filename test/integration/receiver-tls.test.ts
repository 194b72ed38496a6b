/**
 * OTLP over TLS, with certificates made by openssl at test time, against real Kafka:
 * - HTTPS: the real OTel JS exporter trusting a self-signed CA (OTEL_EXPORTER_OTLP_CERTIFICATE)
 *   delivers; plain HTTP to the TLS port and a client that does not trust the CA are refused;
 * - mTLS (client_ca_file): no client certificate or one from another CA is refused; a certificate
 *   listed under client_certs authenticates as its tenant (the real exporter with
 *   OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE/KEY); an unlisted one still needs an API key;
 * - rotation: new certificate files are served to new connections without a restart; a rotation
 *   caught half-written (certificate without its key) keeps the previous certificate;
 * - the same over gRPC: the OTel gRPC exporter with TLS credentials, mTLS, rotation.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { OTLPTraceExporter as OTLPTraceExporterGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OTLPTraceExporterProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { FastifyInstance } from 'fastify';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { KafkaExporter } from '../../src/kafka/exporter.js';
import { decodeJson, decodeProtobuf, encodeProtobuf, toOtlpJsonObject } from '../../src/otlp/codec.js';
import type { AuthSettings, SieveConfig, TlsServerSettings } from '../../src/pipeline/api.js';
import { createGrpcReceiver, GRPC_EXPORT_PATHS, type GrpcReceiver } from '../../src/receiver/grpc.js';
import { buildReceiver } from '../../src/receiver/http.js';
import { createIngestCore } from '../../src/receiver/ingest.js';
import { type CertFiles, makeCa, makeLeaf, servedFingerprint, waitForServedCert } from '../support/certs.js';
import { deleteTopics, ensureTopicsRetry, identityPipeline } from '../support/kafka-harness.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const id = randomBytes(4).toString('hex');
const topic = `sieve_tls_${id}_spans`;
const pipelines: SieveConfig['pipelines'] = {
  traces: identityPipeline('traces', { topic, clientId: 'tls', batchTimeoutMs: 20 }),
};
const dir = mkdtempSync(join(tmpdir(), 'sieve-tls-'));
const logger = pino({ level: 'silent' });
const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex');

// biome-ignore lint/suspicious/noExplicitAny: OTLP/JSON objects read back from Kafka
type J = any;

let exporter: KafkaExporter;
const apps: FastifyInstance[] = [];
const grpcs: GrpcReceiver[] = [];
let caA: CertFiles;
let caB: CertFiles;
let serverA: CertFiles;
let serverB: CertFiles;
let clientCa: CertFiles;
let clientMapped: CertFiles;
let clientUnmapped: CertFiles;
let clientOtherCa: CertFiles;

before(
  async () => {
    await ensureTopicsRetry([topic]);
    exporter = new KafkaExporter({ brokers, clientId: `tls-${id}`, logger, registry: new Registry() });
    await exporter.start();
    caA = makeCa(dir, 'ca-a');
    caB = makeCa(dir, 'ca-b');
    serverA = makeLeaf(dir, 'server-a', caA);
    serverB = makeLeaf(dir, 'server-b', caB);
    clientCa = makeCa(dir, 'client-ca');
    clientMapped = makeLeaf(dir, 'agent-a', clientCa, { client: true, uri: 'spiffe://acme/agent-a' });
    clientUnmapped = makeLeaf(dir, 'agent-z', clientCa, { client: true });
    const otherCa = makeCa(dir, 'other-ca');
    clientOtherCa = makeLeaf(dir, 'intruder', otherCa, { client: true, uri: 'spiffe://acme/agent-a' });
  },
  { timeout: 90_000 },
);

after(
  async () => {
    for (const a of apps) await a.close();
    for (const g of grpcs) await g.close();
    await exporter?.stop();
    await deleteTopics([topic]);
    rmSync(dir, { recursive: true, force: true });
  },
  { timeout: 60_000 },
);

/** Copies of `server`'s files at fresh paths (the receiver serves these; rotation overwrites them). */
function servedFiles(server: CertFiles, name: string): { certFile: string; keyFile: string } {
  const certFile = join(dir, `${name}.served.crt`);
  const keyFile = join(dir, `${name}.served.key`);
  copyFileSync(server.cert, certFile);
  copyFileSync(server.key, keyFile);
  return { certFile, keyFile };
}

function tlsSettings(files: { certFile: string; keyFile: string }, clientCaFile?: string): TlsServerSettings {
  return {
    key: 'receivers.otlp.protocols.http.tls',
    ...files,
    ...(clientCaFile !== undefined ? { clientCaFile } : {}),
    minVersion: 'TLSv1.2',
    reloadIntervalMs: 100,
  };
}

async function httpsReceiver(tls: TlsServerSettings, auth?: AuthSettings, registry = new Registry()): Promise<number> {
  const app = await buildReceiver({
    settings: { host: '127.0.0.1', port: 0, maxRequestBodyBytes: 1 << 20, tls, ...(auth ? { auth } : {}) },
    getPipelines: () => pipelines,
    exporter,
    logger,
    registry,
    dev: auth === undefined,
  });
  apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  assert.ok(addr !== null && typeof addr === 'object');
  return addr.port;
}

async function grpcTlsReceiver(tls: TlsServerSettings, auth?: AuthSettings): Promise<number> {
  const core = createIngestCore({
    settings: auth ? { auth } : {},
    getPipelines: () => pipelines,
    exporter,
    logger,
    registry: new Registry(),
    dev: auth === undefined,
  });
  const g = createGrpcReceiver({
    settings: {
      host: '127.0.0.1',
      port: 0,
      maxRecvMsgBytes: 1 << 20,
      tls: { ...tls, key: 'receivers.otlp.protocols.grpc.tls' },
    },
    core,
    logger,
  });
  grpcs.push(g);
  return g.listen();
}

const traceBody = (name: string) =>
  Buffer.from(
    encodeProtobuf(
      'traces',
      decodeJson('traces', {
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'tls-test' } }] },
            scopeSpans: [
              {
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
      }),
    ),
  );

/** POST /v1/traces over HTTPS on a new connection; resolves with the status or rejects on a TLS failure. */
function httpsPost(
  port: number,
  body: Buffer,
  tls: { ca?: string; cert?: string; key?: string },
  headers: Record<string, string> = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/traces',
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/x-protobuf', ...headers },
        ...(tls.ca !== undefined ? { ca: readFileSync(tls.ca) } : {}),
        ...(tls.cert !== undefined ? { cert: readFileSync(tls.cert) } : {}),
        ...(tls.key !== undefined ? { key: readFileSync(tls.key) } : {}),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error('no answer within 15 s')));
    req.end(body);
  });
}

async function readSpans(done: (spans: J[]) => boolean): Promise<J[]> {
  const consumer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).consumer({
    groupId: `tls-${id}-${randomBytes(4).toString('hex')}`,
  });
  const spans: J[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (!message.value) return;
      const r = toOtlpJsonObject('traces', decodeProtobuf('traces', message.value)) as J;
      for (const rs of r.resourceSpans ?? [])
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? []) spans.push({ ...s, resource: rs.resource });
    },
  });
  const deadline = Date.now() + 30_000;
  while (!done(spans) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await consumer.disconnect();
  assert.ok(done(spans), 'expected spans did not arrive in Kafka');
  return spans;
}
const tenantOf = (span: J) =>
  span.resource.attributes.find((kv: J) => kv.key === 'tenant.id')?.value?.stringValue as string | undefined;

/** Runs `make` with OTEL_EXPORTER_OTLP_* variables set (the exporters read them when constructed). */
function withEnv<T>(vars: Record<string, string>, make: () => T): T {
  Object.assign(process.env, vars);
  try {
    return make();
  } finally {
    for (const k of Object.keys(vars)) delete process.env[k];
  }
}

async function sendSpan(exp: ConstructorParameters<typeof SimpleSpanProcessor>[0]['exporter'], name: string) {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': `tls-${id}` }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: exp })],
  });
  provider.getTracer('tls').startSpan(name).end();
  await provider.forceFlush();
  await provider.shutdown();
}

test('HTTPS: the OTel exporter trusting the self-signed CA delivers; plain HTTP and untrusting clients refused', {
  timeout: 60_000,
}, async () => {
  const port = await httpsReceiver(tlsSettings(servedFiles(serverA, 'https')));
  const exp = withEnv(
    { OTEL_EXPORTER_OTLP_ENDPOINT: `https://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_CERTIFICATE: caA.cert },
    () => new OTLPTraceExporterProto(),
  );
  await sendSpan(exp, `https-${id}`);
  await readSpans((spans) => spans.some((s) => s.name === `https-${id}`));

  // plain HTTP to the TLS port: no HTTP answer, the connection is dropped
  await assert.rejects(
    new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/v1/traces', method: 'POST', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(traceBody(`plain-${id}`));
    }),
  );
  // a client that does not trust the CA
  await assert.rejects(httpsPost(port, traceBody(`untrusted-${id}`), {}), /self-signed|unable to verify|certificate/);
  assert.equal(await httpsPost(port, traceBody(`trusted-${id}`), { ca: caA.cert }), 200);
});

test('mTLS: no client certificate or one from another CA refused; a listed certificate authenticates as its tenant', {
  timeout: 60_000,
}, async () => {
  const auth: AuthSettings = {
    keys: [{ sha256: sha256hex('tls-k1'), tenant: 'keyed', name: 'tls-k1' }],
    clientCerts: [{ uri: 'spiffe://acme/agent-a', tenant: 'acme', name: 'agent-a' }],
  };
  const port = await httpsReceiver(tlsSettings(servedFiles(serverA, 'mtls'), clientCa.cert), auth);
  await assert.rejects(httpsPost(port, traceBody(`nocert-${id}`), { ca: caA.cert }));
  await assert.rejects(
    httpsPost(port, traceBody(`othercert-${id}`), { ca: caA.cert, cert: clientOtherCa.cert, key: clientOtherCa.key }),
  );
  // listed certificate: no API key needed, tenant from the mapping
  assert.equal(
    await httpsPost(port, traceBody(`mapped-${id}`), { ca: caA.cert, cert: clientMapped.cert, key: clientMapped.key }),
    200,
  );
  // a valid certificate that is not listed authenticates nobody: the API key decides
  const unmapped = { ca: caA.cert, cert: clientUnmapped.cert, key: clientUnmapped.key };
  assert.equal(await httpsPost(port, traceBody(`unmapped-${id}`), unmapped), 401);
  assert.equal(await httpsPost(port, traceBody(`unmapped-key-${id}`), unmapped, { 'x-api-key': 'tls-k1' }), 200);
  // the real exporter with a client certificate from the environment
  const exp = withEnv(
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: `https://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_CERTIFICATE: caA.cert,
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: clientMapped.cert,
      OTEL_EXPORTER_OTLP_CLIENT_KEY: clientMapped.key,
    },
    () => new OTLPTraceExporterProto(),
  );
  await sendSpan(exp, `mtls-sdk-${id}`);
  const spans = await readSpans((all) =>
    [`mapped-${id}`, `unmapped-key-${id}`, `mtls-sdk-${id}`].every((n) => all.some((s) => s.name === n)),
  );
  const byName = (n: string) => spans.find((s) => s.name === n);
  assert.equal(tenantOf(byName(`mapped-${id}`)), 'acme');
  assert.equal(tenantOf(byName(`mtls-sdk-${id}`)), 'acme');
  assert.equal(tenantOf(byName(`unmapped-key-${id}`)), 'keyed');
  assert.equal(spans.filter((s) => s.name === `nocert-${id}` || s.name === `othercert-${id}`).length, 0);
});

test('HTTPS certificate rotation without restart; a half-written rotation keeps the previous certificate', {
  timeout: 90_000,
}, async () => {
  const files = servedFiles(serverA, 'rotate');
  const registry = new Registry();
  const port = await httpsReceiver(tlsSettings(files), undefined, registry);
  assert.equal(await servedFingerprint(port), serverA.fingerprint);
  const failures = async () => {
    const line = (await registry.metrics())
      .split('\n')
      .find((l) => l.startsWith('sieve_receiver_file_reloads_total{file="http_tls",result="failure"}'));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  };

  // the new certificate arrives before its key: they do not match, the old pair keeps serving
  copyFileSync(serverB.cert, files.certFile);
  const deadline = Date.now() + 30_000;
  while ((await failures()) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.ok((await failures()) > 0, 'the mismatched pair was not noticed');
  assert.equal(await servedFingerprint(port), serverA.fingerprint);
  assert.equal(await httpsPost(port, traceBody(`during-${id}`), { ca: caA.cert }), 200);

  copyFileSync(serverB.key, files.keyFile);
  await waitForServedCert(port, serverB.fingerprint);
  assert.equal(await httpsPost(port, traceBody(`rotated-${id}`), { ca: caB.cert }), 200);
  await assert.rejects(httpsPost(port, traceBody(`old-ca-${id}`), { ca: caA.cert }));
});

/** One Export call over a TLS channel; resolves with the gRPC status code. */
function grpcTlsCall(port: number, creds: grpc.ChannelCredentials, name: string): Promise<grpc.status> {
  const client = new grpc.Client(`127.0.0.1:${port}`, creds, { 'grpc.use_local_subchannel_pool': 1 });
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      GRPC_EXPORT_PATHS.traces,
      (b: Buffer) => b,
      (b: Buffer) => b,
      traceBody(name),
      new grpc.Metadata(),
      { deadline: Date.now() + 15_000 },
      (err) => {
        client.close();
        resolve(err === null ? grpc.status.OK : err.code);
      },
    );
  });
}

test('gRPC over TLS: the OTel gRPC exporter with TLS credentials delivers; mTLS tenant mapping; rotation', {
  timeout: 90_000,
}, async () => {
  const files = servedFiles(serverA, 'grpc');
  const port = await grpcTlsReceiver(tlsSettings(files, clientCa.cert), {
    keys: [],
    clientCerts: [{ uri: 'spiffe://acme/agent-a', tenant: 'acme' }],
  });
  const read = (f: string) => readFileSync(f);
  const exp = new OTLPTraceExporterGrpc({
    url: `https://127.0.0.1:${port}`,
    credentials: grpc.credentials.createSsl(read(caA.cert), read(clientMapped.key), read(clientMapped.cert)),
  });
  await sendSpan(exp, `grpc-tls-${id}`);
  const spans = await readSpans((all) => all.some((s) => s.name === `grpc-tls-${id}`));
  assert.equal(tenantOf(spans.find((s) => s.name === `grpc-tls-${id}`)), 'acme');

  // plaintext, no client certificate, an unlisted certificate
  assert.equal(await grpcTlsCall(port, grpc.credentials.createInsecure(), `g-plain-${id}`), grpc.status.UNAVAILABLE);
  assert.equal(
    await grpcTlsCall(port, grpc.credentials.createSsl(read(caA.cert)), `g-nocert-${id}`),
    grpc.status.UNAVAILABLE,
  );
  assert.equal(
    await grpcTlsCall(
      port,
      grpc.credentials.createSsl(read(caA.cert), read(clientUnmapped.key), read(clientUnmapped.cert)),
      `g-unmapped-${id}`,
    ),
    grpc.status.UNAUTHENTICATED,
  );

  // rotation
  copyFileSync(serverB.key, files.keyFile);
  copyFileSync(serverB.cert, files.certFile);
  await waitForServedCert(port, serverB.fingerprint, ['h2']);
  assert.equal(
    await grpcTlsCall(
      port,
      grpc.credentials.createSsl(read(caB.cert), read(clientMapped.key), read(clientMapped.cert)),
      `g-rotated-${id}`,
    ),
    grpc.status.OK,
  );
});
