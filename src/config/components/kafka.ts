/**
 * The kafka exporter's keys that Collector configs carry beyond topics: the exporterhelper's
 * `retry_on_failure`, `sending_queue` and `timeout`, `encoding`, and the security blocks `tls`,
 * `auth.tls` (its older place) and `auth.sasl` / `auth.plain_text` — schemas and their translation
 * into Sieve's settings, with the rule for each key Sieve treats differently from the Collector.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { type KafkaEncoding, kafkaEncodingFromConfig } from '../../otlp/kafka-value.js';
import type { KafkaRetrySettings, KafkaSecuritySettings } from '../../pipeline/api.js';
import { parseDurationMs } from '../../pipeline/duration.js';

type Path = (string | number)[];
type SaslMechanism = NonNullable<KafkaSecuritySettings['sasl']>['mechanism'];

/** The Collector's retry_on_failure defaults (exporterhelper configretry). */
export const COLLECTOR_RETRY_DEFAULTS: KafkaRetrySettings = {
  enabled: true,
  initialIntervalMs: 5000,
  randomizationFactor: 0.5,
  multiplier: 1.5,
  maxIntervalMs: 30_000,
  maxElapsedMs: 300_000,
};
/** Reports a problem (error) or a difference from the Collector that Sieve accepts (warning). */
export interface Report {
  error(path: Path, message: string): void;
  warn(path: Path, message: string): void;
}

const duration = z.union([
  z.number(),
  z.string().regex(/^(0|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)$/, 'invalid duration (use e.g. 200ms, 5s)'),
]);

export const kafkaEncodingSchema = z
  .string()
  .refine(
    (v) => kafkaEncodingFromConfig(v) !== undefined,
    'Sieve supports encoding otlp_proto and otlp_json (json is the older name of otlp_json)',
  );

export const retryOnFailureSchema = z.strictObject({
  enabled: z.boolean().optional(),
  initial_interval: duration.optional(),
  randomization_factor: z.number().min(0).max(1).optional(),
  multiplier: z.number().min(1).optional(),
  max_interval: duration.optional(),
  max_elapsed_time: duration.optional(),
});

/** exporterhelper's sending_queue: read so it can be judged (see sendingQueueRule); its details are not used. */
export const sendingQueueSchema = z.strictObject({
  enabled: z.boolean().optional(),
  num_consumers: z.number().int().optional(),
  queue_size: z.number().int().optional(),
  sizer: z.string().optional(),
  storage: z.string().optional(),
  blocking: z.boolean().optional(),
  block_on_overflow: z.boolean().optional(),
  wait_for_result: z.boolean().optional(),
  batch: z.unknown().optional(),
});

/** configtls.ClientConfig keys. */
export const kafkaTlsSchema = z.strictObject({
  insecure: z.boolean().optional(),
  insecure_skip_verify: z.boolean().optional(),
  ca_file: z.string().optional(),
  ca_pem: z.string().optional(),
  cert_file: z.string().optional(),
  cert_pem: z.string().optional(),
  key_file: z.string().optional(),
  key_pem: z.string().optional(),
  server_name_override: z.string().optional(),
  min_version: z.enum(['1.0', '1.1', '1.2', '1.3']).optional(),
  max_version: z.enum(['1.0', '1.1', '1.2', '1.3']).optional(),
  include_system_ca_certs_pool: z.boolean().optional(),
  reload_interval: duration.optional(),
});

const credentials = {
  username: z.string().min(1, 'username must not be empty'),
  // never echoed in messages: zod's own messages for a string do not quote the value
  password: z.string(),
};
export const kafkaAuthSchema = z.strictObject({
  sasl: z
    .strictObject({
      ...credentials,
      mechanism: z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'], {
        message: 'Sieve supports SASL mechanism PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512',
      }),
      version: z.union([z.literal(0), z.literal(1)]).optional(),
    })
    .optional(),
  plain_text: z.strictObject(credentials).optional(),
  tls: kafkaTlsSchema.optional(),
});

export type RetryOnFailureCfg = z.infer<typeof retryOnFailureSchema>;
export type SendingQueueCfg = z.infer<typeof sendingQueueSchema>;
export type KafkaTlsCfg = z.infer<typeof kafkaTlsSchema>;
export type KafkaAuthCfg = z.infer<typeof kafkaAuthSchema>;

/** `encoding` of a signal: its own, else the exporter's top-level one, else otlp_proto. */
export function encodingOf(perSignal: string | undefined, topLevel: string | undefined): KafkaEncoding {
  return kafkaEncodingFromConfig(perSignal ?? topLevel) ?? 'otlp_proto';
}

/**
 * retry_on_failure → RetrySettings. Absent: undefined (one attempt of `timeout`, then 503 and the
 * client retries). Present: the Collector's defaults for the keys not given.
 */
export function retrySettings(
  cfg: RetryOnFailureCfg | undefined,
  base: Path,
  report: Report,
): KafkaRetrySettings | undefined {
  if (cfg === undefined) return undefined;
  const d = COLLECTOR_RETRY_DEFAULTS;
  const ms = (v: string | number | undefined, def: number) => (v === undefined ? def : parseDurationMs(v));
  const s: KafkaRetrySettings = {
    enabled: cfg.enabled ?? d.enabled,
    initialIntervalMs: ms(cfg.initial_interval, d.initialIntervalMs),
    randomizationFactor: cfg.randomization_factor ?? d.randomizationFactor,
    multiplier: cfg.multiplier ?? d.multiplier,
    maxIntervalMs: ms(cfg.max_interval, d.maxIntervalMs),
    maxElapsedMs: ms(cfg.max_elapsed_time, d.maxElapsedMs),
  };
  if (!s.enabled) return s;
  if (s.maxElapsedMs === 0)
    report.error(
      [...base, 'max_elapsed_time'],
      'max_elapsed_time 0 (retry forever) cannot apply: Sieve holds the client request while it retries and answers 503 when retries end; set a bound, e.g. 10s',
    );
  else if (s.maxElapsedMs > 30_000)
    report.warn(
      [...base, 'max_elapsed_time'],
      `Sieve retries while the client request waits: up to ${s.maxElapsedMs / 1000} s, longer than OTLP clients wait by default (10 s); they time out and resend, so the data may arrive twice. A bound under the clients' timeout avoids that`,
    );
  return s;
}

/**
 * sending_queue: the Collector answers its receivers once data is queued, Sieve only once Kafka has
 * it. Rule: disabled → nothing to do; persistent (`storage`) → refused, since it would acknowledge
 * data that is not in Kafka; in memory (the Collector's default) → accepted and ignored, with a
 * warning — requests wait for Kafka and get 503 + Retry-After when it is unavailable.
 */
export function sendingQueueRule(cfg: SendingQueueCfg | undefined, base: Path, report: Report): void {
  if (cfg === undefined || cfg.enabled === false) return;
  if (cfg.storage !== undefined) {
    report.error(
      [...base, 'storage'],
      'a persistent sending_queue acknowledges data before it is in Kafka; Sieve answers 200 only once Kafka has it (clients retry on 503 instead): remove sending_queue.storage, or set sending_queue.enabled: false',
    );
    return;
  }
  report.warn(
    base,
    'sending_queue is ignored: Sieve does not queue after answering — a request gets 200 once Kafka acknowledged it, 503 + Retry-After when Kafka is unavailable; batching comes from the batch processor (set sending_queue.enabled: false to silence this)',
  );
}

function readPem(baseDir: string, file: string, path: Path, report: Report): string | undefined {
  try {
    return readFileSync(resolve(baseDir, file), 'utf8');
  } catch (err) {
    report.error(
      path,
      `cannot read ${resolve(baseDir, file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
    return undefined;
  }
}

const SASL: Record<string, SaslMechanism> = {
  PLAIN: 'plain',
  'SCRAM-SHA-256': 'scram-sha-256',
  'SCRAM-SHA-512': 'scram-sha-512',
};

/**
 * tls / auth.tls / auth.sasl / auth.plain_text → KafkaSecuritySettings (files read now, so a wrong
 * path fails at load naming the key). `tls` present turns TLS on unless `insecure: true` (configtls);
 * `insecure_skip_verify` stays off unless set. undefined when the connection is plaintext without SASL.
 */
export function kafkaSecurity(
  e: { tls?: KafkaTlsCfg | undefined; auth?: KafkaAuthCfg | undefined },
  base: Path,
  baseDir: string,
  report: Report,
): KafkaSecuritySettings | undefined {
  const out: KafkaSecuritySettings = {};
  if (e.tls !== undefined && e.auth?.tls !== undefined)
    report.error(
      [...base, 'auth', 'tls'],
      'tls is set twice: keep the top-level tls block (auth.tls is its older place)',
    );
  const tlsPath = e.tls !== undefined ? [...base, 'tls'] : [...base, 'auth', 'tls'];
  const t = e.tls ?? e.auth?.tls;
  if (t !== undefined && t.insecure !== true) {
    const pem = (inline: string | undefined, file: string | undefined, key: string) =>
      inline ?? (file === undefined ? undefined : readPem(baseDir, file, [...tlsPath, key], report));
    const cert = pem(t.cert_pem, t.cert_file, 'cert_file');
    const key = pem(t.key_pem, t.key_file, 'key_file');
    if ((cert === undefined) !== (key === undefined) && (t.cert_file ?? t.cert_pem ?? t.key_file ?? t.key_pem))
      report.error(tlsPath, 'a client certificate needs both cert_file and key_file');
    out.tls = {
      ca: pem(t.ca_pem, t.ca_file, 'ca_file'),
      cert,
      key,
      insecureSkipVerify: t.insecure_skip_verify ?? false,
      serverName: t.server_name_override,
      minVersion: t.min_version,
      maxVersion: t.max_version,
      configKey: tlsPath.join('.'),
    };
    if (out.tls.insecureSkipVerify)
      report.warn(
        [...tlsPath, 'insecure_skip_verify'],
        "insecure_skip_verify: the broker's certificate is not verified (anyone on the path can read the data)",
      );
  }
  const sasl = e.auth?.sasl;
  const plain = e.auth?.plain_text;
  if (sasl !== undefined && plain !== undefined)
    report.error([...base, 'auth', 'plain_text'], 'set either auth.sasl or auth.plain_text (its older form), not both');
  if (sasl !== undefined || plain !== undefined) {
    const c = (sasl ?? plain) as { username: string; password: string };
    out.sasl = {
      mechanism: sasl ? (SASL[sasl.mechanism] as SaslMechanism) : 'plain',
      username: c.username,
      password: c.password,
      configKey: [...base, 'auth', sasl ? 'sasl' : 'plain_text'].join('.'),
    };
    if (out.tls === undefined && out.sasl.mechanism === 'plain')
      report.warn(
        [...base, 'auth'],
        'SASL PLAIN without tls sends the password in clear over the network: add a tls block (SASL_SSL)',
      );
  }
  return out.tls === undefined && out.sasl === undefined ? undefined : out;
}

/**
 * Deployment defaults for an exporter without `tls` / `auth` (like KAFKA_BROKERS for `brokers`), so
 * one pipeline file runs against a plaintext broker in development and SASL_SSL in production:
 * KAFKA_TLS_CA_FILE, KAFKA_TLS_CERT_FILE + KAFKA_TLS_KEY_FILE (any of them turns TLS on);
 * KAFKA_SASL_MECHANISM (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), KAFKA_SASL_USERNAME and
 * KAFKA_SASL_PASSWORD_FILE or KAFKA_SASL_PASSWORD. Problems name the variable.
 */
export function kafkaSecurityFromEnv(
  env: NodeJS.ProcessEnv,
  base: Path,
  report: Report,
): KafkaSecuritySettings | undefined {
  const out: KafkaSecuritySettings = {};
  const file = (name: string): string | undefined => {
    const path = env[name];
    if (!path) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      report.error(base, `${name}=${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  };
  const [ca, cert, key] = [file('KAFKA_TLS_CA_FILE'), file('KAFKA_TLS_CERT_FILE'), file('KAFKA_TLS_KEY_FILE')];
  if ((env.KAFKA_TLS_CERT_FILE ? 1 : 0) + (env.KAFKA_TLS_KEY_FILE ? 1 : 0) === 1)
    report.error(base, 'a client certificate needs both KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE');
  if (env.KAFKA_TLS_CA_FILE || env.KAFKA_TLS_CERT_FILE || env.KAFKA_TLS_KEY_FILE)
    out.tls = { ca, cert, key, insecureSkipVerify: false, configKey: 'KAFKA_TLS_CA_FILE' };
  const mechanism = env.KAFKA_SASL_MECHANISM;
  if (mechanism) {
    if (SASL[mechanism] === undefined)
      report.error(base, `KAFKA_SASL_MECHANISM=${mechanism}: Sieve supports PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`);
    if (env.KAFKA_SASL_PASSWORD && env.KAFKA_SASL_PASSWORD_FILE)
      report.error(base, 'set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both');
    const password = env.KAFKA_SASL_PASSWORD_FILE
      ? file('KAFKA_SASL_PASSWORD_FILE')?.replace(/\r?\n$/, '')
      : env.KAFKA_SASL_PASSWORD;
    if (!env.KAFKA_SASL_USERNAME || password === undefined)
      report.error(
        base,
        'KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD_FILE (or KAFKA_SASL_PASSWORD)',
      );
    out.sasl = {
      mechanism: SASL[mechanism] ?? 'plain',
      username: env.KAFKA_SASL_USERNAME ?? '',
      password: password ?? '',
      configKey: 'KAFKA_SASL_MECHANISM / KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD_FILE',
    };
  }
  return out.tls === undefined && out.sasl === undefined ? undefined : out;
}
