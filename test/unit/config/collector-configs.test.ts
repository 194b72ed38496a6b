/**
 * Collector configs moved to Sieve (issue 12): the example agent config validates and does what it
 * says, transform statement errors name file, line, column and the statement, unknown components
 * say what Sieve offers instead, and a missing hash key hides no other error.
 */

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { runValidate } from '../../../src/cli/validate.js';
import { loadConfigText } from '../../../src/config/load.js';
import { getStringAttribute } from '../../../src/otlp/anyvalue.js';
import type { ExportTraceServiceRequest } from '../../../src/otlp/model.js';

const EXAMPLE = 'collector-config/examples/agent-events.yaml';
const exampleText = readFileSync(EXAMPLE, 'utf8');
const env = { SIEVE_HASH_KEY: 'example-key' };

test('the example agent config validates: gRPC and HTTP, otlp_json on one topic, retry_on_failure', () => {
  const r = loadConfigText(exampleText, EXAMPLE, { env });
  assert.deepEqual(r.issues, []);
  assert.equal(r.config?.receiver.grpc?.port, 4317);
  assert.equal(r.config?.pipelines.traces?.exporter.encoding, 'otlp_json');
  assert.equal(r.config?.pipelines.metrics?.exporter.topic, 'agent_events_v1');
});

test('the example agent config: transform names unnamed spans, attributes hashes user_id and deletes user_email', () => {
  const r = loadConfigText(exampleText, EXAMPLE, { env });
  assert.deepEqual(r.issues, []);
  const pipeline = r.config?.pipelines.traces;
  assert.ok(pipeline);
  assert.deepEqual(pipeline.processorIds, ['memory_limiter', 'attributes', 'transform', 'batch']);
  const req: ExportTraceServiceRequest = {
    resourceSpans: [
      {
        scopeSpans: [
          {
            spans: ['', 'already named'].map((name) => ({
              name,
              attributes: [
                { key: 'agent', value: { stringValue: 'planner' } },
                { key: 'route', value: { stringValue: '/v1/chat' } },
                { key: 'user_email', value: { stringValue: 'alice@example.com' } },
                { key: 'user_id', value: { stringValue: 'u-1' } },
              ],
            })),
          },
        ],
      },
    ],
  };
  const out = pipeline.process(req).request;
  const spans = out.resourceSpans?.[0]?.scopeSpans?.[0]?.spans ?? [];
  assert.deepEqual(
    spans.map((s) => s.name),
    ['planner:/v1/chat', 'already named'],
  );
  for (const s of spans) {
    assert.equal(getStringAttribute(s.attributes, 'user_email'), undefined);
    assert.equal(
      getStringAttribute(s.attributes, 'user_id'),
      createHmac('sha256', env.SIEVE_HASH_KEY).update('u-1').digest('hex'),
    );
  }
});

test('the statement as reported (Concat with three arguments) is refused at its line and column, saying how to write it', () => {
  const asReported = exampleText.replace(
    /- set\(name, Concat\(\[attributes\["agent"\], attributes\["route"\]\], ":"\)\)/,
    '- set(name, Concat(attributes["agent"], ":", attributes["route"]))',
  );
  const issue = loadConfigText(asReported, EXAMPLE, { env }).issues.find(
    (i) => i.path === 'processors.transform.traces[0]',
  );
  assert.ok(issue);
  const lines = asReported.split('\n');
  const line = lines.findIndex((l) => l.includes('- set(name, Concat(attributes')) + 1;
  assert.equal(issue.line, line);
  assert.equal(issue.column, (lines[line - 1] as string).indexOf('Concat(') + 1);
  assert.match(issue.message, /incorrect number of arguments\. Expected: 2 Received: 3/);
  assert.match(issue.message, /Concat\(\[a, b, …\], "delimiter"\)/);
  assert.ok(
    issue.message.includes('set(name, Concat(attributes["agent"], ":", attributes["route"])) where name == ""'),
  );
});

test('without a hash key, validate reports how to set one and every other error of the file', async () => {
  const text = exampleText
    .replace('action: delete', 'action: remove')
    .replace('where name == ""', 'where nme == ""')
    .replace('timeout: 2s', 'timeout: soon')
    .replace('processors:\n', 'processors:\n  span:\n    name:\n      from_attributes: [agent]\n');
  const r = loadConfigText(text, 'agent.yaml', { env: {} });
  const byPath = new Map(r.issues.map((i) => [i.path, i]));
  const hash = byPath.get('processors.attributes.actions[1].action');
  assert.ok(hash, 'the hash action is named');
  assert.match(hash.message, /SIEVE_HASH_KEY=<secret>/);
  assert.match(hash.message, /SIEVE_HASH_KEY_FILE=<file>/);
  assert.match(hash.message, /hash_key_env/);
  for (const path of [
    'processors.span',
    'processors.attributes.actions[0].action',
    'processors.transform.traces[0]',
    'processors.batch.timeout',
  ])
    assert.ok(byPath.has(path), `also reports ${path}: ${r.issues.map((i) => i.path).join(', ')}`);
  assert.match(byPath.get('processors.span')?.message ?? '', /instead: use transform/);
  // in file order
  const lines = r.issues.map((i) => i.line);
  assert.deepEqual(
    lines,
    [...lines].sort((a, b) => a - b),
  );

  const err = new PassThrough();
  const chunks: Buffer[] = [];
  err.on('data', (c: Buffer) => chunks.push(c));
  const saved = { key: process.env.SIEVE_HASH_KEY, file: process.env.SIEVE_HASH_KEY_FILE };
  delete process.env.SIEVE_HASH_KEY;
  delete process.env.SIEVE_HASH_KEY_FILE;
  try {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const f = join(mkdtempSync(join(tmpdir(), 'sieve-validate-')), 'agent.yaml');
    writeFileSync(f, text);
    assert.equal(await runValidate([f], new PassThrough(), err), 1);
    const out = Buffer.concat(chunks).toString();
    assert.ok(out.split('\n').filter(Boolean).length >= 5, out);
    assert.match(
      out,
      new RegExp(`${f}:\\d+:\\d+: processors\\.attributes\\.actions\\[1\\]\\.action: hashing needs a key`),
    );
  } finally {
    if (saved.key !== undefined) process.env.SIEVE_HASH_KEY = saved.key;
    if (saved.file !== undefined) process.env.SIEVE_HASH_KEY_FILE = saved.file;
  }
});

test('unknown Collector components fail naming the component and what Sieve offers instead', () => {
  const text = exampleText
    .replace('exporters:\n', 'exporters:\n  otlphttp:\n    endpoint: http://x\n')
    .replace('receivers:\n', 'receivers:\n  jaeger:\n    protocols: {}\n')
    .replace('processors:\n', 'processors:\n  tail_sampling:\n    policies: []\n');
  const issues = loadConfigText(text, 'c.yaml', { env }).issues;
  const msg = (p: string) => issues.find((i) => i.path === p)?.message ?? '';
  assert.match(
    msg('exporters.otlphttp'),
    /exporter "otlphttp" is not supported by Sieve.*instead: Sieve exports to Kafka only/,
  );
  assert.match(msg('receivers.jaeger'), /receiver "jaeger" is not supported.*instead: Sieve receives OTLP only/);
  assert.match(
    msg('processors.tail_sampling'),
    /unknown processor type "tail_sampling" \(supported: .*transform.*\).*Sieve does not sample/,
  );
});
