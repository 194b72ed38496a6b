/** A raw OTLP/gRPC client for tests: sends bytes as they are, returns the status and the raw response. */
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { otlpRoot } from '../../src/otlp/codec.js';
import type { Signal } from '../../src/otlp/model.js';
import { GRPC_EXPORT_PATHS } from '../../src/receiver/grpc.js';

export interface GrpcOutcome {
  code: grpc.status;
  details: string;
  response?: Buffer;
  /** seconds of the google.rpc.RetryInfo in grpc-status-details-bin, if any */
  retryAfterSeconds?: number;
}

const id = (b: Buffer) => b;

/** One unary Export call on `client` (with `metadata` pairs, `compress`: gzip the message). */
export function exportCall(
  client: grpc.Client,
  signal: Signal,
  message: Buffer,
  metadata: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<GrpcOutcome> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      GRPC_EXPORT_PATHS[signal],
      id,
      id,
      message,
      md,
      { deadline: Date.now() + timeoutMs },
      (err: grpc.ServiceError | null, response?: Buffer) => {
        if (err === null) {
          resolve({ code: grpc.status.OK, details: '', ...(response !== undefined ? { response } : {}) });
          return;
        }
        const out: GrpcOutcome = { code: err.code, details: err.details };
        const bin = err.metadata?.get('grpc-status-details-bin')[0];
        if (Buffer.isBuffer(bin)) {
          const seconds = retryInfoSeconds(bin);
          if (seconds !== undefined) out.retryAfterSeconds = seconds;
        }
        resolve(out);
      },
    );
  });
}

/** The RetryInfo delay (seconds) of a google.rpc.Status, if it carries one. */
export function retryInfoSeconds(statusBytes: Buffer): number | undefined {
  const status = otlpRoot.lookupType('google.rpc.Status').decode(statusBytes) as unknown as {
    details?: { typeUrl: string; value: Uint8Array }[];
  };
  const info = status.details?.find((d) => d.typeUrl === 'type.googleapis.com/google.rpc.RetryInfo');
  if (info === undefined) return undefined;
  // RetryInfo { Duration retry_delay = 1 }, Duration { int64 seconds = 1 }
  const outer = protobuf.Reader.create(info.value);
  while (outer.pos < outer.len) {
    const tag = outer.uint32();
    if (tag >>> 3 !== 1) {
      outer.skipType(tag & 7);
      continue;
    }
    const inner = protobuf.Reader.create(outer.bytes());
    while (inner.pos < inner.len) {
      const t = inner.uint32();
      if (t >>> 3 === 1) return Number(inner.int64());
      inner.skipType(t & 7);
    }
    return 0;
  }
  return undefined;
}

export function insecureClient(port: number, options: grpc.ChannelOptions = {}): grpc.Client {
  return new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    // a fresh connection per client (the cluster test deals connections to workers)
    'grpc.use_local_subchannel_pool': 1,
    ...options,
  });
}
