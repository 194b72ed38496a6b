// Sieve as a child process on free loopback ports (`sieve all` for the e2e test and the freshness
// benchmark, `sieve receiver --workers N` for the cluster test and the receiver benchmark, `sieve
// loader` next to a receiver for the freshness benchmark).
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { SEMI_SPACE_FLAG } from '../../src/cli/v8-flags.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** A port the kernel has just handed out for 127.0.0.1 (free now, closed again). */
function ephemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** ports freePort has returned in this process */
const handedOut = new Set<number>();

/**
 * A free loopback port, never one this process was given before: the kernel picks bind(0) ports at
 * random, so it can hand out one it gave (and saw closed) before, and a process started on two equal
 * ports fails with EADDRINUSE (seen once in CI: `sieve all` with two of its ports the same).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await ephemeralPort();
    if (port > 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('freePort: the kernel kept handing out ports this process already has');
}

export interface SieveProcess {
  child: ChildProcess;
  ports: { otlp: number; grpc: number; receiverOps: number; loaderOps: number };
  /** the last 8 KB of its stdout and stderr */
  log(): string;
}

/** `sieve <command> --dev --config <file> [args]` on free loopback ports (`dev: false` drops --dev). */
export async function startSieve(opts: {
  command: 'all' | 'receiver' | 'loader';
  configPath: string;
  dev?: boolean;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** node's own flags (default: SEMI_SPACE_FLAG, as Sieve's launchers start it; see src/cli/v8-flags.ts) */
  nodeArgs?: string[];
}): Promise<SieveProcess> {
  const ports = {
    otlp: await freePort(),
    grpc: await freePort(),
    receiverOps: await freePort(),
    loaderOps: await freePort(),
  };
  const args = [
    ...(opts.nodeArgs ?? [SEMI_SPACE_FLAG]),
    join(ROOT, 'bin', 'sieve.mjs'),
    opts.command,
    ...(opts.dev === false ? [] : ['--dev']),
    '--config',
    opts.configPath,
    ...(opts.args ?? []),
  ];
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      ...opts.env,
      SIEVE_OTLP_ENDPOINT: `127.0.0.1:${ports.otlp}`,
      SIEVE_OTLP_GRPC_ENDPOINT: `127.0.0.1:${ports.grpc}`,
      SIEVE_RECEIVER_OPS_PORT: String(ports.receiverOps),
      SIEVE_LOADER_OPS_PORT: String(ports.loaderOps),
      SIEVE_OPS_HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  for (const s of [child.stdout, child.stderr]) s?.on('data', (b: Buffer) => (log = (log + b).slice(-8000)));
  return { child, ports, log: () => log };
}

export async function startSieveAll(opts: {
  configPath: string;
  hashKeyFile: string;
  loaderGroup: string;
  database: string;
  env?: NodeJS.ProcessEnv;
}): Promise<SieveProcess> {
  return startSieve({
    command: 'all',
    configPath: opts.configPath,
    env: {
      ...opts.env,
      SIEVE_HASH_KEY_FILE: opts.hashKeyFile,
      SIEVE_LOADER_GROUP: opts.loaderGroup,
      CLICKHOUSE_DATABASE: opts.database,
    },
  });
}

/** Polls `url` until it answers 200 (or throws after `timeoutMs`, with the process log). */
export async function waitFor200(url: string, proc: SieveProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`sieve exited (${proc.child.exitCode}):\n${proc.log()}`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms:\n${proc.log()}`);
}

/** SIGTERM and the exit code (SIGKILL after `timeoutMs`). */
export async function stopSieve(proc: SieveProcess, timeoutMs = 40_000): Promise<number | null> {
  if (proc.child.exitCode !== null) return proc.child.exitCode;
  const exited = new Promise<number | null>((resolve) => proc.child.once('exit', (code) => resolve(code)));
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** A one-shot `sieve <args>` (stats, demo): its exit code and output, stdout not a terminal. */
export async function runSieve(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 120_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'sieve.mjs'), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b));
  child.stderr.on('data', (b: Buffer) => (stderr += b));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}
