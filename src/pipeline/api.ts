/**
 * The contract between the pipeline stage and the stages around it.
 *
 * The config stage (src/config) turns a Collector-syntax YAML file into a `SieveConfig`;
 * the receiver runs each request of a signal through `SignalPipeline.process`, then hands the
 * result to the Kafka exporter (src/kafka) with the pipeline's batch and exporter settings.
 */
import type { KafkaCompression } from '../kafka/compression-names.js';
import type { KafkaEncoding } from '../otlp/kafka-value.js';
import type { RequestBySignal, Signal } from '../otlp/model.js';

/** One configured transform (attributes/pii, redaction, filter/x …). Mutates in place or returns a new request. */
export interface Processor {
  /** component id as written in YAML, e.g. `attributes/pii` */
  readonly id: string;
  traces?(request: RequestBySignal['traces']): RequestBySignal['traces'];
  logs?(request: RequestBySignal['logs']): RequestBySignal['logs'];
  metrics?(request: RequestBySignal['metrics']): RequestBySignal['metrics'];
}

/**
 * Thrown by a processor that refuses the whole request (e.g. a transform statement failing under
 * `error_mode: propagate`). The receiver answers with a non-retryable 400 carrying the message;
 * nothing of the request is exported.
 */
export class PipelineRefusal extends Error {
  override name = 'PipelineRefusal';
}

export interface ProcessResult<S extends Signal> {
  request: RequestBySignal[S];
  /** items (spans / log records / metric data points) removed by filters */
  droppedItems: number;
}

/** Collector `batch` processor settings. */
export interface BatchSettings {
  sendBatchSize: number;
  sendBatchMaxSize: number;
  timeoutMs: number;
}

/** Collector `memory_limiter` processor settings, applied to bytes in flight in the receiver. */
export interface MemoryLimiterSettings {
  limitBytes: number;
  spikeLimitBytes: number;
  checkIntervalMs: number;
}

/** Collector `kafka` exporter settings (subset Sieve honours). */
export interface KafkaExporterSettings {
  id: string;
  brokers: string[];
  clientId: string;
  topic: string;
  encoding: KafkaEncoding;
  partitionTracesById: boolean;
  compression: KafkaCompression;
  /** producer.compression_params.level (gzip: 0 or -1 = zlib's default, 1…9, -2 = Huffman only; others: 0) */
  compressionLevel: number;
  maxMessageBytes: number;
  /** -1 = all in-sync replicas */
  requiredAcks: -1 | 1 | 0;
  /** per produce attempt (the Collector's `timeout`) */
  timeoutMs: number;
  /** `retry_on_failure`; absent: one attempt, then 503 (the client retries) */
  retry?: KafkaRetrySettings;
  /** `tls`, `auth.sasl`; absent: plaintext */
  security?: KafkaSecuritySettings;
}

/** The exporterhelper's `retry_on_failure`, applied while the client's request waits (src/kafka/retry.ts). */
export interface KafkaRetrySettings {
  enabled: boolean;
  initialIntervalMs: number;
  randomizationFactor: number;
  multiplier: number;
  maxIntervalMs: number;
  maxElapsedMs: number;
}

/** Kafka client security from the Collector's `tls` and `auth.sasl` keys (PEM contents already read). */
export interface KafkaSecuritySettings {
  tls?: {
    ca?: string | undefined;
    cert?: string | undefined;
    key?: string | undefined;
    insecureSkipVerify: boolean;
    serverName?: string | undefined;
    minVersion?: '1.0' | '1.1' | '1.2' | '1.3' | undefined;
    maxVersion?: '1.0' | '1.1' | '1.2' | '1.3' | undefined;
    /** where it was configured, for error messages, e.g. `exporters.kafka.tls` */
    configKey: string;
  };
  sasl?: {
    mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
    username: string;
    /** never logged */
    password: string;
    configKey: string;
  };
}

export interface SignalPipeline<S extends Signal> {
  readonly signal: S;
  /** pipeline id as in YAML: `traces`, `traces/ai` */
  readonly id: string;
  readonly processorIds: readonly string[];
  process(request: RequestBySignal[S]): ProcessResult<S>;
  /** true when no processor transforms this signal (only memory_limiter / batch): data passes unchanged */
  readonly passThrough: boolean;
  readonly batch?: BatchSettings;
  readonly memoryLimiter?: MemoryLimiterSettings;
  readonly exporter: KafkaExporterSettings;
}

/** Receiver settings from `receivers.otlp.protocols.http` plus Sieve's `apikeyauth` extension. */
export interface OtlpReceiverSettings {
  host: string;
  port: number;
  maxRequestBodyBytes: number;
  auth?: AuthSettings;
  /** `protocols.http.tls`: HTTPS (and mTLS with a client CA) */
  tls?: TlsServerSettings;
  /** `protocols.grpc`, when present: the OTLP/gRPC server (auth is shared with HTTP) */
  grpc?: OtlpGrpcSettings;
}

/** `receivers.otlp.protocols.grpc` (the Collector's configgrpc server keys Sieve honours). */
export interface OtlpGrpcSettings {
  host: string;
  port: number;
  /** max_recv_msg_size_mib, counted after decompression */
  maxRecvMsgBytes: number;
  maxConcurrentStreams?: number;
  keepalive?: {
    timeMs?: number;
    timeoutMs?: number;
    maxConnectionIdleMs?: number;
    maxConnectionAgeMs?: number;
    maxConnectionAgeGraceMs?: number;
  };
  tls?: TlsServerSettings;
}

/** The Collector's configtls server block; paths are absolute. */
export interface TlsServerSettings {
  /** config key of the block, e.g. `receivers.otlp.protocols.http.tls` (for messages) */
  key: string;
  certFile: string;
  keyFile: string;
  /** when set, clients must present a certificate signed by this CA (mTLS) */
  clientCaFile?: string;
  minVersion: TlsVersion;
  maxVersion?: TlsVersion;
  /** how often the files are checked for changes (rotation without restart) */
  reloadIntervalMs: number;
}

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

export interface ApiKeyEntry {
  /** lowercase hex SHA-256 of the key; the clear key is never stored */
  sha256: string;
  tenant: string;
  /** optional human label, logged instead of the key */
  name?: string;
  /** ISO-8601 time the key was created (`sieve keys create`) */
  created?: string;
  /** ISO-8601 time the key was revoked (`sieve keys revoke`): it no longer authenticates */
  revoked?: string;
}

/** A verified client certificate (mTLS) that authenticates as a tenant; exactly one match field is set. */
export interface ClientCertEntry {
  tenant: string;
  name?: string;
  commonName?: string;
  dnsName?: string;
  uri?: string;
  /** SHA-256 fingerprint of the certificate, hex (colons optional) */
  sha256?: string;
}

export interface AuthSettings {
  keys: ApiKeyEntry[];
  /** the keys file the `keys` came from (absolute), re-read when it changes */
  keysFile?: string;
  /** inline keys of the extension, kept when the keys file is re-read */
  inlineKeys?: ApiKeyEntry[];
  /** client certificates mapped to tenants (mTLS) */
  clientCerts?: ClientCertEntry[];
  /** HMAC-SHA256 body signature check, when configured */
  hmac?: { header: string; secret: Buffer };
}

export interface SieveConfig {
  /** absolute path of the file it came from */
  source: string;
  receiver: OtlpReceiverSettings;
  pipelines: { [S in Signal]?: SignalPipeline<S> };
  /** accepted keys Sieve treats differently from the Collector, formatted `file:line:column: key: message` */
  warnings?: string[];
}
