/**
 * `receivers.otlp` + `extensions.apikeyauth` → OtlpReceiverSettings: the HTTP and gRPC listeners,
 * their `tls:` blocks (files read and checked now, so a missing or mismatched file fails at start
 * naming its key) and the authentication shared by both protocols.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { z } from 'zod';
import type { ApiKeyEntry, AuthSettings, OtlpReceiverSettings, TlsServerSettings } from '../pipeline/api.js';
import { parseDurationMs } from '../pipeline/duration.js';
import { TLS_VERSIONS, type TlsServerCfg } from './components/receiver.js';
import type * as S from './components/schemas.js';
import { readKeysFile } from './keys-file.js';
import { readTlsMaterial, TlsFileError } from './tls-files.js';

type Path = (string | number)[];
const MiB = 1024 * 1024;
/** how often certificate and key files are checked for a rotation when reload_interval is not set */
export const DEFAULT_TLS_RELOAD_MS = 1000;

export interface ReceiverSettingsInput {
  id: string;
  receiver: z.infer<typeof S.otlpReceiverSchema>;
  extensions: Map<string, z.infer<typeof S.apiKeyAuthSchema>>;
  /** ids written under `extensions:`, valid or not (an invalid one has its own errors already) */
  definedExtensions: ReadonlySet<string>;
  serviceExtensions: readonly unknown[];
  baseDir: string;
  env: NodeJS.ProcessEnv;
  /** `sieve loader`: validate only (no files read, no auth built) */
  exportersOnly: boolean;
  add: (path: Path, message: string) => void;
}

export function splitEndpoint(endpoint: string, defaultHost: string): { host: string; port: number } {
  const idx = endpoint.lastIndexOf(':');
  const host = endpoint.slice(0, idx).replace(/^\[(.*)\]$/, '$1');
  return { host: host || defaultHost, port: Number(endpoint.slice(idx + 1)) };
}

export function buildReceiverSettings(input: ReceiverSettingsInput): OtlpReceiverSettings {
  const { id, receiver, add } = input;
  const base: Path = ['receivers', id, 'protocols'];
  const http = receiver.protocols.http as {
    endpoint: string;
    max_request_body_size: number;
    auth?: { authenticator: string };
    tls?: TlsServerCfg;
  };
  const settings: OtlpReceiverSettings = {
    ...splitEndpoint(http.endpoint, '0.0.0.0'),
    maxRequestBodyBytes: http.max_request_body_size,
  };
  if (http.tls !== undefined) {
    const tls = tlsSettings(http.tls, [...base, 'http', 'tls'], input);
    if (tls !== undefined) settings.tls = tls;
  }
  const grpc = receiver.protocols.grpc;
  if (grpc !== undefined) {
    const sp = grpc.keepalive?.server_parameters;
    const keepalive = {
      ...(sp?.time !== undefined ? { timeMs: parseDurationMs(sp.time) } : {}),
      ...(sp?.timeout !== undefined ? { timeoutMs: parseDurationMs(sp.timeout) } : {}),
      ...(sp?.max_connection_idle !== undefined
        ? { maxConnectionIdleMs: parseDurationMs(sp.max_connection_idle) }
        : {}),
      ...(sp?.max_connection_age !== undefined ? { maxConnectionAgeMs: parseDurationMs(sp.max_connection_age) } : {}),
      ...(sp?.max_connection_age_grace !== undefined
        ? { maxConnectionAgeGraceMs: parseDurationMs(sp.max_connection_age_grace) }
        : {}),
    };
    settings.grpc = {
      ...splitEndpoint(grpc.endpoint, '0.0.0.0'),
      maxRecvMsgBytes: Math.floor(grpc.max_recv_msg_size_mib * MiB),
      ...(grpc.max_concurrent_streams !== undefined ? { maxConcurrentStreams: grpc.max_concurrent_streams } : {}),
      ...(Object.keys(keepalive).length > 0 ? { keepalive } : {}),
    };
    if (grpc.tls !== undefined) {
      const tls = tlsSettings(grpc.tls, [...base, 'grpc', 'tls'], input);
      if (tls !== undefined) settings.grpc.tls = tls;
    }
    if (settings.grpc.port === settings.port && settings.grpc.host === settings.host)
      add(
        [...base, 'grpc', 'endpoint'],
        `the gRPC endpoint ${grpc.endpoint} is the HTTP endpoint too: use another port`,
      );
  }

  // one authenticator for both protocols
  const httpAuth = http.auth?.authenticator;
  const grpcAuth = grpc?.auth?.authenticator;
  if (httpAuth !== undefined && grpcAuth !== undefined && httpAuth !== grpcAuth)
    add(
      [...base, 'grpc', 'auth', 'authenticator'],
      `Sieve authenticates both protocols with one extension: use ${JSON.stringify(httpAuth)} as for http`,
    );
  const authId = httpAuth ?? grpcAuth;
  const authPath: Path = [...base, httpAuth !== undefined ? 'http' : 'grpc', 'auth', 'authenticator'];
  if (authId !== undefined) {
    const ext = input.extensions.get(authId);
    if (!ext) {
      if (!input.definedExtensions.has(authId))
        add(authPath, `authenticator ${JSON.stringify(authId)} is not defined under extensions`);
    } else if (!input.serviceExtensions.includes(authId))
      add(authPath, `authenticator ${JSON.stringify(authId)} must be listed in service.extensions`);
    else if (!input.exportersOnly) {
      const auth = buildAuth(ext, input.baseDir, input.env, (msg, sub) => add(['extensions', authId, ...sub], msg));
      if (auth) settings.auth = auth;
    }
  }
  return settings;
}

function tlsSettings(cfg: TlsServerCfg, path: Path, input: ReceiverSettingsInput): TlsServerSettings | undefined {
  const tls: TlsServerSettings = {
    key: path.join('.'),
    certFile: resolve(input.baseDir, cfg.cert_file),
    keyFile: resolve(input.baseDir, cfg.key_file),
    ...(cfg.client_ca_file !== undefined ? { clientCaFile: resolve(input.baseDir, cfg.client_ca_file) } : {}),
    minVersion: TLS_VERSIONS[cfg.min_version ?? '1.2'],
    ...(cfg.max_version !== undefined ? { maxVersion: TLS_VERSIONS[cfg.max_version] } : {}),
    reloadIntervalMs:
      cfg.reload_interval !== undefined ? Math.max(100, parseDurationMs(cfg.reload_interval)) : DEFAULT_TLS_RELOAD_MS,
  };
  if (input.exportersOnly) return tls;
  try {
    readTlsMaterial(tls);
  } catch (err) {
    if (err instanceof TlsFileError) {
      input.add([...path, err.field], err.message);
      return undefined;
    }
    throw err;
  }
  return tls;
}

function buildAuth(
  ext: z.infer<typeof S.apiKeyAuthSchema>,
  baseDir: string,
  env: NodeJS.ProcessEnv,
  err: (msg: string, sub: Path) => void,
): AuthSettings | undefined {
  const inline: ApiKeyEntry[] = [...(ext.keys ?? [])];
  let keys = inline;
  let keysFile: string | undefined;
  if (ext.keys_file) {
    keysFile = resolve(baseDir, ext.keys_file);
    try {
      keys = inline.concat(readKeysFile(keysFile));
    } catch (e) {
      err((e as Error).message, ['keys_file']);
      return undefined;
    }
  }
  const auth: AuthSettings = { keys };
  if (keysFile !== undefined) {
    auth.keysFile = keysFile;
    auth.inlineKeys = inline;
  }
  if (ext.client_certs !== undefined)
    auth.clientCerts = ext.client_certs.map((c) => ({
      tenant: c.tenant,
      ...(c.name !== undefined ? { name: c.name } : {}),
      ...(c.common_name !== undefined ? { commonName: c.common_name } : {}),
      ...(c.dns_name !== undefined ? { dnsName: c.dns_name } : {}),
      ...(c.uri !== undefined ? { uri: c.uri } : {}),
      ...(c.sha256 !== undefined ? { sha256: c.sha256.replace(/:/g, '').toLowerCase() } : {}),
    }));
  if (ext.hmac) {
    let secret: string | undefined;
    if (ext.hmac.secret_env) secret = env[ext.hmac.secret_env];
    if (!secret && ext.hmac.secret_file) {
      try {
        secret = readFileSync(resolve(baseDir, ext.hmac.secret_file), 'utf8').trim();
      } catch (e) {
        err(`cannot read secret_file: ${(e as Error).message}`, ['hmac', 'secret_file']);
        return undefined;
      }
    }
    if (!secret) {
      err('hmac needs a secret from secret_env (set the variable) or secret_file', ['hmac']);
      return undefined;
    }
    auth.hmac = {
      header: ext.hmac.header.toLowerCase(),
      secret: Buffer.from(secret, 'utf8'),
    };
  }
  return auth;
}

/** Environment variables that give both OTLP listeners a `tls:` block when the pipeline file has none. */
export const TLS_ENV = {
  cert: 'SIEVE_OTLP_TLS_CERT_FILE',
  key: 'SIEVE_OTLP_TLS_KEY_FILE',
  clientCa: 'SIEVE_OTLP_TLS_CLIENT_CA_FILE',
} as const;

/**
 * TLS from SIEVE_OTLP_TLS_CERT_FILE / _KEY_FILE (and _CLIENT_CA_FILE for mTLS) for the listeners
 * whose config has no `tls:` block — so one image runs any preset with certificates mounted as
 * secrets. Files are checked now; errors name the variable.
 */
export function withTlsFromEnv<T extends { receiver: OtlpReceiverSettings }>(config: T, env: NodeJS.ProcessEnv): T {
  const cert = env[TLS_ENV.cert];
  const key = env[TLS_ENV.key];
  const clientCa = env[TLS_ENV.clientCa];
  if (!cert && !key && !clientCa) return config;
  if (!cert || !key) throw new Error(`${TLS_ENV.cert} and ${TLS_ENV.key} must be set together (OTLP over TLS)`);
  const tls = (listener: 'http' | 'grpc'): TlsServerSettings => ({
    key: `${TLS_ENV.cert}/${TLS_ENV.key} (receivers.otlp.protocols.${listener}.tls)`,
    certFile: resolve(cert),
    keyFile: resolve(key),
    ...(clientCa ? { clientCaFile: resolve(clientCa) } : {}),
    minVersion: TLS_VERSIONS['1.2'],
    reloadIntervalMs: DEFAULT_TLS_RELOAD_MS,
  });
  try {
    readTlsMaterial(tls('http'));
  } catch (err) {
    if (!(err instanceof TlsFileError)) throw err;
    const variable =
      err.field === 'cert_file' ? TLS_ENV.cert : err.field === 'key_file' ? TLS_ENV.key : TLS_ENV.clientCa;
    throw new Error(`${variable}: ${err.message}`);
  }
  const r = config.receiver;
  return {
    ...config,
    receiver: {
      ...r,
      tls: r.tls ?? tls('http'),
      ...(r.grpc !== undefined ? { grpc: { ...r.grpc, tls: r.grpc.tls ?? tls('grpc') } } : {}),
    },
  };
}
