/**
 * `sieve receiver --workers 2` with the default pipeline over OTLP/gRPC, as a real process tree
 * against the local Kafka: the gRPC port is shared — connections from many clients are held by both
 * workers (read from /proc: which process owns each established socket) — and SIGTERM during a
 * burst of calls drains them: every call answered OK is in Kafka and the primary exits 0.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { Kafka, logLevel } from 'kafkajs';
import { countItems, decodeProtobuf, encodeProtobuf } from '../../src/otlp/codec.js';
import type { ExportTraceServiceRequest } from '../../src/otlp/model.js';
import { exportCall, insecureClient } from '../support/grpc-client.js';
import { BROKERS, deleteTopics, ensureTopicsRetry, presetWithTopics } from '../support/kafka-harness.js';
import { type SieveProcess, startSieve, stopSieve, waitFor200 } from '../support/sieve-process.js';

const prefix = `sieve_gcluster_${randomBytes(4).toString('hex')}`;
const topics = [`${prefix}_otlp_spans`, `${prefix}_otlp_logs`, `${prefix}_otlp_metrics`];
const dir = mkdtempSync(join(tmpdir(), 'sieve-gcluster-'));
const clients: grpc.Client[] = [];
let sieve: SieveProcess | undefined;

after(async () => {
  for (const c of clients) c.close();
  if (sieve !== undefined && sieve.child.exitCode === null) sieve.child.kill('SIGKILL');
  await deleteTopics(topics);
  rmSync(dir, { recursive: true, force: true });
});

function traceRequest(spans: number): Buffer {
  const traceId = randomBytes(16);
  const req: ExportTraceServiceRequest = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'grpc-cluster-test' } }] },
        scopeSpans: [
          {
            scope: { name: 'grpc-cluster-test' },
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

/** Socket inodes of established TCP connections whose local port is `port` (IPv4 and IPv6). */
function establishedInodes(port: number): Set<string> {
  const out = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (f.length < 10 || f[1]?.split(':')[1] !== hexPort || f[3] !== '01') continue;
      out.add(f[9] as string);
    }
  }
  return out;
}

/** How many of `inodes` the process `pid` holds open. */
function socketsHeldBy(pid: number, inodes: Set<string>): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let link: string;
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m !== null && inodes.has(m[1] as string)) n++;
  }
  return n;
}

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
  await new Promise((r) => setTimeout(r, 1000)); // and nothing more arrives
  await consumer.disconnect();
  return spans;
}

test('sieve receiver --workers 2: both workers serve the gRPC port; SIGTERM drains calls in flight', {
  timeout: 180_000,
}, async (t) => {
  await ensureTopicsRetry(topics);
  const configPath = join(dir, 'sieve.yaml');
  writeFileSync(configPath, presetWithTopics('sieve.yaml', prefix));
  sieve = await startSieve({
    command: 'receiver',
    configPath,
    args: ['--workers', '2'],
    env: { SIEVE_HASH_KEY: randomBytes(32).toString('hex') },
  });
  await waitFor200(`http://127.0.0.1:${sieve.ports.receiverOps}/readyz`, sieve);
  const pids = [...sieve.log().matchAll(/"pid":(\d+),"msg":"receiver worker listening"/g)].map((m) => Number(m[1]));
  assert.equal(pids.length, 2, sieve.log());

  // 24 clients, one connection each, all kept open: the primary deals the connections to both workers
  // (connected one after the other, so that a worker busy with a burst is not skipped every time)
  const first: Awaited<ReturnType<typeof exportCall>>[] = [];
  for (let i = 0; i < 24; i++) {
    const c = insecureClient(sieve.ports.grpc);
    clients.push(c);
    first.push(await exportCall(c, 'traces', traceRequest(10)));
  }
  assert.deepEqual(new Set(first.map((r) => r.code)), new Set([grpc.status.OK]), JSON.stringify(first));
  let acknowledged = 240;
  const inodes = establishedInodes(sieve.ports.grpc);
  const held = pids.map((pid) => socketsHeldBy(pid, inodes));
  assert.ok(
    held.every((n) => n > 0),
    `gRPC connections per worker ${held.join(', ')}: both workers must serve the shared port`,
  );
  assert.equal(
    held.reduce((a, b) => a + b, 0),
    24,
    'every client connection is held by a worker',
  );

  // a burst of calls, SIGTERM once the first is answered: the rest are drained, not dropped
  const burst = clients.map((c) => exportCall(c, 'traces', traceRequest(10)));
  await Promise.race(burst);
  const exited = stopSieve(sieve);
  const outcomes = await Promise.all(burst);
  for (const r of outcomes) {
    if (r.code === grpc.status.OK) acknowledged += 10;
    // after the drain started, a new call may only be refused as retryable
    else assert.equal(r.code, grpc.status.UNAVAILABLE, `${grpc.status[r.code]}: ${r.details}`);
  }
  t.diagnostic(
    `connections per worker ${held.join('/')}; burst during SIGTERM: ${outcomes.filter((r) => r.code === grpc.status.OK).length} OK of ${outcomes.length}`,
  );
  assert.equal(await exited, 0, sieve.log());
  for (const pid of pids) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `worker ${pid} still running`);
  const inKafka = await spansInKafka(acknowledged);
  assert.ok(inKafka >= acknowledged, `${inKafka} spans in Kafka for ${acknowledged} acknowledged`);
});
