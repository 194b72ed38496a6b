// CPU time of another process (e.g. the local ClickHouse engine) from /proc/<pid>/stat, and where
// the local services keep their pid files.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const CLOCK_TICKS_PER_SEC = 100; // USER_HZ, 100 on Linux

/** The local chDB engine's pid (deploy/local/clickhouse.sh writes it), or undefined when not found. */
export function clickhousePid(): number | undefined {
  const dir = process.env.SIEVE_DATA_DIR ?? join(ROOT, '.data');
  try {
    const pid = Number(readFileSync(join(dir, 'run', 'clickhouse.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** User + system CPU milliseconds in a /proc stat file (a process's or one thread's). */
function statCpuMs(path: string): number {
  const stat = readFileSync(path, 'utf8');
  // fields after the parenthesised command name; utime and stime are fields 14 and 15
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SEC;
}

/** User + system CPU milliseconds used so far by process `pid` (its threads included), or NaN. */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    return statCpuMs(`/proc/${pid}/stat`);
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU milliseconds so far of process `pid`'s live threads whose name starts with `prefix` (e.g. the
 * engine's `MergeMutate` pool, which does its background merges), or NaN. Threads that have exited
 * are not counted, so this suits long-lived pools, not per-query threads.
 */
export function threadsCpuMs(pid: number | undefined, prefix: string): number {
  if (pid === undefined) return Number.NaN;
  let total = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').startsWith(prefix))
          total += statCpuMs(`/proc/${pid}/task/${tid}/stat`);
      } catch {
        // the thread exited meanwhile
      }
    }
  } catch {
    return Number.NaN;
  }
  return total;
}

/** User + system CPU milliseconds used so far by the calling thread (the main thread or a worker thread's). */
export function threadCpuMs(): number {
  return statCpuMs('/proc/thread-self/stat');
}

/** This process's user + system CPU milliseconds so far. */
export function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** CPU milliseconds used so far by process `pid` and its descendants (NaN when it is gone). */
export function treeCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  let total = processCpuMs(pid);
  try {
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/))
      if (child) total += treeCpuMs(Number(child)) || 0;
  } catch {
    // exited meanwhile
  }
  return total;
}
