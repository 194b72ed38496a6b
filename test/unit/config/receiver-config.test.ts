/**
 * `receivers.otlp.protocols.grpc`, the `tls:` blocks and `apikeyauth.client_certs`: defaults as the
 * Collector's, and every mistake (missing or mismatched certificate files, a bad TLS version, an
 * unknown key) reported at load with file, line and key. Certificates are made with openssl.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfigText } from '../../../src/config/load.js';
import { withTlsFromEnv } from '../../../src/config/receiver-settings.js';
import { type CertFiles, makeCa, makeLeaf } from '../../support/certs.js';

const dir = mkdtempSync(join(tmpdir(), 'sieve-recvcfg-'));
const file = join(dir, 'c.yaml');
let ca: CertFiles;
let server: CertFiles;

before(() => {
  ca = makeCa(dir, 'ca');
  server = makeLeaf(dir, 'server', ca);
  makeLeaf(dir, 'other', ca); // other.key: a key that is not server.crt's
});
after(() => rmSync(dir, { recursive: true, force: true }));

const tail = `processors:
  batch:
exporters:
  kafka:
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [kafka]
`;
const load = (protocols: string, extra = '') =>
  loadConfigText(`receivers:\n  otlp:\n    protocols:\n${protocols}${extra}${tail}`, file, { env: {} });

test('grpc: absent → no gRPC server; empty → 0.0.0.0:4317 with 4 MiB; keys as the Collector writes them', () => {
  assert.equal(load('      http:\n').config?.receiver.grpc, undefined);
  assert.deepEqual(load('      http:\n      grpc:\n').config?.receiver.grpc, {
    host: '0.0.0.0',
    port: 4317,
    maxRecvMsgBytes: 4 * 1024 * 1024,
  });
  const full = load(
    `      http:
      grpc:
        endpoint: 127.0.0.1:14317
        max_recv_msg_size_mib: 16
        max_concurrent_streams: 100
        read_buffer_size: 524288
        keepalive:
          server_parameters: { max_connection_age: 60s, time: 30s }
`,
  ).config?.receiver.grpc;
  assert.deepEqual(full, {
    host: '127.0.0.1',
    port: 14317,
    maxRecvMsgBytes: 16 * 1024 * 1024,
    maxConcurrentStreams: 100,
    keepalive: { timeMs: 30_000, maxConnectionAgeMs: 60_000 },
  });
});

test('grpc mistakes name line and key: unknown key, bad endpoint, same port as http', () => {
  const unknown = load('      http:\n      grpc:\n        endpoint: 0.0.0.0:4317\n        compression: gzip\n').issues;
  assert.deepEqual(
    unknown.map((i) => [i.line, i.path]),
    [[7, 'receivers.otlp.protocols.grpc.compression']],
  );
  const endpoint = load('      http:\n      grpc:\n        endpoint: localhost\n').issues;
  assert.equal(endpoint[0]?.path, 'receivers.otlp.protocols.grpc.endpoint');
  assert.match(endpoint[0]?.message ?? '', /host:port/);
  const same = load(
    '      http:\n        endpoint: 0.0.0.0:4318\n      grpc:\n        endpoint: 0.0.0.0:4318\n',
  ).issues;
  assert.equal(same[0]?.path, 'receivers.otlp.protocols.grpc.endpoint');
});

const tlsBlock = (indent: string, lines: string[]) =>
  `${indent}tls:\n${lines.map((l) => `${indent}  ${l}\n`).join('')}`;

test('tls: files read at load; paths relative to the config file; min_version default 1.2', () => {
  const cfg = load(
    `      http:\n${tlsBlock('        ', ['cert_file: server.crt', 'key_file: server.key', 'client_ca_file: ca.crt', 'min_version: "1.3"'])}      grpc:\n${tlsBlock('        ', ['cert_file: server.crt', 'key_file: server.key'])}`,
  );
  assert.deepEqual(cfg.issues, []);
  const http = cfg.config?.receiver.tls;
  assert.equal(http?.certFile, server.cert);
  assert.equal(http?.keyFile, server.key);
  assert.equal(http?.clientCaFile, ca.cert);
  assert.equal(http?.minVersion, 'TLSv1.3');
  assert.equal(cfg.config?.receiver.grpc?.tls?.minVersion, 'TLSv1.2');
  assert.equal(cfg.config?.receiver.grpc?.tls?.clientCaFile, undefined);
});

test('tls mistakes fail at load naming the key: missing file, key of another certificate, bad version, not a CA', () => {
  const http = (lines: string[]) => load(`      http:\n${tlsBlock('        ', lines)}`).issues;
  const missing = http(['cert_file: nope.crt', 'key_file: server.key']);
  assert.equal(missing.length, 1);
  assert.equal(missing[0]?.path, 'receivers.otlp.protocols.http.tls.cert_file');
  assert.equal(missing[0]?.line, 6);
  assert.match(missing[0]?.message ?? '', /cannot read .*nope\.crt/);

  const mismatch = http(['cert_file: server.crt', 'key_file: other.key']);
  assert.equal(mismatch[0]?.path, 'receivers.otlp.protocols.http.tls.key_file');
  assert.match(mismatch[0]?.message ?? '', /does not match the certificate/);

  const version = http(['cert_file: server.crt', 'key_file: server.key', 'min_version: "1.5"']);
  assert.equal(version[0]?.path, 'receivers.otlp.protocols.http.tls.min_version');
  assert.match(version[0]?.message ?? '', /"1.0", "1.1", "1.2" or "1.3"/);

  writeFileSync(join(dir, 'garbage.pem'), 'not a certificate\n');
  const ca = http(['cert_file: server.crt', 'key_file: server.key', 'client_ca_file: garbage.pem']);
  assert.equal(ca[0]?.path, 'receivers.otlp.protocols.http.tls.client_ca_file');

  const notKey = http(['cert_file: server.crt', 'key_file: server.crt']);
  assert.equal(notKey[0]?.path, 'receivers.otlp.protocols.http.tls.key_file');
  // the message says what the file is not, never what it contains
  assert.doesNotMatch(notKey[0]?.message ?? '', /BEGIN/);

  const grpc = load(`      http:\n      grpc:\n${tlsBlock('        ', ['cert_file: server.crt'])}`).issues;
  assert.equal(grpc[0]?.path, 'receivers.otlp.protocols.grpc.tls.key_file');
});

test('the loader (exportersOnly) does not need the receiver certificates', () => {
  const text = `receivers:\n  otlp:\n    protocols:\n      http:\n${tlsBlock('        ', ['cert_file: absent.crt', 'key_file: absent.key'])}${tail}`;
  assert.deepEqual(loadConfigText(text, file, { env: {}, exportersOnly: true }).issues, []);
});

test('auth: one authenticator for both protocols; client_certs entries need exactly one match field', () => {
  const keys = join(dir, 'keys.yaml');
  writeFileSync(keys, '[]\n');
  const ext = (body: string) => `extensions:\n  apikeyauth:\n${body}`;
  const svc = (text: string) => text.replace('service:\n', 'service:\n  extensions: [apikeyauth]\n');
  const grpcOnly = loadConfigText(
    svc(
      `receivers:\n  otlp:\n    protocols:\n      http:\n      grpc:\n        auth: { authenticator: apikeyauth }\n${ext(`    keys_file: ${keys}\n    client_certs:\n      - { uri: spiffe://acme/a, tenant: acme }\n`)}${tail}`,
    ),
    file,
    { env: {} },
  );
  assert.deepEqual(grpcOnly.issues, []);
  assert.equal(grpcOnly.config?.receiver.auth?.keysFile, keys);
  assert.deepEqual(grpcOnly.config?.receiver.auth?.clientCerts, [{ tenant: 'acme', uri: 'spiffe://acme/a' }]);

  const twoFields = loadConfigText(
    svc(
      `receivers:\n  otlp:\n    protocols:\n      http:\n        auth: { authenticator: apikeyauth }\n${ext('    client_certs:\n      - { uri: spiffe://acme/a, common_name: a, tenant: acme }\n')}${tail}`,
    ),
    file,
    { env: {} },
  ).issues;
  assert.equal(twoFields[0]?.path, 'extensions.apikeyauth.client_certs[0]');
  assert.match(twoFields[0]?.message ?? '', /exactly one of common_name, dns_name, uri, sha256/);
});

test('SIEVE_OTLP_TLS_* give both listeners TLS when the file has none; errors name the variable', () => {
  const cfg = load('      http:\n      grpc:\n').config;
  assert.ok(cfg !== undefined);
  const env = { SIEVE_OTLP_TLS_CERT_FILE: server.cert, SIEVE_OTLP_TLS_KEY_FILE: server.key };
  const tls = withTlsFromEnv(cfg, env).receiver;
  assert.equal(tls.tls?.certFile, server.cert);
  assert.equal(tls.grpc?.tls?.keyFile, server.key);
  assert.equal(tls.tls?.clientCaFile, undefined);
  assert.equal(
    withTlsFromEnv(cfg, { ...env, SIEVE_OTLP_TLS_CLIENT_CA_FILE: ca.cert }).receiver.grpc?.tls?.clientCaFile,
    ca.cert,
  );
  assert.equal(withTlsFromEnv(cfg, {}), cfg);
  assert.throws(() => withTlsFromEnv(cfg, { SIEVE_OTLP_TLS_CERT_FILE: server.cert }), /must be set together/);
  assert.throws(
    () => withTlsFromEnv(cfg, { ...env, SIEVE_OTLP_TLS_KEY_FILE: join(dir, 'absent.key') }),
    /^Error: SIEVE_OTLP_TLS_KEY_FILE: cannot read .*absent\.key/,
  );
});
