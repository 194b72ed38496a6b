/** Whole-number settings from the environment, refused with the variable's name when they are not one. */
export function envInteger(
  env: NodeJS.ProcessEnv,
  name: string,
  defaultValue: number,
  range: { min: number; max: number },
): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return defaultValue;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < range.min || n > range.max)
    throw new Error(`${name} must be a whole number from ${range.min} to ${range.max}, got ${JSON.stringify(raw)}`);
  return n;
}
