/**
 * Collector-style substitution inside scalar values: `${env:VAR}`, `${VAR}`, `${env:VAR:-default}`,
 * and `${file:path}` (the file's contents without its final newline — the Collector's file provider,
 * used for secrets mounted as files; a relative path is resolved from the config file's folder);
 * `$$` escapes a literal `$`. An unset variable without default becomes '' (as in the Collector); an
 * unreadable file is an error. A plain scalar that is exactly one env reference is re-typed as YAML
 * (`5` → 5); file contents stay strings (a password of digits is still a string).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const REF = /\$\$|\$\{file:([^}]+)\}|\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function hasEnvRef(s: string): boolean {
  return s.includes('$');
}

export function substituteEnv(s: string, env: NodeJS.ProcessEnv = process.env, baseDir = process.cwd()): string {
  return s.replace(REF, (m, file: string | undefined, name: string | undefined, def: string | undefined) => {
    if (m === '$$') return '$';
    if (file !== undefined) return readSecretFile(resolve(baseDir, file.trim()));
    const v = env[name as string];
    if (v != null && v !== '') return v;
    return def ?? '';
  });
}

function readSecretFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    // the path only: the contents of a secret never go into a message
    throw new Error(`\${file:${path}}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

export function isSingleRef(s: string): boolean {
  REF.lastIndex = 0;
  const m = /^\$\{(?:env:)?[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/.exec(s);
  return m != null;
}
