// Two builds of the loader's span encoder and Native block encoder in one process, in alternating
// passes over the loader benchmark's messages: CPU µs per span (= ms per 1,000 spans), the best pass of
// each. Run by deploy/local/bench-ab.sh (`npm run bench:ab -- <git rev>`), which compiles both builds.
//
// Why one process: on this machine the same encoder measured 3.1–5.9 µs per span from one process to
// the next, so a before/after of a few per cent drowns in separate runs. Alternating passes in one
// process give both builds the same moments of a drifting machine; two builds of the same code differ
// by 1–3 %. First checks that both builds give the same Native block bytes, so a difference is speed only.
//   [ROUNDS=40] node --import tsx test/bench/support/span-encoder-ab.ts [labelA=]<distA> [labelB=]<distB>
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fixedLoaderBenchMessages, SPANS_PER_MESSAGE as PER } from './loader-messages.js';

interface Build {
  name: string;
  encode(message: Buffer): Buffer;
  block(chunks: Buffer[]): Buffer[];
  release(rows: Buffer): void;
}

/** The pieces of one compiled build (`tsc --outDir <dist>`) this benchmark calls. */
async function loadBuild(arg: string): Promise<Build> {
  // `label=dir` or just the directory
  const eq = arg.indexOf('=');
  const name = eq > 0 ? arg.slice(0, eq) : arg;
  const dist = eq > 0 ? arg.slice(eq + 1) : arg;
  const url = (p: string) => pathToFileURL(resolve(dist, p)).href;
  const encoder = (await import(url('loader/traces-rowbinary.js'))) as {
    TRACE_COLUMNS: unknown;
    traceRowBinary(m: Buffer, o: { layout: 'columns' }): { data: Buffer };
  };
  const nativeModule = (await import(url('loader/native-block.js'))) as {
    NativeBlockEncoder: new (columns: unknown) => { encode(chunks: Buffer[], rows: number[]): Buffer[] };
  };
  const rows = (await import(url('loader/row-binary.js'))) as { releaseRows(rows: Buffer): void };
  const native = new nativeModule.NativeBlockEncoder(encoder.TRACE_COLUMNS);
  return {
    name,
    encode: (m) => encoder.traceRowBinary(m, { layout: 'columns' }).data,
    block: (chunks) => native.encode(chunks, new Array<number>(chunks.length).fill(PER)),
    release: rows.releaseRows,
  };
}

const dists = process.argv.slice(2);
if (dists.length < 2) throw new Error('usage: span-encoder-ab.ts <distA> <distB> [...]');
const builds: Build[] = [];
for (const d of dists) builds.push(await loadBuild(d));

const MESSAGES = 48;
/** messages per Native block (one insert of the loader benchmark's 512-span messages is ~16) */
const PER_BLOCK = 16;
const ROUNDS = Number(process.env.ROUNDS ?? 40);
const messages = fixedLoaderBenchMessages(MESSAGES);
const spans = MESSAGES * PER;

/** One pass of a build over the messages: CPU µs per span of the encoder, and of encoder + blocks. */
function pass(build: Build): { encoder: number; total: number } {
  const c0 = process.cpuUsage();
  const chunks = messages.map((m) => build.encode(m));
  const c1 = process.cpuUsage(c0);
  for (let i = 0; i < chunks.length; i += PER_BLOCK) {
    const parts = build.block(chunks.slice(i, i + PER_BLOCK));
    build.release(parts[0] as Buffer); // as the loader does once an insert is sent
  }
  const c2 = process.cpuUsage(c0);
  for (const c of chunks) build.release(c);
  return { encoder: (c1.user + c1.system) / spans, total: (c2.user + c2.system) / spans };
}

// the same bytes first: a faster build that writes other rows is not a result
function blockOf(b: Build): Buffer {
  const chunks = messages.slice(0, PER_BLOCK).map((m) => b.encode(m));
  const parts = b.block(chunks);
  const bytes = Buffer.concat(parts);
  b.release(parts[0] as Buffer);
  for (const c of chunks) b.release(c);
  return bytes;
}
const reference = blockOf(builds[0] as Build);
for (const b of builds.slice(1))
  if (!blockOf(b).equals(reference)) throw new Error(`${b.name}: its Native block differs from ${builds[0]?.name}'s`);

const best = builds.map(() => ({ encoder: Number.POSITIVE_INFINITY, total: Number.POSITIVE_INFINITY }));
for (let r = 0; r < ROUNDS; r++)
  for (const [i, b] of builds.entries()) {
    const x = pass(b);
    const m = best[i] as (typeof best)[number];
    m.encoder = Math.min(m.encoder, x.encoder);
    m.total = Math.min(m.total, x.total);
  }
const round = (x: number) => Number(x.toFixed(3));
for (const [i, b] of builds.entries()) {
  const m = best[i] as (typeof best)[number];
  console.log(
    JSON.stringify({
      bench: 'span-encoder-ab',
      build: b.name,
      spans,
      rounds: ROUNDS,
      encoderCpuMsPer1kSpans: round(m.encoder),
      encoderAndBlockCpuMsPer1kSpans: round(m.total),
    }),
  );
}
