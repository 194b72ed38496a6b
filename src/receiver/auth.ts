/**
 * Authentication (Sieve's `apikeyauth` extension), shared by OTLP/HTTP and OTLP/gRPC:
 * - a verified client certificate (mTLS) listed under `client_certs` authenticates as its tenant;
 * - else an API key in `Authorization: Bearer <key>` or `X-API-Key: <key>` (HTTP headers or gRPC
 *   metadata): sha256(key) is compared in constant time against every stored hash; revoked keys fail.
 * The keys can be replaced while running (`setKeys`, when the keys file changes).
 * Optional HMAC-SHA256 signature (hex) of the raw (wire) body in a configured header.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { resourceProtobuf } from '../otlp/codec.js';
import type { AnyValue, KeyValue, RequestBySignal, Resource, Signal } from '../otlp/model.js';
import type { RawTraces } from '../otlp/raw-traces.js';
import type { ApiKeyEntry, AuthSettings, ClientCertEntry } from '../pipeline/api.js';

export interface Principal {
  tenant: string;
  name?: string;
  /** what authenticated the request: the key's label for metrics (its name, never the key) or a certificate */
  via?: { apiKey: string } | { clientCert: string };
}

interface PreparedKey {
  hash: Buffer;
  entry: ApiKeyEntry;
  label: string;
}

/** The credentials a request presents: headers (or gRPC metadata as headers) and a verified client certificate. */
export interface AuthHeaders {
  authorization?: string | string[] | undefined;
  'x-api-key'?: string | string[] | undefined;
}

export interface Authenticator {
  /** the tenant of the request's certificate or key, or a reason for 401 */
  authenticate(headers: AuthHeaders, peer?: PeerCertificate | null): Principal | { error: string };
  /** replaces the API keys (the keys file changed) */
  setKeys(keys: readonly ApiKeyEntry[]): void;
  /** number of keys that authenticate (not revoked) */
  readonly activeKeys: number;
  /** whether client certificates are mapped to tenants (else the peer certificate is not needed) */
  readonly usesClientCerts: boolean;
  /** header carrying the body signature, when HMAC is configured (lowercase) */
  readonly hmacHeader?: string;
  readonly hmacSecret?: Buffer;
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

export function presentedKey(headers: AuthHeaders): string | undefined {
  const auth = headerValue(headers.authorization);
  if (auth !== undefined) {
    const m = /^\s*bearer\s+(\S+)\s*$/i.exec(auth);
    if (m !== null) return m[1];
  }
  const x = headerValue(headers['x-api-key']);
  if (x !== undefined && x.trim() !== '') return x.trim();
  return undefined;
}

/** The label a key's metrics carry: its name, else a short prefix of its hash (never the key). */
export function keyLabel(entry: ApiKeyEntry): string {
  return entry.name ?? `sha256:${entry.sha256.slice(0, 12)}`;
}

function prepare(keys: readonly ApiKeyEntry[]): PreparedKey[] {
  return keys.map((entry) => {
    const hash = Buffer.from(entry.sha256.toLowerCase(), 'hex');
    if (hash.length !== 32) throw new Error(`api key ${entry.name ?? entry.tenant}: sha256 must be 64 hex characters`);
    return { hash, entry, label: keyLabel(entry) };
  });
}

/** The subject alternative names of a certificate of one kind (`DNS`, `URI`). */
function altNames(cert: PeerCertificate, kind: 'DNS' | 'URI'): string[] {
  const out: string[] = [];
  for (const part of (cert.subjectaltname ?? '').split(', ')) {
    if (!part.startsWith(`${kind}:`)) continue;
    let v = part.slice(kind.length + 1);
    if (v.startsWith('"')) {
      try {
        v = JSON.parse(v) as string;
      } catch {
        continue;
      }
    }
    out.push(v);
  }
  return out;
}

/** The entry a verified client certificate matches, if any. */
export function matchClientCert(
  entries: readonly ClientCertEntry[],
  cert: PeerCertificate,
): ClientCertEntry | undefined {
  const cn = cert.subject?.CN;
  const cns = Array.isArray(cn) ? cn : cn !== undefined ? [cn] : [];
  const fingerprint = (cert.fingerprint256 ?? '').replace(/:/g, '').toLowerCase();
  for (const e of entries) {
    if (e.commonName !== undefined && cns.includes(e.commonName)) return e;
    if (e.dnsName !== undefined && altNames(cert, 'DNS').includes(e.dnsName)) return e;
    if (e.uri !== undefined && altNames(cert, 'URI').includes(e.uri)) return e;
    if (e.sha256 !== undefined && fingerprint !== '' && e.sha256 === fingerprint) return e;
  }
  return undefined;
}

export function createAuthenticator(settings: AuthSettings): Authenticator {
  let keys = prepare(settings.keys);
  const certs = settings.clientCerts ?? [];
  return {
    hmacHeader: settings.hmac?.header.toLowerCase(),
    hmacSecret: settings.hmac?.secret,
    usesClientCerts: certs.length > 0,
    get activeKeys() {
      return keys.filter((k) => k.entry.revoked === undefined).length;
    },
    setKeys(next) {
      keys = prepare(next);
    },
    authenticate(headers, peer) {
      if (peer != null && certs.length > 0 && Object.keys(peer).length > 0) {
        const c = matchClientCert(certs, peer);
        if (c !== undefined)
          return {
            tenant: c.tenant,
            ...(c.name !== undefined ? { name: c.name } : {}),
            via: { clientCert: c.name ?? c.commonName ?? c.dnsName ?? c.uri ?? `sha256:${c.sha256?.slice(0, 12)}` },
          };
      }
      const key = presentedKey(headers);
      if (key === undefined)
        return {
          error:
            certs.length > 0
              ? 'missing API key (Authorization: Bearer <key> or X-API-Key) and no client certificate mapped to a tenant'
              : 'missing API key (Authorization: Bearer <key> or X-API-Key)',
        };
      const digest = createHash('sha256').update(key, 'utf8').digest();
      let found: PreparedKey | undefined;
      // compare against every key so the time does not depend on which one matched
      for (const k of keys) if (timingSafeEqual(k.hash, digest) && found === undefined) found = k;
      if (found === undefined) return { error: 'invalid API key' };
      if (found.entry.revoked !== undefined) return { error: 'API key revoked' };
      const { entry } = found;
      return {
        tenant: entry.tenant,
        ...(entry.name !== undefined ? { name: entry.name } : {}),
        via: { apiKey: found.label },
      };
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
