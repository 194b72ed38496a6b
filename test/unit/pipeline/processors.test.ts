import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { test } from 'node:test';
import { loadSieveConfig } from '../../../src/config/load.js';
import { getAttribute, getStringAttribute } from '../../../src/otlp/anyvalue.js';
import { decodeProtobuf, encodeProtobuf } from '../../../src/otlp/codec.js';
import type {
  AnyValue,
  ExportLogsServiceRequest,
  ExportMetricsServiceRequest,
  ExportTraceServiceRequest,
  KeyValue,
  Span,
} from '../../../src/otlp/model.js';
import { type ActionConfig, createAttributesProcessor } from '../../../src/pipeline/attributes.js';
import { buildSignalPipeline } from '../../../src/pipeline/build.js';
import { createFilterProcessor } from '../../../src/pipeline/filter.js';
import { createRedactionProcessor } from '../../../src/pipeline/redaction.js';
import { createResourceProcessor } from '../../../src/pipeline/resource.js';

const KEY = 'test-key';
const env = { SIEVE_HASH_KEY: KEY };
const hmac = (v: string) => createHmac('sha256', KEY).update(v).digest('hex');
const s = (v: string) => ({ stringValue: v });
const kv = (key: string, v: string): KeyValue => ({ key, value: s(v) });

function traces(
  attrs: KeyValue[],
  name = 'GET /x',
  res: KeyValue[] = [kv('service.name', 'api')],
): ExportTraceServiceRequest {
  return {
    resourceSpans: [
      {
        resource: { attributes: res },
        scopeSpans: [
          {
            scope: { name: 'sc' },
            spans: [{ name, attributes: attrs, status: { code: 0 } }],
          },
        ],
      },
    ],
  };
}
const span0 = (r: ExportTraceServiceRequest) => r.resourceSpans?.[0]?.scopeSpans?.[0]?.spans?.[0];

test('attributes actions: insert update upsert delete hash extract convert', () => {
  const p = createAttributesProcessor(
    'attributes/t',
    {
      hash_function: 'hmac_sha256',
      actions: [
        { key: 'a', action: 'insert', value: 'new' },
        { key: 'keep', action: 'insert', value: 'no' },
        { key: 'keep', action: 'update', value: 'upd' },
        { key: 'missing', action: 'update', value: 'x' },
        { key: 'copy', action: 'upsert', from_attribute: 'keep' },
        { key: 'secret', action: 'delete' },
        { pattern: '^tmp\\.', action: 'delete' },
        { key: 'user.id', action: 'hash' },
        {
          key: 'url',
          action: 'extract',
          pattern: '^/users/(?<uid>\\d+)/orders/(?<oid>\\d+)$',
        },
        { key: 'n', action: 'convert', converted_type: 'int' },
        { key: 'ctx', action: 'upsert', from_context: 'metadata.x' },
      ],
    },
    env,
  );
  const r = p.traces?.(
    traces([
      kv('keep', 'old'),
      kv('secret', 's'),
      kv('tmp.x', '1'),
      kv('user.id', 'u1'),
      kv('url', '/users/7/orders/9'),
      kv('n', '42'),
    ]),
  );
  const a = span0(r as ExportTraceServiceRequest)?.attributes;
  assert.equal(getStringAttribute(a, 'a'), 'new');
  assert.equal(getStringAttribute(a, 'keep'), 'upd');
  assert.equal(getAttribute(a, 'missing'), undefined);
  assert.equal(getStringAttribute(a, 'copy'), 'upd');
  assert.equal(getAttribute(a, 'secret'), undefined);
  assert.equal(getAttribute(a, 'tmp.x'), undefined);
  assert.equal(getStringAttribute(a, 'user.id'), hmac('u1'));
  assert.equal(getStringAttribute(a, 'uid'), '7');
  assert.equal(getStringAttribute(a, 'oid'), '9');
  assert.deepEqual(getAttribute(a, 'n'), { intValue: 42 });
  assert.equal(getAttribute(a, 'ctx'), undefined);
});

test('attribute patterns see an empty key as \'\', as the Collector does (not as "undefined")', () => {
  // key "" is left off the wire (proto3): the receiver decodes what an SDK sends for it
  const received = () => decodeProtobuf('traces', encodeProtobuf('traces', traces([kv('', 'v'), kv('user', 'u')])));
  const run = (actions: ActionConfig[]) =>
    span0(createAttributesProcessor('attributes/e', { actions }, env).traces?.(received()) as ExportTraceServiceRequest)
      ?.attributes;
  const notEmpty = run([{ pattern: '^u', action: 'delete' }]);
  assert.deepEqual(notEmpty, [kv('', 'v')]);
  const empty = run([{ pattern: '^$', action: 'hash' }]);
  assert.deepEqual(empty, [kv('', hmac('v')), kv('user', 'u')]);
});

test('sha256 hash matches the Collector; include/exclude select spans', () => {
  const p = createAttributesProcessor('attributes/s', {
    hash_function: 'sha256',
    include: {
      match_type: 'regexp',
      services: ['^api$'],
      span_names: ['^GET'],
    },
    exclude: {
      match_type: 'strict',
      attributes: [{ key: 'skip', value: 'yes' }],
    },
    actions: [{ key: 'user.id', action: 'hash' }],
  });
  const r1 = p.traces?.(traces([kv('user.id', 'u1')])) as ExportTraceServiceRequest;
  assert.equal(getStringAttribute(span0(r1)?.attributes, 'user.id'), createHash('sha256').update('u1').digest('hex'));
  const r2 = p.traces?.(traces([kv('user.id', 'u1')], 'POST /x')) as ExportTraceServiceRequest;
  assert.equal(getStringAttribute(span0(r2)?.attributes, 'user.id'), 'u1');
  const r3 = p.traces?.(traces([kv('user.id', 'u1'), kv('skip', 'yes')])) as ExportTraceServiceRequest;
  assert.equal(getStringAttribute(span0(r3)?.attributes, 'user.id'), 'u1');
});

test('hmac without key fails loudly; key_id prefixes the hash', () => {
  assert.throws(() => createAttributesProcessor('a', { actions: [{ key: 'x', action: 'hash' }] }, {}), /needs a key/);
  const p = createAttributesProcessor('a', { key_id: 'k2', actions: [{ key: 'x', action: 'hash' }] }, env);
  const r = p.traces?.(traces([kv('x', 'v')])) as ExportTraceServiceRequest;
  assert.equal(getStringAttribute(span0(r)?.attributes, 'x'), `k2:${hmac('v')}`);
});

test('resource processor', () => {
  const p = createResourceProcessor('resource', {
    attributes: [
      { key: 'env', action: 'upsert', value: 'prod' },
      { key: 'host.ip', action: 'delete' },
    ],
  });
  const r = p.traces?.(traces([], 'x', [kv('host.ip', '10.0.0.1')])) as ExportTraceServiceRequest;
  const ra = r.resourceSpans?.[0]?.resource?.attributes;
  assert.equal(getStringAttribute(ra, 'env'), 'prod');
  assert.equal(getAttribute(ra, 'host.ip'), undefined);
});

test('redaction: Collector keys, nested values, summary, mask', () => {
  const p = createRedactionProcessor(
    'redaction',
    {
      allowed_keys: ['msg', 'nested', 'password', 'ok'],
      ignored_keys: ['ign'],
      blocked_key_patterns: ['^password$'],
      blocked_values: ['4[0-9]{12}(?:[0-9]{3})?'],
      allowed_values: ['@example\\.com$'],
      detectors: ['email'],
      summary: 'debug',
      hash_function: 'none',
    },
    {},
  );
  const attrs: KeyValue[] = [
    kv('msg', 'card 4111111111111111 from bob@corp.io'),
    {
      key: 'nested',
      value: {
        arrayValue: {
          values: [s('x alice@corp.io'), { kvlistValue: { values: [kv('e', 'carol@corp.io')] } }],
        },
      },
    },
    kv('password', 'hunter2'),
    kv('ok', 'dev@example.com'),
    kv('ign', 'eve@corp.io'),
    kv('dropme', 'x'),
  ];
  const r = p.traces?.(traces(attrs)) as ExportTraceServiceRequest;
  const a = span0(r)?.attributes;
  assert.equal(getStringAttribute(a, 'msg'), 'card **** from ****');
  assert.match(JSON.stringify(getAttribute(a, 'nested')), /x \*\*\*\*.*"\*\*\*\*"/);
  assert.equal(getStringAttribute(a, 'password'), '****');
  assert.equal(getStringAttribute(a, 'ok'), 'dev@example.com');
  assert.equal(getStringAttribute(a, 'ign'), 'eve@corp.io');
  assert.equal(getAttribute(a, 'dropme'), undefined);
  assert.equal(getStringAttribute(a, 'redaction.redacted.keys'), 'dropme');
  assert.deepEqual(getAttribute(a, 'redaction.redacted.count'), {
    intValue: 1,
  });
  assert.deepEqual(getAttribute(a, 'redaction.ignored.count'), { intValue: 1 });
});

test('filter: OTTL and legacy forms drop, count and prune', () => {
  const f = createFilterProcessor('filter', {
    traces: {
      span: ['attributes["http.route"] == "/health"', 'status.code == STATUS_CODE_ERROR and IsMatch(name, "^db")'],
    },
    logs: { log_record: ['severity_number < SEVERITY_NUMBER_WARN'] },
    metrics: {
      metric: ['name == "drop.me"'],
      datapoint: ['attributes["x"] == "y"'],
    },
  });
  const req: ExportTraceServiceRequest = {
    resourceSpans: [
      {
        scopeSpans: [{ spans: [{ name: 'a', attributes: [kv('http.route', '/health')] }] }],
      },
      {
        scopeSpans: [
          {
            spans: [
              { name: 'db.q', status: { code: 2 } },
              { name: 'db.q', status: { code: 1 } },
              { name: 'http', status: { code: 2 } },
            ],
          },
        ],
      },
    ],
  };
  const pipe = buildSignalPipeline({
    signal: 'traces',
    id: 'traces',
    processorIds: ['filter'],
    processors: [f],
    exporter: {} as never,
  });
  const r = pipe.process(req);
  assert.equal(r.droppedItems, 2);
  assert.equal(r.request.resourceSpans?.length, 1);
  assert.equal(r.request.resourceSpans?.[0]?.scopeSpans?.[0]?.spans?.length, 2);
  const logs: ExportLogsServiceRequest = {
    resourceLogs: [
      {
        scopeLogs: [{ logRecords: [{ severityNumber: 9 }, { severityNumber: 17 }] }],
      },
    ],
  };
  f.logs?.(logs);
  assert.equal(f.lastDropped, 1);
  const m: ExportMetricsServiceRequest = {
    resourceMetrics: [
      {
        scopeMetrics: [
          {
            metrics: [
              { name: 'drop.me', gauge: { dataPoints: [{}] } },
              {
                name: 'k',
                sum: { dataPoints: [{ attributes: [kv('x', 'y')] }, {}] },
              },
            ],
          },
        ],
      },
    ],
  };
  f.metrics?.(m);
  assert.equal(f.lastDropped, 2);
  const legacy = createFilterProcessor('filter/l', {
    spans: { exclude: { match_type: 'strict', span_names: ['a'] } },
  });
  legacy.traces?.(traces([], 'a'));
  assert.equal(legacy.lastDropped, 1);
});

test('ai-agents preset: prompts gone, hash added, tokens kept', () => {
  const cfg = loadSieveConfig('collector-config/ai-agents.yaml', { env });
  const prompt = '[{"role":"user","content":"hi, I am bob@corp.io"}]';
  const req = traces(
    [
      kv('gen_ai.input.messages', prompt),
      kv('gen_ai.output.messages', 'answer'),
      kv('gen_ai.system_instructions', 'be nice'),
      kv('gen_ai.prompt.0.content', 'x'),
      kv('gen_ai.completion.0.content', 'y'),
      kv('llm.prompts', 'p'),
      kv('gen_ai.request.model', 'gpt-4o'),
      kv('gen_ai.provider.name', 'openai'),
      { key: 'gen_ai.usage.input_tokens', value: { intValue: 12 } },
      kv('session.id', 's1'),
      kv('gen_ai.conversation.id', 'c1'),
    ],
    'chat gpt-4o',
  );
  const out = cfg.pipelines.traces?.process(req).request as ExportTraceServiceRequest;
  const a = span0(out)?.attributes ?? [];
  const keys = a.map((x) => x.key);
  for (const k of [
    'gen_ai.input.messages',
    'gen_ai.output.messages',
    'gen_ai.system_instructions',
    'gen_ai.prompt.0.content',
    'gen_ai.completion.0.content',
    'llm.prompts',
  ])
    assert.ok(!keys.includes(k), k);
  assert.equal(getStringAttribute(a, 'gen_ai.prompt.hash'), hmac(prompt));
  assert.equal(getStringAttribute(a, 'gen_ai.request.model'), 'gpt-4o');
  assert.equal(getStringAttribute(a, 'gen_ai.provider.name'), 'openai');
  assert.deepEqual(getAttribute(a, 'gen_ai.usage.input_tokens'), {
    intValue: 12,
  });
  assert.equal(getStringAttribute(a, 'session.id'), hmac('s1'));
  assert.equal(getStringAttribute(a, 'gen_ai.conversation.id'), hmac('c1'));
});

test('PII canary through the default pipeline (all signals, protobuf bytes)', () => {
  const cfg = loadSieveConfig('collector-config/sieve.yaml', { env });
  const pii = [
    'alice@corp.io',
    '+1 415-555-0132',
    '4111 1111 1111 1111',
    '203.0.113.77',
    '2001:db8::8a2e:370:7334',
    '123-45-6789',
    'DE89 3704 0044 0532 0130 00',
    'sk-proj-abcdefghijklmnopqrstuvwx1234',
    'AKIAIOSFODNN7EXAMPLE',
  ];
  const text = (i: number) => `value ${pii[i % pii.length]} end`;
  const attrs = () => pii.map((_, i) => kv(`note.${i}`, text(i)));
  const tr: ExportTraceServiceRequest = {
    resourceSpans: [
      {
        resource: {
          attributes: [kv('service.name', 'api'), kv('owner', text(0)), kv('user.id', 'user-42')],
        },
        scopeSpans: [
          {
            scope: { name: 'sc', attributes: attrs() },
            spans: [
              {
                name: `lookup ${pii[0]}`,
                attributes: [
                  ...attrs(),
                  kv('user.id', 'user-42'),
                  kv('session.id', 'sess-9'),
                  kv('client.address', '198.51.100.4'),
                  kv('http.request.header.authorization', 'Bearer abcdefghijklmnop'),
                  kv('http.request.header.cookie', 'sid=zzzsecretcookie'),
                ],
                events: [{ name: `mail ${pii[0]}`, attributes: attrs() }],
              },
            ],
          },
        ],
      },
    ],
  };
  const lg: ExportLogsServiceRequest = {
    resourceLogs: [
      {
        resource: { attributes: attrs() },
        scopeLogs: [
          {
            logRecords: [
              { body: s(pii.join(' | ')), attributes: attrs() },
              { body: { kvlistValue: { values: attrs() } } },
            ],
          },
        ],
      },
    ],
  };
  const mt: ExportMetricsServiceRequest = {
    resourceMetrics: [
      {
        resource: { attributes: attrs() },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'm',
                sum: { dataPoints: [{ attributes: attrs(), asInt: 1 }] },
              },
            ],
          },
        ],
      },
    ],
  };
  const outs = [
    encodeProtobuf('traces', cfg.pipelines.traces?.process(tr).request as ExportTraceServiceRequest),
    encodeProtobuf('logs', cfg.pipelines.logs?.process(lg).request as ExportLogsServiceRequest),
    encodeProtobuf('metrics', cfg.pipelines.metrics?.process(mt).request as ExportMetricsServiceRequest),
  ];
  for (const bytes of outs) {
    const b = Buffer.from(bytes);
    for (const v of [...pii, 'user-42', 'sess-9', '198.51.100.4', 'abcdefghijklmnop', 'zzzsecretcookie'])
      assert.equal(b.indexOf(v), -1, `clear text ${v} leaked`);
  }
  const sp = span0(tr);
  assert.equal(getStringAttribute(sp?.attributes, 'user.id'), hmac('user-42'));
  assert.equal(getStringAttribute(sp?.attributes, 'session.id'), hmac('sess-9'));
  assert.equal(getStringAttribute(sp?.attributes, 'client.address'), hmac('198.51.100.4'));
  assert.equal(getStringAttribute(sp?.attributes, 'note.0'), `value ${hmac('alice@corp.io')} end`);
});

test('delete/hash runs are applied in one pass with the same outcome as action by action', () => {
  const sha = (v: string) => createHash('sha256').update(v, 'utf8').digest('hex');
  const keys = ['a', 'b', 'user.id', 'user.email', 'http.request.header.cookie', 'x'];
  const patterns = ['^user\\.', '^http\\.request\\.header\\.', 'a|b', '^$'];
  let seed = 11;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 16) % n; // the high bits: an LCG's low bits repeat with a short period
  };
  const strOf = (v: AnyValue | null | undefined): string =>
    typeof v?.stringValue === 'string' ? v.stringValue : String(v?.intValue ?? '');
  for (let c = 0; c < 1500; c++) {
    const actions: ActionConfig[] = Array.from({ length: 1 + rand(6) }, () => {
      const action = rand(2) === 0 ? 'delete' : 'hash';
      return rand(3) === 0
        ? { action, pattern: patterns[rand(patterns.length)] }
        : { action, key: keys[rand(keys.length)] };
    });
    // sometimes a non-key action in the middle splits the run
    if (rand(4) === 0)
      actions.splice(rand(actions.length), 0, { action: 'upsert', key: keys[rand(keys.length)], value: 'up' });
    const attrs: KeyValue[] = Array.from({ length: rand(8) }, (_, i) => ({
      key: keys[rand(keys.length)] as string,
      value: rand(2) === 0 ? { stringValue: `v${i}` } : { intValue: i },
    }));
    // reference: the Collector's semantics, one action at a time over the whole list
    let expected = attrs.map((kv) => ({ key: kv.key, value: strOf(kv.value) }));
    for (const a of actions) {
      const re = a.pattern !== undefined ? new RegExp(a.pattern) : undefined;
      const hit = (k: string) => (a.key !== undefined && k === a.key) || (re?.test(k) ?? false);
      if (a.action === 'delete') expected = expected.filter((kv) => !hit(kv.key));
      else if (a.action === 'hash')
        expected = expected.map((kv) => (hit(kv.key) ? { key: kv.key, value: sha(kv.value) } : kv));
      else {
        const i = expected.findIndex((kv) => kv.key === a.key);
        if (i >= 0) (expected[i] as { value: string }).value = 'up';
        else expected.push({ key: a.key as string, value: 'up' });
      }
    }
    const p = createAttributesProcessor('attributes', { hash_function: 'sha256', actions });
    const span: Span = { name: 's', attributes: attrs.map((kv) => ({ ...kv })) };
    const req = { resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] } as ExportTraceServiceRequest;
    p.traces?.(req);
    const got = (span.attributes ?? []).map((kv) => ({ key: kv.key, value: strOf(kv.value) }));
    assert.deepEqual(got, expected, JSON.stringify({ actions, attrs }));
  }
});
