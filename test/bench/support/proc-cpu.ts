// CPU time of another process (e.g. the local ClickHouse engine) from /proc/<pid>/stat, and where
// the local services keep their pid files.
import { readFileSync } from 'node:fs';
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

/** User + system CPU milliseconds used so far by process `pid` (its threads included), or NaN. */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the parenthesised command name; utime and stime are fields 14 and 15
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SEC;
  } catch {
    return Number.NaN;
  }
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
