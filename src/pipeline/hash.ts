/**
 * Hashing of attribute values and detected PII.
 *
 * - `hmac_sha256` (Sieve's default): keyed HMAC-SHA256, lowercase hex. The key comes only from the
 *   environment or a file: `hash_key_env` (default `SIEVE_HASH_KEY`), else `hash_key_file`, else the
 *   file named by env `SIEVE_HASH_KEY_FILE`. No key → config load fails (never clear text).
 * - `sha256`: plain SHA-256 hex of the UTF-8 value, as the Collector's `hash` action writes it.
 * - `none`: mask with `****` (redaction only).
 * Key rotation: when `key_id` is set, outputs are prefixed `<key_id>:` (e.g. `k2:3fa9…`).
 */
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

export type HashFunction = 'none' | 'sha256' | 'hmac_sha256';

export interface HashSettings {
  hash_function?: HashFunction | undefined;
  hash_key_env?: string | undefined;
  hash_key_file?: string | undefined;
  key_id?: string | undefined;
}

export const MASK = '****';

export class HashKeyError extends Error {}

/** Returns a function value → hashed value (or mask). */
export type Hasher = (value: string) => string;

export function resolveHashKey(s: HashSettings, env: NodeJS.ProcessEnv = process.env): Buffer {
  const envName = s.hash_key_env ?? 'SIEVE_HASH_KEY';
  const fromEnv = env[envName];
  if (fromEnv != null && fromEnv !== '') return Buffer.from(fromEnv, 'utf8');
  const file = s.hash_key_file || env.SIEVE_HASH_KEY_FILE;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new HashKeyError(`cannot read hash key file ${file}: ${(err as Error).message}`);
    }
    if (text === '') throw new HashKeyError(`hash key file ${file} is empty`);
    return Buffer.from(text, 'utf8');
  }
  throw new HashKeyError(
    `hash_function hmac_sha256 needs a key: set env ${envName}, or hash_key_file, or env SIEVE_HASH_KEY_FILE (Sieve never falls back to clear text)`,
  );
}

export function hmacSha256Hex(key: Buffer | string, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('hex');
}
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

export function makeHasher(s: HashSettings, env: NodeJS.ProcessEnv = process.env): Hasher {
  const fn = s.hash_function ?? 'hmac_sha256';
  const prefix = s.key_id ? `${s.key_id}:` : '';
  if (fn === 'none') return () => MASK;
  if (fn === 'sha256') return (v) => prefix + sha256Hex(v);
  const key = resolveHashKey(s, env);
  // Identifiers repeat heavily (same user / session on many spans): a bounded memo avoids
  // recomputing the HMAC. The memo lives only in this process's memory, next to the key.
  const memo = new Map<string, string>();
  return (v) => {
    let h = memo.get(v);
    if (h === undefined) {
      h = prefix + createHmac('sha256', key).update(v, 'utf8').digest('hex');
      if (memo.size >= MEMO_MAX) memo.clear();
      memo.set(v, h);
    }
    return h;
  };
}

const MEMO_MAX = 65536;
