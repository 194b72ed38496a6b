/**
 * `sieve keys create|revoke|list`: the API key lifecycle on the keys file (SIEVE_API_KEYS_FILE or
 * --file). A new key is printed once and only its SHA-256 is stored; a running receiver re-reads the
 * file within about a second (a revoked key then gets 401). `list` adds each key's last use from a
 * running receiver's /metrics (sieve_receiver_api_key_last_used_timestamp_seconds, by key name).
 */
import { createHash, randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { appendKey, readKeysFile, revokeKey } from '../config/keys-file.js';
import type { ApiKeyEntry } from '../pipeline/api.js';
import { keyLabel } from '../receiver/auth.js';

const USAGE = `usage:
  sieve keys create --tenant <tenant> --name <name> [--file <keys.yaml>]
  sieve keys revoke <name> [--file <keys.yaml>]
  sieve keys list [--file <keys.yaml>] [--ops <url of a receiver's /metrics>]
the keys file defaults to SIEVE_API_KEYS_FILE; --ops to http://127.0.0.1:$SIEVE_RECEIVER_OPS_PORT/metrics (13133)
`;
const LAST_USED_METRIC = 'sieve_receiver_api_key_last_used_timestamp_seconds';

export interface KeysIo {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  now?: () => Date;
}

/** A new API key: 32 random bytes, base64url, with a prefix that secret scanners can match. */
export function newApiKey(): string {
  return `sieve_${randomBytes(32).toString('base64url')}`;
}

function keysFileFrom(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const f = flag ?? env.SIEVE_API_KEYS_FILE;
  if (f === undefined || f === '') throw new Error('no keys file: pass --file <keys.yaml> or set SIEVE_API_KEYS_FILE');
  return resolve(f);
}

export async function runKeys(argv: string[], io: KeysIo): Promise<number> {
  const [sub, ...rest] = argv;
  const now = io.now ?? (() => new Date());
  switch (sub) {
    case 'create': {
      const { values } = parseArgs({
        args: rest,
        options: { tenant: { type: 'string' }, name: { type: 'string' }, file: { type: 'string' } },
        strict: true,
      });
      if (!values.tenant || !values.name) throw new Error(`keys create needs --tenant and --name\n\n${USAGE}`);
      const file = keysFileFrom(values.file, io.env);
      const key = newApiKey();
      appendKey(file, {
        name: values.name,
        tenant: values.tenant,
        sha256: createHash('sha256').update(key, 'utf8').digest('hex'),
        created: now().toISOString(),
      });
      io.out.write(`${key}\n`);
      io.err.write(
        `created API key "${values.name}" for tenant "${values.tenant}" in ${file}; only its SHA-256 is stored: keep the key now, it is not shown again\n`,
      );
      return 0;
    }
    case 'revoke': {
      const { values, positionals } = parseArgs({
        args: rest,
        options: { file: { type: 'string' } },
        allowPositionals: true,
        strict: true,
      });
      const name = positionals[0];
      if (name === undefined || positionals.length > 1) throw new Error(`keys revoke needs one key name\n\n${USAGE}`);
      const file = keysFileFrom(values.file, io.env);
      const changed = revokeKey(file, name, now().toISOString());
      io.err.write(
        changed
          ? `revoked API key "${name}" in ${file}; running receivers refuse it within seconds\n`
          : `API key "${name}" was already revoked\n`,
      );
      return 0;
    }
    case 'list': {
      const { values } = parseArgs({
        args: rest,
        options: { file: { type: 'string' }, ops: { type: 'string' } },
        strict: true,
      });
      const file = keysFileFrom(values.file, io.env);
      const keys = readKeysFile(file);
      const ops = values.ops ?? `http://127.0.0.1:${io.env.SIEVE_RECEIVER_OPS_PORT ?? 13133}/metrics`;
      const lastUsed = await fetchLastUsed(ops);
      if (lastUsed === undefined)
        io.err.write(`last used: no receiver answered at ${ops} (it is known to running receivers only)\n`);
      io.out.write(formatKeyTable(keys, lastUsed));
      return 0;
    }
    case undefined:
    case '-h':
    case '--help':
      io.out.write(USAGE);
      return sub === undefined ? 1 : 0;
    default:
      throw new Error(`unknown keys command "${sub}"\n\n${USAGE}`);
  }
}

/** Last use per key label (unix seconds) from a receiver's Prometheus text, or undefined when unreachable. */
export async function fetchLastUsed(url: string): Promise<Map<string, number> | undefined> {
  let text: string;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    if (!res.ok) return undefined;
    text = await res.text();
  } catch {
    return undefined;
  }
  return parseLastUsed(text);
}

export function parseLastUsed(prometheusText: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of prometheusText.split('\n')) {
    if (!line.startsWith(`${LAST_USED_METRIC}{`)) continue;
    const name = /[{,]name="((?:[^"\\]|\\.)*)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (name === undefined || !Number.isFinite(value)) continue;
    const label = name.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
    out.set(label, Math.max(out.get(label) ?? 0, value));
  }
  return out;
}

export function formatKeyTable(keys: readonly ApiKeyEntry[], lastUsed: Map<string, number> | undefined): string {
  const rows = [['NAME', 'TENANT', 'CREATED', 'REVOKED', 'LAST USED']];
  for (const k of keys) {
    const used = lastUsed?.get(keyLabel(k));
    rows.push([
      keyLabel(k),
      k.tenant,
      k.created ?? '-',
      k.revoked ?? '-',
      lastUsed === undefined ? '?' : used === undefined ? '-' : new Date(used * 1000).toISOString(),
    ]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return `${rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
