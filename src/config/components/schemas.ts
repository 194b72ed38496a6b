/** zod schemas of every component Sieve accepts, keyed by component type. Unknown keys are errors. */
import { z } from 'zod';
import { KAFKA_COMPRESSIONS } from '../../kafka/compression-names.js';
import { isGzipLevel } from '../../kafka/gzip-level.js';
import { DETECTOR_NAMES } from '../../pipeline/detectors.js';
import { compileCondition } from '../../pipeline/ottl/compile.js';
import type { ContextName } from '../../pipeline/ottl/contexts.js';
import { OttlSyntaxError } from '../../pipeline/ottl/parser.js';
import {
  kafkaAuthSchema,
  kafkaEncodingSchema,
  kafkaTlsSchema,
  retryOnFailureSchema,
  sendingQueueSchema,
} from './kafka.js';
import { clientCertListSchema, otlpGrpcSchema, tlsServerSchema } from './receiver.js';

const regex = z.string().superRefine((s, ctx) => {
  try {
    new RegExp(s);
  } catch (err) {
    ctx.addIssue({
      code: 'custom',
      message: `bad regex: ${(err as Error).message}`,
    });
  }
});
/** An OTTL condition of the filter processor, compiled for its context (errors carry the column). */
const ottl = (context: ContextName) =>
  z.string().superRefine((s, ctx) => {
    try {
      compileCondition(s, context);
    } catch (err) {
      const offset = err instanceof OttlSyntaxError ? err.offset : undefined;
      ctx.addIssue({
        code: 'custom',
        message: `unsupported OTTL condition: ${(err as Error).message}${offset !== undefined ? ` at column ${offset + 1}` : ''} (${context} context)`,
        ...(offset !== undefined ? { params: { ottlOffset: offset } } : {}),
      });
    }
  });
const duration = z.union([
  z.number(),
  z.string().regex(/^(0|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)$/, 'invalid duration (use e.g. 200ms, 5s)'),
]);
const hashFields = {
  hash_function: z.enum(['none', 'sha256', 'hmac_sha256']).optional(),
  hash_key_env: z.string().optional(),
  hash_key_file: z.string().optional(),
  key_id: z.string().optional(),
};
const matchAttr = z.strictObject({
  key: z.string(),
  value: z.unknown().optional(),
});
const matchProps = z.strictObject({
  match_type: z.enum(['strict', 'regexp']),
  services: z.array(z.string()).optional(),
  span_names: z.array(z.string()).optional(),
  attributes: z.array(matchAttr).optional(),
  resources: z.array(matchAttr).optional(),
  log_bodies: z.array(z.string()).optional(),
  log_severity_texts: z.array(z.string()).optional(),
  metric_names: z.array(z.string()).optional(),
  span_kinds: z.array(z.string()).optional(),
  libraries: z.array(z.unknown()).optional(),
});
const action = z
  .strictObject({
    key: z.string().optional(),
    action: z.enum(['insert', 'update', 'upsert', 'delete', 'hash', 'extract', 'convert']),
    value: z.unknown().optional(),
    from_attribute: z.string().optional(),
    from_context: z.string().optional(),
    pattern: regex.optional(),
    converted_type: z.enum(['int', 'double', 'string']).optional(),
  })
  .superRefine((a, ctx) => {
    const need = (cond: boolean, msg: string, path: string) => {
      if (!cond) ctx.addIssue({ code: 'custom', message: msg, path: [path] });
    };
    if (['insert', 'update', 'upsert'].includes(a.action)) {
      need(a.key != null, `action ${a.action} needs key`, 'key');
      need(
        a.value !== undefined || a.from_attribute != null || a.from_context != null,
        `action ${a.action} needs value, from_attribute or from_context`,
        'value',
      );
    }
    if (a.action === 'delete' || a.action === 'hash')
      need(a.key != null || a.pattern != null, `action ${a.action} needs key or pattern`, 'key');
    if (a.action === 'extract') {
      need(a.key != null, 'action extract needs key', 'key');
      need(a.pattern != null, 'action extract needs pattern', 'pattern');
      if (a.pattern && !/\(\?<[A-Za-z_]/.test(a.pattern))
        ctx.addIssue({
          code: 'custom',
          message: 'extract pattern needs named groups (?<name>…)',
          path: ['pattern'],
        });
    }
    if (a.action === 'convert') {
      need(a.key != null, 'action convert needs key', 'key');
      need(a.converted_type != null, 'action convert needs converted_type', 'converted_type');
    }
  });

export const attributesSchema = z.strictObject({
  actions: z.array(action).min(1, 'at least one action is required'),
  include: matchProps.optional(),
  exclude: matchProps.optional(),
  ...hashFields,
});
export const resourceSchema = z.strictObject({
  attributes: z.array(action).min(1, 'at least one action is required'),
  ...hashFields,
});
/** a key rule for identifier_keys / credential_keys, in any spelling (user.id, userId, user_id) */
const keyName = z.string().regex(/[A-Za-z0-9]/, 'a key name needs letters or digits, e.g. user.id');
export const redactionSchema = z.strictObject({
  allow_all_keys: z.boolean().optional(),
  allowed_keys: z.array(z.string()).optional(),
  ignored_keys: z.array(z.string()).optional(),
  blocked_key_patterns: z.array(regex).optional(),
  blocked_values: z.array(regex).optional(),
  allowed_values: z.array(regex).optional(),
  summary: z.enum(['debug', 'info', 'silent']).optional(),
  detectors: z.array(z.enum(DETECTOR_NAMES)).optional(),
  custom: z.array(z.strictObject({ name: z.string(), pattern: regex })).optional(),
  identifier_keys: z.array(keyName).optional(),
  credential_keys: z.array(keyName).optional(),
  ...hashFields,
});
const legacyLog = z.strictObject({
  match_type: z.enum(['strict', 'regexp']),
  record_attributes: z.array(matchAttr).optional(),
  resource_attributes: z.array(matchAttr).optional(),
  bodies: z.array(z.string()).optional(),
  severity_texts: z.array(z.string()).optional(),
});
const legacyMetric = z.strictObject({
  match_type: z.enum(['strict', 'regexp']),
  metric_names: z.array(z.string()).optional(),
  resource_attributes: z.array(matchAttr).optional(),
});
export const filterSchema = z.strictObject({
  error_mode: z.enum(['ignore', 'propagate', 'silent']).optional(),
  traces: z
    .strictObject({
      span: z.array(ottl('span')).optional(),
      spanevent: z.array(ottl('spanevent')).optional(),
    })
    .optional(),
  spans: z
    .strictObject({
      include: matchProps.optional(),
      exclude: matchProps.optional(),
    })
    .optional(),
  logs: z
    .strictObject({
      log_record: z.array(ottl('log')).optional(),
      include: legacyLog.optional(),
      exclude: legacyLog.optional(),
    })
    .optional(),
  metrics: z
    .strictObject({
      metric: z.array(ottl('metric')).optional(),
      datapoint: z.array(ottl('datapoint')).optional(),
      include: legacyMetric.optional(),
      exclude: legacyMetric.optional(),
    })
    .optional(),
});
export const batchSchema = z.strictObject({
  send_batch_size: z.number().int().nonnegative().optional(),
  send_batch_max_size: z.number().int().nonnegative().optional(),
  timeout: duration.optional(),
  metadata_keys: z.array(z.string()).optional(),
  metadata_cardinality_limit: z.number().optional(),
});
export const memoryLimiterSchema = z.strictObject({
  check_interval: duration.optional(),
  limit_mib: z.number().positive().optional(),
  spike_limit_mib: z.number().nonnegative().optional(),
  limit_percentage: z.number().min(1).max(100).optional(),
  spike_limit_percentage: z.number().min(0).max(100).optional(),
});

export const otlpReceiverSchema = z.strictObject({
  protocols: z.strictObject({
    http: z
      .strictObject({
        endpoint: z
          .string()
          .regex(/^[^:]*:\d+$/, 'endpoint must be host:port')
          .default('0.0.0.0:4318'),
        max_request_body_size: z
          .number()
          .int()
          .positive()
          .default(64 * 1024 * 1024),
        include_metadata: z.boolean().optional(),
        cors: z.unknown().optional(),
        auth: z.strictObject({ authenticator: z.string() }).optional(),
        traces_url_path: z.literal('/v1/traces').optional(),
        logs_url_path: z.literal('/v1/logs').optional(),
        metrics_url_path: z.literal('/v1/metrics').optional(),
        tls: tlsServerSchema.optional(),
      })
      .nullable()
      .transform(
        (v) =>
          v ?? {
            endpoint: '0.0.0.0:4318',
            max_request_body_size: 64 * 1024 * 1024,
          },
      ),
    grpc: otlpGrpcSchema,
  }),
});

const signalTopic = z
  .strictObject({
    topic: z.string().min(1).optional(),
    encoding: kafkaEncodingSchema.optional(),
  })
  .optional();
export const kafkaExporterSchema = z.strictObject({
  brokers: z.union([z.array(z.string()).min(1), z.string().min(1)]).optional(),
  client_id: z.string().optional(),
  topic: z.string().min(1).optional(),
  encoding: kafkaEncodingSchema.optional(),
  traces: signalTopic,
  logs: signalTopic,
  metrics: signalTopic,
  partition_traces_by_id: z.boolean().optional(),
  protocol_version: z.string().optional(),
  timeout: duration.optional(),
  retry_on_failure: retryOnFailureSchema.optional(),
  sending_queue: sendingQueueSchema.optional(),
  tls: kafkaTlsSchema.optional(),
  auth: kafkaAuthSchema.optional(),
  producer: z
    .strictObject({
      max_message_bytes: z.number().int().positive().optional(),
      required_acks: z.union([z.literal(-1), z.literal(0), z.literal(1)]).optional(),
      compression: z
        .enum(KAFKA_COMPRESSIONS, {
          message: `compression must be one of ${KAFKA_COMPRESSIONS.join(', ')} (zstd: Sieve reads zstd topics but cannot write them, no zstd compressor for Node installs from the npm registry alone)`,
        })
        .optional(),
      compression_params: z.strictObject({ level: z.number().int('level must be an integer').optional() }).optional(),
      flush_max_messages: z.number().optional(),
    })
    .superRefine((p, ctx) => {
      // as the Collector: a level is checked against the codec it applies to (gzip is Sieve's default);
      // lz4 and snappy have none, so any level but 0 (unset) is refused
      const level = p.compression_params?.level;
      const compression = p.compression ?? 'gzip';
      if (level !== undefined && compression === 'gzip' && !isGzipLevel(level))
        ctx.addIssue({
          code: 'custom',
          path: ['compression_params', 'level'],
          message: `unsupported gzip level ${level}: use 1 (fastest) to 9 (smallest), 0 or -1 (zlib's default, 6) or -2 (Huffman only)`,
        });
      if (level !== undefined && level !== 0 && (compression === 'lz4' || compression === 'snappy'))
        ctx.addIssue({
          code: 'custom',
          path: ['compression_params', 'level'],
          message: `${compression} takes no compression level (remove compression_params.level)`,
        });
    })
    .optional(),
});

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO-8601 time');
const apiKey = z.strictObject({
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex characters'),
  tenant: z.string().min(1),
  name: z.string().optional(),
  created: isoTime.optional(),
  revoked: isoTime.optional(),
});
export const apiKeyListSchema = z.array(apiKey);
export const apiKeyAuthSchema = z
  .strictObject({
    keys_file: z.string().optional(),
    keys: apiKeyListSchema.optional(),
    client_certs: clientCertListSchema.optional(),
    hmac: z
      .strictObject({
        header: z.string().default('x-sieve-signature'),
        secret_file: z.string().optional(),
        secret_env: z.string().optional(),
      })
      .optional(),
  })
  .refine(
    (v) => v.keys_file != null || v.keys != null || v.client_certs != null,
    'apikeyauth needs keys_file, keys or client_certs',
  );

export type BatchCfg = z.infer<typeof batchSchema>;
export type MemoryLimiterCfg = z.infer<typeof memoryLimiterSchema>;
