// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Collector ${env:X} syntax under test
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { runScrub } from '../../../src/cli/scrub.js';
import { runValidate } from '../../../src/cli/validate.js';
import { loadConfigText, loadSieveConfig } from '../../../src/config/load.js';
import { ConfigHolder, watchConfig } from '../../../src/config/watch.js';

const env = { SIEVE_HASH_KEY: 'k' };
const base = readFileSync('src/config/testdata/minimal.yaml', 'utf8');
const issues = (text: string, e: NodeJS.ProcessEnv = env) => loadConfigText(text, 'c.yaml', { env: e }).issues;

test('minimal config gets Collector/Sieve defaults', () => {
  const c = loadSieveConfig('src/config/testdata/minimal.yaml', { env: {} });
  assert.deepEqual(c.receiver, {
    host: '0.0.0.0',
    port: 4318,
    maxRequestBodyBytes: 64 * 1024 * 1024,
  });
  const t = c.pipelines.traces;
  assert.deepEqual(t?.batch, {
    sendBatchSize: 8192,
    sendBatchMaxSize: 0,
    timeoutMs: 200,
  });
  assert.equal(t?.exporter.topic, 'otlp_spans');
  assert.deepEqual(t?.exporter.brokers, ['127.0.0.1:9092']);
  assert.equal(t?.exporter.requiredAcks, -1);
  assert.equal(t?.exporter.compression, 'gzip');
  assert.equal(t?.exporter.maxMessageBytes, 1000000);
  const c2 = loadConfigText(base, 'c.yaml', {
    env: { KAFKA_BROKERS: 'a:1,b:2' },
  }).config;
  assert.deepEqual(c2?.pipelines.traces?.exporter.brokers, ['a:1', 'b:2']);
});

test('env substitution: ${env:X}, ${X}, defaults, typed', () => {
  const text = base
    .replace('  batch:', '  batch:\n    send_batch_size: ${env:BS}\n    timeout: ${T:-1s}')
    .replace('  kafka:', '  kafka:\n    client_id: "${env:CID:-sieve-x}"');
  const c = loadConfigText(text, 'c.yaml', { env: { BS: '100' } }).config;
  assert.equal(c?.pipelines.traces?.batch?.sendBatchSize, 100);
  assert.equal(c?.pipelines.traces?.batch?.timeoutMs, 1000);
  assert.equal(c?.pipelines.traces?.exporter.clientId, 'sieve-x');
});

test('errors name file:line:column and key', () => {
  const broken = issues('receivers:\n  otlp: [\n');
  assert.equal(broken[0]?.file, 'c.yaml');
  assert.ok((broken[0]?.line ?? 0) >= 2);

  const unknown = issues(base.replace('  batch:', '  batch:\n  scrubber/x:\n    a: 1'));
  assert.deepEqual([unknown[0]?.line, unknown[0]?.column, unknown[0]?.path], [7, 3, 'processors.scrubber/x']);
  assert.match(unknown[0]?.message ?? '', /unknown processor type "scrubber"/);

  const badRe = issues(
    base.replace('  batch:', '  batch:\n  attributes/pii:\n    actions:\n      - { action: delete, pattern: "([a-z" }'),
  );
  assert.equal(badRe[0]?.path, 'processors.attributes/pii.actions[0].pattern');
  assert.equal(badRe[0]?.line, 9);
  assert.match(badRe[0]?.message ?? '', /bad regex/);

  const wrongType = issues(base.replace('  batch:', '  batch:\n    send_batch_size: lots'));
  assert.equal(wrongType[0]?.path, 'processors.batch.send_batch_size');
  assert.deepEqual([wrongType[0]?.line, wrongType[0]?.column], [7, 22]);

  const unknownKey = issues(base.replace('  batch:', '  batch:\n    sendbatchsize: 5'));
  assert.equal(unknownKey[0]?.path, 'processors.batch.sendbatchsize');
  assert.match(unknownKey[0]?.message ?? '', /unknown key/);

  const missing = issues(
    base.replace('  batch:', '  batch:\n  attributes:\n    actions:\n      - { action: insert, value: 1 }'),
  );
  assert.equal(missing[0]?.path, 'processors.attributes.actions[0].key');

  const notDefined = issues(base.replace('processors: [batch]', 'processors: [batch, attributes/pii]'));
  assert.equal(notDefined[0]?.path, 'service.pipelines.traces.processors[1]');
  assert.match(notDefined[0]?.message ?? '', /listed but not defined/);

  const ottl = issues(base.replace('  batch:', '  batch:\n  filter:\n    traces:\n      span: ["name ~~ 1"]'));
  assert.equal(ottl[0]?.path, 'processors.filter.traces.span[0]');

  const enc = issues(base.replace('  kafka:', '  kafka:\n    encoding: avro'));
  assert.equal(enc[0]?.path, 'exporters.kafka.encoding');
  assert.match(enc[0]?.message ?? '', /otlp_proto and otlp_json/);
  const debug = issues(base.replace('  kafka:', '  kafka:\n  debug:'));
  assert.match(debug[0]?.message ?? '', /not supported by Sieve/);

  const nokey = issues(
    base
      .replace('  batch:', '  batch:\n  attributes:\n    actions: [{ key: u, action: hash }]')
      .replace('[batch]', '[attributes, batch]'),
    {},
  );
  assert.match(nokey[0]?.message ?? '', /needs a key/);
});

test('the loader reads the exporters without the hash key or API keys; the receiver needs them', () => {
  assert.throws(() => loadSieveConfig('collector-config/sieve.yaml', { env: {} }), /needs a key/);
  const c = loadSieveConfig('collector-config/sieve.yaml', { env: { KAFKA_BROKERS: 'k1:9092' }, exportersOnly: true });
  assert.deepEqual(
    [c.pipelines.traces?.exporter.topic, c.pipelines.logs?.exporter.topic, c.pipelines.metrics?.exporter.topic],
    ['otlp_spans', 'otlp_logs', 'otlp_metrics'],
  );
  assert.deepEqual(c.pipelines.traces?.exporter.brokers, ['k1:9092']);
  // processors are still validated
  const bad = loadConfigText(
    base
      .replace('  batch:', '  batch:\n  attributes:\n    actions: [{ key: u, action: explode }]')
      .replace('[batch]', '[attributes, batch]'),
    'c.yaml',
    { env: {}, exportersOnly: true },
  ).issues;
  assert.match(bad[0]?.message ?? '', /expected one of "insert"/);
});

test('presets: sieve.yaml and ai-agents.yaml load; otelcol-* are Collector configs using Sieve topics/ports', () => {
  for (const f of ['sieve', 'ai-agents']) {
    const c = loadSieveConfig(`collector-config/${f}.yaml`, { env });
    assert.equal(c.receiver.port, 4318);
    assert.equal(c.pipelines.traces?.exporter.topic, 'otlp_spans');
    assert.equal(c.pipelines.logs?.exporter.topic, 'otlp_logs');
    assert.equal(c.pipelines.metrics?.exporter.topic, 'otlp_metrics');
  }
  const fwd = parse(readFileSync('collector-config/otelcol-forward-to-sieve.yaml', 'utf8'));
  assert.match(fwd.exporters.otlphttp.endpoint, /4318/);
  const rd = parse(readFileSync('collector-config/otelcol-read-sieve-kafka.yaml', 'utf8'));
  assert.deepEqual(
    [rd.receivers.kafka.traces.topic, rd.receivers.kafka.logs.topic, rd.receivers.kafka.metrics.topic],
    ['otlp_spans', 'otlp_logs', 'otlp_metrics'],
  );
  assert.equal(rd.receivers.kafka.traces.encoding, 'otlp_proto');
  const r = loadConfigText(readFileSync('collector-config/otelcol-read-sieve-kafka.yaml', 'utf8'), 'x.yaml', {
    env,
  }).issues;
  assert.ok(r.some((i) => /OpenTelemetry Collector config/.test(i.message)));
});

test('sieve validate exit codes', async () => {
  const sink = new PassThrough();
  assert.equal(await runValidate(['src/config/testdata/minimal.yaml'], sink, sink), 0);
  assert.equal(await runValidate(['collector-config/otelcol-forward-to-sieve.yaml'], sink, sink), 1);
});

test('sieve scrub reads OTLP JSON and prints scrubbed JSON', async () => {
  process.env.SIEVE_HASH_KEY = 'k';
  const stdin = new PassThrough();
  stdin.end(
    JSON.stringify({
      resourceLogs: [
        {
          scopeLogs: [{ logRecords: [{ body: { stringValue: 'mail bob@corp.io' } }] }],
        },
      ],
    }),
  );
  let out = '';
  const stdout = new PassThrough();
  stdout.on('data', (d) => {
    out += d;
  });
  assert.equal(await runScrub(['--config', 'collector-config/sieve.yaml'], stdin, stdout, new PassThrough()), 0);
  assert.ok(out.includes('resourceLogs'));
  assert.ok(!out.includes('bob@corp.io'));
});

test('hot reload: bad file keeps the old pipeline, good file swaps (rename-replace)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sieve-cfg-'));
  const file = join(dir, 'sieve.yaml');
  writeFileSync(file, base);
  const holder = new ConfigHolder(loadSieveConfig(file, { env }));
  const first = holder.current();
  const registry = new Registry();
  const errors: Error[] = [];
  const reloads: unknown[] = [];
  const w = watchConfig(file, {
    env,
    holder,
    registry,
    debounceMs: 50,
    onReload: (c) => reloads.push(c),
    onError: (e) => errors.push(e),
  });
  try {
    writeFileSync(file, `${base}\nbogus: [`);
    assert.equal(w.reload(), false);
    assert.equal(holder.current(), first);
    writeFileSync(`${file}.tmp`, base.replace('processors: [batch]', 'processors: []'));
    renameSync(`${file}.tmp`, file);
    await new Promise((r) => setTimeout(r, 400));
    assert.notEqual(holder.current(), first);
    assert.deepEqual(holder.current().pipelines.traces?.processorIds, []);
    const m = await registry.getSingleMetricAsString('sieve_config_reload_total');
    assert.match(m, /result="failure"} 1/);
    assert.match(m, /result="success"} [1-9]/);
    assert.ok(errors.length >= 1);
  } finally {
    w.close();
  }
});
