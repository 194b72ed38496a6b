/**
 * API-key authentication (Sieve's `apikeyauth` extension): `Authorization: Bearer <key>` or
 * `X-API-Key: <key>`; sha256(key) is compared in constant time against every stored hash.
 * Optional HMAC-SHA256 signature (hex) of the raw (wire) body in a configured header.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { resourceProtobuf } from '../otlp/codec.js';
import type { AnyValue, KeyValue, RequestBySignal, Resource, Signal } from '../otlp/model.js';
import type { RawTraces } from '../otlp/raw-traces.js';
import type { ApiKeyEntry, AuthSettings } from '../pipeline/api.js';

export interface Principal {
  tenant: string;
  name?: string;
}

interface PreparedKey {
  hash: Buffer;
  entry: ApiKeyEntry;
}

export interface Authenticator {
  /** the tenant of the request's key, or a reason for 401 */
  authenticate(headers: IncomingHttpHeaders): Principal | { error: string };
  /** header carrying the body signature, when HMAC is configured (lowercase) */
  readonly hmacHeader?: string;
  readonly hmacSecret?: Buffer;
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headerValue(headers.authorization);
  if (auth !== undefined) {
    const m = /^\s*bearer\s+(\S+)\s*$/i.exec(auth);
    if (m !== null) return m[1];
  }
  const x = headerValue(headers['x-api-key']);
  if (x !== undefined && x.trim() !== '') return x.trim();
  return undefined;
}

export function createAuthenticator(settings: AuthSettings): Authenticator {
  const keys: PreparedKey[] = settings.keys.map((entry) => {
    const hash = Buffer.from(entry.sha256.toLowerCase(), 'hex');
    if (hash.length !== 32) throw new Error(`api key ${entry.name ?? entry.tenant}: sha256 must be 64 hex characters`);
    return { hash, entry };
  });
  return {
    hmacHeader: settings.hmac?.header.toLowerCase(),
    hmacSecret: settings.hmac?.secret,
    authenticate(headers) {
      const key = presentedKey(headers);
      if (key === undefined) return { error: 'missing API key (Authorization: Bearer <key> or X-API-Key)' };
      const digest = createHash('sha256').update(key, 'utf8').digest();
      let found: ApiKeyEntry | undefined;
      // compare against every key so the time does not depend on which one matched
      for (const k of keys) if (timingSafeEqual(k.hash, digest) && found === undefined) found = k.entry;
      if (found === undefined) return { error: 'invalid API key' };
      return found.name !== undefined ? { tenant: found.tenant, name: found.name } : { tenant: found.tenant };
    },
  };
}

/** Constant-time check of a hex HMAC signature against the computed digest. */
export function signatureMatches(presented: string | string[] | undefined, digest: Buffer): boolean {
  const v = headerValue(presented)
    ?.trim()
    .replace(/^sha256=/i, '');
  if (v === undefined || !/^[0-9a-fA-F]{64}$/.test(v)) return false;
  return timingSafeEqual(Buffer.from(v, 'hex'), digest);
}

function setTenant(resource: Resource, value: AnyValue): void {
  const attrs: KeyValue[] = (resource.attributes ??= []);
  let seen = false;
  let w = 0;
  for (let r = 0; r < attrs.length; r++) {
    const kv = attrs[r] as KeyValue;
    if (kv.key === 'tenant.id') {
      if (seen) continue; // drop duplicates a client may have sent
      seen = true;
      attrs[w++] = { key: 'tenant.id', value };
    } else attrs[w++] = kv;
  }
  attrs.length = w;
  if (!seen) attrs.push({ key: 'tenant.id', value });
}

/** Sets resource attribute `tenant.id` on every resource (overwriting a client-sent value). */
export function stampTenant<S extends Signal>(signal: S, request: RequestBySignal[S], tenant: string): void {
  const value: AnyValue = { stringValue: tenant };
  const list =
    signal === 'traces'
      ? (request as RequestBySignal['traces']).resourceSpans
      : signal === 'logs'
        ? (request as RequestBySignal['logs']).resourceLogs
        : (request as RequestBySignal['metrics']).resourceMetrics;
  for (const r of list ?? []) setTenant((r.resource ??= {}), value);
}

/** stampTenant for traces kept encoded: each distinct resource is decoded, stamped and re-encoded once. */
export function stampTenantRaw(traces: RawTraces, tenant: string): void {
  const value: AnyValue = { stringValue: tenant };
  const codec = resourceProtobuf();
  const stamped = new Map<Buffer | null | undefined, Buffer>();
  for (const rs of traces.resourceSpans) {
    let bytes = stamped.get(rs.resource);
    if (bytes === undefined) {
      const resource = (rs.resource != null ? codec.decode(rs.resource) : {}) as Resource;
      setTenant(resource, value);
      bytes = codec.encode(resource);
      stamped.set(rs.resource, bytes);
    }
    rs.resource = bytes;
  }
}
