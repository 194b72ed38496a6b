/**
 * TLS for the OTLP listeners: the server options of a `tls:` block, and certificate rotation without
 * restart — the files are checked every reload_interval and, once they changed and the new
 * certificate and key match, new connections get them (connections already open keep theirs).
 */
import type { SecureContextOptions, TLSSocket } from 'node:tls';
import type pino from 'pino';
import { readTlsMaterial, secureContextOptions, type TlsMaterial } from '../config/tls-files.js';
import type { TlsServerSettings } from '../pipeline/api.js';
import { reloadOnChange } from './file-reload.js';
import type { ReceiverMetrics } from './metrics.js';

export interface TlsServerOptions extends SecureContextOptions {
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

/** Reads the files of `tls` (throws naming the key when they are not usable). */
export function tlsServerOptions(tls: TlsServerSettings): { options: TlsServerOptions; material: TlsMaterial } {
  let material: TlsMaterial;
  try {
    material = readTlsMaterial(tls);
  } catch (err) {
    const field = (err as { field?: string }).field;
    throw new Error(`${tls.key}${field !== undefined ? `.${field}` : ''}: ${(err as Error).message}`);
  }
  return {
    material,
    options: {
      ...secureContextOptions(tls, material),
      // mTLS: with a client CA, a client must present a certificate it signed
      requestCert: tls.clientCaFile !== undefined,
      rejectUnauthorized: true,
    },
  };
}

/** Watches the files of `tls`; `apply` gets the new context options after each good change. */
export function watchTlsFiles(
  listener: 'http' | 'grpc',
  tls: TlsServerSettings,
  apply: (options: SecureContextOptions) => void,
  metrics: ReceiverMetrics,
  logger: pino.Logger,
): { close(): void } {
  return reloadOnChange({
    files: [tls.certFile, tls.keyFile, ...(tls.clientCaFile !== undefined ? [tls.clientCaFile] : [])],
    intervalMs: tls.reloadIntervalMs,
    load: () => readTlsMaterial(tls),
    apply: (material) => {
      apply(secureContextOptions(tls, material));
      metrics.fileReloads.inc({ file: `${listener}_tls`, result: 'success' });
      metrics.tlsCertificateExpiry.set({ listener }, Date.parse(material.validTo) / 1000);
      logger.info(
        { listener, fingerprint: material.fingerprint, validTo: material.validTo },
        'TLS certificate files changed: new connections use the new certificate',
      );
    },
    onError: (err) => {
      metrics.fileReloads.inc({ file: `${listener}_tls`, result: 'failure' });
      logger.error(
        { listener, err: err.message },
        'TLS certificate files not usable (yet); new connections keep the previous certificate',
      );
    },
  });
}

/** The verified client certificate of a TLS connection (mTLS), or undefined. */
export function verifiedPeerCertificate(socket: unknown): ReturnType<TLSSocket['getPeerCertificate']> | undefined {
  const s = socket as Partial<TLSSocket> | undefined;
  if (s?.encrypted !== true || s.authorized !== true || typeof s.getPeerCertificate !== 'function') return undefined;
  const cert = s.getPeerCertificate();
  return cert !== undefined && Object.keys(cert).length > 0 ? cert : undefined;
}
