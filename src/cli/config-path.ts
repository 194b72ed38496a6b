import { resolve } from 'node:path';

/** The pipeline file: `--config`, else SIEVE_CONFIG, else collector-config/sieve.yaml. */
export function configPathFrom(flag: string | undefined): string {
  return resolve(flag ?? process.env.SIEVE_CONFIG ?? 'collector-config/sieve.yaml');
}
