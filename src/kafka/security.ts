/**
 * Kafka client security for the exporter and the loader alike: the Collector's `tls` and `auth.sasl`
 * settings (KafkaSecuritySettings, built at config load) → kafkajs' `ssl` / `sasl` options, and a
 * start-up check that tells a misconfiguration (credentials refused, certificate not trusted, TLS to
 * a plaintext listener) from a broker that is merely down: the first fails the start with a message
 * naming the setting, the second lets the caller keep trying.
 */
import type { ConnectionOptions } from 'node:tls';
import { Kafka, type KafkaConfig, logLevel, type SASLOptions } from 'kafkajs';
import type { KafkaSecuritySettings } from '../pipeline/api.js';

export type KafkaClientSecurity = Pick<KafkaConfig, 'ssl' | 'sasl'>;

/** kafkajs `ssl` / `sasl` options for the settings (none: plaintext). */
export function kafkaClientSecurity(s: KafkaSecuritySettings | undefined): KafkaClientSecurity {
  const out: KafkaClientSecurity = {};
  if (s?.tls) {
    const t = s.tls;
    const ssl: ConnectionOptions = { rejectUnauthorized: !t.insecureSkipVerify };
    if (t.ca !== undefined) ssl.ca = [t.ca];
    if (t.cert !== undefined) ssl.cert = t.cert;
    if (t.key !== undefined) ssl.key = t.key;
    if (t.serverName !== undefined) ssl.servername = t.serverName;
    if (t.minVersion !== undefined) ssl.minVersion = `TLSv${t.minVersion}` as ConnectionOptions['minVersion'];
    if (t.maxVersion !== undefined) ssl.maxVersion = `TLSv${t.maxVersion}` as ConnectionOptions['maxVersion'];
    out.ssl = ssl;
  }
  if (s?.sasl) {
    out.sasl = { mechanism: s.sasl.mechanism, username: s.sasl.username, password: s.sasl.password } as SASLOptions;
  }
  return out;
}

/** The broker refused the client's configuration: retrying cannot help. */
export class KafkaAccessError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KafkaAccessError';
  }
}

/** Node's codes for a peer certificate that does not verify. */
const CERT_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

interface ErrorLike {
  name?: string;
  message?: string;
  code?: string;
  type?: string;
  cause?: unknown;
  originalError?: unknown;
}

/** The error and the errors it wraps (kafkajs keeps them in `originalError` / `cause`). */
function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let cur = err as ErrorLike | undefined;
  while (cur && typeof cur === 'object' && out.length < 10) {
    out.push(cur);
    cur = (cur.originalError ?? cur.cause) as ErrorLike | undefined;
  }
  return out;
}

/**
 * When `err` (from connecting with these settings) means the configuration is wrong, a
 * KafkaAccessError saying which setting; undefined when the broker may just be unreachable.
 * Messages name settings and the username, never the password.
 */
export function classifyKafkaError(
  err: unknown,
  s: KafkaSecuritySettings | undefined,
  brokers: string[],
): KafkaAccessError | undefined {
  const errs = chain(err);
  const text = errs.map((e) => `${e.name ?? ''} ${e.code ?? ''} ${e.type ?? ''} ${e.message ?? ''}`).join(' | ');
  const sasl = s?.sasl;
  if (
    errs.some((e) => e.name === 'KafkaJSSASLAuthenticationError') ||
    /SASL_AUTHENTICATION_FAILED|Authentication failed/i.test(text)
  ) {
    const where = sasl
      ? `${sasl.configKey} (mechanism ${sasl.mechanism.toUpperCase()}, username ${JSON.stringify(sasl.username)})`
      : 'auth.sasl (not set: the broker requires SASL)';
    return new KafkaAccessError(
      `Kafka at ${brokers.join(',')} refused the credentials of ${where}: check the username, password and mechanism`,
      { cause: err },
    );
  }
  const cert = errs.find((e) => e.code !== undefined && CERT_CODES.has(e.code));
  if (cert !== undefined || /certificate|self[- ]signed|altname/i.test(text)) {
    // configKey is a YAML path (exporters.kafka.tls) or, for the env defaults, KAFKA_TLS_CA_FILE
    const fromEnv = s?.tls?.configKey.startsWith('KAFKA_') ?? false;
    const where = s?.tls
      ? s.tls.ca === undefined
        ? `${s.tls.configKey} (not set: only the system CAs are trusted)`
        : `${s.tls.configKey}${fromEnv ? '' : '.ca_file'}`
      : 'tls';
    return new KafkaAccessError(
      `Kafka at ${brokers.join(',')}: the broker's TLS certificate is not trusted by ${where}: ${cert?.message ?? 'certificate verification failed'} (${cert?.code ?? 'TLS'})`,
      { cause: err },
    );
  }
  if (s?.tls && /wrong version number|packet length too long|EPROTO|unknown protocol/i.test(text)) {
    return new KafkaAccessError(
      `Kafka at ${brokers.join(',')} did not answer TLS (${s.tls.configKey} is set): is this a plaintext listener? Remove the tls block or use the broker's SSL/SASL_SSL port`,
      { cause: err },
    );
  }
  return undefined;
}

export interface KafkaAccessCheck {
  ok: boolean;
  /** set when the broker was reached but refused the configuration */
  fatal?: KafkaAccessError;
  /** why the cluster could not be reached (when neither ok nor fatal) */
  reason?: string;
}

/**
 * Connects (no kafkajs retries) and asks for the cluster metadata. A configuration the broker
 * refuses comes back as `fatal`; an unreachable broker as `reason` (the caller's reconnect logic
 * applies). A listener that closes every connection during the handshake speaks another protocol
 * (TLS vs plaintext, SASL or not): after three such closes, that is fatal too, with a hint.
 */
export async function checkKafkaAccess(
  brokers: string[],
  security: KafkaSecuritySettings | undefined,
  timeoutMs = 10_000,
): Promise<KafkaAccessCheck> {
  let check: KafkaAccessCheck = { ok: false };
  for (let attempt = 1; attempt <= 3; attempt++) {
    check = await connectOnce(brokers, security, timeoutMs);
    if (check.ok || check.fatal || !/Closed connection/i.test(check.reason ?? '')) return check;
    await new Promise((r) => setTimeout(r, 500));
  }
  const have = [
    security?.tls ? `${security.tls.configKey} set` : 'no tls',
    security?.sasl ? `${security.sasl.configKey} set` : 'no auth.sasl',
  ];
  return {
    ok: false,
    fatal: new KafkaAccessError(
      `Kafka at ${brokers.join(',')} closes the connection during the handshake (${have.join(', ')}): the listener expects another security protocol — for SASL_SSL set both tls and auth.sasl, for SSL only tls, for SASL_PLAINTEXT only auth.sasl, for PLAINTEXT neither`,
    ),
  };
}

async function connectOnce(
  brokers: string[],
  security: KafkaSecuritySettings | undefined,
  timeoutMs: number,
): Promise<KafkaAccessCheck> {
  const kafka = new Kafka({
    brokers,
    clientId: 'sieve-access-check',
    ...kafkaClientSecurity(security),
    connectionTimeout: Math.min(timeoutMs, 5000),
    authenticationTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([
      (async () => {
        await admin.connect();
        await admin.describeCluster();
      })(),
      deadline,
    ]);
    return { ok: true };
  } catch (err) {
    const fatal = classifyKafkaError(err, security, brokers);
    if (fatal) return { ok: false, fatal };
    const reason = chain(err)
      .map((e) => e.message)
      .filter(Boolean)
      .join(': ');
    return { ok: false, reason };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}
