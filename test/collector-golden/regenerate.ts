/**
 * Regenerates the transform goldens with the real OpenTelemetry Collector (built by build.sh):
 * every case of cases.yaml gets its own otlp receiver → transform → file exporter pipeline in one
 * Collector; each input is POSTed as OTLP/JSON and the exported JSON is written to golden/<case>.json.
 * Configs the Collector refuses are checked with `otelcol validate` and their error is recorded.
 *   OTELCOL=/work/otelcol/otelcol-sieve node --import tsx test/collector-golden/regenerate.ts
 * Not run by CI: the goldens are committed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort } from '../support/sieve-process.js';

export interface GoldenCase {
  name: string;
  input: string;
  /** the processor under test: transform, or filter (same OTTL engine in Sieve) */
  transform?: Record<string, unknown>;
  filter?: Record<string, unknown>;
  sieve?: Record<string, unknown>;
}
export type Golden =
  | { kind: 'output'; status: number; output: unknown }
  | { kind: 'refused'; status: number; body: string }
  | { kind: 'invalid'; error: string };

const here = new URL('.', import.meta.url).pathname;
const otelcol = process.env.OTELCOL ?? '/work/otelcol/otelcol-sieve';
const signalOf = (input: string) =>
  input.startsWith('logs') ? 'logs' : input.startsWith('metrics') ? 'metrics' : 'traces';

function collectorConfig(cases: { c: GoldenCase; port: number }[], out: string): unknown {
  const receivers: Record<string, unknown> = {};
  const processors: Record<string, unknown> = {};
  const exporters: Record<string, unknown> = {};
  const pipelines: Record<string, unknown> = {};
  for (const { c, port } of cases) {
    receivers[`otlp/${c.name}`] = { protocols: { http: { endpoint: `127.0.0.1:${port}` } } };
    const type = c.filter ? 'filter' : 'transform';
    processors[`${type}/${c.name}`] = c.filter ?? c.transform;
    exporters[`file/${c.name}`] = { path: join(out, `${c.name}.jsonl`) };
    pipelines[`${signalOf(c.input)}/${c.name}`] = {
      receivers: [`otlp/${c.name}`],
      processors: [`${c.filter ? 'filter' : 'transform'}/${c.name}`],
      exporters: [`file/${c.name}`],
    };
  }
  return {
    receivers,
    processors,
    exporters,
    service: { telemetry: { metrics: { level: 'none' }, logs: { level: 'error' } }, pipelines },
  };
}

async function main() {
  if (!existsSync(otelcol)) throw new Error(`${otelcol} not found: run test/collector-golden/build.sh first`);
  const cases = parse(readFileSync(join(here, 'cases.yaml'), 'utf8')) as GoldenCase[];
  const work = mkdtempSync(join(tmpdir(), 'sieve-golden-'));
  const goldenDir = join(here, 'golden');
  mkdirSync(goldenDir, { recursive: true });
  const runnable: { c: GoldenCase; port: number }[] = [];
  for (const c of cases) {
    // a config the Collector refuses at start is recorded as such (it would stop the others)
    const file = join(work, `${c.name}.validate.yaml`);
    writeFileSync(file, stringify(collectorConfig([{ c, port: 1 }], work)));
    const v = spawnSync(otelcol, ['validate', `--config=${file}`], { encoding: 'utf8' });
    if (v.status !== 0) {
      const error = `${v.stderr}${v.stdout}`
        .trim()
        .split('\n')
        .filter((l) => /error|Error/.test(l))
        .join('\n');
      writeGolden(goldenDir, c.name, { kind: 'invalid', error });
      continue;
    }
    runnable.push({ c, port: await freePort() });
  }
  const cfgFile = join(work, 'otelcol.yaml');
  writeFileSync(cfgFile, stringify(collectorConfig(runnable, work)));
  const proc = spawn(otelcol, [`--config=${cfgFile}`], { stdio: ['ignore', 'inherit', 'inherit'] });
  try {
    for (const { c, port } of runnable) {
      const signal = signalOf(c.input);
      const body = readFileSync(join(here, 'inputs', c.input), 'utf8');
      let res: Response | undefined;
      for (let i = 0; i < 100 && !res; i++) {
        try {
          res = await fetch(`http://127.0.0.1:${port}/v1/${signal}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
          });
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      if (!res) throw new Error(`Collector not listening on ${port}`);
      const text = await res.text();
      if (res.status !== 200) writeGolden(goldenDir, c.name, { kind: 'refused', status: res.status, body: text });
      else (c as GoldenCase & { status?: number }).status = res.status;
    }
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }
  for (const { c } of runnable) {
    const status = (c as GoldenCase & { status?: number }).status;
    if (status === undefined) continue;
    const lines = readFileSync(join(work, `${c.name}.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean);
    if (lines.length !== 1) throw new Error(`${c.name}: expected one exported batch, got ${lines.length}`);
    writeGolden(goldenDir, c.name, { kind: 'output', status, output: JSON.parse(lines[0] as string) });
  }
  rmSync(work, { recursive: true, force: true });
  console.log(`goldens written to ${goldenDir} (${cases.length} cases)`);
}

function writeGolden(dir: string, name: string, g: Golden) {
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(g, null, 2)}\n`);
}

await main();
