/**
 * Schemas of the OTLP receiver's transport blocks, with the Collector's key names:
 * `protocols.grpc` (configgrpc server), the `tls:` block of both protocols (configtls server) and
 * `extensions.apikeyauth.client_certs` (Sieve's mapping of verified client certificates to tenants).
 */
import { z } from 'zod';

const duration = z.union([
  z.number(),
  z.string().regex(/^(0|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)$/, 'invalid duration (use e.g. 200ms, 5s)'),
]);

/** The Collector's TLS version names → Node's. */
export const TLS_VERSIONS = { '1.0': 'TLSv1', '1.1': 'TLSv1.1', '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' } as const;
const tlsVersion = z.enum(['1.0', '1.1', '1.2', '1.3'], {
  message: 'TLS version must be "1.0", "1.1", "1.2" or "1.3" (quote it in YAML)',
});

export const tlsServerSchema = z
  .strictObject({
    cert_file: z.string().min(1, 'cert_file must name a PEM certificate (chain) file'),
    key_file: z.string().min(1, 'key_file must name a PEM private key file'),
    client_ca_file: z.string().min(1).optional(),
    // the Collector reloads client_ca_file only with this flag; Sieve always watches every file
    client_ca_file_reload: z.boolean().optional(),
    min_version: z.preprocess((v) => (typeof v === 'number' ? v.toFixed(1) : v), tlsVersion).optional(),
    max_version: z.preprocess((v) => (typeof v === 'number' ? v.toFixed(1) : v), tlsVersion).optional(),
    reload_interval: duration.optional(),
  })
  .superRefine((v, ctx) => {
    if (v.min_version !== undefined && v.max_version !== undefined && v.max_version < v.min_version)
      ctx.addIssue({ code: 'custom', message: 'max_version is lower than min_version', path: ['max_version'] });
  });
export type TlsServerCfg = z.infer<typeof tlsServerSchema>;

export const DEFAULT_GRPC_ENDPOINT = '0.0.0.0:4317';
/** grpc-go's (and so the Collector's) default receive limit */
export const DEFAULT_GRPC_MAX_RECV_MIB = 4;

const otlpGrpcObject = z.strictObject({
  endpoint: z
    .string()
    .regex(/^[^:]*:\d+$|^\[[0-9a-fA-F:]+\]:\d+$/, 'endpoint must be host:port')
    .default(DEFAULT_GRPC_ENDPOINT),
  transport: z.literal('tcp', { message: 'Sieve listens on tcp only' }).optional(),
  max_recv_msg_size_mib: z.number().positive().max(2047).default(DEFAULT_GRPC_MAX_RECV_MIB),
  max_concurrent_streams: z.number().int().positive().optional(),
  read_buffer_size: z.number().int().nonnegative().optional(),
  write_buffer_size: z.number().int().nonnegative().optional(),
  include_metadata: z.boolean().optional(),
  keepalive: z
    .strictObject({
      server_parameters: z
        .strictObject({
          max_connection_idle: duration.optional(),
          max_connection_age: duration.optional(),
          max_connection_age_grace: duration.optional(),
          time: duration.optional(),
          timeout: duration.optional(),
        })
        .optional(),
      enforcement_policy: z
        .strictObject({ min_time: duration.optional(), permit_without_stream: z.boolean().optional() })
        .optional(),
    })
    .optional(),
  auth: z.strictObject({ authenticator: z.string() }).optional(),
  tls: tlsServerSchema.optional(),
});
// `grpc:` with no value enables it with the defaults, as in the Collector; no key leaves it off
export const otlpGrpcSchema = z.preprocess((v) => (v === null ? {} : v), otlpGrpcObject.optional());
export type OtlpGrpcCfg = z.infer<typeof otlpGrpcObject>;

const clientCert = z
  .strictObject({
    tenant: z.string().min(1),
    name: z.string().optional(),
    common_name: z.string().min(1).optional(),
    dns_name: z.string().min(1).optional(),
    uri: z.string().min(1).optional(),
    sha256: z
      .string()
      .regex(/^([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$/, 'sha256 must be the certificate fingerprint in hex')
      .optional(),
  })
  .refine(
    (c) => [c.common_name, c.dns_name, c.uri, c.sha256].filter((x) => x !== undefined).length === 1,
    'each client_certs entry needs exactly one of common_name, dns_name, uri, sha256',
  );
export const clientCertListSchema = z.array(clientCert);
