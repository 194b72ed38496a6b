/**
 * HTTPS in front of the local ClickHouse engine, for the TLS tests: a TLS-terminating proxy with a
 * certificate from a test CA (openssl, generated at start), optionally requiring a client certificate
 * from that CA (mTLS) and a password (ClickHouse's HTTP auth: Basic, or X-ClickHouse-User/-Key), that
 * forwards every request to CLICKHOUSE_URL and streams the answer back.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ClickHouseTlsProxy {
  url: string;
  caFile: string;
  otherCaFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** requests refused for a wrong user/password */
  authFailures: number;
  close(): Promise<void>;
}

function run(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A CA, a server certificate for 127.0.0.1 / localhost and a client certificate, all PEM. */
function makeCertificates(dir: string): void {
  const ca = (name: string, cn: string) =>
    run(
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.pem`,
        '-days',
        '2',
        '-subj',
        `/CN=${cn}`,
      ],
      dir,
    );
  ca('ca', 'Sieve test CA');
  ca('other-ca', 'Some other CA');
  const signed = (name: string, cn: string, ext: string) => {
    run(
      ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`],
      dir,
    );
    writeFileSync(join(dir, `${name}.ext`), ext);
    run(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.pem`,
        '-days',
        '2',
        '-extfile',
        `${name}.ext`,
      ],
      dir,
    );
  };
  signed('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  signed('client', 'sieve-loader', 'extendedKeyUsage=clientAuth\n');
}

export async function startClickHouseTlsProxy(opts: {
  requireClientCert: boolean;
  user?: { username: string; password: string };
}): Promise<ClickHouseTlsProxy> {
  const upstream = new URL(process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123');
  const dir = mkdtempSync(join(tmpdir(), 'sieve-ch-tls-'));
  makeCertificates(dir);
  const pem = (f: string) => readFileSync(join(dir, f));
  const state = { authFailures: 0 };
  const authorized = (req: http.IncomingMessage): boolean => {
    if (!opts.user) return true;
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    const [user, key] = basic
      ? Buffer.from(basic[1] as string, 'base64')
          .toString('utf8')
          .split(/:(.*)/s)
      : [req.headers['x-clickhouse-user'], req.headers['x-clickhouse-key']];
    return user === opts.user.username && key === opts.user.password;
  };
  const server = https.createServer(
    {
      key: pem('server.key'),
      cert: pem('server.pem'),
      ca: pem('ca.pem'),
      requestCert: opts.requireClientCert,
      rejectUnauthorized: opts.requireClientCert,
    },
    (req, res) => {
      if (!authorized(req)) {
        state.authFailures++;
        req.resume();
        res.writeHead(516, { 'x-clickhouse-exception-code': '516' });
        res.end(
          'Code: 516. DB::Exception: default: Authentication failed: password is incorrect. (AUTHENTICATION_FAILED)\n',
        );
        return;
      }
      const headers = { ...req.headers, host: upstream.host };
      const fwd = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      fwd.on('error', (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      req.pipe(fwd);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    caFile: join(dir, 'ca.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client.key'),
    get authFailures() {
      return state.authFailures;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
