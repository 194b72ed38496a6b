import { readFileSync } from 'node:fs';
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';

export interface ClickHouseEnvConfig {
  url: string;
  database: string;
  username: string;
  /** never logged */
  password: string;
  /** HTTPS: the CA that signed the server's certificate (PEM), and a client certificate for mTLS */
  tls?: { caCert: Buffer; cert?: Buffer; key?: Buffer };
}

/** A file named by an env variable (a mounted secret); the message names the variable, never the contents. */
function readEnvFile(env: NodeJS.ProcessEnv, name: string): Buffer | undefined {
  const path = env[name];
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${name}=${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * ClickHouse connection settings from CLICKHOUSE_URL / CLICKHOUSE_DATABASE / CLICKHOUSE_USER /
 * CLICKHOUSE_PASSWORD or CLICKHOUSE_PASSWORD_FILE (compose secrets; its final newline dropped), and
 * for HTTPS CLICKHOUSE_CA_FILE, with CLICKHOUSE_CERT_FILE + CLICKHOUSE_KEY_FILE for a client
 * certificate. Throws for a file that cannot be read or settings that contradict each other.
 */
export function clickhouseConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ClickHouseEnvConfig {
  const url = env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123';
  if (env.CLICKHOUSE_PASSWORD && env.CLICKHOUSE_PASSWORD_FILE)
    throw new Error('set CLICKHOUSE_PASSWORD or CLICKHOUSE_PASSWORD_FILE, not both');
  const passwordFile = readEnvFile(env, 'CLICKHOUSE_PASSWORD_FILE');
  const cfg: ClickHouseEnvConfig = {
    url,
    database: env.CLICKHOUSE_DATABASE ?? 'otel',
    username: env.CLICKHOUSE_USER ?? 'default',
    password: passwordFile ? passwordFile.toString('utf8').replace(/\r?\n$/, '') : (env.CLICKHOUSE_PASSWORD ?? ''),
  };
  const caCert = readEnvFile(env, 'CLICKHOUSE_CA_FILE');
  const cert = readEnvFile(env, 'CLICKHOUSE_CERT_FILE');
  const key = readEnvFile(env, 'CLICKHOUSE_KEY_FILE');
  if ((cert === undefined) !== (key === undefined))
    throw new Error('a ClickHouse client certificate needs both CLICKHOUSE_CERT_FILE and CLICKHOUSE_KEY_FILE');
  if (cert !== undefined && caCert === undefined)
    throw new Error('CLICKHOUSE_CERT_FILE needs CLICKHOUSE_CA_FILE (the CA of the server certificate)');
  if (caCert !== undefined) {
    if (!url.startsWith('https://'))
      throw new Error(`CLICKHOUSE_CA_FILE is set but CLICKHOUSE_URL is ${url}: use an https:// URL`);
    cfg.tls = cert && key ? { caCert, cert, key } : { caCert };
  }
  return cfg;
}

/**
 * A client without a default database (queries name the database explicitly). The client's own
 * console logger is off: callers report failures through pino with their context (table, retry).
 */
export function createClickHouseClient(cfg: Partial<ClickHouseEnvConfig> = {}): ClickHouseClient {
  const c = { ...clickhouseConfigFromEnv(), ...cfg };
  return createClient({
    url: c.url,
    username: c.username,
    password: c.password,
    request_timeout: 60_000,
    log: { level: ClickHouseLogLevel.OFF },
    ...(c.tls
      ? {
          tls:
            c.tls.cert && c.tls.key
              ? { ca_cert: c.tls.caCert, cert: c.tls.cert, key: c.tls.key }
              : { ca_cert: c.tls.caCert },
        }
      : {}),
  });
}

const UNTRUSTED_CERT = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Why a ClickHouse request failed, said in terms of the settings to check (which CLICKHOUSE_*
 * variable) when it is a TLS or authentication problem; other errors keep their message. Callers
 * say which server (`ClickHouse at <url> … failed: <this>`).
 */
export function describeClickHouseError(err: unknown, cfg: ClickHouseEnvConfig): string {
  const e = err as { code?: string | number; message?: string };
  const code = String(e.code ?? '');
  const msg = e.message ?? String(err);
  if (UNTRUSTED_CERT.has(code))
    return `the server's certificate is not trusted by ${cfg.tls ? 'CLICKHOUSE_CA_FILE' : 'the system CAs (set CLICKHOUSE_CA_FILE to its CA)'}: ${msg} (${code})`;
  if (/CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|HANDSHAKE_FAILURE/.test(code))
    return `the server refused the TLS handshake: it requires a client certificate it trusts (CLICKHOUSE_CERT_FILE and CLICKHOUSE_KEY_FILE${cfg.tls?.cert ? ' are set: is the certificate from the CA the server expects?' : ' are not set'}) (${code})`;
  if (code === '516' || code === '194' || /Authentication failed/i.test(msg))
    return `the server refused user ${JSON.stringify(cfg.username)}: check CLICKHOUSE_USER and CLICKHOUSE_PASSWORD / CLICKHOUSE_PASSWORD_FILE`;
  if (/wrong version number|EPROTO/.test(`${code} ${msg}`) && cfg.url.startsWith('https://'))
    return `no TLS answer (is this an http:// port?): ${msg}`;
  return msg;
}
