/** Whole-number and enumerated settings (flags, environment variables), refused with their name when invalid. */
export function wholeNumber(
  name: string,
  raw: string | undefined,
  fallback: number,
  range: { min: number; max: number },
): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < range.min || n > range.max)
    throw new Error(`${name} must be a whole number from ${range.min} to ${range.max}, got ${JSON.stringify(raw)}`);
  return n;
}

/** wholeNumber of the variable `name` in `env`; unset or blank: `defaultValue`. */
export function envInteger(
  env: NodeJS.ProcessEnv,
  name: string,
  defaultValue: number,
  range: { min: number; max: number },
): number {
  const raw = env[name];
  return wholeNumber(name, raw === undefined || raw.trim() === '' ? undefined : raw, defaultValue, range);
}

/** The variable `name` in `env`, one of `choices` (unset or blank: `defaultValue`); refused with the choices otherwise. */
export function envChoice<T extends string>(
  env: NodeJS.ProcessEnv,
  name: string,
  choices: readonly T[],
  defaultValue: T,
): T {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return defaultValue;
  const hit = choices.find((c) => c === raw);
  if (hit === undefined) throw new Error(`${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
  return hit;
}
