/**
 * `sieve receiver --workers 2` as a real process tree against the local Kafka: both workers serve
 * the one OTLP port, the primary's ops port aggregates their metrics and readiness, a killed worker
 * is replaced, and SIGTERM stops everything cleanly with every acknowledged span in Kafka.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { SEMI_SPACE_FLAG } from '../../src/cli/v8-flags.js';
import { countItems, decodeProtobuf, encodeProtobuf } from '../../src/otlp/codec.js';
import type { ExportTraceServiceRequest } from '../../src/otlp/model.js';
import { BROKERS, deleteTopics, ensureTopicsRetry, presetWithTopics } from '../support/kafka-harness.js';
import { type SieveProcess, startSieve, stopSieve, waitFor200 } from '../support/sieve-process.js';

const prefix = `sieve_cluster_${randomBytes(4).toString('hex')}`;
const topics = [`${prefix}_otlp_spans`, `${prefix}_otlp_logs`, `${prefix}_otlp_metrics`];
const dir = mkdtempSync(join(tmpdir(), 'sieve-cluster-'));
let sieve: SieveProcess | undefined;

after(async () => {
  if (sieve !== undefined && sieve.child.exitCode === null) sieve.child.kill('SIGKILL');
  await deleteTopics(topics);
  rmSync(dir, { recursive: true, force: true });
});

/** One request of `spans` spans with a fresh trace id, as protobuf. */
function traceRequest(spans: number): Buffer {
  const traceId = randomBytes(16);
  const req: ExportTraceServiceRequest = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'cluster-test' } }] },
        scopeSpans: [
          {
            scope: { name: 'cluster-test' },
            spans: Array.from({ length: spans }, (_, i) => ({
              traceId,
              spanId: randomBytes(8),
              name: `op-${i}`,
              startTimeUnixNano: '1700000000000000000',
              endTimeUnixNano: '1700000000100000000',
            })),
          },
        ],
      },
    ],
  };
  return Buffer.from(encodeProtobuf('traces', req));
}

/** POSTs on a new connection (a killed worker's keep-alive connections are reset, as they should be). */
function post(body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `http://127.0.0.1:${sieve?.ports.otlp}/v1/traces`,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/x-protobuf' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error('no answer within 15 s')));
    req.end(body);
  });
}

async function metricsText(): Promise<string> {
  return (await fetch(`http://127.0.0.1:${sieve?.ports.receiverOps}/metrics`)).text();
}

function metricValue(text: string, line: RegExp): number {
  const m = text.split('\n').find((l) => line.test(l));
  return m === undefined ? Number.NaN : Number(m.split(' ').pop());
}

/** Spans in the traces topic, read from the beginning until `want` or 30 s. */
async function spansInKafka(want: number): Promise<number> {
  const consumer = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING }).consumer({
    groupId: `${prefix}-${randomBytes(4).toString('hex')}`,
  });
  let spans = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: topics[0] as string, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      spans += countItems('traces', decodeProtobuf('traces', message.value as Buffer));
    },
  });
  const deadline = Date.now() + 30_000;
  while (spans < want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  await consumer.disconnect();
  return spans;
}

test('sieve receiver --workers 2: shared port, aggregated metrics, worker replaced, clean SIGTERM', {
  timeout: 180_000,
}, async () => {
  await ensureTopicsRetry(topics);
  const configPath = join(dir, 'sieve.yaml');
  writeFileSync(configPath, presetWithTopics('sieve.yaml', prefix));
  sieve = await startSieve({
    command: 'receiver',
    configPath,
    args: ['--workers', '2'],
    env: { SIEVE_HASH_KEY: randomBytes(32).toString('hex') },
    nodeArgs: [], // started as `node bin/sieve.mjs`: the primary still gives its workers the receiver's heap flag
  });
  await waitFor200(`http://127.0.0.1:${sieve.ports.receiverOps}/readyz`, sieve);
  const workerPids = () =>
    [...sieve!.log().matchAll(/"pid":(\d+),"msg":"receiver worker listening"/g)].map((m) => Number(m[1]));
  assert.equal(workerPids().length, 2, sieve.log());
  for (const pid of workerPids())
    assert.ok(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(SEMI_SPACE_FLAG), `worker ${pid}`);

  // 40 concurrent requests on 40 connections: the primary deals connections to both workers
  const statuses = await Promise.all(Array.from({ length: 40 }, () => post(traceRequest(25))));
  assert.deepEqual(new Set(statuses), new Set([200]));
  let text = await metricsText();
  assert.equal(metricValue(text, /^sieve_receiver_requests_total\{signal="traces",status="200"\}/), 40);
  assert.equal(metricValue(text, /^sieve_receiver_items_total\{signal="traces",outcome="accepted",reason=""\}/), 1000);
  assert.equal(metricValue(text, /^sieve_receiver_workers /), 2);

  // a worker dies: once the primary has seen it (a connection dealt to the dying worker in between
  // is lost, as with any crashed server), the other worker serves every request; a new one starts
  const [victim] = workerPids();
  process.kill(victim as number, 'SIGKILL');
  const seen = Date.now() + 10_000;
  while (Date.now() < seen && !sieve.log().includes('receiver worker died'))
    await new Promise((r) => setTimeout(r, 50));
  assert.equal(await post(traceRequest(10)), 200);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && workerPids().length < 3) await new Promise((r) => setTimeout(r, 200));
  assert.equal(workerPids().length, 3, `no replacement worker:\n${sieve.log()}`);
  await waitFor200(`http://127.0.0.1:${sieve.ports.receiverOps}/readyz`, sieve);
  text = await metricsText();
  assert.equal(metricValue(text, /^sieve_receiver_worker_restarts_total /), 1);
  assert.equal(metricValue(text, /^sieve_receiver_workers /), 2);
  const more = await Promise.all(Array.from({ length: 10 }, () => post(traceRequest(10))));
  assert.deepEqual(new Set(more), new Set([200]));

  // SIGTERM: workers finish and flush, the primary exits 0 and leaves no worker behind
  const live = workerPids().filter((pid) => pid !== victim);
  assert.equal(await stopSieve(sieve), 0, sieve.log());
  for (const pid of live) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `worker ${pid} still running`);
  assert.equal(await spansInKafka(1110), 1110);
});

test('sieve receiver --workers 2 that cannot start (no API keys outside dev mode) exits 1 with the reason', {
  timeout: 60_000,
}, async () => {
  const configPath = join(dir, 'sieve.yaml');
  writeFileSync(configPath, presetWithTopics('sieve.yaml', prefix));
  const failing = await startSieve({
    command: 'receiver',
    configPath,
    dev: false,
    args: ['--workers', '2'],
    env: { SIEVE_HASH_KEY: randomBytes(32).toString('hex') },
  });
  const code = await new Promise<number | null>((resolve) => failing.child.once('exit', resolve));
  assert.equal(code, 1, failing.log());
  assert.match(failing.log(), /no API keys configured/);
  assert.match(failing.log(), /exited before listening/);
});
