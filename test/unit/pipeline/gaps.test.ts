import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { loadSieveConfig } from '../../../src/config/load.js';
import { getAttribute, getStringAttribute } from '../../../src/otlp/anyvalue.js';
import type { ExportLogsServiceRequest, ExportTraceServiceRequest, KeyValue } from '../../../src/otlp/model.js';
import { createAttributesProcessor } from '../../../src/pipeline/attributes.js';
import { batchSettings } from '../../../src/pipeline/batch.js';
import { buildSignalPipeline } from '../../../src/pipeline/build.js';
import { createFilterProcessor } from '../../../src/pipeline/filter.js';
import { memoryLimiterSettings, memoryRefusal } from '../../../src/pipeline/memory-limiter.js';
import { createRedactionProcessor } from '../../../src/pipeline/redaction.js';

const KEY = 'test-key';
const env = { SIEVE_HASH_KEY: KEY };
const hmac = (v: string) => createHmac('sha256', KEY).update(v).digest('hex');
const kv = (key: string, v: string): KeyValue => ({
  key,
  value: { stringValue: v },
});
function traces(attrs: KeyValue[], name = 'GET /x', service = 'api'): ExportTraceServiceRequest {
  return {
    resourceSpans: [
      {
        resource: { attributes: [kv('service.name', service)] },
        scopeSpans: [{ scope: { name: 'sc' }, spans: [{ name, attributes: attrs }] }],
      },
    ],
  };
}
const span0 = (r: ExportTraceServiceRequest | undefined) => r?.resourceSpans?.[0]?.scopeSpans?.[0]?.spans?.[0];
const attrsOf = (
  actions: Parameters<typeof createAttributesProcessor>[1]['actions'],
  attrs: KeyValue[],
  extra: Partial<Parameters<typeof createAttributesProcessor>[1]> = {},
) =>
  span0(
    createAttributesProcessor('attributes/t', { hash_function: 'hmac_sha256', actions, ...extra }, env).traces?.(
      traces(attrs),
    ) as ExportTraceServiceRequest,
  )?.attributes;

test('attributes insert never overwrites; update never creates; upsert does both', () => {
  const a = attrsOf(
    [
      { key: 'x', action: 'insert', value: 'new' },
      { key: 'y', action: 'insert', value: 5 },
      { key: 'z', action: 'update', value: 'u' },
      { key: 'w', action: 'update', value: true },
      { key: 'x', action: 'upsert', value: 'up' },
      { key: 'v', action: 'upsert', value: 1.5 },
    ],
    [kv('x', 'old'), kv('z', 'zz')],
  );
  assert.equal(getStringAttribute(a, 'x'), 'up');
  assert.deepEqual(getAttribute(a, 'y'), { intValue: 5 });
  assert.equal(getStringAttribute(a, 'z'), 'u');
  assert.equal(getAttribute(a, 'w'), undefined);
  assert.deepEqual(getAttribute(a, 'v'), { doubleValue: 1.5 });
});

test('attributes delete by key and pattern; hash by pattern; extract no-match keeps attrs', () => {
  const a = attrsOf(
    [
      { key: 'gone', action: 'delete' },
      { pattern: '^tmp\\.', action: 'delete' },
      { pattern: '^id\\.', action: 'hash' },
      { key: 'url', action: 'extract', pattern: '^/u/(?<uid>\\d+)$' },
    ],
    [kv('gone', '1'), kv('tmp.a', '1'), kv('keep', 'k'), kv('id.a', 'A'), kv('url', '/x/1')],
  );
  assert.equal(getAttribute(a, 'gone'), undefined);
  assert.equal(getAttribute(a, 'tmp.a'), undefined);
  assert.equal(getStringAttribute(a, 'keep'), 'k');
  assert.equal(getStringAttribute(a, 'id.a'), hmac('A'));
  assert.equal(getAttribute(a, 'uid'), undefined);
  assert.equal(getStringAttribute(a, 'url'), '/x/1');
});

test('attributes convert: int, double, string; unconvertible values stay', () => {
  const a = attrsOf(
    [
      { key: 'i', action: 'convert', converted_type: 'int' },
      { key: 'd', action: 'convert', converted_type: 'double' },
      { key: 's', action: 'convert', converted_type: 'string' },
      { key: 'bad', action: 'convert', converted_type: 'int' },
    ],
    [kv('i', '7'), kv('d', '2.5'), { key: 's', value: { intValue: 3 } }, kv('bad', 'abc')],
  );
  assert.deepEqual(getAttribute(a, 'i'), { intValue: 7 });
  assert.deepEqual(getAttribute(a, 'd'), { doubleValue: 2.5 });
  assert.equal(getStringAttribute(a, 's'), '3');
  assert.equal(getStringAttribute(a, 'bad'), 'abc');
});

test('attributes include/exclude: strict vs regexp on services, span names, attributes', () => {
  const acts = [{ key: 'm', action: 'insert' as const, value: '1' }];
  const run = (extra: object, name = 'GET /x', service = 'api', attrs: KeyValue[] = []) =>
    getStringAttribute(
      span0(
        createAttributesProcessor('a', { actions: acts, ...extra }, env).traces?.(
          traces(attrs, name, service),
        ) as ExportTraceServiceRequest,
      )?.attributes,
      'm',
    );
  // strict: exact equality only
  assert.equal(run({ include: { match_type: 'strict', services: ['api'] } }), '1');
  assert.equal(run({ include: { match_type: 'strict', services: ['ap'] } }), undefined);
  assert.equal(run({ include: { match_type: 'strict', span_names: ['GET'] } }), undefined);
  // regexp: pattern match
  assert.equal(run({ include: { match_type: 'regexp', services: ['^a'] } }), '1');
  assert.equal(run({ include: { match_type: 'regexp', span_names: ['^POST'] } }), undefined);
  // exclude wins over include
  assert.equal(
    run(
      {
        include: { match_type: 'regexp', services: ['.*'] },
        exclude: {
          match_type: 'regexp',
          attributes: [{ key: 'tier', value: '^int' }],
        },
      },
      'GET /x',
      'api',
      [kv('tier', 'internal')],
    ),
    undefined,
  );
  assert.equal(
    run(
      {
        exclude: {
          match_type: 'strict',
          attributes: [{ key: 'tier', value: 'int' }],
        },
      },
      'GET /x',
      'api',
      [kv('tier', 'internal')],
    ),
    '1',
  );
});

test('memory_limiter and batch settings parsing', () => {
  const MiB = 1024 * 1024;
  assert.deepEqual(
    memoryLimiterSettings({
      check_interval: '2s',
      limit_mib: 100,
      spike_limit_mib: 10,
    }),
    {
      limitBytes: 100 * MiB,
      spikeLimitBytes: 10 * MiB,
      checkIntervalMs: 2000,
    },
  );
  assert.equal(memoryLimiterSettings({ limit_mib: 100 }).spikeLimitBytes, 20 * MiB);
  assert.equal(
    memoryLimiterSettings({ limit_percentage: 50, spike_limit_percentage: 10 }, 1000 * MiB).limitBytes,
    500 * MiB,
  );
  assert.throws(() => memoryLimiterSettings({}));
  assert.throws(() => memoryLimiterSettings({ limit_mib: 10, spike_limit_mib: 10 }));
  assert.deepEqual(batchSettings({}), {
    sendBatchSize: 8192,
    sendBatchMaxSize: 0,
    timeoutMs: 200,
  });
  assert.deepEqual(
    batchSettings({
      send_batch_size: 10,
      send_batch_max_size: 20,
      timeout: '1s',
    }),
    {
      sendBatchSize: 10,
      sendBatchMaxSize: 20,
      timeoutMs: 1000,
    },
  );
  assert.throws(() => batchSettings({ send_batch_size: 10, send_batch_max_size: 5 }));
  const cfg = loadSieveConfig('collector-config/sieve.yaml', { env });
  assert.equal(cfg.pipelines.traces?.memoryLimiter?.limitBytes, 320 * MiB);
  assert.equal(cfg.pipelines.traces?.memoryLimiter?.checkIntervalMs, 100);
  assert.equal(cfg.pipelines.traces?.batch?.sendBatchSize, 8192);
  assert.equal(cfg.pipelines.traces?.batch?.timeoutMs, 200);
});

test('memory limiter refuses at the soft limit of memory in use, or past the limit of bytes in flight', () => {
  const MiB = 1024 * 1024;
  const settings = memoryLimiterSettings({ limit_mib: 100, spike_limit_mib: 20 });
  assert.equal(memoryRefusal(settings, 79 * MiB, 0, MiB), null);
  assert.match(memoryRefusal(settings, 80 * MiB, 0, MiB) ?? '', /80 MiB in use, soft limit 80 MiB/);
  assert.equal(memoryRefusal(settings, 10 * MiB, 90 * MiB, 10 * MiB), null);
  assert.match(
    memoryRefusal(settings, 10 * MiB, 90 * MiB, 10 * MiB + 1) ?? '',
    /90 MiB of requests in flight, limit 100 MiB/,
  );
});

const red = () =>
  createRedactionProcessor(
    'redaction/t',
    {
      allow_all_keys: true,
      detectors: ['email', 'payment_card'],
      hash_function: 'hmac_sha256',
    },
    env,
  );

test('redaction reaches arrays, maps, span events, scope attributes', () => {
  const req: ExportTraceServiceRequest = {
    resourceSpans: [
      {
        scopeSpans: [
          {
            scope: { name: 's', attributes: [kv('owner', 'a@b.io')] },
            spans: [
              {
                name: 'x',
                attributes: [
                  {
                    key: 'arr',
                    value: {
                      arrayValue: {
                        values: [{ stringValue: 'to a@b.io' }, { intValue: 1 }],
                      },
                    },
                  },
                  {
                    key: 'map',
                    value: {
                      kvlistValue: {
                        values: [
                          kv('card', '4111 1111 1111 1111'),
                          {
                            key: 'deep',
                            value: {
                              arrayValue: {
                                values: [{ stringValue: 'c@d.io' }],
                              },
                            },
                          },
                        ],
                      },
                    },
                  },
                ],
                events: [{ name: 'ev', attributes: [kv('who', 'e@f.io')] }],
              },
            ],
          },
        ],
      },
    ],
  };
  const out = JSON.stringify(red().traces?.(req));
  for (const pii of ['a@b.io', 'c@d.io', 'e@f.io', '4111 1111 1111 1111']) assert.ok(!out.includes(pii), pii);
  assert.ok(out.includes(hmac('a@b.io')));
  assert.ok(out.includes(hmac('4111 1111 1111 1111')));
});

test('redaction of structured log bodies; nothing matched leaves values identical', () => {
  const body = {
    kvlistValue: {
      values: [kv('msg', 'user x@y.io paid'), kv('route', 'GET /api/v1/items'), kv('code', '200')],
    },
  };
  const req: ExportLogsServiceRequest = {
    resourceLogs: [
      {
        scopeLogs: [{ logRecords: [{ body, attributes: [kv('svc', 'checkout')] }] }],
      },
    ],
  };
  const before = req.resourceLogs?.[0]?.scopeLogs?.[0]?.logRecords?.[0]?.attributes;
  const r = red().logs?.(req) as ExportLogsServiceRequest;
  const lr = r.resourceLogs?.[0]?.scopeLogs?.[0]?.logRecords?.[0];
  const vals = lr?.body?.kvlistValue?.values ?? [];
  assert.equal(vals[0]?.value?.stringValue, `user ${hmac('x@y.io')} paid`);
  assert.equal(vals[1]?.value?.stringValue, 'GET /api/v1/items');
  assert.equal(vals[2]?.value?.stringValue, '200');
  assert.equal(lr?.attributes, before);
  assert.equal(getStringAttribute(lr?.attributes, 'svc'), 'checkout');
});

test('filter on severity, status and attributes prunes emptied containers', () => {
  const f = createFilterProcessor('filter', {
    traces: {
      span: ['status.code == STATUS_CODE_UNSET and attributes["drop"] == "yes"'],
    },
    logs: { log_record: ['severity_number < SEVERITY_NUMBER_WARN'] },
  });
  const tp = buildSignalPipeline({
    signal: 'traces',
    id: 'traces',
    processorIds: ['filter'],
    processors: [f],
    exporter: {} as never,
  });
  const tr = tp.process({
    resourceSpans: [
      {
        scopeSpans: [{ spans: [{ name: 'a', attributes: [kv('drop', 'yes')] }] }],
      },
      {
        scopeSpans: [
          {
            spans: [
              {
                name: 'b',
                attributes: [kv('drop', 'yes')],
                status: { code: 2 },
              },
            ],
          },
          { spans: [{ name: 'c', attributes: [kv('drop', 'no')] }] },
        ],
      },
    ],
  });
  assert.equal(tr.droppedItems, 1);
  assert.equal(tr.request.resourceSpans?.length, 1);
  assert.deepEqual(
    tr.request.resourceSpans?.[0]?.scopeSpans?.map((s) => s.spans?.map((x) => x.name)),
    [['b'], ['c']],
  );
  const lp = buildSignalPipeline({
    signal: 'logs',
    id: 'logs',
    processorIds: ['filter'],
    processors: [f],
    exporter: {} as never,
  });
  const lr = lp.process({
    resourceLogs: [
      {
        scopeLogs: [{ logRecords: [{ severityNumber: 9 }, { severityNumber: 5 }] }],
      },
      {
        scopeLogs: [{ logRecords: [{ severityNumber: 13 }] }, { logRecords: [{ severityNumber: 1 }] }],
      },
    ],
  });
  assert.equal(lr.droppedItems, 3);
  assert.equal(lr.request.resourceLogs?.length, 1);
  assert.equal(lr.request.resourceLogs?.[0]?.scopeLogs?.length, 1);
  assert.equal(lr.request.resourceLogs?.[0]?.scopeLogs?.[0]?.logRecords?.[0]?.severityNumber, 13);
});

test('ai-agents preset drops prompt/completion content, keeps tokens and model', () => {
  const cfg = loadSieveConfig('collector-config/ai-agents.yaml', { env });
  const p = cfg.pipelines.traces;
  assert.ok(p);
  const r = p.process(
    traces([
      kv('gen_ai.input.messages', '[{"role":"user","content":"hi"}]'),
      kv('gen_ai.output.messages', '[]'),
      kv('gen_ai.system_instructions', 'be nice'),
      kv('gen_ai.prompt.0.content', 'x'),
      kv('gen_ai.completion.0.content', 'y'),
      kv('llm.prompts', 'p'),
      kv('gen_ai.request.model', 'gpt-4o'),
      kv('gen_ai.response.model', 'gpt-4o-2024'),
      { key: 'gen_ai.usage.input_tokens', value: { intValue: 12 } },
      { key: 'gen_ai.usage.output_tokens', value: { intValue: 34 } },
    ]),
  ).request;
  const a = span0(r)?.attributes;
  for (const k of [
    'gen_ai.input.messages',
    'gen_ai.output.messages',
    'gen_ai.system_instructions',
    'gen_ai.prompt.0.content',
    'gen_ai.completion.0.content',
    'llm.prompts',
  ])
    assert.equal(getAttribute(a, k), undefined, k);
  assert.equal(getStringAttribute(a, 'gen_ai.request.model'), 'gpt-4o');
  assert.equal(getStringAttribute(a, 'gen_ai.response.model'), 'gpt-4o-2024');
  assert.deepEqual(getAttribute(a, 'gen_ai.usage.input_tokens'), {
    intValue: 12,
  });
  assert.deepEqual(getAttribute(a, 'gen_ai.usage.output_tokens'), {
    intValue: 34,
  });
  assert.equal(getStringAttribute(a, 'gen_ai.prompt.hash'), hmac('[{"role":"user","content":"hi"}]'));
});

function luhnComplete(body: string): string {
  for (let d = 0; d < 10; d++) {
    const n = body + d;
    let sum = 0;
    let dbl = false;
    for (let i = n.length - 1; i >= 0; i--) {
      let x = n.charCodeAt(i) - 48;
      if (dbl) {
        x *= 2;
        if (x > 9) x -= 9;
      }
      sum += x;
      dbl = !dbl;
    }
    if (sum % 10 === 0) return n;
  }
  throw new Error('unreachable');
}

test('property: generated emails / valid cards never survive the default pipeline', () => {
  const cfg = loadSieveConfig('collector-config/sieve.yaml', { env });
  const p = cfg.pipelines.traces;
  assert.ok(p);
  const word = fc.stringMatching(/^[a-z][a-z0-9]{1,10}$/);
  const email = fc.tuple(word, word, fc.constantFrom('com', 'io', 'org', 'de')).map(([u, d, t]) => `${u}@${d}.${t}`);
  const card = fc
    .tuple(fc.constantFrom('4', '51', '37', '6011'), fc.stringMatching(/^[0-9]{14}$/))
    // network lengths: Amex (37) has 15 digits, the others 16
    .map(([pre, rest]) => luhnComplete((pre + rest).slice(0, pre === '37' ? 14 : 15)));
  const filler = fc.stringMatching(/^[A-Za-z /=:,]{0,20}$/);
  fc.assert(
    fc.property(
      fc.oneof(email, card),
      filler,
      filler,
      fc.constantFrom('note', 'customer.email', 'db.statement', 'x.y', 'user.id'),
      (pii, before, after, key) => {
        const val = `${before}${before && !before.endsWith(' ') ? ' ' : ''}${pii}${after && !after.startsWith(' ') ? ' ' : ''}${after}`;
        const r = p.process(traces([kv(key, val), kv('other', 'ok')], `op ${val}`)).request;
        const out = JSON.stringify(r);
        return !out.includes(pii);
      },
    ),
    { numRuns: 300 },
  );
});
