import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfigText, loadSieveConfig } from '../../../src/config/load.js';
import { getAttribute } from '../../../src/otlp/anyvalue.js';
import type {
  AnyValue,
  ExportLogsServiceRequest,
  ExportTraceServiceRequest,
  KeyValue,
} from '../../../src/otlp/model.js';
import { createRedactionProcessor } from '../../../src/pipeline/redaction.js';

const KEY = 'test-key';
const env = { SIEVE_HASH_KEY: KEY };
const hmac = (v: string) => createHmac('sha256', KEY).update(v).digest('hex');
const s = (v: string): AnyValue => ({ stringValue: v });
const kv = (key: string, value: AnyValue | string): KeyValue => ({
  key,
  value: typeof value === 'string' ? s(value) : value,
});

function spanWith(attrs: KeyValue[]): ExportTraceServiceRequest {
  return {
    resourceSpans: [
      {
        resource: { attributes: [kv('service.name', 'api'), kv('user_id', 'u-res')] },
        scopeSpans: [{ scope: { name: 'sc' }, spans: [{ name: 'op', attributes: attrs }] }],
      },
    ],
  };
}
const spanAttrs = (r: ExportTraceServiceRequest) => r.resourceSpans?.[0]?.scopeSpans?.[0]?.spans?.[0]?.attributes ?? [];

test('default pipeline: the design documents’ names are hashed, credentials in any spelling deleted, without a custom config', () => {
  const cfg = loadSieveConfig('collector-config/sieve.yaml', { env });
  const p = cfg.pipelines.traces;
  assert.ok(p);
  const req = spanWith([
    kv('user_id', 'u-1001'),
    kv('user_email', 'jane@example.com'),
    kv('userId', 'u-1002'),
    kv('customer_email', 'x@example.org'),
    kv('client_ip', '203.0.113.9'),
    kv('user.id', 'u-1003'),
    kv('x-api-key', 'k-123'),
    kv('accessToken', 'tok'),
    kv('db.password', 'hunter2'),
    kv('email_verified', { boolValue: true }),
    kv('gen_ai.usage.input_tokens', { intValue: 1234 }),
    kv('gen_ai.request.model', 'gpt-4o-2024-08-06'),
    kv('gen_ai.provider.name', 'openai'),
  ]);
  const out = p.process(req).request;
  const a = spanAttrs(out);
  assert.deepEqual(getAttribute(a, 'user_id'), s(hmac('u-1001')));
  assert.deepEqual(getAttribute(a, 'user_email'), s(hmac('jane@example.com')));
  assert.deepEqual(getAttribute(a, 'userId'), s(hmac('u-1002')));
  assert.deepEqual(getAttribute(a, 'customer_email'), s(hmac('x@example.org')));
  assert.deepEqual(getAttribute(a, 'client_ip'), s(hmac('203.0.113.9')));
  assert.deepEqual(getAttribute(a, 'user.id'), s(hmac('u-1003')), 'hashed once, not twice');
  for (const k of ['x-api-key', 'accessToken', 'db.password']) assert.equal(getAttribute(a, k), undefined, k);
  assert.deepEqual(getAttribute(a, 'email_verified'), { boolValue: true });
  assert.deepEqual(getAttribute(a, 'gen_ai.usage.input_tokens'), { intValue: 1234 });
  assert.deepEqual(getAttribute(a, 'gen_ai.request.model'), s('gpt-4o-2024-08-06'));
  assert.deepEqual(getAttribute(a, 'gen_ai.provider.name'), s('openai'));
  const res = out.resourceSpans?.[0]?.resource?.attributes ?? [];
  assert.deepEqual(getAttribute(res, 'user_id'), s(hmac('u-res')), 'resource attributes too');
});

test('key rules reach maps inside values (structured log bodies); booleans are never identifiers or credentials; arrays hash element by element', () => {
  const p = createRedactionProcessor(
    'redaction/t',
    {
      allow_all_keys: true,
      identifier_keys: ['user.id', 'email'],
      credential_keys: ['password'],
      summary: 'debug',
      hash_function: 'hmac_sha256',
    },
    env,
  );
  const req: ExportLogsServiceRequest = {
    resourceLogs: [
      {
        scopeLogs: [
          {
            logRecords: [
              {
                body: {
                  kvlistValue: {
                    values: [
                      kv('msg', 'login'),
                      kv('userId', 'u-7'),
                      kv('password', 'pw'),
                      kv('has_password', { boolValue: true }),
                      kv('nested', { kvlistValue: { values: [kv('billing_email', 'b@example.com')] } }),
                    ],
                  },
                },
                attributes: [kv('user_ids', { arrayValue: { values: [s('a'), { intValue: 7 }] } })],
              },
            ],
          },
        ],
      },
    ],
  };
  const lr = p.logs?.(req).resourceLogs?.[0]?.scopeLogs?.[0]?.logRecords?.[0];
  const body = lr?.body?.kvlistValue?.values ?? [];
  assert.deepEqual(getAttribute(body, 'msg'), s('login'));
  assert.deepEqual(getAttribute(body, 'userId'), s(hmac('u-7')));
  assert.equal(getAttribute(body, 'password'), undefined);
  assert.deepEqual(getAttribute(body, 'has_password'), { boolValue: true });
  const nested = getAttribute(body, 'nested')?.kvlistValue?.values ?? [];
  assert.deepEqual(getAttribute(nested, 'billing_email'), s(hmac('b@example.com')));
  const attrs = lr?.attributes ?? [];
  assert.deepEqual(getAttribute(attrs, 'user_ids'), { arrayValue: { values: [s(hmac('a')), s(hmac('7'))] } });
  // the Collector's body summary: key paths as it writes them
  assert.deepEqual(getAttribute(attrs, 'redaction.body.masked.keys'), s('nested.billing_email,userId'));
  assert.deepEqual(getAttribute(attrs, 'redaction.body.masked.count'), { intValue: 2 });
  assert.deepEqual(getAttribute(attrs, 'redaction.body.redacted.keys'), s('password'));
  assert.deepEqual(getAttribute(attrs, 'redaction.body.redacted.count'), { intValue: 1 });
  assert.deepEqual(getAttribute(attrs, 'redaction.masked.keys'), s('user_ids'));
});

test('ignored_keys win over key rules; hash_function none masks identifiers', () => {
  const p = createRedactionProcessor(
    'redaction/t',
    { allow_all_keys: true, identifier_keys: ['user.id'], ignored_keys: ['user_id'], hash_function: 'none' },
    env,
  );
  const a = spanAttrs(p.traces?.(spanWith([kv('user_id', 'u-1'), kv('userId', 'u-2')])) as ExportTraceServiceRequest);
  assert.deepEqual(getAttribute(a, 'user_id'), s('u-1'));
  assert.deepEqual(getAttribute(a, 'userId'), s('****'));
});

test('the key lists are checked at load: a string instead of a list names file, line and key', () => {
  const text = readFileSync('collector-config/sieve.yaml', 'utf8').replace(
    /identifier_keys: \[[^\]]*\]/,
    'identifier_keys: user.id',
  );
  const dir = mkdtempSync(join(tmpdir(), 'sieve-keys-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, text);
  const r = loadConfigText(text, file, { env });
  assert.equal(r.config, undefined);
  const issue = r.issues.find((i) => i.path.endsWith('identifier_keys'));
  assert.ok(issue, JSON.stringify(r.issues));
  assert.equal(issue.file, file);
  assert.equal(issue.path, 'processors.redaction/pii.identifier_keys');
  assert.equal(text.split('\n')[issue.line - 1]?.includes('identifier_keys'), true);
});

test('a key rule without letters or digits is refused with its position', () => {
  const text = readFileSync('collector-config/sieve.yaml', 'utf8').replace(
    'credential_keys: [',
    "credential_keys: ['..', ",
  );
  const r = loadConfigText(text, 'sieve.yaml', { env });
  assert.equal(r.config, undefined);
  const issue = r.issues.find((i) => i.path === 'processors.redaction/pii.credential_keys[0]');
  assert.ok(issue, JSON.stringify(r.issues));
  assert.match(issue.message, /needs letters or digits/);
  assert.match(text.split('\n')[issue.line - 1] ?? '', /credential_keys/);
});
