/**
 * `--dev` hashing key: started by hand (not through `npm run up`), `sieve all --dev` and
 * `sieve receiver --dev` would stop at "hashing needs a key". In dev mode only,
 * when neither SIEVE_HASH_KEY nor SIEVE_HASH_KEY_FILE is set, a random key is generated once into
 * <SIEVE_DATA_DIR>/hash.key (default ./.data, as `npm run up` does) and SIEVE_HASH_KEY_FILE points
 * at it, so hashes stay stable across restarts. Outside dev mode nothing changes: no key, no start.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface DevHashKey {
  file: string;
  /** true when this start created the file */
  generated: boolean;
}

export function devDataDir(env: NodeJS.ProcessEnv): string {
  return resolve(env.SIEVE_DATA_DIR || '.data');
}

/** Sets env.SIEVE_HASH_KEY_FILE to the local dev key (creating it once); undefined when a key is configured. */
export function ensureDevHashKey(env: NodeJS.ProcessEnv, dataDir = devDataDir(env)): DevHashKey | undefined {
  if (env.SIEVE_HASH_KEY || env.SIEVE_HASH_KEY_FILE) return undefined;
  const file = join(dataDir, 'hash.key');
  let existing: string | undefined;
  try {
    existing = readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  let generated = false;
  if (!existing) {
    mkdirSync(dataDir, { recursive: true });
    try {
      // a missing file is created exclusively ('wx'): of two processes starting together, one key wins
      writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: existing === undefined ? 'wx' : 'w' });
      generated = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  env.SIEVE_HASH_KEY_FILE = file;
  return { file, generated };
}
