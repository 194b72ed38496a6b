// `sieve dlq` and `sieve dlq replay` on a real broker and ClickHouse: a loader sends refused and
// undecodable messages to the DLQ; `sieve dlq` says what waits; once the constraint that refused
// them is dropped, a replay sends them back and the loader loads the refused ones (exactly once, also
// when replay runs again); the undecodable one fails again and waits for the next replay, until a
// replay of refused messages only passes it over.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { runDlq } from '../../src/cli/dlq.js';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { migrate } from '../../src/clickhouse/migrate.js';
import type { Loader } from '../../src/loader/loader.js';
import { makeTraces } from '../../src/loader/testdata/spans.js';
import { encodeProtobuf } from '../../src/otlp/codec.js';
import { startTestLoader } from '../support/test-loader.js';
import { until } from '../support/until.js';

const id = randomBytes(4).toString('hex');
const brokers = [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'];
const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
const client = createClickHouseClient();
const db = `sieve_dlq_${id}`;
const topic = `dlq_spans_${id}`;
const group = `g_dlq_replay_${id}`;
let loader: Loader | undefined;

async function scalar(sql: string): Promise<number> {
  const rs = await client.query({ query: sql, format: 'JSONEachRow' });
  return Number(Object.values(((await rs.json()) as Record<string, unknown>[])[0] ?? {})[0] ?? 0);
}

/** `sieve dlq <args>` with this test's topic and replay group unless `args` name others: its exit code and output. */
async function sieveDlq(...args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      out += String(chunk);
      done();
    },
  });
  const code = await runDlq(
    [
      ...args,
      ...(args.includes('--topic') ? [] : ['--topic', topic]),
      ...(args.includes('--group') ? [] : ['--group', group]),
    ],
    sink,
    sink,
  );
  return { code, out };
}

/**
 * The keys of the messages a loader would read from `topic` (committed ones only, kafkajs' default),
 * found by writing one more message and reading up to it.
 */
async function keysIn(topic: string): Promise<string[]> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ key: 'end', value: Buffer.from('end') }] });
  await producer.disconnect();
  const keys: string[] = [];
  const consumer = kafka.consumer({ groupId: `g_keys_${topic}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void keys.push(String(message.key)) });
  await until(`the messages of ${topic}`, async () => keys.includes('end'));
  await consumer.disconnect();
  return keys.filter((k) => k !== 'end');
}

/** Creates one-partition topics, connected through `admin`. */
function createTopics(admin: Admin, ...topics: string[]): Promise<boolean> {
  return admin.createTopics({ topics: topics.map((t) => ({ topic: t, numPartitions: 1 })), waitForLeaders: true });
}

async function dlqEnd(): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(`${topic}.dlq`)).reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

after(async () => {
  await loader?.stop().catch(() => undefined);
  await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
});

test('sieve dlq says what waits; replay loads the refused messages once their cause is fixed', async () => {
  await migrate({ client, database: db });
  await client.command({ query: `ALTER TABLE ${db}.otel_traces ADD CONSTRAINT no_poison CHECK SpanName != 'poison'` });
  const admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, topic);
  await admin.disconnect();

  const PER = 5;
  const poisoned = [1, 4];
  const messages = [];
  for (let b = 0; b < 6; b++) {
    const req = makeTraces(b, PER);
    if (poisoned.includes(b)) req.resourceSpans![0]!.scopeSpans![0]!.spans![0]!.name = 'poison';
    messages.push({ key: `m${b}`, value: Buffer.from(encodeProtobuf('traces', req)) });
  }
  messages.push({ key: 'garbage', value: Buffer.from('not an OTLP message') });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages });
  await producer.disconnect();

  loader = await startTestLoader({ topic, groupId: `g_loader_${id}`, client, database: db });
  const good = (6 - poisoned.length) * PER;
  await until('the accepted spans', async () => (await scalar(`SELECT count() FROM ${db}.otel_traces`)) >= good);
  await until('three dead letters', async () => (await dlqEnd()) >= 3, 30_000);

  const before = await sieveDlq();
  assert.equal(before.code, 0);
  assert.match(before.out, new RegExp(`${topic}\\.dlq: 3 waiting\\n`));
  assert.match(before.out, /\n {2}2 {2}refused {5}otel_traces +Constraint `no_poison` for table /);
  assert.match(before.out, /\n {2}1 {2}undecodable -/);
  assert.match(before.out, /replay with: sieve dlq replay/);
  assert.equal(await scalar(`SELECT count() FROM ${db}.otel_traces WHERE SpanName = 'poison'`), 0);

  // the cause fixed: the refused messages load when replayed; the undecodable one is back in the DLQ
  await client.command({ query: `ALTER TABLE ${db}.otel_traces DROP CONSTRAINT no_poison` });
  const replay = await sieveDlq('replay');
  assert.equal(replay.code, 0);
  assert.match(replay.out, new RegExp(`replayed 3: 3 to ${topic}\\n`));
  await until(
    'the replayed spans',
    async () => (await scalar(`SELECT count() FROM ${db}.otel_traces`)) >= good + poisoned.length * PER,
  );
  await until('the undecodable message back in the DLQ', async () => (await dlqEnd()) >= 4, 30_000);

  const afterReplay = await sieveDlq();
  assert.match(
    afterReplay.out,
    new RegExp(`${topic}\\.dlq: 1 waiting \\(of 4 held; the rest replayed by group ${group}\\)`),
  );
  assert.match(afterReplay.out, /\n {2}1 {2}undecodable -/);
  assert.doesNotMatch(afterReplay.out, /refused/);

  // a second replay sends only what came back, never the messages replayed before
  const again = await sieveDlq('replay');
  assert.match(again.out, new RegExp(`replayed 1: 1 to ${topic}\\n`));
  await until('the undecodable message in the DLQ again', async () => (await dlqEnd()) >= 5, 30_000);
  await new Promise((r) => setTimeout(r, 1000)); // a duplicate insert would have landed by now
  assert.equal(await scalar(`SELECT count() FROM ${db}.otel_traces WHERE SpanName = 'poison'`), poisoned.length);
  assert.equal(await scalar(`SELECT count() FROM ${db}.otel_traces`), 6 * PER, 'every span exactly once');
  assert.equal(await scalar(`SELECT sum(Calls) FROM ${db}.spans_1m_v`), 6 * PER, 'rollups match the raw table');

  // replaying only refused messages passes the undecodable one over: nothing waits, nothing is sent
  const end = await dlqEnd();
  const refusedOnly = await sieveDlq('replay', '--reason', 'refused');
  assert.equal(refusedOnly.code, 0);
  assert.match(refusedOnly.out, /replayed 0; passed over 1: 1 undecodable\n/);
  assert.match(
    (await sieveDlq()).out,
    new RegExp(`${topic}\\.dlq: nothing waiting \\(5 held, all replayed by group ${group}\\)`),
  );
  await new Promise((r) => setTimeout(r, 1000)); // a message sent back would be in the DLQ again by now
  assert.equal(await dlqEnd(), end, 'the passed-over message was not sent back');
});

test('sieve dlq on a DLQ topic that does not exist yet says so', async () => {
  const r = await sieveDlq('--topic', `never_${id}`);
  assert.equal(r.code, 0);
  assert.match(r.out, new RegExp(`^never_${id}\\.dlq: no such topic \\(nothing has gone to the DLQ\\)\n`));
});

test('a replay into a topic that is gone fails naming it; nothing of its batch is replayed, and all still waits', async () => {
  const dlq = `gone_${id}.dlq`;
  const kept = `kept_${id}`;
  const admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, dlq, kept);
  const producer = kafka.producer();
  await producer.connect();
  const headers = (to: string) => ({
    reason: 'refused',
    'refused.table': 'otel_traces',
    error: 'boom',
    'original.topic': to,
  });
  // one batch: the first message's topic exists, the second's does not
  await producer.send({
    topic: dlq,
    messages: [
      { key: 'a', value: Buffer.from('to kept'), headers: headers(kept) },
      { key: 'b', value: Buffer.from('to gone'), headers: headers(`gone_${id}`) },
    ],
  });
  await producer.disconnect();

  await assert.rejects(
    runDlq(['replay', '--topic', dlq, '--group', group], new Writable({ write: (_c, _e, done) => done() })),
    new RegExp(
      `replaying ${dlq} partition 0 offsets 0–1 into ${kept}, gone_${id} failed, and none of them was replayed`,
    ),
  );
  const r = await sieveDlq('--topic', dlq);
  assert.match(r.out, new RegExp(`${dlq}: 2 waiting\\n {2}2 {2}refused {5}otel_traces {4}boom\\n`));

  // nor did the message for the existing topic reach a loader (one sent topic by topic would have)
  await admin.disconnect();
  assert.deepEqual(await keysIn(kept), []);
});

test('a replay killed halfway, run again, sends every message exactly once', async () => {
  const source = `killed_${id}`;
  const dlq = `${source}.dlq`;
  const replayGroup = `g_killed_${id}`;
  const admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, source, dlq);
  // 40 messages of 200 KB, each a batch of its own: a fetch (1 MiB a partition) takes a few, so the
  // replay is several transactions
  const N = 40;
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < N; i++)
    await producer.send({
      topic: dlq,
      messages: [
        { key: `k${i}`, value: randomBytes(200_000), headers: { reason: 'refused', 'original.topic': source } },
      ],
    });

  const child = spawn(
    process.execPath,
    [
      join(import.meta.dirname, '..', '..', 'bin', 'sieve.mjs'),
      'dlq',
      'replay',
      '--topic',
      dlq,
      '--group',
      replayGroup,
    ],
    { env: { ...process.env, SIEVE_FROM_SOURCE: '1' }, stdio: 'ignore' },
  );
  const exited = new Promise<NodeJS.Signals | null>((ok) => child.on('exit', (_code, signal) => ok(signal)));
  // killed as soon as the first transaction's messages are in the source topic's log
  for (const end = Date.now() + 60_000; Number((await admin.fetchTopicOffsets(source))[0]?.high) === 0; ) {
    if (Date.now() > end) throw new Error('timed out waiting for the replay to write');
    await new Promise((r) => setTimeout(r, 5));
  }
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  const [done] = (await admin.fetchOffsets({ groupId: replayGroup, topics: [dlq] }))[0]!.partitions;
  assert.ok(Number(done?.offset) < N, `killed before the replay's end (committed ${done?.offset})`);

  const again = await sieveDlq('replay', '--topic', dlq, '--group', replayGroup);
  assert.match(again.out, /replayed \d+: \d+ to killed_/);
  await producer.disconnect();
  await admin.disconnect();
  assert.deepEqual(
    (await keysIn(source)).sort(),
    Array.from({ length: N }, (_, i) => `k${i}`).sort(),
    'each message once: none lost, none repeated',
  );
});
