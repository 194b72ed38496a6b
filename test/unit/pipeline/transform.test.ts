/**
 * The transform processor's OTTL, table-driven: every editor and converter Sieve lists, `where`
 * clauses, contexts, and each error_mode. Expected values follow the Collector's ottlfuncs.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { test } from 'node:test';
import { anyValueToJs } from '../../../src/otlp/anyvalue.js';
import type { AnyValue, ExportTraceServiceRequest, KeyValue, Span } from '../../../src/otlp/model.js';
import { PipelineRefusal } from '../../../src/pipeline/api.js';
import { toAnyValue as yamlToAnyValue } from '../../../src/pipeline/attributes.js';
import {
  createTransformProcessor,
  type TransformConfig,
  validateTransformConfig,
} from '../../../src/pipeline/transform.js';

const KEY = 'transform-test-key';
const env = { SIEVE_HASH_KEY: KEY };
const hmac = (v: string) => createHmac('sha256', KEY).update(v).digest('hex');
const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');

type Attrs = Record<string, unknown>;
const kvs = (o: Attrs): KeyValue[] =>
  Object.entries(o).map(([key, v]) => ({
    key,
    value: typeof v === 'bigint' ? { intValue: Number(v) } : yamlToAnyValue(v),
  }));
const js = (list: KeyValue[] | null | undefined): Attrs =>
  Object.fromEntries((list ?? []).map((kv) => [kv.key, anyValueToJs(kv.value as AnyValue)]));

function request(
  span: Partial<Span> & { attrs?: Attrs },
  resource: Attrs = { 'service.name': 'api' },
): ExportTraceServiceRequest {
  const { attrs, ...rest } = span;
  return {
    resourceSpans: [
      {
        resource: { attributes: kvs(resource) },
        scopeSpans: [
          { scope: { name: 'lib', version: '1.0' }, spans: [{ name: 'op', ...rest, attributes: kvs(attrs ?? {}) }] },
        ],
      },
    ],
  };
}

function run(cfg: TransformConfig, span: Partial<Span> & { attrs?: Attrs }, resource?: Attrs) {
  const p = createTransformProcessor('transform', cfg, env);
  const req = request(span, resource);
  p.traces?.(req);
  const rs = req.resourceSpans?.[0];
  const out = rs?.scopeSpans?.[0]?.spans?.[0] as Span;
  return {
    span: out,
    attrs: js(out.attributes),
    resource: js(rs?.resource?.attributes),
    scope: rs?.scopeSpans?.[0]?.scope,
    p,
  };
}

interface Case {
  title: string;
  statements: string[];
  attrs?: Attrs;
  name?: string;
  /** expected span attributes after the statements */
  want?: Attrs;
  wantName?: string;
  /** expected attribute keys in order */
  wantOrder?: string[];
  cfg?: Partial<TransformConfig>;
}

const cases: Case[] = [
  // ---- set, where ----
  { title: 'set a string', statements: ['set(attributes["a"], "x")'], want: { a: 'x' } },
  {
    title: 'set an int and a double',
    statements: ['set(attributes["i"], 42)', 'set(attributes["d"], 1.5)'],
    want: { i: 42, d: 1.5 },
  },
  {
    title: "set nil empties an attribute (the Collector's ottl.set.allowNil, on by default)",
    statements: ['set(attributes["a"], nil)', 'set(attributes["b"], attributes["missing"])'],
    attrs: { a: 'was' },
    want: { a: null, b: null },
  },
  {
    title: 'set from another attribute',
    statements: ['set(attributes["b"], attributes["a"])'],
    attrs: { a: 'v' },
    want: { a: 'v', b: 'v' },
  },
  {
    title: 'set a nested map key creates the map',
    statements: ['set(attributes["m"]["k"], "v")'],
    want: { m: { k: 'v' } },
  },
  {
    title: 'set a map literal',
    statements: ['set(attributes["m"], {"a": 1, "b": ["x"]})'],
    want: { m: { a: 1, b: ['x'] } },
  },
  { title: 'where ==: true', statements: ['set(name, "renamed") where name == ""'], name: '', wantName: 'renamed' },
  { title: 'where ==: false', statements: ['set(name, "renamed") where name == ""'], name: 'kept', wantName: 'kept' },
  {
    title: 'where with and / or / not and a missing attribute == nil',
    statements: [
      'set(attributes["hit"], true) where (attributes["a"] == "1" or attributes["b"] == nil) and not IsMatch(name, "^x")',
    ],
    attrs: { a: '0' },
    want: { a: '0', hit: true },
  },
  {
    title: 'where comparing int and double, string and int (never equal)',
    statements: [
      'set(attributes["gt"], true) where attributes["n"] > 2.5',
      'set(attributes["eq"], true) where attributes["s"] == 1',
    ],
    attrs: { n: 3n, s: '1' },
    want: { n: 3, s: '1', gt: true },
  },
  {
    title: 'math: int * int + int stays int',
    statements: ['set(attributes["r"], attributes["n"] * 2 + 1)'],
    attrs: { n: 5n },
    want: { n: 5, r: 11 },
  },
  {
    title: 'math: int / double is a double',
    statements: ['set(attributes["r"], attributes["n"] / 2.0)'],
    attrs: { n: 5n },
    want: { n: 5, r: 2.5 },
  },
  {
    title: 'enum comparison on kind',
    statements: ['set(attributes["server"], true) where kind == SPAN_KIND_SERVER'],
    want: { server: true },
  },
  // ---- delete / keep ----
  {
    title: 'delete_key moves the last attribute into the hole (pcommon.Map.Remove)',
    statements: ['delete_key(attributes, "a")'],
    attrs: { a: 1n, b: 2n, c: 3n },
    want: { c: 3, b: 2 },
    wantOrder: ['c', 'b'],
  },
  {
    title: 'delete_matching_keys',
    statements: ['delete_matching_keys(attributes, "^user\\\\.")'],
    attrs: { 'user.id': 'u', 'user.email': 'e', other: 'o' },
    want: { other: 'o' },
  },
  {
    title: 'keep_keys',
    statements: ['keep_keys(attributes, ["a", "c"])'],
    attrs: { a: 1n, b: 2n, c: 3n },
    want: { a: 1, c: 3 },
  },
  {
    title: 'keep_matching_keys',
    statements: ['keep_matching_keys(attributes, "^gen_ai\\\\.")'],
    attrs: { 'gen_ai.model': 'm', prompt: 'p' },
    want: { 'gen_ai.model': 'm' },
  },
  // ---- replace ----
  {
    title: 'replace_pattern with a capture group',
    statements: ['replace_pattern(attributes["url"], "token=([a-z0-9]+)", "token=***")'],
    attrs: { url: 'https://x/?token=abc123&y=1' },
    want: { url: 'https://x/?token=***&y=1' },
  },
  {
    title: 'replace_pattern with $1 and SHA256 (keyed: HMAC with the pipeline key)',
    statements: ['replace_pattern(attributes["email"], "^(.*)@example\\\\.com$", "$1", SHA256)'],
    attrs: { email: 'bob@example.com' },
    want: { email: hmac('bob') },
  },
  {
    title: "replace_pattern with SHA256 and a format, hash_function sha256 (the Collector's output)",
    statements: ['replace_pattern(attributes["email"], "^(.*)@example\\\\.com$", "$1", SHA256, "user-%s")'],
    attrs: { email: 'bob@example.com' },
    want: { email: `user-${sha256('bob')}` },
    cfg: { hash_function: 'sha256' },
  },
  {
    title: 'replace_all_patterns on values',
    statements: ['replace_all_patterns(attributes, "value", "\\\\d{4}-\\\\d{4}", "XXXX")'],
    attrs: { a: 'card 1234-5678', b: 7n, c: 'none' },
    want: { a: 'card XXXX', b: 7, c: 'none' },
  },
  {
    title: 'replace_all_patterns on keys',
    statements: ['replace_all_patterns(attributes, "key", "^old_", "new_")'],
    attrs: { old_a: 1n, keep: 2n },
    want: { new_a: 1, keep: 2 },
  },
  {
    title: 'replace_match (glob)',
    statements: ['replace_match(name, "GET /users/*", "GET /users/{id}")'],
    name: 'GET /users/42',
    wantName: 'GET /users/{id}',
  },
  {
    title: 'replace_all_matches (glob) on map values',
    statements: ['replace_all_matches(attributes, "*secret*", "redacted")'],
    attrs: { a: 'my secret value', b: 'public' },
    want: { a: 'redacted', b: 'public' },
  },
  // ---- truncate_all, limit, merge_maps ----
  {
    title: 'truncate_all (strings only, UTF-8 safe by default)',
    statements: ['truncate_all(attributes, 4)'],
    attrs: { a: 'abcdefgh', b: 123456789n, c: 'héllo' },
    want: { a: 'abcd', b: 123456789, c: 'hél' },
  },
  {
    title: 'truncate_all with a marker',
    statements: ['truncate_all(attributes, 6, truncation_marker="...")'],
    attrs: { a: 'abcdefgh' },
    want: { a: 'abc...' },
  },
  {
    title: 'limit keeps priority keys then the first others',
    statements: ['limit(attributes, 2, ["z"])'],
    attrs: { a: 1n, b: 2n, z: 3n },
    want: { a: 1, z: 3 },
  },
  {
    title: 'merge_maps upsert / insert / update',
    statements: [
      'set(cache["src"], {"a": "new", "c": "c"})',
      'merge_maps(attributes, cache["src"], "insert")',
      'set(attributes["u"], "old")',
      'merge_maps(attributes, {"u": "updated", "x": "no"}, "update")',
      'merge_maps(attributes, {"a": "upserted"}, "upsert")',
    ],
    attrs: { a: 'old' },
    want: { a: 'upserted', c: 'c', u: 'updated' },
  },
  // ---- converters ----
  {
    title: 'Concat of a list with a delimiter, nil as <nil>',
    statements: ['set(attributes["c"], Concat([attributes["agent"], ":", attributes["missing"], 7], ""))'],
    attrs: { agent: 'planner' },
    want: { agent: 'planner', c: 'planner:<nil>7' },
  },
  {
    title: 'SHA256 is keyed by default',
    statements: ['set(attributes["h"], SHA256(attributes["user"]))'],
    attrs: { user: 'u1' },
    want: { user: 'u1', h: hmac('u1') },
  },
  {
    title: "SHA256 with hash_function sha256 is the Collector's plain hash",
    statements: ['set(attributes["h"], SHA256(attributes["user"]))'],
    attrs: { user: 'u1' },
    want: { user: 'u1', h: sha256('u1') },
    cfg: { hash_function: 'sha256' },
  },
  {
    title: 'IsMatch on a non-string (converted to its string form)',
    statements: ['set(attributes["m"], IsMatch(attributes["n"], "^4\\\\d$"))'],
    attrs: { n: 42n },
    want: { n: 42, m: true },
  },
  { title: 'Substring', statements: ['set(attributes["s"], Substring("abcdef", 1, 3))'], want: { s: 'bcd' } },
  {
    title: 'ToLowerCase / ToUpperCase',
    statements: ['set(attributes["l"], ToLowerCase("MiXed"))', 'set(attributes["u"], ToUpperCase("MiXed"))'],
    want: { l: 'mixed', u: 'MIXED' },
  },
  {
    title: 'Split into a list',
    statements: ['set(attributes["p"], Split("a,b,,c", ","))'],
    want: { p: ['a', 'b', '', 'c'] },
  },
  {
    title: 'Split then index',
    statements: ['set(attributes["first"], Split(attributes["path"], "/")[1])'],
    attrs: { path: '/v1/chat' },
    want: { path: '/v1/chat', first: 'v1' },
  },
  {
    title: 'Int of a string, a double (truncated) and a bool',
    statements: [
      'set(attributes["a"], Int("12"))',
      'set(attributes["b"], Int(3.9))',
      'set(attributes["c"], Int(true))',
    ],
    want: { a: 12, b: 3, c: 1 },
  },
  {
    title: 'Double of a string and an int',
    statements: ['set(attributes["a"], Double("1.25"))', 'set(attributes["b"], Double(2))'],
    want: { a: 1.25, b: 2 },
  },
  {
    title: 'String of an int, a bool and a map (JSON, keys sorted)',
    statements: [
      'set(attributes["a"], String(12))',
      'set(attributes["b"], String(false))',
      'set(attributes["c"], String({"z": 1, "a": "x"}))',
    ],
    want: { a: '12', b: 'false', c: '{"a":"x","z":1}' },
  },
  {
    title: 'Len of a string (UTF-8 bytes), a map and a list',
    statements: [
      'set(attributes["a"], Len("héllo"))',
      'set(attributes["b"], Len(attributes))',
      'set(attributes["c"], Len(["x", "y"]))',
    ],
    attrs: { k: 'v' },
    want: { k: 'v', a: 6, b: 2, c: 2 },
  },
  {
    title: 'IsString',
    statements: ['set(attributes["s"], IsString(attributes["k"]))', 'set(attributes["n"], IsString(attributes["i"]))'],
    attrs: { k: 'v', i: 1n },
    want: { k: 'v', i: 1, s: true, n: false },
  },
  {
    title: 'Hex of a string and of an int (8 bytes big-endian)',
    statements: ['set(attributes["a"], Hex("hi"))', 'set(attributes["b"], Hex(1))'],
    want: { a: '6869', b: '0000000000000001' },
  },
  // ---- contexts from the span context ----
  {
    title: 'resource and scope paths from the span context',
    statements: [
      'set(attributes["svc"], resource.attributes["service.name"])',
      'set(attributes["lib"], instrumentation_scope.name)',
    ],
    want: { svc: 'api', lib: 'lib' },
  },
];

for (const c of cases)
  test(`OTTL: ${c.title}`, () => {
    const r = run(
      { trace_statements: [{ context: 'span', statements: c.statements }], ...c.cfg },
      { attrs: c.attrs ?? {}, name: c.name ?? 'op', kind: 2 },
    );
    if (c.want) assert.deepEqual(r.attrs, c.want);
    if (c.wantName !== undefined) assert.equal(r.span.name, c.wantName);
    if (c.wantOrder) assert.deepEqual(Object.keys(r.attrs), c.wantOrder);
    assert.equal(r.p.statementErrors, 0, 'no statement failed');
  });

test('the issue example statement: Concat takes a list, and the error says how to write it', () => {
  const issues = validateTransformConfig({
    traces: ['set(name, Concat(attributes["agent"], ":", attributes["route"])) where name == ""'],
  });
  assert.equal(issues.length, 1);
  assert.match(issues[0]?.message ?? '', /incorrect number of arguments\. Expected: 2 Received: 3/);
  assert.match(issues[0]?.message ?? '', /Concat\(\[a, b, …\], "delimiter"\)/);
  assert.equal(issues[0]?.offset, 10);
  const cfg = { traces: ['set(name, Concat([attributes["agent"], attributes["route"]], ":")) where name == ""'] };
  assert.equal(run(cfg, { name: '', attrs: { agent: 'planner', route: '/chat' } }).span.name, 'planner:/chat');
  assert.equal(run(cfg, { name: 'GET', attrs: { agent: 'planner', route: '/chat' } }).span.name, 'GET');
  assert.equal(run(cfg, { name: '', attrs: {} }).span.name, '<nil>:<nil>');
});

test('flat statements infer the context from path names; unprefixed paths run on the signal items', () => {
  const r = run(
    { trace_statements: ['set(resource.attributes["r"], "1")', 'set(scope.attributes["s"], "2")'] },
    { attrs: {} },
  );
  assert.deepEqual(r.resource, { 'service.name': 'api', r: '1' });
  assert.deepEqual(js(r.scope?.attributes), { s: '2' });
  const flat = run({ traces: ['set(attributes["x"], name)', 'set(span.attributes["y"], "z")'] }, { name: 'n' });
  assert.deepEqual(flat.attrs, { x: 'n', y: 'z' });
});

test('resource, scope and spanevent contexts run once per resource, scope and event', () => {
  const p = createTransformProcessor(
    't',
    {
      trace_statements: [
        { context: 'resource', statements: ['set(attributes["count"], Len(attributes))'] },
        { context: 'scope', statements: ['set(version, "2.0")'] },
        { context: 'spanevent', statements: ['set(attributes["span"], span.name) where name == "exception"'] },
      ],
    },
    env,
  );
  const req = request({ name: 's', events: [{ name: 'exception' }, { name: 'other' }] });
  p.traces?.(req);
  const rs = req.resourceSpans?.[0];
  assert.deepEqual(js(rs?.resource?.attributes), { 'service.name': 'api', count: 1 });
  assert.equal(rs?.scopeSpans?.[0]?.scope?.version, '2.0');
  const ev = rs?.scopeSpans?.[0]?.spans?.[0]?.events ?? [];
  assert.deepEqual(js(ev[0]?.attributes), { span: 's' });
  assert.deepEqual(js(ev[1]?.attributes), {});
});

test('log, metric and datapoint contexts', () => {
  const p = createTransformProcessor(
    't',
    {
      log_statements: [
        {
          context: 'log',
          statements: [
            'set(body, Concat(["[", severity_text, "] ", body], ""))',
            'set(attributes["sev"], severity_number)',
          ],
        },
      ],
      metric_statements: [
        {
          context: 'metric',
          statements: ['set(name, Concat([name, "total"], "_")) where type == METRIC_DATA_TYPE_SUM'],
        },
        {
          context: 'datapoint',
          statements: ['set(attributes["metric"], metric.name)', 'set(value_int, value_int * 10)'],
        },
      ],
    },
    env,
  );
  const logs = {
    resourceLogs: [
      { scopeLogs: [{ logRecords: [{ severityText: 'WARN', severityNumber: 13, body: { stringValue: 'disk' } }] }] },
    ],
  };
  p.logs?.(logs);
  const lr = logs.resourceLogs[0]?.scopeLogs[0]?.logRecords[0];
  assert.equal(anyValueToJs(lr?.body), '[WARN] disk');
  assert.deepEqual(js((lr as { attributes?: KeyValue[] }).attributes), { sev: 13 });
  const metrics = {
    resourceMetrics: [
      {
        scopeMetrics: [
          { metrics: [{ name: 'requests', sum: { dataPoints: [{ asInt: 3, attributes: [] }], isMonotonic: true } }] },
        ],
      },
    ],
  };
  p.metrics?.(metrics);
  const m = metrics.resourceMetrics[0]?.scopeMetrics[0]?.metrics[0];
  assert.equal(m?.name, 'requests_total');
  const dp = m?.sum.dataPoints[0];
  assert.equal(dp?.asInt, 30);
  assert.deepEqual(js(dp?.attributes), { metric: 'requests_total' });
});

test('group conditions are OR-ed and gate the group', () => {
  const cfg: TransformConfig = {
    trace_statements: [
      { context: 'span', conditions: ['name == "a"', 'name == "b"'], statements: ['set(attributes["hit"], true)'] },
    ],
  };
  assert.deepEqual(run(cfg, { name: 'b' }).attrs, { hit: true });
  assert.deepEqual(run(cfg, { name: 'c' }).attrs, {});
});

test('error_mode ignore: the failing statement is skipped and counted, the next one runs', () => {
  const r = run(
    {
      error_mode: 'ignore',
      trace_statements: [
        {
          context: 'span',
          statements: ['set(attributes["x"], Substring(name, 5, 10))', 'set(attributes["after"], true)'],
        },
      ],
    },
    { name: 'short' },
  );
  assert.deepEqual(r.attrs, { after: true });
  assert.equal(r.p.statementErrors, 1);
});

test('error_mode silent: skipped without counting', () => {
  const r = run(
    {
      error_mode: 'silent',
      trace_statements: [
        { context: 'span', statements: ['set(attributes["x"], Int(name))', 'set(attributes["after"], true)'] },
      ],
    },
    { name: 'not-a-number' },
  );
  assert.deepEqual(r.attrs, { after: true });
  assert.equal(r.p.statementErrors, 0);
});

test('error_mode propagate: the request is refused naming the statement; a group can override the mode', () => {
  const stmt = 'set(attributes["x"], Int(name)) where kind == SPAN_KIND_SERVER';
  assert.throws(
    () =>
      run(
        { error_mode: 'propagate', trace_statements: [{ context: 'span', statements: [stmt] }] },
        { name: 'abc', kind: 2 },
      ),
    (err: unknown) =>
      err instanceof PipelineRefusal && err.message.includes(stmt) && /invalid syntax/.test(err.message),
  );
  // the where clause is false: nothing runs, nothing fails
  assert.deepEqual(
    run(
      { error_mode: 'propagate', trace_statements: [{ context: 'span', statements: [stmt] }] },
      { name: 'abc', kind: 3 },
    ).attrs,
    {},
  );
  const r = run(
    { error_mode: 'propagate', trace_statements: [{ context: 'span', error_mode: 'ignore', statements: [stmt] }] },
    { name: 'abc', kind: 2 },
  );
  assert.equal(r.p.statementErrors, 1);
  // a map editor on a string path compiles (as in the Collector) and fails per item
  assert.throws(
    () => run({ error_mode: 'propagate', traces: ['delete_key(name, "a")'] }, { name: 'abc' }),
    /expected pcommon.Map but got string/,
  );
});

test('compile errors name the statement, the column and what is wrong', () => {
  const table: [string, RegExp, number][] = [
    ['set(nme, "x")', /segment "nme" from path "nme" is not a valid path for the span context/, 4],
    ['Set(name, "x")', /editor names must start with a lowercase letter/, 0],
    ['set(name, concat(["a"], ""))', /converter names must start with an uppercase letter/, 10],
    ['set(name, Nope(name))', /undefined function "Nope"/, 10],
    ['set(name, "x") where', /unexpected end of statement/, 20],
    ['set(name, "x" where name == "")', /expected "\)"/, 14],
    ['truncate_all(attributes, -1)', /cannot be negative/, 0],
    ['keep_keys(attributes, "a")', /must be a list/, 22],
    ['replace_pattern(name, "(", "x")', /not a valid pattern/, 0],
    ['set(attributes["a"], SHA256(1))', /expected string but got int64/, 28],
    ['merge_maps(attributes, attributes, "merge")', /strategy/, 0],
  ];
  for (const [stmt, re, offset] of table) {
    const issues = validateTransformConfig({ trace_statements: [{ context: 'span', statements: [stmt] }] });
    assert.equal(issues.length, 1, stmt);
    assert.match(issues[0]?.message ?? '', re, stmt);
    assert.ok(issues[0]?.message.includes(`\`${stmt}\``), `names the statement: ${issues[0]?.message}`);
    assert.deepEqual(issues[0]?.path, ['trace_statements', 0, 'statements', 0]);
    if (offset >= 0) assert.equal(issues[0]?.offset, offset, stmt);
  }
});

test('config shape errors are all reported, not only the first', () => {
  const issues = validateTransformConfig({
    trace_statements: [
      { context: 'spanevnt', statements: ['set(name, "x")'] } as never,
      { context: 'span', statements: ['set(nme, "x")'], unknown: 1 } as never,
    ],
    log_statements: ['set(span.name, "x")'],
    metrics: ['set(nope, 1)'],
  });
  const paths = issues.map((i) => i.path.join('.'));
  assert.deepEqual(paths.sort(), [
    'log_statements.0',
    'metrics.0',
    'trace_statements.0.context',
    'trace_statements.1.statements.0',
    'trace_statements.1.unknown',
  ]);
});

test('a missing hash key fails at start when a statement hashes, not otherwise', () => {
  assert.throws(
    () => createTransformProcessor('t', { traces: ['set(attributes["h"], SHA256(name))'] }, {}),
    /needs a key/,
  );
  assert.doesNotThrow(() => createTransformProcessor('t', { traces: ['set(attributes["h"], name)'] }, {}));
});
