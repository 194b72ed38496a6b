import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { runScrub } from '../../../src/cli/scrub.js';
import { runValidate } from '../../../src/cli/validate.js';
import { loadConfigText } from '../../../src/config/load.js';
import { decodeJson } from '../../../src/otlp/codec.js';
import type { AnyValue, KeyValue, Signal } from '../../../src/otlp/model.js';
import type { SignalPipeline } from '../../../src/pipeline/api.js';
import type { FieldChange } from '../../../src/pipeline/explain.js';

const env = { SIEVE_HASH_KEY: 'explain-key' };
const str = (v: string): AnyValue => ({ stringValue: v });
const kv = (key: string, v: AnyValue | string): KeyValue => ({ key, value: typeof v === 'string' ? str(v) : v });

/** clear-text values that must show up in no explanation */
const CLEAR = {
  email: 'jane.doe@example.com',
  card: '4111 1111 1111 1111',
  phone: '+44 20 7946 0958',
  userId: 'u-829174',
  password: 'correct-horse-battery',
  token: 'tok-9f8e7d6c5b4a',
  ip: '203.0.113.77',
};

const spanAttrs = (): KeyValue[] => [
  kv('user_id', CLEAR.userId),
  kv('customerEmail', CLEAR.email),
  kv('db.password', CLEAR.password),
  kv('note', `card ${CLEAR.card}, call ${CLEAR.phone}`),
  kv('http.request.header.authorization', `Bearer ${CLEAR.token}`),
  kv('payload', { kvlistValue: { values: [kv('accessToken', CLEAR.token), kv('from', CLEAR.email)] } }),
  kv('peers', { arrayValue: { values: [str(CLEAR.ip), str('ok')] } }),
  kv('order.id', '4111111111111112'),
  kv('app.version', '1.2.3.4'),
];

const payloads: Record<Signal, object> = {
  traces: {
    resourceSpans: [
      {
        resource: {
          attributes: [kv('service.name', 'checkout'), kv('host.ip', CLEAR.ip), kv('enduser.id', CLEAR.userId)],
        },
        scopeSpans: [
          {
            scope: { name: 'explain' },
            spans: [
              {
                traceId: '5b8efff798038103d269b633813fc60c',
                spanId: 'eee19b7ec3c1b174',
                name: `lookup ${CLEAR.email}`,
                attributes: spanAttrs(),
              },
              {
                traceId: '5b8efff798038103d269b633813fc60c',
                spanId: 'eee19b7ec3c1b175',
                name: 'clean',
                attributes: [kv('route', '/health')],
              },
              {
                traceId: '5b8efff798038103d269b633813fc60c',
                spanId: 'eee19b7ec3c1b176',
                name: 'second',
                attributes: [kv('x-api-key', CLEAR.token), kv('client_ip', CLEAR.ip)],
                events: [{ name: 'ev', attributes: [kv('msg', `mail ${CLEAR.email}`)] }],
              },
            ],
          },
        ],
      },
    ],
  },
  logs: {
    resourceLogs: [
      {
        scopeLogs: [
          {
            logRecords: [
              { body: str(`login by ${CLEAR.email} from ${CLEAR.ip}`), attributes: [kv('userId', CLEAR.userId)] },
              {
                body: {
                  kvlistValue: {
                    values: [
                      kv('msg', `card ${CLEAR.card} declined`),
                      kv('password', CLEAR.password),
                      kv('user', { kvlistValue: { values: [kv('email', CLEAR.email)] } }),
                    ],
                  },
                },
                attributes: [kv('note', 'nothing here')],
              },
            ],
          },
        ],
      },
    ],
  },
  metrics: {
    resourceMetrics: [
      {
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'logins',
                sum: {
                  aggregationTemporality: 2,
                  dataPoints: [{ asInt: '3', attributes: [kv('user_email', CLEAR.email), kv('region', 'eu')] }],
                },
              },
            ],
          },
        ],
      },
    ],
  },
};

function defaultWith(summary: 'info' | 'debug', explain: (c: FieldChange) => void) {
  const text = readFileSync('collector-config/sieve.yaml', 'utf8').replace(/summary: silent/, `summary: ${summary}`);
  const r = loadConfigText(text, 'collector-config/sieve.yaml', { env, explain });
  assert.ok(r.config, JSON.stringify(r.issues));
  return r.config;
}

const intOf = (attrs: KeyValue[], key: string) => Number(attrs.find((a) => a.key === key)?.value?.intValue ?? 0);
const strOf = (attrs: KeyValue[], key: string) => attrs.find((a) => a.key === key)?.value?.stringValue ?? '';

/** the summary an item should carry according to the explanation of redaction/pii */
function expectedSummary(changes: FieldChange[], itemPath: string) {
  const attrsPrefix = `${itemPath}.attributes[`;
  const redacted = new Set<string>();
  const masked = new Set<string>();
  const bodyRedacted: string[] = [];
  const bodyMasked: string[] = [];
  for (const c of changes) {
    if (c.processor !== 'redaction/pii') continue;
    if (c.path.startsWith(attrsPrefix)) {
      const rest = c.path.slice(`${itemPath}.attributes`.length);
      const top = JSON.parse((/^\[("(?:[^"\\]|\\.)*")\]/.exec(rest) as RegExpExecArray)[1] as string) as string;
      const isTop = rest === `[${JSON.stringify(top)}]`;
      if (isTop && c.action === 'deleted') redacted.add(top);
      else masked.add(top);
    } else if (c.path.startsWith(`${itemPath}.body`)) {
      (c.action === 'deleted' ? bodyRedacted : bodyMasked).push(c.path);
    }
  }
  return { redacted, masked, bodyRedacted, bodyMasked };
}

test('summary: info agrees with the explanation, item by item, for every signal', () => {
  for (const summary of ['info', 'debug'] as const) {
    const changes: FieldChange[] = [];
    const config = defaultWith(summary, (c) => changes.push(c));
    let items = 0;
    for (const signal of ['traces', 'logs', 'metrics'] as const) {
      changes.length = 0;
      const pipeline = config.pipelines[signal] as SignalPipeline<Signal>;
      const out = pipeline.process(decodeJson(signal, payloads[signal])).request as never;
      const checkItem = (itemPath: string, attrs: KeyValue[]) => {
        items++;
        const want = expectedSummary(changes, itemPath);
        assert.equal(intOf(attrs, 'redaction.redacted.count'), want.redacted.size, `${summary} ${itemPath} redacted`);
        assert.equal(intOf(attrs, 'redaction.masked.count'), want.masked.size, `${summary} ${itemPath} masked`);
        assert.equal(
          intOf(attrs, 'redaction.body.redacted.count'),
          want.bodyRedacted.length,
          `${itemPath} body redacted`,
        );
        assert.equal(intOf(attrs, 'redaction.body.masked.count'), want.bodyMasked.length, `${itemPath} body masked`);
        if (summary === 'debug') {
          assert.equal(strOf(attrs, 'redaction.masked.keys'), [...want.masked].sort().join(','), itemPath);
          assert.equal(strOf(attrs, 'redaction.redacted.keys'), [...want.redacted].sort().join(','), itemPath);
        }
      };
      if (signal === 'traces')
        (
          out as { resourceSpans: { scopeSpans: { spans: { attributes: KeyValue[] }[] }[] }[] }
        ).resourceSpans[0]?.scopeSpans[0]?.spans.forEach((s, i) => {
          checkItem(`resourceSpans[0].scopeSpans[0].spans[${i}]`, s.attributes);
        });
      if (signal === 'logs')
        (
          out as { resourceLogs: { scopeLogs: { logRecords: { attributes: KeyValue[] }[] }[] }[] }
        ).resourceLogs[0]?.scopeLogs[0]?.logRecords.forEach((l, i) => {
          checkItem(`resourceLogs[0].scopeLogs[0].logRecords[${i}]`, l.attributes);
        });
      if (signal === 'metrics') {
        const dp = (
          out as {
            resourceMetrics: { scopeMetrics: { metrics: { sum: { dataPoints: { attributes: KeyValue[] }[] } }[] }[] }[];
          }
        ).resourceMetrics[0]?.scopeMetrics[0]?.metrics[0]?.sum.dataPoints[0];
        assert.ok(dp);
        checkItem('resourceMetrics[0].scopeMetrics[0].metrics[0].dataPoints[0]', dp.attributes);
      }
    }
    assert.equal(items, 6);
  }
});

async function scrub(signal: Signal, args: string[]) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks: Buffer[] = [];
  const errs: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  stderr.on('data', (c: Buffer) => errs.push(c));
  stdin.end(JSON.stringify(payloads[signal]));
  const saved = process.env.SIEVE_HASH_KEY;
  process.env.SIEVE_HASH_KEY = env.SIEVE_HASH_KEY;
  try {
    const code = await runScrub(args, stdin, stdout, stderr);
    return { code, out: Buffer.concat(chunks).toString(), err: Buffer.concat(errs).toString() };
  } finally {
    if (saved === undefined) delete process.env.SIEVE_HASH_KEY;
    else process.env.SIEVE_HASH_KEY = saved;
  }
}

test('sieve scrub --explain names processor, rule or detector and how for each changed field, never the value', async () => {
  const r = await scrub('traces', ['--config', 'collector-config/sieve.yaml', '--explain']);
  assert.equal(r.code, 0, r.err);
  const span = 'resourceSpans[0].scopeSpans[0].spans[0]';
  const lines = r.err.trim().split('\n');
  const expected = [
    `resourceSpans[0].resource.attributes["host.ip"]: deleted by resource/pii (attributes[0] delete (key host.ip))`,
    `resourceSpans[0].resource.attributes["enduser.id"]: hashed by redaction/pii (identifier_keys: enduser.id)`,
    `${span}.attributes["http.request.header.authorization"]: deleted by attributes/pii (actions[0] delete (key http.request.header.authorization))`,
    `${span}.name: redacted 1 span by redaction/pii (detector email)`,
    `${span}.attributes["user_id"]: hashed by redaction/pii (identifier_keys: user.id)`,
    `${span}.attributes["customerEmail"]: hashed by redaction/pii (identifier_keys: email)`,
    `${span}.attributes["db.password"]: deleted by redaction/pii (credential_keys: password)`,
    `${span}.attributes["note"]: redacted 2 spans by redaction/pii (detectors payment_card, phone)`,
    `${span}.attributes["payload"]["accessToken"]: deleted by redaction/pii (credential_keys: access.token)`,
    `${span}.attributes["payload"]["from"]: redacted 1 span by redaction/pii (detector email)`,
    `${span}.attributes["peers"][0]: redacted 1 span by redaction/pii (detector ipv4)`,
    'resourceSpans[0].scopeSpans[0].spans[2].attributes["x-api-key"]: deleted by redaction/pii (credential_keys: api.key)',
    'resourceSpans[0].scopeSpans[0].spans[2].attributes["client_ip"]: hashed by redaction/pii (identifier_keys: ip)',
    'resourceSpans[0].scopeSpans[0].spans[2].events[0].attributes["msg"]: redacted 1 span by redaction/pii (detector email)',
  ];
  for (const e of expected) assert.ok(lines.includes(e), `missing: ${e}\n---\n${r.err}`);
  assert.equal(lines.at(-1), `explain: ${expected.length} field change(s) by traces (collector-config/sieve.yaml)`);
  assert.ok(!r.err.includes('order.id') && !r.err.includes('app.version'), 'unchanged fields are not listed');
  for (const [name, v] of Object.entries(CLEAR)) assert.ok(!r.err.includes(v), `${name} in the explanation`);
  // stdout is still the scrubbed payload, and it holds no clear value either
  JSON.parse(r.out);
  for (const [name, v] of Object.entries(CLEAR)) assert.ok(!r.out.includes(v), `${name} in the output`);
});

test('sieve scrub without --explain prints no explanation', async () => {
  const r = await scrub('logs', ['--config', 'collector-config/sieve.yaml']);
  assert.equal(r.code, 0);
  assert.equal(r.err, '');
});

test('sieve validate --print-keys lists the key rules and says what happens to a key', async () => {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const saved = process.env.SIEVE_HASH_KEY;
  process.env.SIEVE_HASH_KEY = env.SIEVE_HASH_KEY;
  try {
    const code = await runValidate(
      ['--print-keys', '--key', 'userId', '--key', 'x-api-key', '--key', 'order_id', 'collector-config/sieve.yaml'],
      out,
      err,
    );
    assert.equal(code, 0);
  } finally {
    if (saved === undefined) delete process.env.SIEVE_HASH_KEY;
    else process.env.SIEVE_HASH_KEY = saved;
  }
  const text = Buffer.concat(chunks).toString();
  assert.match(text, /identifier_keys \(hashed; any spelling, prefixes allowed\): user\.id, enduser\.id/);
  assert.match(text, /credential_keys \(deleted; any spelling, prefixes allowed\): password/);
  assert.match(text, /--key userId \(words: user id\): hashed by redaction\/pii \(identifier_keys: user\.id\)/);
  assert.match(text, /--key x-api-key \(words: x api key\): deleted by redaction\/pii \(credential_keys: api\.key\)/);
  assert.match(text, /--key order_id \(words: order id\): kept as is by traces/);
});

test('--print-keys on a broken file reports the error and exits 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sieve-pk-'));
  const file = join(dir, 'broken.yaml');
  writeFileSync(file, 'processors:\n  redaction/x:\n    identifier_keys: 5\n');
  const err = new PassThrough();
  const errs: Buffer[] = [];
  err.on('data', (c: Buffer) => errs.push(c));
  assert.equal(await runValidate(['--print-keys', file], new PassThrough(), err), 1);
  assert.match(Buffer.concat(errs).toString(), new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+`));
});
