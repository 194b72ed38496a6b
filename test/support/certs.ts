/** Test certificates made with the openssl command line at test time (P-256 keys, valid 2 days). */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';

export interface CertFiles {
  cert: string;
  key: string;
  /** SHA-256 fingerprint as node prints it (AA:BB:…) */
  fingerprint: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const fingerprintOf = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;

/** A self-signed CA in `dir` named `name` (`name.crt`, `name.key`). */
export function makeCa(dir: string, name: string): CertFiles {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  return {
    cert: join(dir, `${name}.crt`),
    key: join(dir, `${name}.key`),
    fingerprint: fingerprintOf(join(dir, `${name}.crt`)),
  };
}

/**
 * A leaf certificate signed by `ca`: a server certificate for localhost/127.0.0.1, or a client
 * certificate (`client: true`) with the given common name and optional URI SAN.
 */
export function makeLeaf(
  dir: string,
  name: string,
  ca: CertFiles,
  opts: { client?: boolean; cn?: string; uri?: string } = {},
): CertFiles {
  const ext = opts.client
    ? `extendedKeyUsage=clientAuth\n${opts.uri !== undefined ? `subjectAltName=URI:${opts.uri}\n` : ''}`
    : 'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n';
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(
    [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${opts.cn ?? (opts.client ? name : 'localhost')}`,
    ],
    dir,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    ],
    dir,
  );
  return {
    cert: join(dir, `${name}.crt`),
    key: join(dir, `${name}.key`),
    fingerprint: fingerprintOf(join(dir, `${name}.crt`)),
  };
}

/** The fingerprint of the certificate a TLS server on `port` presents to a new connection. */
export function servedFingerprint(port: number, alpn?: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(
      { host: '127.0.0.1', port, rejectUnauthorized: false, ...(alpn ? { ALPNProtocols: alpn } : {}) },
      () => {
        const fp = sock.getPeerCertificate().fingerprint256;
        sock.end();
        resolve(fp);
      },
    );
    sock.on('error', reject);
  });
}

/** Polls until the server on `port` presents `fingerprint` to new connections (or throws after `timeoutMs`). */
export async function waitForServedCert(
  port: number,
  fingerprint: string,
  alpn?: string[],
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await servedFingerprint(port, alpn).catch((e: Error) => `error: ${e.message}`);
    if (last === fingerprint) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server on ${port} still presents ${last}, not ${fingerprint}`);
}
