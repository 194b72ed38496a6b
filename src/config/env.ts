/**
 * Collector-style environment substitution inside scalar values: `${env:VAR}`, `${VAR}`,
 * `${env:VAR:-default}`; `$$` escapes a literal `$`. An unset variable without default becomes ''
 * (as in the Collector). A plain scalar that is exactly one reference is re-typed as YAML (`5` → 5).
 */
const REF = /\$\$|\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function hasEnvRef(s: string): boolean {
  return s.includes('$');
}

export function substituteEnv(s: string, env: NodeJS.ProcessEnv = process.env): string {
  return s.replace(REF, (m, name: string | undefined, def: string | undefined) => {
    if (m === '$$') return '$';
    const v = env[name as string];
    if (v != null && v !== '') return v;
    return def ?? '';
  });
}

export function isSingleRef(s: string): boolean {
  REF.lastIndex = 0;
  const m = /^\$\{(?:env:)?[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/.exec(s);
  return m != null;
}
