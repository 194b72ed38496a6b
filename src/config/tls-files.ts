/**
 * Reads and checks the files of a `tls:` block (certificate chain, private key, client CA), at start
 * (config errors name the key) and on every reload (a rotation caught half-written is retried).
 * Messages never contain file contents.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { TlsServerSettings } from '../pipeline/api.js';

export type TlsFileKey = 'cert_file' | 'key_file' | 'client_ca_file';

/** A problem with one file of a tls block. */
export class TlsFileError extends Error {
  constructor(
    readonly field: TlsFileKey,
    message: string,
  ) {
    super(message);
    this.name = 'TlsFileError';
  }
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  /** SHA-256 fingerprint of the leaf certificate (for logs: which certificate is served) */
  fingerprint: string;
  /** the leaf certificate's notAfter */
  validTo: string;
}

function read(field: TlsFileKey, path: string): Buffer {
  try {
    const b = readFileSync(path);
    if (b.length === 0) throw new Error('file is empty');
    return b;
  } catch (err) {
    throw new TlsFileError(field, `cannot read ${path}: ${(err as Error).message}`);
  }
}

/** Reads the files and checks that they parse and that the key matches the certificate. */
export function readTlsMaterial(s: Pick<TlsServerSettings, 'certFile' | 'keyFile' | 'clientCaFile'>): TlsMaterial {
  const cert = read('cert_file', s.certFile);
  const key = read('key_file', s.keyFile);
  const ca = s.clientCaFile !== undefined ? read('client_ca_file', s.clientCaFile) : undefined;
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch {
    throw new TlsFileError('cert_file', `${s.certFile} is not a PEM certificate`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    // the parser's message could quote the file: say only what it is not
    throw new TlsFileError('key_file', `${s.keyFile} is not an unencrypted PEM private key`);
  }
  if (!leaf.checkPrivateKey(privateKey))
    throw new TlsFileError('key_file', `${s.keyFile} does not match the certificate in ${s.certFile}`);
  if (ca !== undefined) {
    try {
      new X509Certificate(ca);
    } catch {
      throw new TlsFileError('client_ca_file', `${s.clientCaFile} is not a PEM certificate`);
    }
  }
  try {
    createSecureContext({ cert, key, ...(ca !== undefined ? { ca } : {}) });
  } catch (err) {
    throw new TlsFileError('cert_file', `${s.certFile}: ${(err as Error).message}`);
  }
  return { cert, key, ...(ca !== undefined ? { ca } : {}), fingerprint: leaf.fingerprint256, validTo: leaf.validTo };
}

/** Options for tls.createSecureContext / setSecureContext from the settings and files. */
export function secureContextOptions(s: TlsServerSettings, m: TlsMaterial): SecureContextOptions {
  return {
    cert: m.cert,
    key: m.key,
    ...(m.ca !== undefined ? { ca: m.ca } : {}),
    minVersion: s.minVersion,
    ...(s.maxVersion !== undefined ? { maxVersion: s.maxVersion } : {}),
  };
}
