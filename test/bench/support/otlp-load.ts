/**
 * OTLP/HTTP load generator, run as its own process so the receiver under test does not share an
 * event loop (or a heap) with its clients:
 *
 *   node --import tsx test/bench/support/otlp-load.ts <url> <clients> <seconds> [offeredSpansPerSec] [stamp-now]
 *
 * Each client POSTs protobuf 512-span batches (20 attributes per span, 16 traces per batch, trace ids
 * changed per request) over a keep-alive connection. With `offeredSpansPerSec` the clients together
 * pace themselves to that rate (open loop); without it they send as fast as answers come back.
 * Prints one JSON line: { accepted, refused, statuses, seconds, latenciesMs: [p50, p99] }.
 * A `grpc://host:port` url sends the same batches as OTLP/gRPC Export calls, one channel per client
 * (statuses are then gRPC codes, 0 = OK).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { encodeProtobuf } from '../../../src/otlp/codec.js';
import type { ExportTraceServiceRequest, KeyValue, Span } from '../../../src/otlp/model.js';
import { GRPC_EXPORT_PATHS } from '../../../src/receiver/grpc.js';

export const SPANS_PER_REQUEST = 512;
const TRACES_PER_BATCH = 16;

const TEMPLATE_START = 1_700_000_000_000_000_000n;
const TEMPLATE_END = 1_700_000_000_500_000_000n;

/** A 512-span batch; returns its encoding and the offsets of every trace id and timestamp in it. */
export function spanBatchTemplate(): {
  bytes: Buffer;
  traceIdOffsets: number[];
  startOffsets: number[];
  endOffsets: number[];
} {
  const traceIds = Array.from({ length: TRACES_PER_BATCH }, () => randomBytes(16));
  const spans: Span[] = [];
  for (let i = 0; i < SPANS_PER_REQUEST; i++) {
    const attributes: KeyValue[] = [
      { key: 'http.request.method', value: { stringValue: 'GET' } },
      { key: 'http.route', value: { stringValue: '/api/v1/orders/{id}' } },
      { key: 'url.full', value: { stringValue: `https://shop.example.com/api/v1/orders/${i}?ref=mail` } },
      { key: 'http.response.status_code', value: { intValue: 200 } },
      { key: 'server.address', value: { stringValue: 'orders.internal' } },
      { key: 'server.port', value: { intValue: 8080 } },
      { key: 'user.id', value: { stringValue: `user-${i % 97}` } },
      { key: 'user.email', value: { stringValue: `customer${i % 97}@example.com` } },
      { key: 'client.address', value: { stringValue: `203.0.113.${i % 250}` } },
      { key: 'db.system', value: { stringValue: 'postgresql' } },
      { key: 'db.statement', value: { stringValue: 'SELECT * FROM orders WHERE id = $1' } },
      { key: 'thread.id', value: { intValue: i % 16 } },
      { key: 'feature.flag', value: { boolValue: i % 2 === 0 } },
      { key: 'retry.count', value: { intValue: 0 } },
      { key: 'cache.hit', value: { boolValue: false } },
      { key: 'order.total', value: { doubleValue: 12.5 + i } },
      {
        key: 'note',
        value: { stringValue: i % 10 === 0 ? 'call +1 415-555-0132 about card 4111 1111 1111 1111' : 'plain note' },
      },
      { key: 'region', value: { stringValue: 'eu-west-1' } },
      { key: 'tenant', value: { stringValue: `tenant-${i % 7}` } },
      { key: 'component', value: { stringValue: 'http' } },
    ];
    spans.push({
      traceId: traceIds[i % TRACES_PER_BATCH],
      spanId: randomBytes(8),
      name: 'GET /api/v1/orders/{id}',
      kind: 2,
      startTimeUnixNano: TEMPLATE_START + BigInt(i),
      endTimeUnixNano: TEMPLATE_END + BigInt(i),
      attributes,
    } as unknown as Span);
  }
  const req = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench' } }] },
        scopeSpans: [{ scope: { name: 'bench' }, spans }],
      },
    ],
  } as unknown as ExportTraceServiceRequest;
  const bytes = Buffer.from(encodeProtobuf('traces', req));
  const traceIdOffsets: number[] = [];
  for (const t of traceIds) {
    for (let at = bytes.indexOf(t); at !== -1; at = bytes.indexOf(t, at + 1)) traceIdOffsets.push(at);
  }
  if (traceIdOffsets.length < SPANS_PER_REQUEST) throw new Error(`found ${traceIdOffsets.length} trace ids`);
  const fixed64Offsets = (base: bigint) =>
    Array.from({ length: SPANS_PER_REQUEST }, (_, i) => {
      const le = Buffer.alloc(8);
      le.writeBigUInt64LE(base + BigInt(i));
      const at = bytes.indexOf(le);
      if (at === -1) throw new Error(`timestamp of span ${i} not found in the template`);
      return at;
    });
  return {
    bytes,
    traceIdOffsets,
    startOffsets: fixed64Offsets(TEMPLATE_START),
    endOffsets: fixed64Offsets(TEMPLATE_END),
  };
}

/** One request as sent when timestamps are stamped: its spans' start (ns, unique per request) and end. */
export interface SentRequest {
  startNs: string;
  endMs: number;
  status: number;
}

/** What the load reports while it runs (with `stampNow`): a request just sent, or its answer. */
export type LoadEvent =
  | { sent: { startNs: string; endMs: number } }
  | { answered: { startNs: string; status: number } };

export interface LoadResult {
  accepted: number;
  refused: number;
  statuses: Record<string, number>;
  seconds: number;
  latenciesMs: [number, number];
  /** with `stampNow`: every request sent */
  sent?: SentRequest[];
}

/**
 * Runs `clients` concurrent senders for `seconds`; see the file comment. With `stampNow` every span of a
 * request ends at the moment it is sent (start = end − 5 ms, unique per request), for freshness.
 */
export async function runLoad(
  url: string,
  clients: number,
  seconds: number,
  offered?: number,
  stampNow = false,
  report?: (event: LoadEvent) => void,
): Promise<LoadResult> {
  const { bytes, traceIdOffsets, startOffsets, endOffsets } = spanBatchTemplate();
  const sent: SentRequest[] = [];
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  let seq = 0;
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let accepted = 0;
  let refused = 0;
  const started = performance.now();
  const endAt = started + seconds * 1000;
  const intervalMs = offered !== undefined ? (SPANS_PER_REQUEST / offered) * 1000 * clients : 0;

  const grpcChannels =
    target.protocol === 'grpc:'
      ? Array.from(
          { length: clients },
          () =>
            new grpc.Client(target.host, grpc.credentials.createInsecure(), {
              'grpc.use_local_subchannel_pool': 1,
              'grpc.max_send_message_length': 64 << 20,
            }),
        )
      : [];
  const exportCall = (channel: grpc.Client, body: Buffer) =>
    new Promise<number>((resolve) =>
      channel.makeUnaryRequest(
        GRPC_EXPORT_PATHS.traces,
        (b: Buffer) => b,
        (b: Buffer) => b,
        body,
        new grpc.Metadata(),
        (err) => resolve(err === null ? 200 : 1000 + err.code),
      ),
    );
  const post = (body: Buffer, n: number) =>
    target.protocol === 'grpc:' ? exportCall(grpcChannels[n] as grpc.Client, body) : postHttp(body);
  const postHttp = (body: Buffer) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  const client = async (n: number) => {
    // every client owns one body buffer and rewrites the trace ids in place per request
    const body = Buffer.from(bytes);
    let next = started + (intervalMs * n) / clients;
    while (performance.now() < endAt) {
      if (intervalMs > 0) {
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        next += intervalMs;
      }
      const s = seq++;
      for (const at of traceIdOffsets) body.writeUInt32BE(s >>> 0, at);
      let stamped: SentRequest | undefined;
      if (stampNow) {
        const endMs = Date.now();
        const endNs = BigInt(endMs) * 1_000_000n + BigInt(s % 1_000_000);
        const startNs = endNs - 5_000_000n;
        for (const at of startOffsets) body.writeBigUInt64LE(startNs, at);
        for (const at of endOffsets) body.writeBigUInt64LE(endNs, at);
        stamped = { startNs: startNs.toString(), endMs, status: 0 };
      }
      const t0 = performance.now();
      const answer = post(body, n).catch(() => 0);
      if (stamped !== undefined) report?.({ sent: { startNs: stamped.startNs, endMs: stamped.endMs } });
      const status = await answer;
      if (stamped !== undefined) {
        sent.push({ ...stamped, status });
        report?.({ answered: { startNs: stamped.startNs, status } });
      }
      latencies.push(performance.now() - t0);
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === 200) accepted += SPANS_PER_REQUEST;
      else {
        refused++;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, n) => client(n)));
  agent.destroy();
  for (const c of grpcChannels) c.close();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
  return {
    accepted,
    refused,
    statuses,
    seconds: (performance.now() - started) / 1000,
    latenciesMs: [q(0.5), q(0.99)],
    ...(stampNow ? { sent } : {}),
  };
}

/** Runs `runLoad` in a separate process (this file as its entry point), so the load shares neither
 * event loop nor heap with the process under test. `report` gets its LoadEvents as they happen. */
export function runLoadInChildProcess(
  url: string,
  clients: number,
  seconds: number,
  offered?: number,
  stampNow = false,
  report?: (event: LoadEvent) => void,
): Promise<LoadResult> {
  const args = [url, String(clients), String(seconds), String(offered ?? ''), stampNow ? 'stamp-now' : ''];
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, ...args], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  if (report) child.on('message', (event) => report(event as LoadEvent));
  const out: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(JSON.parse(Buffer.concat(out).toString()) as LoadResult)
        : reject(new Error(`load process exited with ${code}`)),
    );
  });
}

if (process.argv[1] === import.meta.filename) {
  const [url, clients, seconds, offered, stamp] = process.argv.slice(2);
  if (url === undefined)
    throw new Error('usage: otlp-load.ts <url> <clients> <seconds> [offeredSpansPerSec] [stamp-now]');
  const r = await runLoad(
    url,
    Number(clients ?? 8),
    Number(seconds ?? 15),
    offered ? Number(offered) : undefined,
    stamp === 'stamp-now',
    process.send ? (event) => process.send?.(event) : undefined,
  );
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.disconnect?.();
}
