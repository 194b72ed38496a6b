// What a fresh loader process pays before its span encoder runs compiled: the loader benchmark's
// messages for SPANS spans (default 200k, 512-span messages) encoded as the loader does by default
// (layout 'columns', one Native block per 28 messages ≈ a 16 MiB insert), no Kafka or ClickHouse, in a
// new process per round. Prints per round the process's CPU, split into its JavaScript thread and the
// other threads (V8's optimising compiler, GC helpers), the first message's and the first 40's CPU,
// the CPU per 1,000 spans of the last 100 messages (compiled by then), and how many functions TurboFan
// compiled (--trace-opt), then the medians.
//   node --import tsx test/bench/encoder-start.bench.ts      (or: npm run bench -- encoder-start)
//   SPANS=200000 ROUNDS=3
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixedLoaderBenchMessages, SPANS_PER_MESSAGE as PER } from './support/loader-messages.js';
import { ownCpuMs, threadCpuMs } from './support/proc-cpu.js';

/** messages per Native block: ~16 MiB of the benchmark's messages, the loader's default insert */
const BLOCK_MESSAGES = 28;
const MARK = '=== encoding';

interface Round {
  cpuMs: number;
  loaderThreadMs: number;
  otherThreadsMs: number;
  firstMessageMs: number;
  first40Ms: number;
  warmMsPer1kSpans: number;
  turbofanCompilations: number;
}

/** The child: encodes the messages in `file` (length-prefixed) and prints a Round (without the compilation count). */
async function encodeMessages(file: string): Promise<void> {
  const { TRACE_COLUMNS, traceRowBinary } = await import('../../src/loader/traces-rowbinary.js');
  const { NativeBlockEncoder } = await import('../../src/loader/native-block.js');
  const { releaseRows } = await import('../../src/loader/row-binary.js');
  const raw = readFileSync(file);
  const messages: Buffer[] = [];
  for (let at = 0; at < raw.length; at += 4 + raw.readUInt32LE(at))
    messages.push(raw.subarray(at + 4, at + 4 + raw.readUInt32LE(at)));
  const native = new NativeBlockEncoder(TRACE_COLUMNS);
  // the loader's own process has its modules imported (and their compilation done) before it consumes
  await new Promise((r) => setTimeout(r, 300));
  console.log(MARK);
  const cpu0 = ownCpuMs();
  const thread0 = threadCpuMs();
  let chunks: Buffer[] = [];
  let firstMessageMs = 0;
  let first40Ms = 0;
  let warmFrom = 0;
  for (let i = 0; i < messages.length; i++) {
    chunks.push(traceRowBinary(messages[i]!, { layout: 'columns' }).data);
    if (chunks.length === BLOCK_MESSAGES || i === messages.length - 1) {
      const parts = native.encode(
        chunks,
        chunks.map(() => PER),
      );
      releaseRows(parts[0]!);
      for (const c of chunks) releaseRows(c);
      chunks = [];
    }
    if (i === 0) firstMessageMs = ownCpuMs() - cpu0;
    if (i === 39) first40Ms = ownCpuMs() - cpu0;
    if (i === messages.length - 101) warmFrom = ownCpuMs();
  }
  const end = ownCpuMs();
  // compilations still running count too
  await new Promise((r) => setTimeout(r, 500));
  const cpuMs = ownCpuMs() - cpu0;
  const loaderThreadMs = threadCpuMs() - thread0;
  const round: Omit<Round, 'turbofanCompilations'> = {
    cpuMs,
    loaderThreadMs,
    otherThreadsMs: cpuMs - loaderThreadMs,
    firstMessageMs,
    first40Ms,
    warmMsPer1kSpans: ((end - warmFrom) / (100 * PER)) * 1000,
  };
  console.log(JSON.stringify(round));
}

async function main(): Promise<void> {
  const spans = Number(process.env.SPANS ?? 200_000);
  const rounds = Number(process.env.ROUNDS ?? 3);
  const count = Math.ceil(spans / PER);
  if (count < 140) throw new Error('SPANS: at least 71,680 (140 messages: 40 first ones and 100 compiled ones)');
  const dir = mkdtempSync(join(tmpdir(), 'sieve-encoder-start-'));
  try {
    const file = join(dir, 'messages');
    const parts: Buffer[] = [];
    for (const m of fixedLoaderBenchMessages(count)) {
      const length = Buffer.alloc(4);
      length.writeUInt32LE(m.length);
      parts.push(length, m);
    }
    writeFileSync(file, Buffer.concat(parts));
    const results: Round[] = [];
    for (let r = 0; r < rounds; r++) {
      const out = execFileSync(
        process.execPath,
        ['--trace-opt', '--import', 'tsx', import.meta.filename, 'child', file],
        { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      );
      const lines = out.slice(out.indexOf(MARK)).split('\n');
      const round: Round = {
        ...(JSON.parse(lines.find((l) => l.startsWith('{'))!) as Omit<Round, 'turbofanCompilations'>),
        turbofanCompilations: lines.filter((l) => l.includes('completed compiling') && l.includes('TURBOFAN')).length,
      };
      results.push(round);
      console.error(
        `round ${r + 1}: ${JSON.stringify(round, (_, v) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))}`,
      );
    }
    const median = (f: (r: Round) => number) => {
      const xs = results.map(f).sort((a, b) => a - b);
      return Math.round(xs[Math.floor(xs.length / 2)]! * 10) / 10;
    };
    const per1k = (ms: number) => (ms / (count * PER)) * 1000;
    console.log(
      JSON.stringify({
        bench: 'encoder-start',
        spans: count * PER,
        rounds,
        // medians over the rounds
        cpuMsPer1kSpans: median((r) => per1k(r.cpuMs)),
        loaderThreadCpuMsPer1kSpans: median((r) => per1k(r.loaderThreadMs)),
        otherThreadsCpuMsPer1kSpans: median((r) => per1k(r.otherThreadsMs)),
        compiledCpuMsPer1kSpans: median((r) => r.warmMsPer1kSpans),
        firstMessageCpuMs: median((r) => r.firstMessageMs),
        first40MessagesCpuMs: median((r) => r.first40Ms),
        turbofanCompilations: median((r) => r.turbofanCompilations),
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'child') await encodeMessages(process.argv[3]!);
else await main();
