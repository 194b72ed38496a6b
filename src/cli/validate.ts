/** `sieve validate <config.yaml>`: prints every issue as file:line:column: key: message; exit 1 if any. */
import { formatIssue } from '../config/errors.js';
import { validateConfigFile } from '../config/load.js';
import { runPrintKeys } from './print-keys.js';

export async function runValidate(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  if (argv.includes('--print-keys')) return runPrintKeys(argv, out, err);
  const files = argv.filter((a) => !a.startsWith('-'));
  const cfgIdx = argv.indexOf('--config');
  if (cfgIdx >= 0 && argv[cfgIdx + 1]) files.push(argv[cfgIdx + 1] as string);
  if (files.length === 0) {
    err.write('usage: sieve validate <config.yaml>\n');
    return 2;
  }
  let code = 0;
  for (const f of [...new Set(files)]) {
    const r = validateConfigFile(f);
    if (r.ok) {
      const p = r.config?.pipelines ?? {};
      out.write(
        `${f}: OK (${Object.values(p)
          .map((x) => `${x?.id}: ${x?.processorIds.join(' → ') || '(no processors)'}`)
          .join('; ')})\n`,
      );
      for (const w of r.config?.warnings ?? []) err.write(`warning: ${w}\n`);
    } else {
      code = 1;
      for (const i of r.errors) err.write(`${formatIssue(i)}\n`);
    }
  }
  return code;
}
