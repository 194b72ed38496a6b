// `sieve all --dev` as a child process on free loopback ports, as the e2e test and the freshness
// benchmark run it.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

export interface SieveProcess {
  child: ChildProcess;
  ports: { otlp: number; receiverOps: number; loaderOps: number };
  /** the last 8 KB of its stdout and stderr */
  log(): string;
}

export async function startSieveAll(opts: {
  configPath: string;
  hashKeyFile: string;
  loaderGroup: string;
  database: string;
  env?: NodeJS.ProcessEnv;
}): Promise<SieveProcess> {
  const ports = { otlp: await freePort(), receiverOps: await freePort(), loaderOps: await freePort() };
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'sieve.mjs'), 'all', '--dev', '--config', opts.configPath], {
    env: {
      ...process.env,
      ...opts.env,
      SIEVE_OTLP_ENDPOINT: `127.0.0.1:${ports.otlp}`,
      SIEVE_RECEIVER_OPS_PORT: String(ports.receiverOps),
      SIEVE_LOADER_OPS_PORT: String(ports.loaderOps),
      SIEVE_OPS_HOST: '127.0.0.1',
      SIEVE_HASH_KEY_FILE: opts.hashKeyFile,
      SIEVE_LOADER_GROUP: opts.loaderGroup,
      CLICKHOUSE_DATABASE: opts.database,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  for (const s of [child.stdout, child.stderr]) s?.on('data', (b: Buffer) => (log = (log + b).slice(-8000)));
  return { child, ports, log: () => log };
}
