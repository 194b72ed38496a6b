import { type InsertJob, mergeJobs } from './job.js';
import { MAX_GROUP_PARTITIONS } from './ranges.js';

/**
 * The insert queue: jobs in fetch order, drained by one worker (so commits per partition stay in
 * offset order), bounded by message bytes so that fetching pauses while ClickHouse is slow or down.
 */
export class JobQueue {
  private readonly jobs: InsertJob[] = [];
  private queuedBytes = 0;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly maxBytes: number,
    private readonly onBytes: (bytes: number) => void,
  ) {}

  /** Wakes everyone waiting on the queue (the worker, batches waiting for room, stop). */
  notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves at the next notify(). */
  changed(): Promise<void> {
    return new Promise<void>((r) => this.waiters.push(r));
  }

  get length(): number {
    return this.jobs.length;
  }

  head(): InsertJob | undefined {
    return this.jobs[0];
  }

  /** Whether a job of `bytes` fits (an empty queue takes any job). */
  hasRoomFor(bytes: number): boolean {
    return this.queuedBytes === 0 || this.queuedBytes + bytes <= this.maxBytes;
  }

  /**
   * Folds the later queued jobs of the head's partition (same generation) into the head, up to
   * `maxBytes` of messages: while one insert runs, the batches fetched meanwhile become one insert
   * per partition instead of one per fetch (ClickHouse pays per insert: a part, the views, the token).
   */
  mergeIntoHead(maxBytes: number): InsertJob | undefined {
    return this.jobs.length === 0 ? undefined : this.mergeAt(0, maxBytes);
  }

  /**
   * The next insert: the first queued job whose partition is due (`dueAt(job) <= nowMs`) or already
   * has `maxBytes` queued (waiting would not make its insert bigger), with the later jobs of its
   * partition folded in as mergeIntoHead does. While the queue is half full nothing waits (pacing
   * must not pause fetching). The job stays queued (its bytes count) until done().
   * Otherwise `wakeAt`: when the first partition becomes due (none queued: undefined).
   */
  nextInsert(
    maxBytes: number,
    nowMs: number,
    dueAt: (job: InsertJob) => number,
  ): { job: InsertJob; wakeAt?: undefined } | { job?: undefined; wakeAt: number | undefined } {
    if (this.jobs.length > 0 && this.queuedBytes * 2 >= this.maxBytes) return { job: this.mergeAt(0, maxBytes) };
    let wakeAt: number | undefined;
    const seen = new Set<string>();
    for (let i = 0; i < this.jobs.length; i++) {
      const j = this.jobs[i] as InsertJob;
      const key = `${j.generation}\u0000${j.topic}\u0000${j.partition}`;
      if (seen.has(key)) continue; // only a partition's first job can go: its offsets go in order
      seen.add(key);
      const due = dueAt(j);
      if (due <= nowMs || this.partitionBytes(i) >= maxBytes) return { job: this.mergeAt(i, maxBytes) };
      wakeAt = wakeAt === undefined ? due : Math.min(wakeAt, due);
    }
    return { wakeAt };
  }

  /**
   * The jobs to insert together with `job` (returned by nextInsert) as one block: the first queued
   * job of each other partition of its topic and generation that is due, with that partition's later
   * jobs folded in, while the whole stays within `maxBytes` and MAX_GROUP_PARTITIONS. A partition
   * whose next job is a previous reader's exact range is left out (that range goes alone, as it was).
   * The companions stay queued until done(), like the job.
   */
  companionsOf(job: InsertJob, maxBytes: number, nowMs: number, dueAt: (job: InsertJob) => number): InsertJob[] {
    if (job.exactRange) return [];
    const companions: InsertJob[] = [];
    let bytes = job.bytes;
    const seen = new Set<number>([job.partition]);
    for (let i = 0; i < this.jobs.length && companions.length < MAX_GROUP_PARTITIONS - 1; i++) {
      const j = this.jobs[i] as InsertJob;
      if (j.topic !== job.topic || j.generation !== job.generation || seen.has(j.partition)) continue;
      seen.add(j.partition); // only a partition's first job can go: its offsets go in order
      if (j.exactRange || bytes + j.bytes > maxBytes || dueAt(j) > nowMs) continue;
      const merged = this.mergeAt(i, maxBytes - bytes);
      bytes += merged.bytes;
      companions.push(merged);
    }
    return companions;
  }

  /** Removes a job returned by nextInsert or mergeIntoHead once it is done. */
  done(job: InsertJob): void {
    const i = this.jobs.indexOf(job);
    if (i < 0) return;
    this.jobs.splice(i, 1);
    this.setBytes(this.queuedBytes - job.bytes);
  }

  /** Message bytes queued for the partition (and generation) of the job at `i`, from it on. */
  private partitionBytes(i: number): number {
    const first = this.jobs[i] as InsertJob;
    let bytes = 0;
    for (let k = i; k < this.jobs.length; k++) {
      const j = this.jobs[k] as InsertJob;
      if (j.topic === first.topic && j.partition === first.partition && j.generation === first.generation)
        bytes += j.bytes;
    }
    return bytes;
  }

  private mergeAt(at: number, maxBytes: number): InsertJob {
    let head = this.jobs[at] as InsertJob;
    if (head.exactRange) return head;
    for (let i = at + 1; i < this.jobs.length; i++) {
      const j = this.jobs[i]!;
      if (j.topic !== head.topic || j.partition !== head.partition || j.generation !== head.generation) continue;
      if (j.exactRange || head.bytes + j.bytes > maxBytes) break;
      head = mergeJobs(head, j);
      this.jobs.splice(i--, 1);
    }
    this.jobs[at] = head;
    return head;
  }

  push(job: InsertJob): void {
    this.jobs.push(job);
    this.setBytes(this.queuedBytes + job.bytes);
  }

  clear(): void {
    this.jobs.length = 0;
    this.setBytes(0);
  }

  private setBytes(bytes: number): void {
    this.queuedBytes = bytes;
    this.onBytes(bytes);
    this.notify();
  }
}
