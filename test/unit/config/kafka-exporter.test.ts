// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Collector ${env:X} / ${file:X} syntax under test
/** The kafka exporter's Collector keys: topic/encoding forms, exporterhelper keys, tls and auth. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { runValidate } from '../../../src/cli/validate.js';
import { loadConfigText } from '../../../src/config/load.js';

const env = { SIEVE_HASH_KEY: 'k' };
const dir = mkdtempSync(join(tmpdir(), 'sieve-kafka-cfg-'));

/** A config with `exporter` as the kafka exporter's body (indented 4) and pipelines for `signals`. */
function config(exporter: string, signals = ['traces', 'metrics']): string {
  const body = exporter
    .trim()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
  return `receivers:
  otlp:
    protocols:
      http:
processors:
  batch:
exporters:
  kafka:
${body}
service:
  pipelines:
${signals.map((s) => `    ${s}:\n      receivers: [otlp]\n      processors: [batch]\n      exporters: [kafka]`).join('\n')}
`;
}
const load = (text: string, e: NodeJS.ProcessEnv = env) => loadConfigText(text, join(dir, 'c.yaml'), { env: e });

test("issue 12's exporter: the older top-level topic and `encoding: json` with retry_on_failure", () => {
  const r = load(
    config(`
brokers: [ "kafka:9092" ]
topic: agent_events_v1
encoding: json
retry_on_failure:
  enabled: true
  max_elapsed_time: 120s`),
  );
  assert.deepEqual(r.issues, []);
  const t = r.config?.pipelines.traces?.exporter;
  const m = r.config?.pipelines.metrics?.exporter;
  assert.deepEqual(
    [t?.topic, t?.encoding, m?.topic, m?.encoding],
    ['agent_events_v1', 'otlp_json', 'agent_events_v1', 'otlp_json'],
  );
  assert.deepEqual(t?.brokers, ['kafka:9092']);
  // the keys given, the Collector's defaults for the others
  assert.deepEqual(t?.retry, {
    enabled: true,
    initialIntervalMs: 5000,
    randomizationFactor: 0.5,
    multiplier: 1.5,
    maxIntervalMs: 30_000,
    maxElapsedMs: 120_000,
  });
  // accepted, with the difference said once (not once per pipeline), naming the line
  assert.equal(r.config?.warnings?.length, 1);
  assert.match(
    r.config?.warnings?.[0] ?? '',
    /c\.yaml:14:\d+: exporters\.kafka\.retry_on_failure\.max_elapsed_time: .*resend/,
  );
});

test('per-signal topic and encoding win over the top-level ones', () => {
  const r = load(
    config(
      `
topic: shared
encoding: otlp_json
traces:
  topic: spans_proto
  encoding: otlp_proto
logs:
  topic: logs_proto
  encoding: otlp_proto`,
      ['traces', 'logs', 'metrics'],
    ),
  );
  assert.deepEqual(r.issues, []);
  const p = r.config?.pipelines;
  assert.deepEqual([p?.traces?.exporter.topic, p?.traces?.exporter.encoding], ['spans_proto', 'otlp_proto']);
  assert.deepEqual([p?.logs?.exporter.topic, p?.logs?.exporter.encoding], ['logs_proto', 'otlp_proto']);
  assert.deepEqual([p?.metrics?.exporter.topic, p?.metrics?.exporter.encoding], ['shared', 'otlp_json']);
});

test('signals sharing a topic: allowed in otlp_json, refused in otlp_proto naming the key', () => {
  const proto = load(config('topic: agent_events_v1')).issues;
  assert.equal(proto.length, 1);
  assert.equal(proto[0]?.path, 'exporters.kafka.topic');
  assert.equal(proto[0]?.line, 9);
  assert.match(proto[0]?.message ?? '', /traces and metrics share topic "agent_events_v1" in otlp_proto.*otlp_json/);
  assert.deepEqual(load(config('topic: agent_events_v1\nencoding: otlp_json')).issues, []);
  // the default topics are distinct
  assert.deepEqual(load(config('')).issues, []);
});

test('sending_queue: disabled is silent, in memory is ignored with a warning, persistent is refused', () => {
  const off = load(config('sending_queue:\n  enabled: false'));
  assert.deepEqual([off.issues, off.config?.warnings], [[], undefined]);

  const mem = load(config('sending_queue:\n  num_consumers: 10\n  queue_size: 1000'));
  assert.deepEqual(mem.issues, []);
  assert.match(mem.config?.warnings?.[0] ?? '', /exporters\.kafka\.sending_queue: sending_queue is ignored: .*503/);

  const persistent = load(config('sending_queue:\n  enabled: true\n  storage: file_storage')).issues;
  assert.equal(persistent[0]?.path, 'exporters.kafka.sending_queue.storage');
  assert.equal(persistent[0]?.line, 11);
  assert.match(persistent[0]?.message ?? '', /acknowledges data before it is in Kafka/);

  const typo = load(config('sending_queue:\n  queue_sise: 5')).issues;
  assert.equal(typo[0]?.path, 'exporters.kafka.sending_queue.queue_sise');
  assert.match(typo[0]?.message ?? '', /unknown key/);
});

test('retry_on_failure: absent → one attempt; disabled; retry forever refused; keys checked; timeout per attempt', () => {
  const none = load(config('timeout: 2s'));
  assert.equal(none.config?.pipelines.traces?.exporter.retry, undefined);
  assert.equal(none.config?.pipelines.traces?.exporter.timeoutMs, 2000);

  const off = load(config('retry_on_failure:\n  enabled: false'));
  assert.equal(off.config?.pipelines.traces?.exporter.retry?.enabled, false);
  assert.equal(off.config?.warnings, undefined);

  const forever = load(config('retry_on_failure:\n  max_elapsed_time: 0')).issues;
  assert.equal(forever[0]?.path, 'exporters.kafka.retry_on_failure.max_elapsed_time');
  assert.match(forever[0]?.message ?? '', /retry forever/);

  const short = load(config('retry_on_failure:\n  initial_interval: 100ms\n  max_elapsed_time: 5s'));
  assert.equal(short.config?.warnings, undefined);
  assert.equal(short.config?.pipelines.metrics?.exporter.retry?.initialIntervalMs, 100);

  const bad = load(config('retry_on_failure:\n  multiplier: 0.5\n  max_elapsed: 1s')).issues;
  assert.deepEqual(bad.map((i) => i.path).sort(), [
    'exporters.kafka.retry_on_failure.max_elapsed',
    'exporters.kafka.retry_on_failure.multiplier',
  ]);
});

test('tls and auth.sasl: files read at load, secrets from env or ${file:…}, never in messages', () => {
  writeFileSync(join(dir, 'ca.pem'), 'CA PEM');
  writeFileSync(join(dir, 'client.pem'), 'CERT PEM');
  writeFileSync(join(dir, 'client.key'), 'KEY PEM');
  writeFileSync(join(dir, 'kafka-password'), '12345\n');
  const r = load(
    config(`
tls:
  ca_file: ca.pem
  cert_file: client.pem
  key_file: ${join(dir, 'client.key')}
  min_version: "1.2"
auth:
  sasl:
    mechanism: SCRAM-SHA-512
    username: \${env:KAFKA_USER}
    password: \${file:kafka-password}`),
    { ...env, KAFKA_USER: 'sieve' },
  );
  assert.deepEqual(r.issues, []);
  assert.deepEqual(r.config?.pipelines.traces?.exporter.security, {
    tls: {
      ca: 'CA PEM',
      cert: 'CERT PEM',
      key: 'KEY PEM',
      insecureSkipVerify: false,
      serverName: undefined,
      minVersion: '1.2',
      maxVersion: undefined,
      configKey: 'exporters.kafka.tls',
    },
    // a password of digits stays a string (file contents are not re-typed), its newline dropped
    sasl: { mechanism: 'scram-sha-512', username: 'sieve', password: '12345', configKey: 'exporters.kafka.auth.sasl' },
  });

  const older = load(
    config('auth:\n  tls:\n    insecure_skip_verify: true\n  plain_text:\n    username: u\n    password: p'),
  );
  assert.deepEqual(older.issues, []);
  const sec = older.config?.pipelines.traces?.exporter.security;
  assert.deepEqual(
    [sec?.tls?.insecureSkipVerify, sec?.tls?.configKey, sec?.sasl?.mechanism],
    [true, 'exporters.kafka.auth.tls', 'plain'],
  );
  assert.match(
    older.config?.warnings?.join('\n') ?? '',
    /insecure_skip_verify: the broker's certificate is not verified/,
  );

  // tls.insecure: true means plaintext (configtls)
  assert.equal(load(config('tls:\n  insecure: true')).config?.pipelines.traces?.exporter.security, undefined);
  // SASL PLAIN without TLS: accepted, with a warning
  const clear = load(config('auth:\n  sasl: { mechanism: PLAIN, username: u, password: hunter2 }'));
  assert.match(clear.config?.warnings?.[0] ?? '', /password in clear/);
  assert.ok(!clear.config?.warnings?.[0]?.includes('hunter2'));
});

test('tls/auth mistakes name the key and line; secrets never appear in messages', () => {
  const missing = load(config('tls:\n  ca_file: nope/ca.pem')).issues;
  assert.equal(missing[0]?.path, 'exporters.kafka.tls.ca_file');
  assert.equal(missing[0]?.line, 10);
  assert.match(missing[0]?.message ?? '', /cannot read .*nope\/ca\.pem: ENOENT/);

  const half = load(config('tls:\n  cert_file: client.pem')).issues;
  assert.match(half[0]?.message ?? '', /needs both cert_file and key_file/);

  const mech = load(config('auth:\n  sasl: { mechanism: GSSAPI, username: u, password: s3cr3t-value }')).issues;
  assert.equal(mech[0]?.path, 'exporters.kafka.auth.sasl.mechanism');
  assert.match(mech[0]?.message ?? '', /PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512/);

  const wrongType = load(config('auth:\n  sasl: { mechanism: PLAIN, username: u, password: [s3cr3t-value] }')).issues;
  assert.equal(wrongType[0]?.path, 'exporters.kafka.auth.sasl.password');
  for (const i of [...mech, ...wrongType]) assert.ok(!JSON.stringify(i).includes('s3cr3t-value'));

  const both = load(config('tls: {}\nauth:\n  tls: {}')).issues;
  assert.equal(both[0]?.path, 'exporters.kafka.auth.tls');

  const noFile = load(
    config('auth:\n  sasl: { mechanism: PLAIN, username: u, password: "${file:missing-secret}" }'),
  ).issues;
  assert.equal(noFile[0]?.line, 10);
  assert.match(noFile[0]?.message ?? '', /missing-secret\}: cannot read the file \(ENOENT\)/);
});

test('sieve validate prints warnings and still exits 0', async () => {
  const file = join(dir, 'warn.yaml');
  writeFileSync(file, config('sending_queue:\n  queue_size: 10'));
  let err = '';
  const e = new PassThrough();
  e.on('data', (d) => {
    err += d;
  });
  assert.equal(await runValidate([file], new PassThrough(), e), 0);
  assert.match(err, /^warning: .*warn\.yaml:10:\d+: exporters\.kafka\.sending_queue: sending_queue is ignored/m);
});

test('deployment defaults from KAFKA_TLS_* / KAFKA_SASL_* when the exporter has no tls or auth', () => {
  writeFileSync(join(dir, 'env-ca.pem'), 'ENV CA');
  writeFileSync(join(dir, 'env-password'), 'pw-from-file\n');
  const e = {
    ...env,
    KAFKA_TLS_CA_FILE: join(dir, 'env-ca.pem'),
    KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
    KAFKA_SASL_USERNAME: 'sieve',
    KAFKA_SASL_PASSWORD_FILE: join(dir, 'env-password'),
  };
  const r = load(config(''), e);
  assert.deepEqual(r.issues, []);
  const sec = r.config?.pipelines.traces?.exporter.security;
  assert.deepEqual(
    [sec?.tls?.ca, sec?.tls?.insecureSkipVerify, sec?.sasl?.mechanism, sec?.sasl?.password],
    ['ENV CA', false, 'scram-sha-512', 'pw-from-file'],
  );
  // the config's own keys win over the environment
  const own = load(config('auth:\n  sasl: { mechanism: PLAIN, username: u, password: p }\ntls: {}'), e);
  assert.deepEqual(own.config?.pipelines.traces?.exporter.security?.sasl?.username, 'u');
  // nothing set: plaintext
  assert.equal(load(config('')).config?.pipelines.traces?.exporter.security, undefined);
  // mistakes name the variable, never the password
  const bad = load(config(''), {
    ...env,
    KAFKA_SASL_MECHANISM: 'GSSAPI',
    KAFKA_SASL_PASSWORD: 'pw-in-env',
    KAFKA_TLS_CA_FILE: join(dir, 'nope.pem'),
  }).issues.map((i) => i.message);
  assert.ok(bad.some((m) => /KAFKA_TLS_CA_FILE=.*nope\.pem: cannot read the file \(ENOENT\)/.test(m)));
  assert.ok(bad.some((m) => /KAFKA_SASL_MECHANISM=GSSAPI/.test(m)));
  assert.ok(bad.some((m) => /needs KAFKA_SASL_USERNAME/.test(m)));
  assert.ok(!bad.join('\n').includes('pw-in-env'));
});

test('producer.compression_params.level: gzip levels as the Collector takes them; a bad level names the key', () => {
  const exporterOf = (producer: string) => load(config(`producer:\n${producer}`)).config?.pipelines.traces?.exporter;
  const fast = exporterOf('  compression: gzip\n  compression_params:\n    level: 1');
  assert.deepEqual([fast?.compression, fast?.compressionLevel], ['gzip', 1]);
  // gzip is Sieve's default codec; no level → zlib's default
  assert.equal(exporterOf('  compression_params: { level: 9 }')?.compressionLevel, 9);
  assert.equal(exporterOf('  required_acks: 1')?.compressionLevel, -1);
  assert.equal(exporterOf('  compression_params: { level: -2 }')?.compressionLevel, -2);
  // as the Collector: a level with no compression is not checked
  assert.deepEqual(load(config('producer:\n  compression: none\n  compression_params: { level: 42 }')).issues, []);

  for (const bad of ['level: 10', 'level: -3', 'level: 1.5']) {
    const issues = load(config(`producer:\n  compression: gzip\n  compression_params:\n    ${bad}`)).issues;
    assert.equal(issues[0]?.path, 'exporters.kafka.producer.compression_params.level', bad);
    assert.equal(issues[0]?.line, 12, bad);
    assert.match(issues[0]?.message ?? '', /level/, bad);
  }
  assert.match(
    load(config('producer:\n  compression_params: { level: 11 }')).issues[0]?.message ?? '',
    /unsupported gzip level 11: use 1 \(fastest\) to 9/,
  );
  const typo = load(config('producer:\n  compression_params: { levl: 1 }')).issues;
  assert.equal(typo[0]?.path, 'exporters.kafka.producer.compression_params.levl');
});

test('producer.compression: lz4 and snappy as in the Collector (no level), zstd and unknown codecs refused by name', () => {
  const exporterOf = (producer: string) => load(config(`producer:\n${producer}`)).config?.pipelines.traces?.exporter;
  for (const codec of ['lz4', 'snappy', 'none', 'gzip'])
    assert.equal(exporterOf(`  compression: ${codec}`)?.compression, codec, codec);
  // as the Collector: level 0 is "unset" for every codec
  assert.equal(exporterOf('  compression: lz4\n  compression_params: { level: 0 }')?.compression, 'lz4');
  for (const codec of ['lz4', 'snappy']) {
    const issues = load(config(`producer:\n  compression: ${codec}\n  compression_params: { level: 3 }`)).issues;
    assert.equal(issues[0]?.path, 'exporters.kafka.producer.compression_params.level', codec);
    assert.match(issues[0]?.message ?? '', new RegExp(`${codec} takes no compression level`), codec);
  }
  for (const codec of ['zstd', 'brotli']) {
    const issues = load(config(`producer:\n  compression: ${codec}`)).issues;
    assert.equal(issues[0]?.path, 'exporters.kafka.producer.compression', codec);
    assert.match(issues[0]?.message ?? '', /compression must be one of gzip, lz4, snappy, none/, codec);
  }
  // zstd: Sieve reads such topics, and the refusal says it cannot write them
  assert.match(
    load(config('producer:\n  compression: zstd')).issues[0]?.message ?? '',
    /reads zstd topics but cannot write them/,
  );
});
